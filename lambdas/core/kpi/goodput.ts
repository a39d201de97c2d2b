import type { Cause } from '../../contracts/finding';

/**
 * Goodput, the north star: the share of available GPU-hours that did useful training work.
 *
 *   goodput = useful GPU-hours / available GPU-hours
 *
 *   available = Σ nodes  GPUs × (minutes in the inventory − planned-maintenance minutes)
 *   useful    = Σ jobs   Σ GPU-minutes that were training AND progressing, each weighted by its
 *                        sm_active, × the share of that minute whose work was kept
 *
 * Every available GPU-hour lands in exactly one bucket of this partition, so a drop in goodput
 * is always an increase somewhere else (lambdas/core/kpi/decomposition.ts relies on it):
 *
 *   available ─┬─ unhealthy               node unhealthy, not allocatable
 *              ├─ unallocated            healthy capacity no job held
 *              └─ allocated ─┬─ unobserved          held, but no telemetry
 *                            ├─ notTraining         held, not in the Training phase
 *                            ├─ dataWait            training, waiting for input        ┐ training −
 *                            ├─ communication       training, in exposed collectives   │ progressing
 *                            ├─ inefficient         training, stalled or SMs idle      ┘ SM-weighted
 *                            ├─ lostUseful          progressing work thrown away by a failure
 *                            └─ useful
 *
 * Kept work. A completed job keeps everything. A failed or stopped job keeps what it did up to its
 * last checkpoint; the rest is lost:
 *
 *      alloc ├──────────────┼──────────┼──────────────┤ fails
 *                         ckpt₁      ckpt₂   lost     │
 *            |<──────── kept ─────────>|<──────────────>|
 *
 * A running job's work after its last checkpoint is counted provisionally (and reported as
 * at-risk): requiring a checkpoint first would show long jobs without checkpoints as zero until
 * they end. When the job fails, the trailing window still covers those minutes and they turn lost.
 *
 * Buckets. Usage arrives pre-aggregated in buckets (the detection run records them; 1-minute
 * buckets are per-minute flags). A checkpoint inside a bucket splits it pro rata by time, which is
 * exact for 1-minute buckets.
 *
 * All quantities here are GPU-minutes internally and GPU-hours in the results.
 */

export interface TimeWindow {
  readonly startMs: number;
  readonly endMs: number;
}

/** One job's GPU usage in one time bucket, summed over its GPUs. */
export interface UsageBucket {
  readonly startMs: number;
  readonly endMs: number;
  /** GPU-minutes with a telemetry sample. */
  readonly observedGpuMinutes: number;
  /** ... of which the job was in its Training phase. */
  readonly trainingGpuMinutes: number;
  /** ... of which the job was progressing (a progress datapoint near the minute). */
  readonly progressingGpuMinutes: number;
  /** Σ sm_active (0..1) over the progressing GPU-minutes: dummy load (no progress, SMs idle) adds 0. */
  readonly progressingSmGpuMinutes: number;
  /** SM-equivalent training GPU-minutes spent waiting for input, if the job reports a step-time breakdown. */
  readonly dataWaitGpuMinutes?: number;
  /** SM-equivalent training GPU-minutes spent in exposed communication (collectives), if reported. */
  readonly commGpuMinutes?: number;
}

export type JobOutcome = 'running' | 'completed' | 'failed' | 'stopped';

export interface JobUsage {
  readonly jobName: string;
  readonly region: string;
  readonly cluster: string;
  readonly team: string;
  readonly instanceType?: string;
  /** GPUs allocated to the job (instances × GPUs per instance). */
  readonly gpus: number;
  /** When the job held its GPUs (from instance start to release). */
  readonly allocations: readonly TimeWindow[];
  readonly buckets: readonly UsageBucket[];
  readonly outcome: JobOutcome;
  /** Checkpoint write times, epoch ms. */
  readonly checkpoints: readonly number[];
  /** For failed or stopped jobs: what failed. Preemption is 'scheduling'. Missing: unclassified. */
  readonly failureCause?: Cause;
  /** Software cohort of the job (driver_version, framework, image), for the decomposition's evidence. */
  readonly cohort?: Readonly<Record<string, string>>;
}

/** One node of the inventory over the window. */
export interface NodeWindow {
  readonly node: string;
  readonly region: string;
  readonly cluster: string;
  /** Team owning the node (a fleet dedicated to one team); undefined for shared fleets. */
  readonly team?: string;
  readonly instanceType: string;
  readonly gpus: number;
  /** Minutes of the window the node was in the inventory (elastic fleets come and go). */
  readonly presentMinutes: number;
  /** ... of which inside a planned maintenance window (excluded from available). */
  readonly maintenanceMinutes: number;
  /** ... of which (outside maintenance) the node was unhealthy and not allocatable. */
  readonly unhealthyMinutes: number;
  /** Hardware faults in the window (fatal Xid, uncorrectable ECC, GPU lost). */
  readonly hardwareFaults: number;
}

/** An inconsistency in the inputs: clamped so the arithmetic stays sound, and reported. */
export interface InputIssue {
  readonly subject: string;
  readonly problem: string;
}

/**
 * The allocated side of the partition (see the diagram at the top), plus the raw-hour views of
 * stalled and lost work. Per job, and summed over a scope's jobs (JOB_SUMS): one list of buckets
 * for both, so a new bucket cannot be computed per job and then forgotten in the sums.
 */
export interface AllocatedGpuHours {
  readonly allocatedGpuHours: number;
  readonly unobservedGpuHours: number;
  readonly notTrainingGpuHours: number;
  readonly trainingGpuHours: number;
  readonly dataWaitGpuHours: number;
  readonly commGpuHours: number;
  readonly inefficientGpuHours: number;
  /** SM-weighted progressing work thrown away by the failure (partition term). */
  readonly lostUsefulGpuHours: number;
  readonly usefulGpuHours: number;
  /** Training without progress (raw GPU-hours). */
  readonly stalledGpuHours: number;
  /** Progressing GPU-hours after the last checkpoint of a failed/stopped job (raw GPU-hours). */
  readonly lostToFailureGpuHours: number;
  /** Progressing GPU-hours after the last checkpoint of a running job (counted, but not yet safe). */
  readonly atRiskGpuHours: number;
}

/** One job's share of the partition, GPU-hours, inside the window. */
export interface JobGoodput extends AllocatedGpuHours {
  readonly jobName: string;
  readonly region: string;
  readonly cluster: string;
  readonly team: string;
  readonly instanceType?: string;
  readonly outcome: JobOutcome;
  readonly failureCause?: Cause;
  readonly cohort?: Readonly<Record<string, string>>;
}

const H = 60; // minutes per hour

function overlapMs(a: TimeWindow, b: TimeWindow): number {
  return Math.max(0, Math.min(a.endMs, b.endMs) - Math.max(a.startMs, b.startMs));
}

/** Total length of the union of intervals inside the window (overlapping allocations count once). */
export function coveredMs(intervals: readonly TimeWindow[], window: TimeWindow): number {
  const clipped = intervals
    .map((i) => ({ startMs: Math.max(i.startMs, window.startMs), endMs: Math.min(i.endMs, window.endMs) }))
    .filter((i) => i.endMs > i.startMs)
    .sort((a, b) => a.startMs - b.startMs);
  let total = 0;
  let curStart: number | undefined;
  let curEnd = 0;
  for (const i of clipped) {
    if (curStart === undefined || i.startMs > curEnd) {
      if (curStart !== undefined) total += curEnd - curStart;
      curStart = i.startMs;
      curEnd = i.endMs;
    } else curEnd = Math.max(curEnd, i.endMs);
  }
  if (curStart !== undefined) total += curEnd - curStart;
  return total;
}

/** Share of the bucket after `fromMs` (0..1). */
function shareAfter(b: TimeWindow, fromMs: number): number {
  const len = b.endMs - b.startMs;
  if (len <= 0) return 0;
  return Math.min(1, Math.max(0, (b.endMs - Math.max(b.startMs, fromMs)) / len));
}

const nonNeg = (x: number | undefined): number => (x !== undefined && Number.isFinite(x) && x > 0 ? x : 0);

/**
 * One job's partition of its allocated GPU-hours inside the window. Inconsistent buckets
 * (progressing > training, sm sum > progressing, observed beyond allocation...) are clamped and
 * reported in `issues`, never silently accepted.
 */
export function jobGoodput(job: JobUsage, window: TimeWindow, issues: InputIssue[] = []): JobGoodput {
  const subject = `job ${job.jobName}`;
  const gpus = nonNeg(job.gpus);
  if (gpus !== job.gpus) issues.push({ subject, problem: `gpus: got ${job.gpus}; allowed a number > 0` });
  const allocated = (coveredMs(job.allocations, window) / 60_000) * gpus;

  // Work after this instant is lost (failed/stopped) or at risk (running); undefined: all kept.
  const lastCkpt = job.checkpoints.length > 0 ? Math.max(...job.checkpoints) : undefined;
  const unsafeFrom = job.outcome === 'completed' ? undefined : (lastCkpt ?? Number.NEGATIVE_INFINITY);

  let observed = 0;
  let training = 0;
  let progressing = 0;
  let progressingSm = 0;
  let dataWait = 0;
  let comm = 0;
  let unsafeProgressing = 0;
  let unsafeSm = 0;
  for (const b of job.buckets) {
    const inWindow = b.endMs > b.startMs ? overlapMs(b, window) / (b.endMs - b.startMs) : 0;
    if (inWindow === 0) continue;
    const o = nonNeg(b.observedGpuMinutes);
    let t = nonNeg(b.trainingGpuMinutes);
    let p = nonNeg(b.progressingGpuMinutes);
    let s = nonNeg(b.progressingSmGpuMinutes);
    const at = `${subject} bucket ${new Date(b.startMs).toISOString()}`;
    if (t > o) {
      issues.push({ subject: at, problem: `trainingGpuMinutes ${t} > observedGpuMinutes ${o}; clamped` });
      t = o;
    }
    if (p > t) {
      issues.push({ subject: at, problem: `progressingGpuMinutes ${p} > trainingGpuMinutes ${t}; clamped` });
      p = t;
    }
    if (s > p) {
      issues.push({
        subject: at,
        problem: `progressingSmGpuMinutes ${s} > progressingGpuMinutes ${p}; clamped`,
      });
      s = p;
    }
    let d = nonNeg(b.dataWaitGpuMinutes);
    let c = nonNeg(b.commGpuMinutes);
    const notUseful = t - s;
    if (d + c > notUseful + 1e-9) {
      issues.push({
        subject: at,
        problem: `dataWait ${d} + comm ${c} GPU-minutes exceed training − SM-weighted progressing (${notUseful}); scaled down`,
      });
      const f = d + c > 0 ? notUseful / (d + c) : 0;
      d *= f;
      c *= f;
    }
    const unsafe = unsafeFrom === undefined ? 0 : shareAfter(b, unsafeFrom);
    observed += o * inWindow;
    training += t * inWindow;
    progressing += p * inWindow;
    progressingSm += s * inWindow;
    dataWait += d * inWindow;
    comm += c * inWindow;
    unsafeProgressing += p * inWindow * unsafe;
    unsafeSm += s * inWindow * unsafe;
  }

  // Telemetry beyond the allocation cannot be real work of this job's GPUs: scale it into the allocation.
  if (observed > allocated + 1e-9) {
    issues.push({
      subject,
      problem: `observed ${round6(observed)} GPU-minutes exceed allocated ${round6(allocated)} in the window; scaled down`,
    });
    const f = observed > 0 ? allocated / observed : 0;
    observed *= f;
    training *= f;
    progressing *= f;
    progressingSm *= f;
    dataWait *= f;
    comm *= f;
    unsafeProgressing *= f;
    unsafeSm *= f;
  }

  const lost = job.outcome === 'failed' || job.outcome === 'stopped';
  const lostUseful = lost ? unsafeSm : 0;
  return {
    jobName: job.jobName,
    region: job.region,
    cluster: job.cluster,
    team: job.team,
    ...(job.instanceType ? { instanceType: job.instanceType } : {}),
    outcome: job.outcome,
    ...(job.failureCause ? { failureCause: job.failureCause } : {}),
    ...(job.cohort ? { cohort: job.cohort } : {}),
    allocatedGpuHours: allocated / H,
    unobservedGpuHours: (allocated - observed) / H,
    notTrainingGpuHours: (observed - training) / H,
    trainingGpuHours: training / H,
    dataWaitGpuHours: dataWait / H,
    commGpuHours: comm / H,
    inefficientGpuHours: (training - progressingSm - dataWait - comm) / H,
    lostUsefulGpuHours: lostUseful / H,
    usefulGpuHours: (progressingSm - lostUseful) / H,
    stalledGpuHours: (training - progressing) / H,
    lostToFailureGpuHours: lost ? unsafeProgressing / H : 0,
    atRiskGpuHours: job.outcome === 'running' ? unsafeProgressing / H : 0,
  };
}

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/** The partition of one scope's available GPU-hours (see the diagram at the top). */
export interface GoodputBreakdown extends AllocatedGpuHours {
  readonly availableGpuHours: number;
  /** Excluded from available; reported so a growing maintenance share stays visible. */
  readonly maintenanceGpuHours: number;
  readonly unhealthyGpuHours: number;
  readonly unallocatedGpuHours: number;
  /** Allocations beyond healthy capacity (jobs on nodes missing from the inventory); should be 0. */
  readonly overAllocatedGpuHours: number;
  readonly hardwareFaults: number;
  /** useful / available, in [0, 1]; undefined when nothing was available. */
  readonly goodput?: number;
}

const JOB_SUMS = [
  'allocatedGpuHours',
  'unobservedGpuHours',
  'notTrainingGpuHours',
  'trainingGpuHours',
  'dataWaitGpuHours',
  'commGpuHours',
  'inefficientGpuHours',
  'lostUsefulGpuHours',
  'usefulGpuHours',
  'stalledGpuHours',
  'lostToFailureGpuHours',
  'atRiskGpuHours',
] as const satisfies readonly (keyof AllocatedGpuHours)[]; // all of them: breakdown() returns every one

/** Sums jobs and nodes of one scope into its partition. */
export function breakdown(
  jobs: readonly JobGoodput[],
  nodes: readonly NodeWindow[],
  issues: InputIssue[] = [],
): GoodputBreakdown {
  const sums = Object.fromEntries(JOB_SUMS.map((k) => [k, 0])) as Record<(typeof JOB_SUMS)[number], number>;
  for (const j of jobs) for (const k of JOB_SUMS) sums[k] += j[k];

  let available = 0;
  let maintenance = 0;
  let unhealthy = 0;
  let faults = 0;
  for (const n of nodes) {
    const gpus = nonNeg(n.gpus);
    const present = nonNeg(n.presentMinutes);
    let maint = nonNeg(n.maintenanceMinutes);
    if (maint > present) {
      issues.push({
        subject: `node ${n.node}`,
        problem: `maintenanceMinutes ${maint} > presentMinutes ${present}; clamped`,
      });
      maint = present;
    }
    let sick = nonNeg(n.unhealthyMinutes);
    if (sick > present - maint) {
      issues.push({
        subject: `node ${n.node}`,
        problem: `unhealthyMinutes ${sick} > minutes outside maintenance ${present - maint}; clamped`,
      });
      sick = present - maint;
    }
    available += (gpus * (present - maint)) / H;
    maintenance += (gpus * maint) / H;
    unhealthy += (gpus * sick) / H;
    faults += nonNeg(n.hardwareFaults);
  }
  const healthy = available - unhealthy;
  const overAllocated = Math.max(0, sums.allocatedGpuHours - healthy);
  if (overAllocated > 1e-9)
    issues.push({
      subject: 'inventory',
      problem: `${round6(overAllocated)} allocated GPU-hours beyond the healthy capacity of ${round6(healthy)} (jobs on nodes missing from the inventory?)`,
    });
  const goodput = available > 0 ? Math.min(1, Math.max(0, sums.usefulGpuHours / available)) : undefined;
  return {
    ...sums,
    availableGpuHours: available,
    maintenanceGpuHours: maintenance,
    unhealthyGpuHours: unhealthy,
    unallocatedGpuHours: Math.max(0, healthy - sums.allocatedGpuHours),
    overAllocatedGpuHours: overAllocated,
    hardwareFaults: faults,
    ...(goodput === undefined ? {} : { goodput }),
  };
}

// ---------------------------------------------------------------------------------------------
// Scopes: fleet, region, cluster, team

export type Scope =
  | { readonly kind: 'fleet' }
  | { readonly kind: 'region'; readonly region: string }
  | { readonly kind: 'cluster'; readonly region: string; readonly cluster: string }
  | { readonly kind: 'team'; readonly team: string };

export function scopeKey(s: Scope): string {
  switch (s.kind) {
    case 'fleet':
      return 'fleet';
    case 'region':
      return `region:${s.region}`;
    case 'cluster':
      return `cluster:${s.region}/${s.cluster}`;
    case 'team':
      return `team:${s.team}`;
  }
}

/** CloudWatch dimensions of a scope (the dimension sets of lambdas/contracts/kpis.ts). */
export function scopeDimensions(s: Scope): Record<string, string> {
  switch (s.kind) {
    case 'fleet':
      return {};
    case 'region':
      return { Region: s.region };
    case 'cluster':
      return { Region: s.region, Cluster: s.cluster };
    case 'team':
      return { Team: s.team };
  }
}

export interface ScopedBreakdown {
  readonly scope: Scope;
  readonly breakdown: GoodputBreakdown;
  readonly jobs: readonly JobGoodput[];
}

export interface GoodputInput {
  readonly window: TimeWindow;
  readonly jobs: readonly JobUsage[];
  readonly nodes: readonly NodeWindow[];
}

export interface GoodputResult {
  readonly scopes: readonly ScopedBreakdown[];
  readonly issues: readonly InputIssue[];
}

/**
 * Goodput per fleet, region, cluster and team. A team's denominator is the capacity of the nodes
 * it owns (NodeWindow.team); a team on shared nodes has no capacity of its own, so its goodput is
 * undefined and only its useful and wasted GPU-hours are reported (dividing by its allocation
 * instead would reward a team for holding fewer idle GPUs than it needs and make per-team numbers
 * incomparable with the fleet's).
 */
export function computeGoodput(input: GoodputInput): GoodputResult {
  const issues: InputIssue[] = [];
  const jobs = input.jobs.map((j) => jobGoodput(j, input.window, issues));
  const scopes = new Map<string, { scope: Scope; jobs: JobGoodput[]; nodes: NodeWindow[] }>();
  const add = (scope: Scope, job?: JobGoodput, node?: NodeWindow) => {
    const key = scopeKey(scope);
    let e = scopes.get(key);
    if (!e) {
      e = { scope, jobs: [], nodes: [] };
      scopes.set(key, e);
    }
    if (job) e.jobs.push(job);
    if (node) e.nodes.push(node);
  };
  add({ kind: 'fleet' });
  for (const n of input.nodes) {
    add({ kind: 'fleet' }, undefined, n);
    add({ kind: 'region', region: n.region }, undefined, n);
    add({ kind: 'cluster', region: n.region, cluster: n.cluster }, undefined, n);
    if (n.team) add({ kind: 'team', team: n.team }, undefined, n);
  }
  for (const j of jobs) {
    add({ kind: 'fleet' }, j);
    add({ kind: 'region', region: j.region }, j);
    add({ kind: 'cluster', region: j.region, cluster: j.cluster }, j);
    add({ kind: 'team', team: j.team }, j);
  }
  const out: ScopedBreakdown[] = [];
  for (const e of scopes.values()) {
    // Only the fleet scope reports inventory issues, so each one is reported once.
    const sink = e.scope.kind === 'fleet' ? issues : [];
    out.push({ scope: e.scope, breakdown: breakdown(e.jobs, e.nodes, sink), jobs: e.jobs });
  }
  return { scopes: out, issues };
}

// ---------------------------------------------------------------------------------------------
// From per-GPU-minute flags to buckets (what the detection run records)

export interface GpuMinute {
  /** Start of the minute, epoch ms. */
  readonly time: number;
  /** sm_active 0..1; undefined when not collected (then the minute earns nothing: it cannot be verified). */
  readonly smActive?: number;
  readonly training: boolean;
  readonly progressing: boolean;
  readonly dataWait?: number;
  readonly comm?: number;
}

/** Aggregates GPU-minutes (any number of GPUs) into buckets of `bucketMs` aligned to epoch. */
export function bucketsFromGpuMinutes(minutes: readonly GpuMinute[], bucketMs = 60_000): UsageBucket[] {
  const m = new Map<number, { o: number; t: number; p: number; s: number; d: number; c: number }>();
  for (const x of minutes) {
    const start = Math.floor(x.time / bucketMs) * bucketMs;
    const b = m.get(start) ?? { o: 0, t: 0, p: 0, s: 0, d: 0, c: 0 };
    b.o += 1;
    if (x.training) {
      b.t += 1;
      b.d += nonNeg(x.dataWait);
      b.c += nonNeg(x.comm);
      if (x.progressing) {
        b.p += 1;
        b.s += Math.min(1, nonNeg(x.smActive));
      }
    }
    m.set(start, b);
  }
  return [...m.entries()]
    .sort(([a], [b]) => a - b)
    .map(([start, b]) => ({
      startMs: start,
      endMs: start + bucketMs,
      observedGpuMinutes: b.o,
      trainingGpuMinutes: b.t,
      progressingGpuMinutes: b.p,
      progressingSmGpuMinutes: b.s,
      ...(b.d > 0 ? { dataWaitGpuMinutes: b.d } : {}),
      ...(b.c > 0 ? { commGpuMinutes: b.c } : {}),
    }));
}
