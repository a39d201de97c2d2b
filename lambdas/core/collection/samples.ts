import type { ProfileSignal } from '../../contracts/profiles';
import { SIGNALS } from '../../contracts/signals';
import type { GpuLabels, GpuSample } from '../model';
import type { SeriesData } from '../ports';
import type { WindowChunk } from './window-plan';

/**
 * Turns fetched CloudWatch values into GPU samples (one per GPU and period, all its signals
 * together) and rejects what no real device can report. Every rejected or missing datapoint is
 * counted by reason with a few examples, so the caller can log and meter it: nothing is lost
 * silently.
 */
export const REJECTION_REASONS = [
  'nan',
  'infinite',
  /** Below zero for a signal that cannot be negative. */
  'negative',
  'below-range',
  'above-range',
  /** A fraction for a code, bitmask or flag signal. */
  'non-integer',
  /** A timestamp outside the requested window or off the period grid. */
  'outside-window',
  /** The same GPU, signal and minute already has another value in this fetch. */
  'conflicting-duplicate',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** One query of a fetch and where its values go. */
export interface QueryTarget {
  readonly id: string;
  readonly metricName: string;
  readonly labels: GpuLabels;
  readonly signal: ProfileSignal;
  /** Divisor for 'sum-over-gpus' series. */
  readonly gpusPerNode: number;
}

export interface DatapointExample {
  readonly node: string;
  readonly gpu: string;
  readonly signal: string;
  readonly metricName: string;
  readonly time: string;
  /** Raw CloudWatch value, as text so NaN and Infinity survive JSON logging. */
  readonly raw: string;
  readonly value?: number;
}

export interface ReasonGroup<R extends string> {
  readonly reason: R;
  readonly count: number;
  readonly examples: readonly DatapointExample[];
}

export interface Assembly {
  readonly samples: GpuSample[];
  /** Datapoints accepted into samples. */
  readonly accepted: number;
  readonly rejected: readonly ReasonGroup<RejectionReason>[];
  readonly rejectedTotal: number;
  /** Series-periods in the window for which CloudWatch returned no datapoint. */
  readonly missing: number;
  readonly missingExamples: readonly {
    node: string;
    gpu: string;
    signal: string;
    metricName: string;
    periods: number;
  }[];
}

export const MAX_EXAMPLES = 3;

export function assembleSamples(
  targets: readonly QueryTarget[],
  data: ReadonlyMap<string, SeriesData>,
  window: WindowChunk,
  periodSeconds: number,
): Assembly {
  const periodMs = periodSeconds * 1_000;
  const slots = Math.round((window.endMs - window.startMs) / periodMs);
  const byKey = new Map<string, { time: number; labels: GpuLabels; values: Record<string, number> }>();
  const rejected = new Map<RejectionReason, { count: number; examples: DatapointExample[] }>();
  const missingExamples: Assembly['missingExamples'][number][] = [];
  let accepted = 0;
  let rejectedTotal = 0;
  let missing = 0;

  const reject = (reason: RejectionReason, example: DatapointExample): void => {
    rejectedTotal++;
    const group = rejected.get(reason) ?? { count: 0, examples: [] };
    group.count++;
    if (group.examples.length < MAX_EXAMPLES) group.examples.push(example);
    rejected.set(reason, group);
  };

  for (const target of targets) {
    const series = data.get(target.id) ?? { timestamps: [], values: [] };
    const seen = new Set<number>();
    series.timestamps.forEach((time, i) => {
      const raw = series.values[i] ?? Number.NaN;
      const example = (value?: number): DatapointExample => ({
        node: target.labels.node,
        gpu: target.labels.gpu,
        signal: target.signal.signal,
        metricName: target.metricName,
        time: new Date(time).toISOString(),
        raw: String(raw),
        ...(value !== undefined ? { value } : {}),
      });
      if (time < window.startMs || time >= window.endMs || (time - window.startMs) % periodMs !== 0) {
        reject('outside-window', example());
        return;
      }
      const outcome = validate(target, raw);
      if ('reason' in outcome) {
        reject(outcome.reason, example(outcome.value));
        return;
      }
      const key = `${JSON.stringify([target.labels.cluster, target.labels.region, target.labels.node, target.labels.gpu])}@${time}`;
      const sample = byKey.get(key) ?? { time, labels: target.labels, values: {} };
      const previous = sample.values[target.signal.signal];
      if (previous !== undefined && previous !== outcome.value) {
        reject('conflicting-duplicate', example(outcome.value));
        return;
      }
      sample.values[target.signal.signal] = outcome.value;
      byKey.set(key, sample);
      seen.add(time);
      accepted++;
    });
    const absent = Math.max(0, slots - seen.size);
    if (absent > 0) {
      missing += absent;
      if (missingExamples.length < MAX_EXAMPLES) {
        missingExamples.push({
          node: target.labels.node,
          gpu: target.labels.gpu,
          signal: target.signal.signal,
          metricName: target.metricName,
          periods: absent,
        });
      }
    }
  }

  const samples = [...byKey.entries()]
    .sort(([ka, a], [kb, b]) => a.time - b.time || (ka < kb ? -1 : ka > kb ? 1 : 0))
    .map(([, s]) => ({ time: s.time, labels: s.labels, values: s.values }) satisfies GpuSample);

  return {
    samples,
    accepted,
    rejected: REJECTION_REASONS.flatMap((reason) => {
      const g = rejected.get(reason);
      return g === undefined ? [] : [{ reason, count: g.count, examples: g.examples }];
    }),
    rejectedTotal,
    missing,
    missingExamples,
  };
}

/** Applies scale and aggregation, then checks the result against the signal's physical range. */
export function validate(
  target: Pick<QueryTarget, 'signal' | 'gpusPerNode'>,
  raw: number,
): { value: number } | { reason: RejectionReason; value?: number } {
  if (Number.isNaN(raw)) return { reason: 'nan' };
  if (!Number.isFinite(raw)) return { reason: 'infinite' };
  const { signal } = target;
  const divisor = signal.aggregation === 'sum-over-gpus' ? target.gpusPerNode : 1;
  const value = (raw * signal.scale) / divisor;
  const spec: { min: number; max: number; integer?: boolean } = SIGNALS[signal.signal];
  if (value < spec.min) return { reason: value < 0 && spec.min >= 0 ? 'negative' : 'below-range', value };
  if (value > spec.max) return { reason: 'above-range', value };
  if (spec.integer === true && !Number.isInteger(value)) return { reason: 'non-integer', value };
  return { value };
}
