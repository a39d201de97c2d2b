import { type Cause, FINDING_SCHEMA_VERSION, type Finding } from '../../contracts/finding';
import type { GpuSample, TrainingJobState } from '../model';
import { roundTo } from '../numbers';
import { MINUTE_MS } from '../time';
import {
  DEFAULT_CLASS_POLICIES,
  isTraining,
  type JobPlacement,
  jobLabels,
  listText,
  trainingStartOf,
  workloadClassOf,
} from './jobs';
import { median } from './robust';

/**
 * A training job that still progresses, but several times slower than it did: its progress
 * metric (train:loss) now arrives every k × its own earlier interval. Nothing else catches this:
 * the stall detectors need the metric to stop, and the GPUs of a slowed job still read busy.
 *
 *   progress: | | | | | | | | | |     |     |        (the last `recentGaps` gaps ≥ factor × before)
 *
 * The cause is what the job's own GPUs show (samples of its nodes, attributed or not):
 *   NVLink error counters climbing on its GPUs          → network (the collectives wait on the fabric)
 *   clocks held by thermal/power/HW-slowdown reasons    → hardware
 *   otherwise                                           → data-io: the GPUs wait for input, the
 *     usual reason a job slows while nothing on the GPU side is wrong; the evidence says whether
 *     its GPUs were seen underfed (low, bursty utilisation) or could not be attributed at all.
 */

export const PROGRESS_SLOW_KIND = 'job.progress_slow';

export interface SlowdownOptions {
  /** Each of the last `recentGaps` progress gaps at least this × the median gap before. @default 2.5 */
  readonly factor?: number;
  /** @default 2 */
  readonly recentGaps?: number;
  /** Gaps before them needed to know the job's own pace. @default 8 */
  readonly minBaselineGaps?: number;
  /** And each recent gap at least this much longer than that pace (ignores 1 → 2 min jitter). @default 2 min */
  readonly minIncreaseMs?: number;
  /** NVLink errors per minute on the job's GPUs that point at the fabric. @default 10 (as the hardware check) */
  readonly nvlinkErrorsPerMinute?: number;
  /** Share of the job's GPU-minutes with a throttle reason that points at the hardware. @default 0.5 */
  readonly throttledShare?: number;
}

const DEFAULTS = {
  factor: 2.5,
  recentGaps: 2,
  minBaselineGaps: 8,
  minIncreaseMs: 2 * MINUTE_MS,
  nvlinkErrorsPerMinute: 10,
  throttledShare: 0.5,
};

/** Clock event bits that are a fault, not boost behaviour: sw/hw thermal, hw slowdown, power brake. */
const THROTTLE_BITS = 0x20 | 0x40 | 0x08 | 0x80;

export interface SlowdownInput {
  readonly jobs: readonly TrainingJobState[];
  /** The window's per-GPU samples. */
  readonly samples: readonly GpuSample[];
  readonly placement?: ReadonlyMap<string, JobPlacement>;
  /** Progress datapoint times by job name. */
  readonly progress: ReadonlyMap<string, readonly number[]>;
  /** Jobs already reported stalled, hung or idle this run: one finding per job. */
  readonly skip?: ReadonlySet<string>;
  readonly nowMs: number;
  readonly options?: SlowdownOptions;
}

/** Gaps between sorted distinct timestamps. */
function gapsOf(timestamps: readonly number[]): number[] {
  const ts = [...new Set(timestamps)].sort((a, b) => a - b);
  const gaps: number[] = [];
  for (let i = 1; i < ts.length; i++) gaps.push((ts[i] as number) - (ts[i - 1] as number));
  return gaps;
}

/** The job's pace before and the recent gaps, when the recent ones are all `factor` × slower. */
export function slowdownOf(
  timestamps: readonly number[],
  o: Pick<typeof DEFAULTS, 'factor' | 'recentGaps' | 'minBaselineGaps' | 'minIncreaseMs'> = DEFAULTS,
): { beforeMs: number; recentMs: number; ratio: number } | undefined {
  const gaps = gapsOf(timestamps);
  if (gaps.length < o.minBaselineGaps + o.recentGaps) return undefined;
  const beforeMs = median(gaps.slice(0, -o.recentGaps));
  const recentMs = Math.min(...gaps.slice(-o.recentGaps));
  if (beforeMs <= 0 || recentMs < o.factor * beforeMs || recentMs - beforeMs < o.minIncreaseMs)
    return undefined;
  return { beforeMs, recentMs, ratio: recentMs / beforeMs };
}

export function detectProgressSlowdown(input: SlowdownInput): { findings: Finding[] } {
  const o = {
    ...DEFAULTS,
    ...Object.fromEntries(Object.entries(input.options ?? {}).filter(([, v]) => v !== undefined)),
  };
  const now = input.nowMs;
  const findings: Finding[] = [];
  for (const job of input.jobs) {
    if (!isTraining(job) || input.skip?.has(job.jobName)) continue;
    const cls = workloadClassOf(job);
    if (now - trainingStartOf(job) <= DEFAULT_CLASS_POLICIES[cls].idleGraceMs) continue;
    const slow = slowdownOf(input.progress.get(job.jobName) ?? [], o);
    if (slow === undefined) continue;

    // The job's GPUs: labelled with it, or on its nodes (shared nodes included: the NVLink and
    // throttle evidence is per GPU of the node, and a node-wide fault shows on all of them).
    const place = input.placement?.get(job.jobName);
    const nodes = new Set(place?.nodes ?? []);
    const own = input.samples.filter(
      (s) =>
        s.labels.gpu !== 'all' &&
        (s.labels.job === job.jobName ||
          (s.labels.job === undefined &&
            nodes.has(s.labels.node) &&
            (!place || s.labels.cluster === place.cluster))),
    );
    const { labels, nodes: nodeList } = jobLabels(job, own, place);

    const nvlinkPerMinute = counterRatePerMinute(own, 'nvlink_errors');
    const withClock = own.filter((s) => s.values.clock_events !== undefined);
    const throttled = withClock.filter((s) => ((s.values.clock_events ?? 0) & THROTTLE_BITS) !== 0).length;
    const throttledShare = withClock.length > 0 ? throttled / withClock.length : 0;
    const util = own.map((s) => s.values.gpu_util).filter((v): v is number => v !== undefined);
    const medianUtil = util.length > 0 ? median(util) : undefined;

    let cause: Cause;
    let why: string;
    if (nvlinkPerMinute !== undefined && nvlinkPerMinute > o.nvlinkErrorsPerMinute) {
      cause = 'network';
      why = `NVLink errors on its GPUs at ${roundTo(nvlinkPerMinute, 1)}/min (limit ${o.nvlinkErrorsPerMinute}/min): the collectives wait on the interconnect`;
    } else if (throttledShare >= o.throttledShare) {
      cause = 'hardware';
      why = `${Math.round(throttledShare * 100)} % of its GPU-minutes had clocks held by thermal, power-brake or HW-slowdown reasons`;
    } else {
      cause = 'data-io';
      why =
        own.length === 0
          ? 'no GPU-side cause could be checked (its GPUs are not attributable on a shared node): the input pipeline is the usual suspect'
          : `no GPU-side cause on its nodes (no NVLink errors, no throttling; median gpu_util ${medianUtil === undefined ? 'unknown' : `${Math.round(medianUtil)} %`}): the GPUs wait for input`;
    }
    const names = job.metricNames ?? [];
    const metric = names[0] ?? 'progress metric';
    findings.push({
      schemaVersion: FINDING_SCHEMA_VERSION,
      kind: PROGRESS_SLOW_KIND,
      severity: 'ticket',
      cause,
      title:
        `Training job ${job.jobName} progresses ${roundTo(slow.ratio, 1)}× slower: ${metric} every ${roundTo(slow.recentMs / MINUTE_MS, 1)} min, was ${roundTo(slow.beforeMs / MINUTE_MS, 1)} min`.slice(
          0,
          200,
        ),
      summary: `Job ${job.jobName} (team ${job.team ?? 'unknown'}, ${cls}) on ${listText(nodeList) || 'unknown nodes'}: its last ${o.recentGaps} ${metric} intervals were ${roundTo(slow.recentMs / MINUTE_MS, 1)}+ min against a median of ${roundTo(slow.beforeMs / MINUTE_MS, 1)} min before (${roundTo(slow.ratio, 1)}× slower). Cause: ${why}.`,
      labels,
      evidence: {
        window: { startMs: Math.max(0, now - o.recentGaps * slow.recentMs), endMs: now },
        values: {
          slowdown: roundTo(slow.ratio, 2),
          recentIntervalMinutes: roundTo(slow.recentMs / MINUTE_MS, 2),
          ...(nvlinkPerMinute === undefined ? {} : { nvlinkErrorsPerMinute: roundTo(nvlinkPerMinute, 2) }),
          ...(withClock.length > 0 ? { throttledShare: roundTo(throttledShare, 2) } : {}),
          ...(medianUtil === undefined ? {} : { medianGpuUtil: roundTo(medianUtil, 1) }),
          gpuMinutesSeen: own.length,
        },
        baseline: { median: roundTo(slow.beforeMs / MINUTE_MS, 2), mad: 0 },
        detail: `class ${cls}; metrics: ${listText(names, 20) || 'none declared'}; ${why}`.slice(0, 4_000),
      },
      runbook: `docs/runbooks/${PROGRESS_SLOW_KIND}.md`,
      detectedAt: now,
    });
  }
  return { findings };
}

/** Highest per-GPU rate of a monotonic counter over the samples (per minute); undefined without two readings. */
function counterRatePerMinute(samples: readonly GpuSample[], signal: 'nvlink_errors'): number | undefined {
  const byGpu = new Map<string, { t0: number; v0: number; t1: number; v1: number }>();
  for (const s of samples) {
    const v = s.values[signal];
    if (v === undefined) continue;
    const key = `${s.labels.node}/${s.labels.gpu}`;
    const m = byGpu.get(key);
    if (!m) byGpu.set(key, { t0: s.time, v0: v, t1: s.time, v1: v });
    else {
      if (s.time < m.t0) Object.assign(m, { t0: s.time, v0: v });
      if (s.time > m.t1) Object.assign(m, { t1: s.time, v1: v });
    }
  }
  let best: number | undefined;
  for (const m of byGpu.values()) {
    if (m.t1 <= m.t0 || m.v1 < m.v0) continue; // one reading, or a counter reset
    const rate = (m.v1 - m.v0) / ((m.t1 - m.t0) / MINUTE_MS);
    best = best === undefined ? rate : Math.max(best, rate);
  }
  return best;
}
