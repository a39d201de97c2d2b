import { FINDING_SCHEMA_VERSION, type Finding, type FindingLabels } from '../../contracts/finding';
import { gpuInstanceSpec } from '../../contracts/gpu-catalogue';
import type { GpuSample, TrainingJobState } from '../model';
import { roundTo } from '../numbers';
import { MINUTE_MS } from '../time';
import { median, quantile } from './robust';

/**
 * Silent failures of running training jobs: the job says InProgress/Training, but
 *   gpus_idle        its GPUs have done nothing for longer than its grace period, or its progress
 *                    stopped while its GPUs sat idle (idle GPUs while running: waste, 'efficiency'),
 *   progress_stalled its progress metric (e.g. train:loss) stopped arriving while its GPUs kept
 *                    working (not idle, not busy enough to be a hang),
 *   hung             progress stalled while the GPUs read busy (an NCCL deadlock spins at 100 %),
 *   checkpoint_stale its newest checkpoint object is older than its class expects.
 *
 *   trainingStart ─── grace ───┬── judged ──────────────────────────────► now
 *                              │ last progress ──── k × cadence ───┤ stalled
 *
 * Nothing fires before the job has trained for its class's grace period: start-up (loading
 * weights, warming data loaders, compiling) looks exactly like idleness.
 */

export const WORKLOAD_CLASSES = ['interactive', 'batch', 'distributed'] as const;
export type WorkloadClass = (typeof WORKLOAD_CLASSES)[number];

export interface ClassPolicy {
  /** Time since training start before anything is judged, and how long GPUs may sit idle. */
  readonly idleGraceMs: number;
  /** Lower bound of the stall threshold, whatever the job's own cadence. */
  readonly minStallMs: number;
  /** Stall threshold when the job has too few datapoints to know its cadence. */
  readonly unknownCadenceStallMs: number;
  /** Newest checkpoint older than this is stale (only for jobs with a CheckpointConfig). */
  readonly checkpointStaleMs: number;
}

export interface JobHealthOptions {
  readonly classes?: Partial<Record<WorkloadClass, Partial<ClassPolicy>>>;
  /** Stall after k × the job's own median progress interval. @default 4 */
  readonly stallFactor?: number;
  /** Absolute floor of the stall threshold. @default 5 minutes */
  readonly stallFloorMs?: number;
  /** A GPU-minute is idle below both. @default 5 (%), 0.05 */
  readonly idleUtilMax?: number;
  readonly idleSmMax?: number;
  /** A GPU-minute reads busy at or above this gpu_util. @default 80 (%) */
  readonly busyUtilMin?: number;
  /** Share of the stalled minutes that must read busy to call it a hang. @default 0.8 */
  readonly busyShareForHang?: number;
  /** Share of the stalled minutes that must read idle to call it idle GPUs, not a stall. @default 0.8 */
  readonly idleShareForIdle?: number;
  /** Idle GPUs and no progress after k × the job's cadence (floors as for stalls). @default 2 */
  readonly idleStallFactor?: number;
  /**
   * A job whose own checkpoint interval is known (checkpointIntervals) is stale after
   * max(factor × interval, interval + slack), never later than its class's checkpointStaleMs.
   * @default 1.5, 10 minutes
   */
  readonly checkpointIntervalFactor?: number;
  readonly checkpointSlackMs?: number;
  /**
   * A hang whose GPUs visibly spin (busy, tensor_active below spinTensorMax, on at least
   * spinMinMinutes collected minutes, all of them) is judged after stallFactor × cadence (floor
   * stallFloorMs) without the class's minStallMs: two signals agree, and an evaluation phase
   * (the usual reason for a quiet progress metric on busy GPUs) keeps the tensor cores working.
   * @default 0.05, 3
   */
  readonly spinTensorMax?: number;
  readonly spinMinMinutes?: number;
}

/** What the detection state learned about a job's checkpoints from successive listings. */
export interface CheckpointCadence {
  /** The job's own interval between checkpoint objects (median of the gaps seen). */
  readonly intervalMs: number;
  /** When the prefix was last listed: staleness is judged as of then, never guessed beyond it. */
  readonly checkedAtMs: number;
  /**
   * The longest gap remembered, when at least REGULAR_MIN_GAPS were seen (checkpointLongestGap):
   * a job known to be regular is judged against its own longest gap, not the generic 1.5 ×.
   */
  readonly longestGapMs?: number;
}

/** Gaps a job must have shown before its own cadence is trusted to tighten the deadline. */
export const REGULAR_MIN_GAPS = 3;
/** Lateness always allowed past the longest gap seen: at least 5 min, at least 20 % of the interval. */
const REGULAR_SLACK_MS = 5 * MINUTE_MS;
const REGULAR_SLACK_SHARE = 0.2;

/**
 * The longest of the remembered checkpoint gaps, once there are at least REGULAR_MIN_GAPS of
 * them; undefined before (one or two gaps say nothing about how much a job's cadence varies).
 */
export function checkpointLongestGap(gapsMs: readonly number[] | undefined): number | undefined {
  return gapsMs !== undefined && gapsMs.length >= REGULAR_MIN_GAPS ? Math.max(...gapsMs) : undefined;
}

/**
 * Stale threshold for a job that writes a checkpoint every `intervalMs`: half an interval late, at
 * least `slackMs` late (a checkpoint after a slow evaluation step is late, not missing).
 *
 * A job whose own cadence is known (`longestGapMs`: REGULAR_MIN_GAPS gaps or more) is judged
 * against it instead, when that is earlier: overdue once the gap exceeds the longest one it has
 * shown by max(5 min, 20 % of the interval). A job that writes every 26 min like clockwork is
 * stale at 31 min, not at 39 (by when a 90-minute job may have finished without anyone noticing
 * it lost its checkpoints); a job with an evaluation every few checkpoints showed the long gap
 * among its last five, and its deadline stays past it.
 */
export function checkpointStaleAfterMs(
  intervalMs: number,
  classStaleMs: number,
  factor = DEFAULTS.checkpointIntervalFactor,
  slackMs = DEFAULTS.checkpointSlackMs,
  longestGapMs?: number,
): number {
  const generic = Math.max(factor * intervalMs, intervalMs + slackMs);
  const own =
    longestGapMs === undefined
      ? generic
      : Math.max(longestGapMs, intervalMs) + Math.max(REGULAR_SLACK_MS, REGULAR_SLACK_SHARE * intervalMs);
  return Math.min(classStaleMs, generic, own);
}

const MIN = MINUTE_MS;
const HOUR = 60 * MIN;

export const DEFAULT_CLASS_POLICIES: Readonly<Record<WorkloadClass, ClassPolicy>> = {
  // Notebooks and short experiments: people step away, so a short grace is noisy; 15 min still catches a forgotten GPU.
  interactive: {
    idleGraceMs: 15 * MIN,
    minStallMs: 15 * MIN,
    unknownCadenceStallMs: 45 * MIN,
    checkpointStaleMs: 4 * HOUR,
  },
  batch: {
    idleGraceMs: 30 * MIN,
    minStallMs: 10 * MIN,
    unknownCadenceStallMs: 60 * MIN,
    checkpointStaleMs: 3 * HOUR,
  },
  // Multi-node start-up (rendezvous, sharded weight loading) is slow, but a stuck one burns many GPUs.
  distributed: {
    idleGraceMs: 45 * MIN,
    minStallMs: 10 * MIN,
    unknownCadenceStallMs: 60 * MIN,
    checkpointStaleMs: 2.5 * HOUR,
  },
};

const DEFAULTS = {
  stallFactor: 4,
  stallFloorMs: 5 * MIN,
  idleUtilMax: 5,
  idleSmMax: 0.05,
  busyUtilMin: 80,
  busyShareForHang: 0.8,
  idleShareForIdle: 0.8,
  idleStallFactor: 2,
  checkpointIntervalFactor: 1.5,
  checkpointSlackMs: 10 * MIN,
  spinTensorMax: 0.05,
  spinMinMinutes: 3,
};

export interface JobPlacement {
  readonly cluster: string;
  readonly nodes: readonly string[];
  /** The job's region; absent: the region of the job-store record (samplesByJob) or any. */
  readonly region?: string;
  /**
   * GPU indexes (the samples' `gpu` label) the job holds per node; a node absent here (or no
   * `gpus` at all) means node-level placement: which GPUs are the job's is unknown.
   */
  readonly gpus?: Readonly<Record<string, readonly string[]>>;
  /** When the job got its GPUs (epoch ms); absent: unknown, the placement holds at any time. */
  readonly fromMs?: number;
  /** When it released them; absent while it still holds them. */
  readonly toMs?: number;
}

/**
 * Who held a sample's GPU according to placement: the job's name, undefined when no placed job
 * held it at the sample's time (idle capacity), or null when two jobs could have (node-level
 * placement of jobs sharing a node at once, no GPU indexes): unknown, never the wrong job.
 *
 *   node n, GPU 3   job A [from ─────── to)  job B [from ────────── (running)
 *   sample at t            ↑ A                           ↑ B           (time-aware)
 */
export function placementAttributor(
  placement: ReadonlyMap<string, JobPlacement> | undefined,
  regionOf: (jobName: string) => string | undefined = () => undefined,
): (s: GpuSample) => string | null | undefined {
  interface Held {
    readonly job: string;
    readonly region: string | undefined;
    readonly gpus: ReadonlySet<string> | undefined;
    readonly fromMs: number;
    readonly toMs: number;
  }
  const byNode = new Map<string, Held[]>();
  for (const [job, p] of placement ?? []) {
    const region = p.region ?? regionOf(job);
    for (const node of new Set(p.nodes)) {
      const key = `${p.cluster}|${node}`;
      const gpus = p.gpus?.[node];
      const held: Held = {
        job,
        region,
        gpus: gpus === undefined ? undefined : new Set(gpus),
        fromMs: p.fromMs ?? Number.NEGATIVE_INFINITY,
        toMs: p.toMs ?? Number.POSITIVE_INFINITY,
      };
      byNode.set(key, [...(byNode.get(key) ?? []), held]);
    }
  }
  return (s) => {
    let found: string | undefined;
    for (const h of byNode.get(`${s.labels.cluster}|${s.labels.node}`) ?? []) {
      if (h.region !== undefined && h.region !== s.labels.region) continue;
      if (s.time < h.fromMs || s.time >= h.toMs) continue;
      if (h.gpus !== undefined && s.labels.gpu !== 'all' && !h.gpus.has(s.labels.gpu)) continue;
      if (found !== undefined && found !== h.job) return null;
      found = h.job;
    }
    return found;
  };
}

export interface JobHealthInput {
  /** Current job states. */
  readonly jobs: readonly TrainingJobState[];
  /** GPU samples of the window. */
  readonly samples: readonly GpuSample[];
  /** Job → nodes, for samples whose profile does not carry the job label. */
  readonly placement?: ReadonlyMap<string, JobPlacement>;
  /** Timestamps (epoch ms) of each job's progress-metric datapoints, recent history. */
  readonly progress: ReadonlyMap<string, readonly number[]>;
  /** Newest object time under each job's checkpoint prefix; undefined when there is none yet. */
  readonly checkpoints: ReadonlyMap<string, number | undefined>;
  /** Jobs whose own checkpoint interval was learned (see CheckpointCadence), by job name. */
  readonly checkpointCadence?: ReadonlyMap<string, CheckpointCadence>;
  readonly nowMs: number;
  readonly options?: JobHealthOptions;
}

export function workloadClassOf(job: TrainingJobState): WorkloadClass {
  const tagged = job.workloadClass?.trim().toLowerCase();
  if (tagged && (WORKLOAD_CLASSES as readonly string[]).includes(tagged)) return tagged as WorkloadClass;
  return (job.instanceCount ?? 1) > 1 ? 'distributed' : 'batch';
}

export function isTraining(job: TrainingJobState): boolean {
  return (
    job.status === 'InProgress' && (job.secondaryStatus === undefined || job.secondaryStatus === 'Training')
  );
}

/** When the job started training: SageMaker's TrainingStartTime, else the Training transition, else creation. */
export function trainingStartOf(job: TrainingJobState): number {
  return (
    job.trainingStartTime ??
    job.transitions.find((t) => t.status === 'Training')?.startTime ??
    job.creationTime
  );
}

/** Assigns samples to jobs: by the job label when present, otherwise by placement (cluster + node). */
export function samplesByJob(
  jobs: readonly TrainingJobState[],
  samples: readonly GpuSample[],
  placement?: ReadonlyMap<string, JobPlacement>,
): Map<string, GpuSample[]> {
  const byJob = new Map<string, GpuSample[]>(jobs.map((j) => [j.jobName, []]));
  // A node shared by several jobs without GPU indexes cannot say which GPU is whose: its samples
  // are attributed to none of them (unknown), never to the wrong one (placementAttributor).
  const regions = new Map(jobs.map((j) => [j.jobName, j.region]));
  const known = new Map([...(placement ?? [])].filter(([name]) => regions.has(name)));
  const holder = placementAttributor(known, (name) => regions.get(name));
  for (const s of samples) {
    const name = s.labels.job ?? holder(s);
    if (name !== undefined && name !== null) byJob.get(name)?.push(s);
  }
  return byJob;
}

/** Median interval between the job's recent progress datapoints; undefined with fewer than 3 points. */
export function progressCadenceMs(timestamps: readonly number[], recent = 32): number | undefined {
  const ts = [...timestamps].sort((a, b) => a - b).slice(-recent);
  const gaps: number[] = [];
  for (let i = 1; i < ts.length; i++) {
    const gap = (ts[i] as number) - (ts[i - 1] as number);
    if (gap > 0) gaps.push(gap);
  }
  return gaps.length >= 2 ? median(gaps) : undefined;
}

/**
 * How much slower the job progresses now than before: median of its last `recent` progress gaps
 * over the median of the gaps before them; 1 when there are too few points to tell (fewer than
 * 2 × recent gaps) or when it is not slower.
 */
export function progressSlowdown(timestamps: readonly number[], recent = 3): number {
  const ts = [...timestamps].sort((a, b) => a - b);
  const gaps: number[] = [];
  for (let i = 1; i < ts.length; i++) {
    const gap = (ts[i] as number) - (ts[i - 1] as number);
    if (gap > 0) gaps.push(gap);
  }
  if (gaps.length < 2 * recent) return 1;
  const before = median(gaps.slice(0, -recent));
  const now = median(gaps.slice(-recent));
  return before > 0 ? Math.max(1, now / before) : 1;
}

/**
 * When the job last resumed after a stop: the first progress point after the latest gap longer
 * than `stopGapMs`; undefined when there was no such gap (or the job has not resumed yet). A job
 * that made no progress had no new work to checkpoint, so work at risk starts at its resumption.
 */
export function resumedAfterStopMs(timestamps: readonly number[], stopGapMs: number): number | undefined {
  const ts = [...timestamps].sort((a, b) => a - b);
  for (let i = ts.length - 1; i >= 1; i--) {
    const at = ts[i] as number;
    if (at - (ts[i - 1] as number) > stopGapMs) return at;
  }
  return undefined;
}

/** Work since the newest checkpoint, in progress datapoints, against what the job usually does between two. */
export interface CheckpointWork {
  /** Progress datapoints after the checkpoint (or resumption), up to the listing. */
  readonly points: number;
  /** Datapoints the job usually makes in one checkpoint interval, at its usual (fastest) pace. */
  readonly usualPoints: number;
  /** Stale beyond this many: the wall-clock threshold expressed in work at the usual pace. */
  readonly staleAfterPoints: number;
}

/**
 * Work at risk since `sinceMs` (issue 3/4): checkpoints are written every N steps, so a job that
 * slowed k× checkpoints k× later without anything more at risk. The usual pace is the job's full
 * speed: the lower quartile of its progress gaps over the lookback, not the median, which a
 * long slow-down drags to the slow pace while the learnt checkpoint interval (median of its last
 * 5 gaps) still says full speed, and the mismatch would flag the slowed job after all. The fastest
 * pace expects the most work, so it errs on the quiet side for a slowed job, never on the noisy
 * one. undefined (use the wall clock) when there are too few points to know the pace, or when
 * the lookback starts after `sinceMs` (the work before it is unknown, never assumed zero).
 */
/** Quantile of a job's progress gaps taken as its full-speed pace (see workSinceCheckpoint). */
const FULL_PACE_QUANTILE = 0.25;
/**
 * Gaps averaged into one pace reading. Progress datapoints land on whole minutes, so a job logging
 * every 90 s shows gaps of 60, 120, 60, 120 s; the lower quartile of single gaps reads 60 s, a
 * pace 1.5 × too fast, which stretched the checkpoint deadline by 1.5 × in work. The mean over 4
 * consecutive gaps reads 90 s, and a real slow-down still shows as slower windows.
 */
const PACE_WINDOW_GAPS = 4;
/** A pace window slower than this × the full pace means the job did not keep its pace. */
const STEADY_PACE_FACTOR = 1.25;

export function workSinceCheckpoint(
  timestamps: readonly number[],
  sinceMs: number,
  asOfMs: number,
  intervalMs: number,
  classStaleMs: number,
  factor = DEFAULTS.checkpointIntervalFactor,
  slackMs = DEFAULTS.checkpointSlackMs,
  longestGapMs?: number,
): CheckpointWork | undefined {
  const ts = [...new Set(timestamps)].sort((a, b) => a - b);
  const first = ts[0];
  if (ts.length < 3 || first === undefined || first > sinceMs) return undefined;
  const k = Math.min(PACE_WINDOW_GAPS, ts.length - 1);
  const paces: number[] = [];
  for (let i = 0; i + k < ts.length; i++) paces.push(((ts[i + k] as number) - (ts[i] as number)) / k);
  const usualGap = quantile(paces, FULL_PACE_QUANTILE);
  if (!(usualGap > 0)) return undefined;
  // Progress reaches CloudWatch minutes late: the minutes after the last datapoint seen are
  // counted at the job's recent pace (it is not stopped: the caller judges a stop by the clock),
  // so the published delay does not read as missing work.
  const seen = ts.filter((t) => t <= asOfMs);
  const last = seen[seen.length - 1] as number;
  const recentGap =
    (last - (seen[Math.max(0, seen.length - 1 - k)] as number)) / Math.min(k, seen.length - 1);
  const unpublished = recentGap > 0 && last > sinceMs ? (asOfMs - last) / recentGap : 0;
  const points = seen.filter((t) => t > sinceMs).length + unpublished;
  // The job's own longest gap describes it only while it kept its pace since the checkpoint: a
  // slow-down (or its end) shifts when the next checkpoint falls, so then the generic margin holds.
  let steady = true;
  for (let i = 0; i + k < ts.length; i++)
    if ((ts[i] as number) >= sinceMs && (paces[i] as number) > STEADY_PACE_FACTOR * usualGap) steady = false;
  return {
    points,
    usualPoints: intervalMs / usualGap,
    staleAfterPoints:
      checkpointStaleAfterMs(intervalMs, classStaleMs, factor, slackMs, steady ? longestGapMs : undefined) /
      usualGap,
  };
}

interface Minute {
  readonly time: number;
  readonly idle: boolean;
  readonly busy: boolean;
  /**
   * Every GPU busy with its tensor cores dead (tensor_active below spinTensorMax): a kernel spins
   * (collective wait) instead of computing. undefined when tensor_active was not collected (the
   * remembered history keeps only idle/busy flags).
   */
  readonly spin: boolean | undefined;
}

/** Job-level minutes: idle when every GPU of the job is idle, busy when every GPU reads busy. */
function jobMinutes(samples: readonly GpuSample[], o: typeof DEFAULTS): Minute[] {
  const byTime = new Map<number, GpuSample[]>();
  for (const s of samples) {
    const at = byTime.get(s.time);
    if (at) at.push(s);
    else byTime.set(s.time, [s]);
  }
  return [...byTime.entries()]
    .sort(([a], [b]) => a - b)
    .map(([time, ss]) => ({
      time,
      idle: ss.every((s) => isIdleSample(s, o.idleUtilMax, o.idleSmMax)),
      busy: ss.every((s) => (s.values.gpu_util ?? 0) >= o.busyUtilMin),
      spin: ss.every((s) => s.values.tensor_active !== undefined)
        ? ss.every(
            (s) =>
              (s.values.gpu_util ?? 0) >= o.busyUtilMin && (s.values.tensor_active ?? 0) < o.spinTensorMax,
          )
        : undefined,
    }));
}

/** Idle needs both signals low (when sm_active is collected): gpu_util alone misses tiny kernels. */
export function isIdleSample(s: GpuSample, utilMax = 5, smMax = 0.05): boolean {
  const util = s.values.gpu_util;
  const sm = s.values.sm_active;
  if (util === undefined && sm === undefined) return false;
  return (util === undefined || util < utilMax) && (sm === undefined || sm < smMax);
}

function hardwareEvidence(samples: readonly GpuSample[]): string | undefined {
  const bad = new Set<string>();
  const dbe = new Map<string, { min: number; max: number }>();
  for (const s of samples) {
    const key = `${s.labels.node}/gpu${s.labels.gpu}`;
    if ((s.values.xid ?? 0) > 0) bad.add(`${key} xid ${s.values.xid}`);
    if ((s.values.row_remap_failure ?? 0) >= 1) bad.add(`${key} row remap failure`);
    const d = s.values.ecc_dbe;
    if (d !== undefined) {
      const m = dbe.get(key) ?? { min: d, max: d };
      dbe.set(key, { min: Math.min(m.min, d), max: Math.max(m.max, d) });
    }
  }
  for (const [key, m] of dbe) if (m.max > m.min) bad.add(`${key} uncorrectable ECC +${m.max - m.min}`);
  return bad.size > 0 ? listText([...bad].sort(), 20) : undefined;
}

export function jobLabels(job: TrainingJobState, samples: readonly GpuSample[], placement?: JobPlacement) {
  const nodes = [...new Set([...samples.map((s) => s.labels.node), ...(placement?.nodes ?? [])])].sort();
  const cluster = samples[0]?.labels.cluster ?? placement?.cluster;
  const labels: FindingLabels = {
    job: job.jobName,
    region: job.region,
    ...(cluster ? { cluster } : {}),
    ...(job.team ? { team: job.team } : {}),
    ...(nodes.length === 1 && nodes[0] ? { node: nodes[0] } : {}),
  };
  return { labels, nodes };
}

/** A list for text, capped so evidence of a 500-node job stays within the schema's 4,000 characters. */
export function listText(items: readonly string[], max = 40): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} (+${items.length - max} more)` : shown;
}

const round = (x: number, digits = 2): number => roundTo(x, digits);

export function detectJobHealth(input: JobHealthInput): { findings: Finding[] } {
  const o: typeof DEFAULTS = { ...DEFAULTS, ...definedOnly(input.options ?? {}) };
  const now = input.nowMs;
  const byJob = samplesByJob(input.jobs, input.samples, input.placement);
  const findings: Finding[] = [];

  for (const job of input.jobs) {
    if (!isTraining(job)) continue;
    const cls = workloadClassOf(job);
    const policy: ClassPolicy = {
      ...DEFAULT_CLASS_POLICIES[cls],
      ...definedOnly(input.options?.classes?.[cls] ?? {}),
    };
    const start = trainingStartOf(job);
    if (now - start <= policy.idleGraceMs) continue;

    const samples = (byJob.get(job.jobName) ?? []).filter((s) => s.time >= start && s.time <= now);
    const { labels, nodes } = jobLabels(job, samples, input.placement?.get(job.jobName));
    const gpus = new Set(samples.map((s) => `${s.labels.node}/${s.labels.gpu}`)).size;
    const where = `job ${job.jobName} (team ${job.team ?? 'unknown'}, ${cls}, ${job.instanceCount ?? 1}× ${job.instanceType ?? 'unknown type'}) on ${nodes.length > 0 ? listText(nodes) : 'unknown nodes'}`;
    const base = (
      kind: string,
    ): Pick<Finding, 'schemaVersion' | 'kind' | 'labels' | 'runbook' | 'detectedAt'> => ({
      schemaVersion: FINDING_SCHEMA_VERSION,
      kind,
      labels,
      runbook: `docs/runbooks/${kind}.md`,
      detectedAt: now,
    });
    const minutes = jobMinutes(samples, o);

    /**
     * Idle GPUs while Training: capacity held and not used (waste, cause 'efficiency'), paged for
     * distributed jobs like their stalls (many GPUs). `fromMs` is where the idle run began.
     */
    const idleFinding = (fromMs: number, why: string): Finding => {
      const idleMs = now - fromMs;
      const idleGpuMinutes = samples.filter(
        (s) => s.time >= fromMs && isIdleSample(s, o.idleUtilMax, o.idleSmMax),
      ).length;
      return {
        ...base('job.gpus_idle'),
        severity: cls === 'distributed' ? 'page' : 'ticket',
        cause: 'efficiency',
        title: `Training job ${job.jobName}: ${gpus} GPU(s) idle for ${Math.round(idleMs / MINUTE_MS)} min while Training`,
        summary: `All GPUs of ${where} have been idle (gpu_util < ${o.idleUtilMax} %, sm_active < ${o.idleSmMax}) for ${Math.round(idleMs / MINUTE_MS)} min, ${why}: ${round(idleGpuMinutes / 60, 1)} GPU-hours paid for and unused. Check the input pipeline and the training process first.`,
        evidence: {
          window: { startMs: Math.min(fromMs, now), endMs: now },
          values: {
            idleMinutes: round(idleMs / MINUTE_MS),
            idleGpuHours: round(idleGpuMinutes / 60),
            graceMinutes: policy.idleGraceMs / MINUTE_MS,
            gpus,
          },
          detail: `nodes: ${listText(nodes) || 'unknown'}; class ${cls}`,
        },
      };
    };

    // (a) Idle: the trailing run of minutes in which every GPU of the job was idle.
    let idleFrom: number | undefined;
    for (let i = minutes.length - 1; i >= 0 && (minutes[i] as Minute).idle; i--)
      idleFrom = (minutes[i] as Minute).time;
    const lastMinute = minutes[minutes.length - 1]?.time;
    let idleReported = false;
    if (idleFrom !== undefined && lastMinute !== undefined) {
      const idleMs = lastMinute + MINUTE_MS - idleFrom;
      if (idleMs >= policy.idleGraceMs) {
        findings.push(
          idleFinding(idleFrom, `longer than the ${cls} grace of ${policy.idleGraceMs / MINUTE_MS} min`),
        );
        idleReported = true;
      }
    }

    // (b) + (d) Progress: stalled after k × the job's own cadence; busy GPUs meanwhile make it a hang.
    const points = input.progress.get(job.jobName);
    const hasProgressSignal = points !== undefined || (job.metricNames?.length ?? 0) > 0;
    if (hasProgressSignal) {
      const ts = points ?? [];
      const cadence = progressCadenceMs(ts);
      const threshold =
        cadence === undefined
          ? Math.max(policy.unknownCadenceStallMs, o.stallFloorMs)
          : Math.max(o.stallFactor * cadence, o.stallFloorMs, policy.minStallMs);
      const last = ts.length > 0 ? ts.reduce((a, b) => Math.max(a, b)) : undefined;
      const since = Math.max(last ?? start, start);
      const silentMs = now - since;
      // Idle GPUs corroborate the silence (two independent signals agree), so idleness needs
      // fewer cadences than a stall with working GPUs: idleStallFactor, same floors.
      const idleThreshold =
        cadence === undefined
          ? threshold
          : Math.max(o.idleStallFactor * cadence, o.stallFloorMs, policy.minStallMs);
      const spinThreshold =
        cadence === undefined ? threshold : Math.max(o.stallFactor * cadence, o.stallFloorMs);
      if (silentMs > Math.min(threshold, idleThreshold, spinThreshold)) {
        const stalledMinutes = minutes.filter((m) => m.time >= since);
        const busyShare =
          stalledMinutes.length > 0 ? stalledMinutes.filter((m) => m.busy).length / stalledMinutes.length : 0;
        const hung = busyShare >= o.busyShareForHang;
        const seen = stalledMinutes.filter((m) => m.spin !== undefined);
        const spinning = hung && seen.length >= o.spinMinMinutes && seen.every((m) => m.spin);
        const idleShare =
          stalledMinutes.length > 0 ? stalledMinutes.filter((m) => m.idle).length / stalledMinutes.length : 0;
        // Classification order: busy GPUs + no progress = hung; idle GPUs + no progress = idle GPUs
        // (the job is not computing at all: waste, reported once as gpus_idle); else stalled.
        const idleStall = !hung && idleShare >= o.idleShareForIdle;
        const stalled = silentMs > threshold || (spinning && silentMs > spinThreshold);
        const usedThreshold = silentMs > threshold ? threshold : spinThreshold;
        const hw = hardwareEvidence(samples);
        const kind = hung ? 'job.hung' : 'job.progress_stalled';
        // First name only: the title must stay one line (≤ 200 characters); the summary lists them all.
        const names = job.metricNames ?? [];
        const metric = names[0]
          ? `${names[0]}${names.length > 1 ? ` (+${names.length - 1})` : ''}`
          : 'progress metric';
        if (idleStall && hw === undefined) {
          if (!idleReported)
            findings.push(
              idleFinding(
                stalledMinutes.find((m) => m.idle)?.time ?? since,
                `with no ${metric} datapoint since`,
              ),
            );
        } else if (stalled)
          findings.push({
            ...base(kind),
            severity: cls === 'distributed' ? 'page' : 'ticket',
            // A hang with no hardware trace is almost always software (NCCL collective deadlock, a
            // stuck data-loader worker); Xid / uncorrectable ECC on its GPUs point at the hardware instead.
            cause: hw ? 'hardware' : 'software',
            title: hung
              ? `Training job ${job.jobName} looks hung: GPUs busy, no ${metric} for ${Math.round(silentMs / MINUTE_MS)} min`
              : `Training job ${job.jobName}: no ${metric} datapoint for ${Math.round(silentMs / MINUTE_MS)} min`,
            summary: `${where}: last progress ${last === undefined ? 'never (since training start)' : `${Math.round(silentMs / MINUTE_MS)} min ago`}; threshold ${Math.round(usedThreshold / MINUTE_MS)} min (${cadence === undefined ? 'cadence unknown' : `${o.stallFactor} × median interval ${round(cadence / MINUTE_MS)} min`}${usedThreshold < threshold ? ', GPUs spinning with idle tensor cores' : ''}).${hung ? ' GPUs read busy throughout, the signature of a collective (NCCL) deadlock.' : ''}`,
            evidence: {
              window: { startMs: Math.min(since, now), endMs: now },
              values: {
                silentMinutes: round(silentMs / MINUTE_MS),
                thresholdMinutes: round(usedThreshold / MINUTE_MS),
                busyShare: round(busyShare),
                ...(cadence === undefined ? {} : { cadenceMinutes: round(cadence / MINUTE_MS) }),
              },
              detail: `nodes: ${listText(nodes) || 'unknown'}; class ${cls}; metrics: ${listText(names, 20) || 'none declared'}${hw ? `; hardware evidence: ${hw}` : ''}`,
            },
          });
      }
    }

    // (c) Checkpoint: only jobs that configured a checkpoint prefix are expected to write one.
    // A job whose own interval is known is judged against it, as of its last listing (a listing
    // older than the deadline proves nothing); otherwise against the class's absolute bound.
    if (job.checkpointS3Uri) {
      const newest = input.checkpoints.get(job.jobName);
      // A job that stopped (stalled, hung, idle: reported on their own) and resumed had nothing
      // new to checkpoint meanwhile: the clock restarts at the resumption, so the stale checkpoint
      // of a stop does not outlive the stop's incident and open a second one (issues 3/4).
      const progressTs = input.progress.get(job.jobName) ?? [];
      const progressCadence = progressCadenceMs(progressTs);
      const stopGapMs =
        progressCadence === undefined
          ? undefined
          : Math.max(o.stallFactor * progressCadence, o.stallFloorMs, policy.minStallMs);
      const resumedAt = stopGapMs === undefined ? undefined : resumedAfterStopMs(progressTs, stopGapMs);
      const since = Math.max(newest ?? start, start, resumedAt ?? start);
      const cadence = input.checkpointCadence?.get(job.jobName);
      // Checkpoints are usually written every N steps: a job that progresses k× slower than before
      // (a data-loader or network slow-down, reported on its own) writes them k× less often, and
      // that alone is not a checkpoint stall.
      const slowdown = progressSlowdown(progressTs);
      const staleAfterMs = cadence
        ? checkpointStaleAfterMs(
            cadence.intervalMs * slowdown,
            policy.checkpointStaleMs,
            o.checkpointIntervalFactor,
            o.checkpointSlackMs,
            cadence.longestGapMs === undefined ? undefined : cadence.longestGapMs * slowdown,
          )
        : policy.checkpointStaleMs;
      const asOf = cadence ? Math.min(cadence.checkedAtMs, now) : now;
      const ageMs = asOf - since;
      // Work at risk, not wall clock: a slowed job (data-loader, network: reported as
      // progress_slow) checkpoints late because it works slowly, the same problem, not a second
      // one. When the progress since the checkpoint is known it decides; the clock is the fallback,
      // also for a job stopped right now (its stop is reported on its own, and inhibition mutes
      // this symptom while the stop's incident is open; the resumption restarts the clock above).
      const lastProgress = progressTs.length > 0 ? Math.max(...progressTs) : undefined;
      const stoppedNow =
        stopGapMs === undefined || lastProgress === undefined || asOf - lastProgress > stopGapMs;
      const work =
        cadence && !stoppedNow
          ? workSinceCheckpoint(
              progressTs,
              since,
              asOf,
              cadence.intervalMs,
              policy.checkpointStaleMs,
              o.checkpointIntervalFactor,
              o.checkpointSlackMs,
              cadence.longestGapMs,
            )
          : undefined;
      const isStale = work ? work.points > work.staleAfterPoints : ageMs > staleAfterMs;
      if (isStale) {
        const ageMin = Math.round(ageMs / MINUTE_MS);
        const expected = cadence
          ? `about every ${round(cadence.intervalMs / MINUTE_MS, 1)} min (its own interval; stale after ${round(staleAfterMs / MINUTE_MS, 1)} min)`
          : `within ${round(policy.checkpointStaleMs / HOUR, 1)} h for ${cls} jobs`;
        findings.push({
          ...base('job.checkpoint_stale'),
          severity: 'ticket',
          cause: 'data-io',
          title: `Training job ${job.jobName}: ${newest === undefined ? 'no checkpoint written' : 'no new checkpoint'} for ${ageMin} min`,
          summary: `${where}: nothing new under ${job.checkpointS3Uri} for ${ageMin} min, expected ${expected}. A crash now would lose that work.`,
          evidence: {
            window: { startMs: Math.min(since, now), endMs: now },
            values: {
              ageHours: round(ageMs / HOUR),
              expectedHours: round(staleAfterMs / HOUR),
              ...(cadence ? { intervalMinutes: round(cadence.intervalMs / MINUTE_MS, 1) } : {}),
              ...(slowdown > 1 ? { progressSlowdown: round(slowdown) } : {}),
              ...(work
                ? { progressPointsSince: work.points, usualPointsPerCheckpoint: round(work.usualPoints, 1) }
                : {}),
            },
            detail: `checkpoint prefix ${job.checkpointS3Uri}; nodes: ${listText(nodes) || 'unknown'}`,
          },
        });
      }
    }
  }
  return { findings };
}

/** Drops undefined properties so a partial override never erases a default. */
export function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** TDP of the sample's GPU, from the catalogue; undefined for unknown instance types. */
export function tdpOf(s: GpuSample): number | undefined {
  return gpuInstanceSpec(s.labels.instanceType)?.tdpWatts;
}
