import { gpuInstanceSpec } from '../../contracts/gpu-catalogue';
import { type KpiKey, type KpiValue, WASTE_KINDS, type WasteKind } from '../../contracts/kpis';
import { GPU_INSTANCE_USD_PER_HOUR } from '../../contracts/prices';
import { trainingStartOf, workloadClassOf } from '../detect/jobs';
import { quantileSorted } from '../detect/robust';
import { type ClassSla, DEFAULT_SLAS } from '../detect/scheduling';
import type { TrainingJobState } from '../model';
import {
  type GoodputBreakdown,
  type JobGoodput,
  type Scope,
  type ScopedBreakdown,
  scopeDimensions,
  scopeKey,
  type TimeWindow,
} from './goodput';

/**
 * Supporting KPIs: the guardrails around goodput (definitions, owners, alert intents in
 * lambdas/contracts/kpis.ts and docs/metrics.md). Capacity KPIs come from the goodput partition;
 * job KPIs (success, queue wait, SLA) from the job store's states.
 */

export type WorkloadSlas = Readonly<Record<'interactive' | 'batch' | 'distributed', ClassSla>>;

/** What the job store says about one scope in the window. */
export interface JobStats {
  /** Jobs that ended in the window, by outcome. */
  readonly completed: number;
  readonly failed: number;
  readonly stopped: number;
  /** Creation → training start, ms, of jobs that started training in the window (ascending). */
  readonly queueWaitsMs: readonly number[];
  /**
   * SLA checks due in the window: a start-latency check for each job that started (or is still
   * waiting past its deadline), and a duration check for each completed job whose class has one.
   */
  readonly slaDue: number;
  readonly slaMet: number;
  /** GPU-hours jobs spent waiting to start inside the window (demand the fleet did not serve yet). */
  readonly queuedGpuHours: number;
}

export const EMPTY_JOB_STATS: JobStats = {
  completed: 0,
  failed: 0,
  stopped: 0,
  queueWaitsMs: [],
  slaDue: 0,
  slaMet: 0,
  queuedGpuHours: 0,
};

function gpusOf(job: TrainingJobState): number {
  return (job.instanceCount ?? 1) * (job.instanceType ? (gpuInstanceSpec(job.instanceType)?.gpus ?? 1) : 1);
}

/** When a job began training, if it has (a creation time is not a start). */
function startedAt(job: TrainingJobState): number | undefined {
  const s = trainingStartOf(job);
  return job.trainingStartTime !== undefined || job.transitions.some((t) => t.status === 'Training')
    ? s
    : undefined;
}

function endedAt(job: TrainingJobState): number | undefined {
  return job.status === 'Completed' || job.status === 'Failed' || job.status === 'Stopped'
    ? (job.trainingEndTime ?? job.lastModifiedTime)
    : undefined;
}

/** Scopes a job belongs to; `cluster` comes from its usage (SageMaker jobs carry none themselves). */
export function jobScopes(job: TrainingJobState, cluster: string | undefined): Scope[] {
  const scopes: Scope[] = [{ kind: 'fleet' }, { kind: 'region', region: job.region }];
  if (cluster) scopes.push({ kind: 'cluster', region: job.region, cluster });
  scopes.push({ kind: 'team', team: job.team ?? 'unknown' });
  return scopes;
}

/**
 * Job statistics per scope key. `clusterOf` maps job name → cluster (from the usage records).
 *
 *   creation ──── wait ────► training start ─── ... ─── end
 *        |<── SLA (class) ──>| met if start ≤ creation + SLA
 */
export function jobStats(
  jobs: readonly TrainingJobState[],
  window: TimeWindow,
  clusterOf: ReadonlyMap<string, string>,
  slas: WorkloadSlas = DEFAULT_SLAS,
): Map<string, JobStats> {
  type Acc = { -readonly [K in keyof JobStats]: JobStats[K] extends readonly number[] ? number[] : number };
  const out = new Map<string, Acc>();
  const inWin = (t: number | undefined) => t !== undefined && t >= window.startMs && t < window.endMs;
  for (const job of jobs) {
    const started = startedAt(job);
    const ended = endedAt(job);
    const classSla = slas[workloadClassOf(job)];
    const sla = classSla.maxStartLatencyMs;
    const deadline = sla === undefined ? undefined : job.creationTime + sla;
    const maxDuration = classSla.maxDurationMs;
    const waitEnd = started ?? ended ?? window.endMs;
    const waitedMs = Math.max(
      0,
      Math.min(waitEnd, window.endMs) - Math.max(job.creationTime, window.startMs),
    );
    for (const scope of jobScopes(job, clusterOf.get(job.jobName))) {
      const key = scopeKey(scope);
      let a = out.get(key);
      if (!a) {
        a = { ...EMPTY_JOB_STATS, queueWaitsMs: [] };
        out.set(key, a);
      }
      if (inWin(ended)) {
        if (job.status === 'Completed') a.completed++;
        else if (job.status === 'Failed') a.failed++;
        else a.stopped++;
      }
      if (started !== undefined && inWin(started)) {
        a.queueWaitsMs.push(started - job.creationTime);
        if (deadline !== undefined) {
          a.slaDue++;
          if (started <= deadline) a.slaMet++;
        }
      } else if (started === undefined && ended === undefined && deadline !== undefined && inWin(deadline)) {
        a.slaDue++; // still waiting past its deadline: a miss now, not when it finally starts
      }
      // Duration SLA (creation → end), judged when the job ends: slow jobs miss it while starting on time.
      if (maxDuration !== undefined && ended !== undefined && inWin(ended) && job.status === 'Completed') {
        a.slaDue++;
        if (ended - job.creationTime <= maxDuration) a.slaMet++;
      }
      a.queuedGpuHours += (waitedMs / 3_600_000) * gpusOf(job);
    }
  }
  for (const a of out.values()) a.queueWaitsMs.sort((x, y) => x - y);
  return out;
}

/** On-demand $ per GPU-hour of an instance type; undefined when unpriced or unknown. */
export function usdPerGpuHour(instanceType: string | undefined): number | undefined {
  if (!instanceType) return undefined;
  const price = Object.hasOwn(GPU_INSTANCE_USD_PER_HOUR, instanceType)
    ? GPU_INSTANCE_USD_PER_HOUR[instanceType]
    : undefined;
  const gpus = gpuInstanceSpec(instanceType)?.gpus;
  return price && gpus ? price.usd / gpus : undefined;
}

export interface WasteTotals {
  readonly gpuHours: Readonly<Record<WasteKind, number>>;
  readonly dollars: Readonly<Record<WasteKind, number>>;
  /** Wasted GPU-hours of instance types without a price (left out of dollars). */
  readonly unpricedGpuHours: number;
}

/** Wasted GPU-hours and dollars of a scope's jobs. The three kinds are disjoint; total is their sum. */
export function waste(jobs: readonly JobGoodput[]): WasteTotals {
  const hours = { not_training: 0, stalled: 0, lost_to_failure: 0, total: 0 };
  const dollars = { not_training: 0, stalled: 0, lost_to_failure: 0, total: 0 };
  let unpriced = 0;
  for (const j of jobs) {
    const kinds = {
      not_training: j.notTrainingGpuHours,
      stalled: j.stalledGpuHours,
      lost_to_failure: j.lostToFailureGpuHours,
    };
    const price = usdPerGpuHour(j.instanceType);
    for (const [k, h] of Object.entries(kinds) as [Exclude<WasteKind, 'total'>, number][]) {
      hours[k] += h;
      hours.total += h;
      if (price === undefined) unpriced += h;
      else {
        dollars[k] += h * price;
        dollars.total += h * price;
      }
    }
  }
  return { gpuHours: hours, dollars, unpricedGpuHours: unpriced };
}

/** The numbers of one scope that supporting KPIs and the decomposition use. */
export interface ScopeKpis {
  readonly goodput?: number;
  readonly allocationRate?: number;
  readonly effectiveSmActivity?: number;
  readonly jobSuccessRate?: number;
  readonly queueWaitP95Seconds?: number;
  readonly slaAttainment?: number;
  readonly hardwareFaultsPer1kGpuHours?: number;
  readonly dataLoaderWaitShare?: number;
  readonly communicationShare?: number;
  readonly waste: WasteTotals;
}

const ratio = (n: number, d: number): number | undefined => (d > 0 ? n / d : undefined);

export function scopeKpis(b: GoodputBreakdown, jobs: readonly JobGoodput[], s: JobStats): ScopeKpis {
  const outcomes = s.completed + s.failed + s.stopped;
  const p95 = s.queueWaitsMs.length > 0 ? quantileSorted(s.queueWaitsMs, 0.95) : undefined;
  const hasDataWait = jobs.some((j) => j.dataWaitGpuHours > 0);
  const hasComm = jobs.some((j) => j.commGpuHours > 0);
  const kpis: ScopeKpis = {
    ...opt('goodput', b.goodput),
    ...opt('allocationRate', ratio(b.allocatedGpuHours, b.availableGpuHours)),
    // SM-weighted progressing work (kept or lost: the loss is a reliability matter, not an SM one).
    ...opt('effectiveSmActivity', ratio(b.usefulGpuHours + b.lostUsefulGpuHours, b.allocatedGpuHours)),
    ...opt('jobSuccessRate', ratio(s.completed, outcomes)),
    ...opt('queueWaitP95Seconds', p95 === undefined ? undefined : p95 / 1000),
    ...opt('slaAttainment', ratio(s.slaMet, s.slaDue)),
    ...opt('hardwareFaultsPer1kGpuHours', ratio(1000 * b.hardwareFaults, b.availableGpuHours)),
    ...opt('dataLoaderWaitShare', hasDataWait ? ratio(b.dataWaitGpuHours, b.trainingGpuHours) : undefined),
    ...opt('communicationShare', hasComm ? ratio(b.commGpuHours, b.trainingGpuHours) : undefined),
    waste: waste(jobs),
  };
  return kpis;
}

function opt<K extends string>(k: K, v: number | undefined): { [P in K]?: number } {
  return (v === undefined || !Number.isFinite(v) ? {} : { [k]: v }) as { [P in K]?: number };
}

const SCALAR_KPIS: readonly [KpiKey, keyof ScopeKpis][] = [
  ['goodput', 'goodput'],
  ['allocationRate', 'allocationRate'],
  ['effectiveSmActivity', 'effectiveSmActivity'],
  ['jobSuccessRate', 'jobSuccessRate'],
  ['queueWaitP95', 'queueWaitP95Seconds'],
  ['slaAttainment', 'slaAttainment'],
  ['hardwareFaultsPer1kGpuHours', 'hardwareFaultsPer1kGpuHours'],
  ['dataLoaderWaitShare', 'dataLoaderWaitShare'],
  ['communicationShare', 'communicationShare'],
];

/**
 * KPI values to emit for one scope. A KPI without a defined value (no capacity, no ended job...)
 * is not emitted: CloudWatch shows a gap, and an alarm treats it as missing data, not as 0.
 */
export function kpiValues(scope: Scope, k: ScopeKpis, timestampMs: number): KpiValue[] {
  const dims = scopeDimensions(scope);
  const out: KpiValue[] = [];
  for (const [key, field] of SCALAR_KPIS) {
    const v = k[field];
    if (typeof v === 'number') out.push({ key, value: v, dimensions: dims, timestampMs });
  }
  for (const w of WASTE_KINDS) {
    out.push({
      key: 'wastedGpuHours',
      value: k.waste.gpuHours[w],
      dimensions: { ...dims, Waste: w },
      timestampMs,
    });
    out.push({
      key: 'wastedDollars',
      value: k.waste.dollars[w],
      dimensions: { ...dims, Waste: w },
      timestampMs,
    });
  }
  return out;
}

/** Supporting KPIs for every scope of a goodput result. */
export function supportingKpis(
  scopes: readonly ScopedBreakdown[],
  stats: ReadonlyMap<string, JobStats>,
): Map<string, { scope: Scope; kpis: ScopeKpis }> {
  const out = new Map<string, { scope: Scope; kpis: ScopeKpis }>();
  for (const s of scopes) {
    const key = scopeKey(s.scope);
    out.set(key, { scope: s.scope, kpis: scopeKpis(s.breakdown, s.jobs, stats.get(key) ?? EMPTY_JOB_STATS) });
  }
  return out;
}
