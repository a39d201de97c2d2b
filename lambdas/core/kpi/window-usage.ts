import { type LabelMatcher, type MaintenanceWindow, valueMatches } from '../../contracts/calendar';
import { gpuInstanceSpec } from '../../contracts/gpu-catalogue';
import { classifyXid } from '../../contracts/xid';
import { jobStateKey } from '../detect/detection-state';
import { type JobPlacement, placementAttributor, trainingStartOf } from '../detect/jobs';
import { maintenancePeriods } from '../detect/maintenance';
import type { GpuSample, TrainingJobState } from '../model';
import { MINUTE_MS } from '../time';
import {
  bucketsFromGpuMinutes,
  type GpuMinute,
  type InputIssue,
  type JobUsage,
  type NodeWindow,
  type UsageBucket,
} from './goodput';
import type { InventoryNode } from './inventory';
import { jobUsageOf, outcomeOf } from './job-usage';
import type { StepShares } from './step-time';

/**
 * What one detection window contributes to goodput, derived from the window's per-GPU samples
 * and the job store (pure). The detection run records it (UsageRecorder); the KPI Lambda reads
 * many of them back (UsageSource, NodeInventory) and merges them per job and per node.
 *
 *   window  [startMs ─────────────── endMs)
 *   jobs    every job with samples in the window, whose allocation overlaps it, or that changed
 *           in it or shortly before (so a job's terminal outcome lands in a record even when it
 *           ended between two windows): JobUsage with this window's 1-minute buckets, the job's
 *           metadata as of endMs, and its newest known checkpoint
 *   nodes   every node with a sample, and every node of the inventory (inventory.ts) when given:
 *           capacity, maintenance, unhealthy minutes, hardware faults
 *
 * Per GPU-minute (one sample of a GPU, `gpu` ≠ 'all'):
 *   training     the job was in its Training phase at that minute (training start ≤ t < end,
 *                and the job is InProgress/Training or ended after t)
 *   progressing  a progress datapoint of the job in [t − tolerance, t + 1 min), the tolerance
 *                being progressToleranceMs or, for a job logging slower, twice its longest
 *                recent gap between datapoints (at most 1 h: cadenceTolerance); a job
 *                whose progress is unknown (no metric at all) earns nothing: goodput counts only
 *                work it can verify (docs/metrics.md)
 *   smActive     sm_active (0..1), missing: the minute earns nothing
 *   dataWait     the job's data-wait share of step time in the window (step-time.ts), on
 *   comm         progressing minutes only (a stalled job logs no steps): jobs that publish a
 *                step-time breakdown split their not-useful time into data-io and network;
 *                without one it stays "inefficient" (software), as before
 */
export interface WindowUsageRecord {
  readonly version: 1;
  readonly window: { readonly startMs: number; readonly endMs: number };
  readonly jobs: readonly JobUsage[];
  readonly nodes: readonly NodeWindow[];
  /** Samples carrying a job label no job-store record explains (not counted as job usage). */
  readonly unattributedSamples: number;
  /** GPU samples two placed jobs could own (node-level placement, no GPU indexes): no job's usage. */
  readonly ambiguousSamples?: number;
  readonly issues: readonly InputIssue[];
}

export const WINDOW_USAGE_VERSION = 1;

export interface WindowUsageInput {
  readonly window: { readonly startMs: number; readonly endMs: number };
  /** Configured fleets: the cluster of a job with no sample this window, when its region has one fleet. */
  readonly fleets?: readonly { readonly region: string; readonly cluster: string }[];
  readonly samples: readonly GpuSample[];
  /** Jobs as the detection run read them; undefined (store unreadable): nodes only. */
  readonly jobs: readonly TrainingJobState[] | undefined;
  /** Job → cluster and nodes, for samples without a job label (node-level profiles). */
  readonly placement?: ReadonlyMap<string, JobPlacement>;
  /** Progress datapoint times keyed `<region>#<jobName>`; a missing key means unknown. */
  readonly progress: ReadonlyMap<string, readonly number[]>;
  /** Newest checkpoint time per jobStateKey(region, jobName), when known. */
  readonly checkpoints: ReadonlyMap<string, number | undefined>;
  /**
   * Step-time breakdown shares of the window keyed `<region>#<jobName>` (step-time.ts), for jobs
   * that publish one. Absent or missing key: the job's waits are not split out of "inefficient".
   */
  readonly stepShares?: ReadonlyMap<string, StepShares>;
  readonly maintenance: readonly MaintenanceWindow[];
  /**
   * Every node of the fleet (inventory.ts): a node without a sample this window still counts as
   * capacity, unhealthy when its last known state is a fatal fault. Absent: the nodes that reported.
   */
  readonly inventory?: readonly InventoryNode[];
  /** A progress datapoint this far before a minute still counts the minute as progressing. @default 10 min */
  readonly progressToleranceMs?: number;
  /**
   * Bucket length, aligned to the epoch. Five minutes keeps a record at 12,000 GPUs near 1 MB of
   * JSON (1-minute buckets double it); a checkpoint inside a bucket splits it pro rata (goodput.ts).
   * @default 5 min
   */
  readonly bucketMs?: number;
  /** Jobs that changed this long before the window are still recorded (late terminal events). @default 1 h */
  readonly changedLookbackMs?: number;
}

const DEFAULT_PROGRESS_TOLERANCE_MS = 10 * MINUTE_MS;
const DEFAULT_CHANGED_LOOKBACK_MS = 60 * MINUTE_MS;
const DEFAULT_BUCKET_MS = 5 * MINUTE_MS;

/** First index in sorted `xs` with xs[i] >= x. */
function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((xs[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether a datapoint lies in [from, to). */
function anyIn(sorted: readonly number[], from: number, to: number): boolean {
  const i = lowerBound(sorted, from);
  return i < sorted.length && (sorted[i] as number) < to;
}

function trainingAt(job: TrainingJobState, t: number): boolean {
  const start = trainingStartOf(job);
  if (t < start) return false;
  const outcome = outcomeOf(job);
  if (outcome === 'running') return job.secondaryStatus === undefined || job.secondaryStatus === 'Training';
  const end = job.trainingEndTime ?? job.lastModifiedTime;
  return t < end;
}

/** Fatal hardware events in one sample: fatal Xid, uncorrectable ECC, row-remap failure. */
export function hardwareFaultsIn(s: GpuSample): number {
  let n = 0;
  const xid = s.values.xid;
  if (xid !== undefined && xid > 0 && classifyXid(Math.round(xid)).fatal) n++;
  if ((s.values.ecc_dbe ?? 0) > 0) n++;
  if ((s.values.row_remap_failure ?? 0) > 0) n++;
  return n;
}

const NODE_LABELS = new Set(['node', 'region', 'cluster', 'team']);

function matches(m: LabelMatcher, labels: Readonly<Record<string, string | undefined>>): boolean {
  return NODE_LABELS.has(m.label) && valueMatches(m, labels[m.label] ?? '');
}

interface NodeAcc {
  readonly node: string;
  readonly region: string;
  readonly cluster: string;
  readonly instanceType: string;
  readonly teams: Set<string>;
  readonly gpuIds: Set<string>;
  /** Minute → fatal events on any GPU of the node that minute. */
  readonly faultMinutes: Map<number, number>;
  /** GPUs when the catalogue does not know the instance type (inventory). */
  gpus?: number;
  /** Known faulted before the window (inventory): unhealthy from the window start. */
  faultedBefore: boolean;
}

/** Derives the window's usage record. Pure: same inputs, same record. */
export function windowUsage(input: WindowUsageInput): WindowUsageRecord {
  const { window } = input;
  const tolerance = input.progressToleranceMs ?? DEFAULT_PROGRESS_TOLERANCE_MS;
  const lookback = input.changedLookbackMs ?? DEFAULT_CHANGED_LOOKBACK_MS;
  const issues: InputIssue[] = [];
  const inWindow = (t: number) => t >= window.startMs && t < window.endMs;
  const samples = input.samples.filter((s) => inWindow(s.time));
  const windowMinutes = Math.max(0, (window.endMs - window.startMs) / MINUTE_MS);

  // Nodes.
  const nodes = new Map<string, NodeAcc>();
  for (const s of samples) {
    const l = s.labels;
    const key = `${l.region}|${l.cluster}|${l.node}`;
    let n = nodes.get(key);
    if (!n) {
      n = {
        node: l.node,
        region: l.region,
        cluster: l.cluster,
        instanceType: l.instanceType,
        teams: new Set(),
        gpuIds: new Set(),
        faultMinutes: new Map(),
        faultedBefore: false,
      };
      nodes.set(key, n);
    }
    if (l.team) n.teams.add(l.team);
    if (l.gpu !== 'all') n.gpuIds.add(l.gpu);
    const faults = hardwareFaultsIn(s);
    if (faults > 0) {
      const minute = Math.floor(s.time / MINUTE_MS) * MINUTE_MS;
      n.faultMinutes.set(minute, (n.faultMinutes.get(minute) ?? 0) + faults);
    }
  }
  for (const inv of input.inventory ?? []) {
    const key = `${inv.region}|${inv.cluster}|${inv.node}`;
    const n: NodeAcc = nodes.get(key) ?? {
      node: inv.node,
      region: inv.region,
      cluster: inv.cluster,
      instanceType: inv.instanceType,
      teams: new Set(inv.team === undefined ? [] : [inv.team]),
      gpuIds: new Set(),
      faultMinutes: new Map(),
      faultedBefore: false,
    };
    n.faultedBefore = inv.faulted;
    if (inv.gpus !== undefined) n.gpus = inv.gpus;
    nodes.set(key, n);
  }
  const maintenance = maintenancePeriods(input.maintenance, window.startMs, window.endMs).map((p) => ({
    startMs: Math.max(p.startMs, window.startMs),
    endMs: Math.min(p.endMs, window.endMs),
    scope: p.scope,
  }));
  const nodeWindows: NodeWindow[] = [];
  for (const n of nodes.values()) {
    const spec = gpuInstanceSpec(n.instanceType);
    const gpus = spec?.gpus ?? n.gpus ?? n.gpuIds.size;
    if (spec === undefined)
      issues.push({
        subject: `node ${n.node}`,
        problem: `instance type ${n.instanceType} is not in the GPU catalogue; counted ${gpus} GPUs seen in telemetry`,
      });
    const labels: Record<string, string | undefined> = { node: n.node, region: n.region, cluster: n.cluster };
    if (n.teams.size === 1) labels.team = [...n.teams][0];
    // Maintenance minutes: union of the periods whose scope matches the node. Matchers on gpu or
    // job labels cannot be judged per node: such a window does not take the node's capacity out.
    const covering = maintenance
      .filter((p) => p.endMs > p.startMs && p.scope.every((m) => matches(m, labels)))
      .sort((a, b) => a.startMs - b.startMs);
    let maintMs = 0;
    let curStart = Number.NaN;
    let curEnd = Number.NaN;
    for (const p of covering) {
      if (Number.isNaN(curStart) || p.startMs > curEnd) {
        if (!Number.isNaN(curStart)) maintMs += curEnd - curStart;
        curStart = p.startMs;
        curEnd = p.endMs;
      } else curEnd = Math.max(curEnd, p.endMs);
    }
    if (!Number.isNaN(curStart)) maintMs += curEnd - curStart;
    const maintenanceMinutes = maintMs / MINUTE_MS;
    // Unhealthy: from the first fatal event to the end of the window (a faulted GPU stays out
    // until drained and repaired), outside maintenance; the whole window when the inventory knew
    // the node faulted and no new fault says when (a lost node sends nothing at all).
    const firstFault =
      n.faultMinutes.size > 0
        ? Math.min(...n.faultMinutes.keys())
        : n.faultedBefore
          ? window.startMs
          : undefined;
    const unhealthy =
      firstFault === undefined
        ? 0
        : Math.max(0, (window.endMs - firstFault) / MINUTE_MS - maintenanceMinutes);
    nodeWindows.push({
      node: n.node,
      region: n.region,
      cluster: n.cluster,
      ...(n.teams.size === 1 ? { team: [...n.teams][0] as string } : {}),
      instanceType: n.instanceType,
      gpus,
      presentMinutes: windowMinutes,
      maintenanceMinutes,
      unhealthyMinutes: Math.min(unhealthy, windowMinutes - maintenanceMinutes),
      hardwareFaults: [...n.faultMinutes.values()].reduce((a, b) => a + b, 0),
    });
  }

  // Jobs.
  const jobs: JobUsage[] = [];
  let unattributed = 0;
  let ambiguousSamples = 0;
  if (input.jobs !== undefined) {
    const byName = new Map<string, TrainingJobState[]>();
    for (const j of input.jobs) byName.set(j.jobName, [...(byName.get(j.jobName) ?? []), j]);
    const minutesByJob = new Map<TrainingJobState, { cluster: string; minutes: GpuMinute[] }>();
    // Time- and GPU-aware: each sample goes to the job that held its GPU at the sample's minute
    // (a window's samples are minutes old, so a job that just ended keeps them); a GPU no job
    // held is idle capacity; node-level placement of two jobs at once is ambiguous: no job.
    const holder = placementAttributor(input.placement);
    let ambiguous = 0;
    // A job that logs slower than the tolerance (long steps, or a slowdown stretching its cadence)
    // is not stalled between two datapoints: its own cadence widens the tolerance.
    const tolerances = new Map<string, number>();
    const toleranceOf = (key: string, times: readonly number[]): number => {
      let t = tolerances.get(key);
      if (t === undefined) {
        t = cadenceTolerance(times, tolerance);
        tolerances.set(key, t);
      }
      return t;
    };
    // Shares are checked once per job: out-of-range ones are reported and not used.
    const checked = new Map<string, StepShares | undefined>();
    const checkedShares = (key: string): StepShares | undefined => {
      if (checked.has(key)) return checked.get(key);
      const got = input.stepShares?.get(key);
      const ok = got === undefined ? undefined : validShares(`job ${key}`, got, issues);
      checked.set(key, ok);
      return ok;
    };
    for (const s of samples) {
      if (s.labels.gpu === 'all') continue;
      const held = s.labels.job ?? holder(s);
      if (held === null) {
        ambiguous++;
        continue;
      }
      const jobName = held;
      if (jobName === undefined) continue;
      const job = byName.get(jobName)?.find((j) => j.region === s.labels.region);
      if (!job) {
        unattributed++;
        continue;
      }
      const acc = minutesByJob.get(job) ?? { cluster: s.labels.cluster, minutes: [] };
      const key = `${job.region}#${job.jobName}`;
      const progress = input.progress.get(key);
      const training = trainingAt(job, s.time);
      const progressing =
        training &&
        progress !== undefined &&
        anyIn(progress, s.time - toleranceOf(key, progress), s.time + MINUTE_MS);
      const shares = progressing ? checkedShares(key) : undefined;
      acc.minutes.push({
        time: s.time,
        ...(s.values.sm_active !== undefined ? { smActive: s.values.sm_active } : {}),
        training,
        progressing,
        ...(shares?.dataWaitShare !== undefined ? { dataWait: shares.dataWaitShare } : {}),
        ...(shares?.commShare !== undefined ? { comm: shares.commShare } : {}),
      });
      minutesByJob.set(job, acc);
    }
    for (const job of input.jobs) {
      const got = minutesByJob.get(job);
      const usage = jobUsageOf(
        job,
        {
          cluster: got?.cluster ?? clusterOfRegion(input.fleets, job.region),
          buckets: got ? bucketsFromGpuMinutes(got.minutes, input.bucketMs ?? DEFAULT_BUCKET_MS) : [],
          ...withCheckpoint(input.checkpoints.get(jobStateKey(job.region, job.jobName))),
          ...placedGpusOf(input.placement?.get(job.jobName)),
          nowMs: window.endMs,
        },
        issues,
      );
      const allocated = usage.allocations.some((a) => a.startMs < window.endMs && a.endMs > window.startMs);
      const changed =
        job.lastModifiedTime >= window.startMs - lookback && job.lastModifiedTime < window.endMs;
      if (got || allocated || changed) jobs.push(usage);
    }
    if (ambiguous > 0) {
      ambiguousSamples = ambiguous;
      issues.push({
        subject: 'placement',
        problem: `${ambiguous} GPU samples on nodes placed to several jobs at once without GPU indexes; credited to no job`,
      });
    }
  }
  return {
    version: WINDOW_USAGE_VERSION,
    window: { startMs: window.startMs, endMs: window.endMs },
    jobs,
    nodes: nodeWindows,
    unattributedSamples: unattributed,
    ...(ambiguousSamples > 0 ? { ambiguousSamples } : {}),
    issues,
  };
}

/** A widened tolerance stops here: a job silent for an hour is stalled whatever its cadence. */
export const MAX_PROGRESS_TOLERANCE_MS = 60 * MINUTE_MS;
const CADENCE_GAPS = 3;

/**
 * Progress tolerance of one job: twice the longest gap between its last CADENCE_GAPS + 1
 * datapoints (the newest ones, so a slowdown widens it from its first slowed datapoint on), never
 * below the configured tolerance nor above MAX_PROGRESS_TOLERANCE_MS. A stall makes no gap until
 * it ends, so it still shows once the silence exceeds twice the job's recent cadence.
 */
export function cadenceTolerance(sortedTimes: readonly number[], base: number): number {
  let longest = 0;
  for (let i = Math.max(1, sortedTimes.length - CADENCE_GAPS); i < sortedTimes.length; i++)
    longest = Math.max(longest, (sortedTimes[i] as number) - (sortedTimes[i - 1] as number));
  return Math.max(base, Math.min(MAX_PROGRESS_TOLERANCE_MS, 2 * longest));
}

const isShare = (x: number | undefined) => x === undefined || (Number.isFinite(x) && x >= 0 && x <= 1);

/** Shares in [0, 1] summing to at most 1; anything else is reported and not used. */
function validShares(subject: string, s: StepShares, issues: InputIssue[]): StepShares | undefined {
  const sum = (s.dataWaitShare ?? 0) + (s.commShare ?? 0);
  if (isShare(s.dataWaitShare) && isShare(s.commShare) && sum <= 1 + 1e-9) return s;
  issues.push({
    subject,
    problem: `step-time shares data ${s.dataWaitShare} + comm ${s.commShare}: allowed each in [0, 1] and their sum <= 1; not used`,
  });
  return undefined;
}

/** The one configured cluster of a region; 'unknown' when there are none or several. */
function clusterOfRegion(
  fleets: readonly { readonly region: string; readonly cluster: string }[] | undefined,
  region: string,
): string {
  const inRegion = new Set((fleets ?? []).filter((f) => f.region === region).map((f) => f.cluster));
  return inRegion.size === 1 ? ([...inRegion][0] as string) : UNKNOWN_CLUSTER;
}

/** Cluster of a job that could not be placed; merging prefers any known cluster over it. */
export const UNKNOWN_CLUSTER = 'unknown';

/** GPUs a placement names, when it gives GPU indexes for every node of the job. */
function placedGpusOf(p: JobPlacement | undefined): { placedGpus?: number } {
  if (p === undefined || p.gpus === undefined || p.nodes.length === 0) return {};
  let n = 0;
  for (const node of new Set(p.nodes)) {
    const gpus = p.gpus[node];
    if (gpus === undefined) return {};
    n += new Set(gpus).size;
  }
  return n > 0 ? { placedGpus: n } : {};
}

function withCheckpoint(ms: number | undefined): { newestCheckpointMs?: number } {
  return ms === undefined ? {} : { newestCheckpointMs: ms };
}

// ---------------------------------------------------------------------------------------------
// Reading records back: many windows → the jobs and nodes of a KPI range

export interface MergedUsage {
  readonly jobs: JobUsage[];
  readonly nodes: NodeWindow[];
  readonly issues: InputIssue[];
}

/**
 * Merges window records into the JobUsage and NodeWindow lists of [startMs, endMs).
 *
 * - Jobs (key region + name): buckets of every record; a bucket filled in part by two windows
 *   (windows need not align with buckets) is the sum of the parts, and where two records cover
 *   the same minutes of a bucket the later one replaces the earlier (a re-run window saw at
 *   least as much); metadata (outcome,
 *   allocation, failure cause) from the newest record, which knows the latest state; cluster from
 *   the newest record that knew it; checkpoints: the newest of all.
 * - Nodes (key region + cluster + node + GPUs): minutes summed over the records, each record's
 *   minutes scaled to the part of its window inside the range and not already covered by an
 *   earlier record (overlapping windows, e.g. a backfill, are not counted twice):
 *
 *       range            [────────────────────────────)
 *       records      [──r1──)[──r2──)[─r3─)
 *                                 [─r4─)          r4's overlap with r2/r3 is not counted again
 */
interface JobAcc {
  newest: JobUsage;
  newestEnd: number;
  /**
   * Bucket start → the parts recorded: each with the slice of the bucket its record's window
   * covered. Windows need not align with buckets (a 5-min window at :02 fills two buckets in
   * part), so parts from disjoint windows add up; a part overlapping a newer one is replaced.
   */
  readonly buckets: Map<number, BucketPart[]>;
  cluster?: string;
  clusterEnd: number;
  ckpt?: number;
}

interface BucketPart {
  readonly bucket: UsageBucket;
  readonly coverStart: number;
  readonly coverEnd: number;
  readonly recordEnd: number;
}

/** Sum of the parts of one bucket (disjoint slices of it). */
function sumParts(parts: readonly BucketPart[]): UsageBucket {
  const first = (parts[0] as BucketPart).bucket;
  if (parts.length === 1) return first;
  const sum = (
    k: 'observedGpuMinutes' | 'trainingGpuMinutes' | 'progressingGpuMinutes' | 'progressingSmGpuMinutes',
  ) => parts.reduce((a, p) => a + p.bucket[k], 0);
  const dataWait = parts.some((p) => p.bucket.dataWaitGpuMinutes !== undefined)
    ? { dataWaitGpuMinutes: parts.reduce((a, p) => a + (p.bucket.dataWaitGpuMinutes ?? 0), 0) }
    : {};
  const comm = parts.some((p) => p.bucket.commGpuMinutes !== undefined)
    ? { commGpuMinutes: parts.reduce((a, p) => a + (p.bucket.commGpuMinutes ?? 0), 0) }
    : {};
  return {
    startMs: first.startMs,
    endMs: first.endMs,
    observedGpuMinutes: sum('observedGpuMinutes'),
    trainingGpuMinutes: sum('trainingGpuMinutes'),
    progressingGpuMinutes: sum('progressingGpuMinutes'),
    progressingSmGpuMinutes: sum('progressingSmGpuMinutes'),
    ...dataWait,
    ...comm,
  };
}

interface NodeAcc2 {
  readonly node: NodeWindow;
  present: number;
  maint: number;
  sick: number;
  faults: number;
}

/**
 * Incremental form of mergeUsageRecords: add records one by one (in any order), so a reader
 * never holds more than the merged result and the record it is parsing. Order does not change
 * the result except where records overlap in time (then the first added keeps the overlap).
 */
export class UsageMerger {
  private readonly jobs = new Map<string, JobAcc>();
  private readonly nodes = new Map<string, NodeAcc2>();
  /** Parts of the range already counted for nodes, disjoint, sorted. */
  private covered: { startMs: number; endMs: number }[] = [];
  readonly issues: InputIssue[] = [];

  constructor(
    private readonly startMs: number,
    private readonly endMs: number,
  ) {}

  add(r: WindowUsageRecord): void {
    const { startMs, endMs } = this;
    if (!(r.window.endMs > r.window.startMs)) {
      this.issues.push({
        subject: `usage record ${r.window.startMs}`,
        problem: `window end ${r.window.endMs} is not after its start; record skipped`,
      });
      return;
    }
    const end = r.window.endMs;
    for (const j of r.jobs) {
      const key = JSON.stringify([j.region, j.jobName]);
      const acc: JobAcc = this.jobs.get(key) ?? {
        newest: j,
        newestEnd: end,
        buckets: new Map(),
        clusterEnd: Number.NEGATIVE_INFINITY,
      };
      if (end >= acc.newestEnd) {
        acc.newest = j;
        acc.newestEnd = end;
      }
      if (j.cluster !== UNKNOWN_CLUSTER && end >= acc.clusterEnd) {
        acc.cluster = j.cluster;
        acc.clusterEnd = end;
      }
      for (const b of j.buckets) {
        if (!(b.startMs < endMs && b.endMs > startMs)) continue;
        const part: BucketPart = {
          bucket: b,
          coverStart: Math.max(b.startMs, r.window.startMs),
          coverEnd: Math.min(b.endMs, r.window.endMs),
          recordEnd: end,
        };
        const had = acc.buckets.get(b.startMs) ?? [];
        const clash = had.filter((p) => p.coverStart < part.coverEnd && p.coverEnd > part.coverStart);
        // A re-run window saw at least as much as the older record of the same minutes.
        if (clash.some((p) => p.recordEnd > end)) continue;
        acc.buckets.set(b.startMs, [...had.filter((p) => !clash.includes(p)), part]);
      }
      for (const c of j.checkpoints) acc.ckpt = Math.max(acc.ckpt ?? c, c);
      this.jobs.set(key, acc);
    }
    // Node minutes: only the part of the record's window inside the range and not yet counted.
    const from = Math.max(r.window.startMs, startMs);
    const to = Math.min(r.window.endMs, endMs);
    const fresh = to > from ? this.claim(from, to) : 0;
    if (fresh === 0) return;
    const share = fresh / (r.window.endMs - r.window.startMs);
    for (const n of r.nodes) {
      const key = JSON.stringify([n.region, n.cluster, n.node, n.gpus]);
      const acc = this.nodes.get(key) ?? { node: n, present: 0, maint: 0, sick: 0, faults: 0 };
      acc.present += n.presentMinutes * share;
      acc.maint += n.maintenanceMinutes * share;
      acc.sick += n.unhealthyMinutes * share;
      // Faults are events, not minutes: counted with the record that saw them.
      acc.faults += n.hardwareFaults;
      this.nodes.set(key, acc);
    }
  }

  /** Marks [from, to) counted; returns how many ms of it were not counted before. */
  private claim(from: number, to: number): number {
    let fresh = to - from;
    for (const c of this.covered) fresh -= Math.max(0, Math.min(to, c.endMs) - Math.max(from, c.startMs));
    const merged: { startMs: number; endMs: number }[] = [];
    for (const c of [...this.covered, { startMs: from, endMs: to }].sort((a, b) => a.startMs - b.startMs)) {
      const last = merged[merged.length - 1];
      if (last && c.startMs <= last.endMs) last.endMs = Math.max(last.endMs, c.endMs);
      else merged.push({ ...c });
    }
    this.covered = merged;
    return fresh;
  }

  result(): MergedUsage {
    const { startMs, endMs } = this;
    const overlaps = (a: { startMs: number; endMs: number }) => a.startMs < endMs && a.endMs > startMs;
    const jobs: JobUsage[] = [];
    for (const acc of this.jobs.values()) {
      const buckets = [...acc.buckets.values()].map(sumParts).sort((a, b) => a.startMs - b.startMs);
      if (buckets.length === 0 && !acc.newest.allocations.some(overlaps)) continue;
      jobs.push({
        ...acc.newest,
        cluster: acc.cluster ?? acc.newest.cluster,
        buckets,
        checkpoints: acc.ckpt === undefined ? [] : [acc.ckpt],
      });
    }
    const nodes: NodeWindow[] = [...this.nodes.values()].map((a) => ({
      ...a.node,
      presentMinutes: a.present,
      maintenanceMinutes: a.maint,
      unhealthyMinutes: a.sick,
      hardwareFaults: a.faults,
    }));
    return { jobs, nodes, issues: [...this.issues] };
  }
}

/** Merges records of [startMs, endMs), oldest window first (see UsageMerger). */
export function mergeUsageRecords(
  records: readonly WindowUsageRecord[],
  startMs: number,
  endMs: number,
): MergedUsage {
  const m = new UsageMerger(startMs, endMs);
  const sorted = [...records].sort(
    (a, b) => a.window.startMs - b.window.startMs || a.window.endMs - b.window.endMs,
  );
  for (const r of sorted) m.add(r);
  return m.result();
}
