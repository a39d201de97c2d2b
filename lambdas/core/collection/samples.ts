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
  // Hot path (every GPU, signal and minute of a fleet): one text key per GPU (not per datapoint),
  // samples grouped per GPU then per time, and no closure allocated per datapoint.
  const byGpu = new Map<string, { labelKey: string; byTime: Map<number, PendingSample> }>();
  const rejected = new Map<RejectionReason, { count: number; examples: DatapointExample[] }>();
  const missingExamples: Assembly['missingExamples'][number][] = [];
  let accepted = 0;
  let rejectedTotal = 0;
  let missing = 0;
  let sampleCount = 0;

  const reject = (
    reason: RejectionReason,
    target: QueryTarget,
    time: number,
    raw: number,
    value?: number,
  ): void => {
    rejectedTotal++;
    const group = rejected.get(reason) ?? { count: 0, examples: [] };
    group.count++;
    if (group.examples.length < MAX_EXAMPLES) group.examples.push(exampleOf(target, time, raw, value));
    rejected.set(reason, group);
  };

  const seen = new Set<number>();
  for (const target of targets) {
    const series = data.get(target.id) ?? EMPTY_SERIES;
    seen.clear();
    const labelKey = labelKeyOf(target.labels);
    let gpu = byGpu.get(labelKey);
    const { timestamps, values } = series;
    const n = timestamps.length;
    for (let i = 0; i < n; i++) {
      const time = timestamps[i] as number;
      const raw = values[i] ?? Number.NaN;
      if (time < window.startMs || time >= window.endMs || (time - window.startMs) % periodMs !== 0) {
        reject('outside-window', target, time, raw);
        continue;
      }
      const outcome = validate(target, raw);
      if ('reason' in outcome) {
        reject(outcome.reason, target, time, raw, outcome.value);
        continue;
      }
      if (gpu === undefined) {
        gpu = { labelKey, byTime: new Map() };
        byGpu.set(labelKey, gpu);
      }
      let sample = gpu.byTime.get(time);
      if (sample === undefined) {
        sample = { time, labels: target.labels, values: {} };
        gpu.byTime.set(time, sample);
        sampleCount++;
      }
      const previous = sample.values[target.signal.signal];
      if (previous !== undefined && previous !== outcome.value) {
        reject('conflicting-duplicate', target, time, raw, outcome.value);
        continue;
      }
      sample.values[target.signal.signal] = outcome.value;
      seen.add(time);
      accepted++;
    }
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

  // Order: time, then the GPU's label key (the order the per-datapoint `<labels>@<time>` keys had).
  const gpus = [...byGpu.values()].sort((a, b) =>
    a.labelKey < b.labelKey ? -1 : a.labelKey > b.labelKey ? 1 : 0,
  );
  const times = new Set<number>();
  for (const g of gpus) for (const t of g.byTime.keys()) times.add(t);
  const samples: GpuSample[] = new Array(sampleCount);
  let k = 0;
  for (const t of [...times].sort((a, b) => a - b)) {
    for (const g of gpus) {
      const s = g.byTime.get(t);
      if (s !== undefined) samples[k++] = s;
    }
  }

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

interface PendingSample {
  readonly time: number;
  readonly labels: GpuLabels;
  readonly values: Record<string, number>;
}

const EMPTY_SERIES: SeriesData = { timestamps: [], values: [] };

/** The GPU identity of a sample, as text (cluster, region, node, GPU); memoised per labels object. */
const labelKeys = new WeakMap<GpuLabels, string>();
function labelKeyOf(labels: GpuLabels): string {
  let key = labelKeys.get(labels);
  if (key === undefined) {
    key = JSON.stringify([labels.cluster, labels.region, labels.node, labels.gpu]);
    labelKeys.set(labels, key);
  }
  return key;
}

/** A rejected datapoint as logged (built only for the few examples kept). */
function exampleOf(target: QueryTarget, time: number, raw: number, value?: number): DatapointExample {
  return {
    node: target.labels.node,
    gpu: target.labels.gpu,
    signal: target.signal.signal,
    metricName: target.metricName,
    time: new Date(time).toISOString(),
    raw: String(raw),
    ...(value !== undefined ? { value } : {}),
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
