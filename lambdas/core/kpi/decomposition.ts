import {
  type Cause,
  FINDING_SCHEMA_VERSION,
  type Finding,
  type FindingLabels,
} from '../../contracts/finding';
import { CAPACITY_CATEGORIES, type CapacityCategory, type KpiValue } from '../../contracts/kpis';
import { definedOnly, listText } from '../detect/jobs';
import { roundTo } from '../numbers';
import {
  type GoodputBreakdown,
  type JobGoodput,
  type Scope,
  type ScopedBreakdown,
  scopeDimensions,
  type TimeWindow,
} from './goodput';
import type { JobStats, ScopeKpis } from './supporting';

/**
 * Why did goodput drop? Every available GPU-hour sits in one bucket of the goodput partition
 * (goodput.ts), so as shares of capacity
 *
 *   goodput + Σ_k share_k = 1      and therefore      goodput_prev − goodput_cur = Σ_k Δshare_k
 *
 * The lost goodput, in GPU-hours at today's capacity, L = (goodput_prev − goodput_cur) × available_cur,
 * is split over the categories whose share grew, in proportion to their growth (categories that
 * shrank are reported as offsets). The shares therefore sum to L exactly.
 *
 * Buckets → categories:
 *   hardware       unhealthy nodes' capacity; work lost by jobs that failed on hardware
 *   scheduling     unallocated capacity while jobs waited (up to the GPU-hours they waited);
 *                  allocated but not training (placement, start-up); work lost to preemption
 *   data-io        training time waiting for input (jobs that publish a step-time breakdown,
 *                  step-time.ts); work lost by data-io failures
 *   network        training time in exposed collectives (same); work lost by network failures
 *   software       training while stalled or with idle SMs (no better explanation); work lost by
 *                  software or unclassified failures. Evidence: the cohort (driver, framework,
 *                  image) where it grew most.
 *
 * "Work lost by a failure" is the SM-weighted progress after the last checkpoint AND the start-up
 * (allocated, not training) of the job that failed: a job that dies minutes into training threw
 * its start-up away with it, so a driver that crashes jobs early shows as software, not as
 * scheduling overhead.
 *   idle-capacity  unallocated capacity nobody waited for (demand, not a fault) ┐ cause 'efficiency',
 *   telemetry-gap  allocated GPU-hours without telemetry (we cannot tell)       ┘ severity 'info'
 *
 * The two classic findings, where the bare partition needs help:
 *
 * (a) Utilisation flat while SLA misses spike. "Utilisation" here is what a scheduler's view and
 *     the fleet dashboard's AllocationRate show: the share of available capacity allocated to jobs.
 *     Flat means it did not fall by more than `flatUtilisation`; a rise counts, because slowed or
 *     stalled jobs hold their GPUs longer. The running jobs look as busy as before, so the misses
 *     come from jobs that cannot start or that run longer:
 *       - queue wait p95 up (or more queued GPU-hours) → the partition decides: preemption churn
 *         shows as scheduling (preemption loss), a slowdown with a step-time breakdown as data-io
 *         or network;
 *       - no queue growth → the jobs are slower per step while holding the same GPUs. A slowdown
 *         concentrated in one software cohort is software (a regression shipped with it); spread
 *         across cohorts it is the shared input path (storage, data loaders): data-io. The
 *         undifferentiated "stalled / SMs idle" growth is reassigned accordingly, because jobs
 *         without a step-time breakdown show input starvation only as idle SMs.
 * (b) Utilisation falling while queue wait rises and node health looks normal → scheduling: capacity
 *     goes unused although work is waiting, and it is not broken nodes, so placement (fragmentation,
 *     gang scheduling, quotas) is the bottleneck. Unallocated capacity the queue-demand estimate
 *     left as "idle-capacity" is reassigned to scheduling: the rising queue is the demand.
 *
 * Limits: attribution is proportional, not causal (two simultaneous problems are split by the
 * size of their footprints); a failure's cause must be classified upstream (FailureReason, Xid);
 * jobs without a step-time breakdown put data waits and communication under "software".
 */

/** The capacity categories except 'useful': where lost goodput can go. */
export const CATEGORIES = CAPACITY_CATEGORIES.filter(
  (c): c is Exclude<CapacityCategory, 'useful'> => c !== 'useful',
);
export type Category = Exclude<CapacityCategory, 'useful'>;

/** What the decomposition keeps of one window and scope (JSON: it lives in the state store). */
export interface KpiSnapshot {
  readonly window: TimeWindow;
  readonly breakdown: GoodputBreakdown;
  readonly queueWaitP95Seconds?: number;
  readonly slaAttainment?: number;
  readonly hardwareFaultsPer1kGpuHours?: number;
  readonly dataLoaderWaitShare?: number;
  readonly communicationShare?: number;
  readonly queuedGpuHours: number;
  /** SM-weighted work lost by failures, by failure cause ('unclassified' when none was given). */
  readonly lostUsefulByCause: Readonly<Record<string, number>>;
  /**
   * Allocated-not-training GPU-hours of jobs that failed, by failure cause: moved from scheduling
   * to the cause's category. Absent in snapshots stored before it existed (then nothing moves).
   */
  readonly failedStartupByCause?: Readonly<Record<string, number>>;
  /** Software-attributed GPU-hours by cohort value ('framework=2.5'), the largest ones only. */
  readonly softwareByCohort: Readonly<Record<string, number>>;
}

/** Cohorts kept per snapshot: enough to name the culprit, small enough for the state item. */
const MAX_COHORTS = 10;

function softwareHours(j: JobGoodput): number {
  const cause = j.failureCause;
  const softwareLoss =
    cause === undefined || cause === 'software' || cause === 'model' || cause === 'efficiency';
  const startup = j.outcome === 'failed' ? j.notTrainingGpuHours : 0;
  return j.inefficientGpuHours + (softwareLoss ? j.lostUsefulGpuHours + startup : 0);
}

export function snapshotOf(
  s: ScopedBreakdown,
  kpis: ScopeKpis,
  stats: JobStats,
  window: TimeWindow,
): KpiSnapshot {
  const lost: Record<string, number> = {};
  const startup: Record<string, number> = {};
  const cohorts: Record<string, number> = {};
  for (const j of s.jobs) {
    if (j.lostUsefulGpuHours > 0) {
      const c = j.failureCause ?? 'unclassified';
      lost[c] = (lost[c] ?? 0) + j.lostUsefulGpuHours;
    }
    if (j.outcome === 'failed' && j.notTrainingGpuHours > 0) {
      const c = j.failureCause ?? 'unclassified';
      startup[c] = (startup[c] ?? 0) + j.notTrainingGpuHours;
    }
    const sw = softwareHours(j);
    if (sw > 0)
      for (const [dim, value] of Object.entries(j.cohort ?? {})) {
        const key = `${dim}=${value}`;
        cohorts[key] = (cohorts[key] ?? 0) + sw;
      }
  }
  const topCohorts = Object.entries(cohorts)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, MAX_COHORTS);
  return {
    window,
    breakdown: s.breakdown,
    ...definedOnly({
      queueWaitP95Seconds: kpis.queueWaitP95Seconds,
      slaAttainment: kpis.slaAttainment,
      hardwareFaultsPer1kGpuHours: kpis.hardwareFaultsPer1kGpuHours,
      dataLoaderWaitShare: kpis.dataLoaderWaitShare,
      communicationShare: kpis.communicationShare,
    }),
    queuedGpuHours: stats.queuedGpuHours,
    lostUsefulByCause: lost,
    failedStartupByCause: startup,
    softwareByCohort: Object.fromEntries(topCohorts),
  };
}

/** GPU-hours of each category in one window (the partition regrouped). */
export function categoryHours(s: KpiSnapshot): Record<Category, number> {
  const b = s.breakdown;
  const startup = s.failedStartupByCause ?? {};
  // A failed job's start-up leaves scheduling for its failure's category (never more than there is).
  const startupTotal = Object.values(startup).reduce((a, h) => a + h, 0);
  const k =
    startupTotal > b.notTrainingGpuHours && startupTotal > 0 ? b.notTrainingGpuHours / startupTotal : 1;
  const lost = (c: string) => (s.lostUsefulByCause[c] ?? 0) + k * (startup[c] ?? 0);
  const waitingServed = Math.min(b.unallocatedGpuHours, Math.max(0, s.queuedGpuHours));
  return {
    hardware: b.unhealthyGpuHours + lost('hardware'),
    scheduling: waitingServed + b.notTrainingGpuHours - k * startupTotal + lost('scheduling'),
    'idle-capacity': b.unallocatedGpuHours - waitingServed,
    'telemetry-gap': b.unobservedGpuHours,
    'data-io': b.dataWaitGpuHours + lost('data-io'),
    network: b.commGpuHours + lost('network'),
    software:
      b.inefficientGpuHours + lost('software') + lost('unclassified') + lost('model') + lost('efficiency'),
  };
}

/**
 * The CapacityGpuHours values of one scope: available GPU-hours by category (they sum to the
 * available GPU-hours). Not emitted for scopes without capacity of their own (teams on shared nodes).
 */
export function capacityValues(scope: Scope, s: KpiSnapshot, timestampMs: number): KpiValue[] {
  if (s.breakdown.availableGpuHours <= 0) return [];
  const hours: Record<CapacityCategory, number> = { useful: s.breakdown.usefulGpuHours, ...categoryHours(s) };
  const dims = scopeDimensions(scope);
  return CAPACITY_CATEGORIES.map((c) => ({
    key: 'capacityGpuHours',
    value: hours[c],
    dimensions: { ...dims, Category: c },
    timestampMs,
  }));
}

export interface DecompositionOptions {
  /** Relative drop that counts: (prev − cur) / prev. @default 0.08 */
  readonly minRelativeDrop?: number;
  /** Scopes smaller than this (available GPU-hours, either window) are not judged. @default 8 */
  readonly minAvailableGpuHours?: number;
  /**
   * Utilisation (allocation rate) "flat": it fell by at most this much (absolute). A rise counts as
   * flat: slowed or stalled jobs hold their GPUs longer, so utilisation creeps up while SLAs miss.
   * @default 0.03
   */
  readonly flatUtilisation?: number;
  /** SLA attainment drop (absolute) that counts as "SLA misses spike". @default 0.1 */
  readonly slaDrop?: number;
  /** Queue wait p95 growth factor that counts as rising. @default 1.5 */
  readonly queueGrowth?: number;
  /** Share of the software growth one cohort must explain to call a slowdown software. @default 0.6 */
  readonly cohortConcentration?: number;
}

const DEFAULTS = {
  minRelativeDrop: 0.08,
  minAvailableGpuHours: 8,
  flatUtilisation: 0.03,
  slaDrop: 0.1,
  queueGrowth: 1.5,
  cohortConcentration: 0.6,
};

export type ClassicPattern = 'utilisation-flat-sla-misses' | 'utilisation-falling-queue-rising';

export interface Decomposition {
  readonly goodputPrev: number;
  readonly goodputCur: number;
  /** (prev − cur) / prev. */
  readonly relativeDrop: number;
  /** Lost goodput in GPU-hours at current capacity. */
  readonly lostGpuHours: number;
  /** Attributed GPU-hours per category; they sum to lostGpuHours. */
  readonly attributed: Readonly<Record<Category, number>>;
  /** Categories whose share shrank (GPU-hours at current capacity): offsets, not causes. */
  readonly offsets: Readonly<Partial<Record<Category, number>>>;
  readonly dominant: Category;
  readonly pattern?: ClassicPattern;
  /** Why the pattern moved hours between categories, if it did. */
  readonly reassignment?: string;
  /** One line per category with the evidence behind it. */
  readonly evidence: Readonly<Record<Category, string>>;
  readonly topCohort?: {
    readonly key: string;
    readonly growthGpuHours: number;
    readonly concentration: number;
  };
}

const share = (h: number, available: number) => (available > 0 ? h / available : 0);
const r = (x: number, d = 3) => roundTo(x, d);
const pct = (x: number | undefined) => (x === undefined ? 'n/a' : `${r(100 * x, 1)} %`);

/**
 * "Utilisation" of the classic patterns: the share of available capacity allocated to jobs, what the
 * fleet dashboard's AllocationRate and a scheduler's utilisation view show.
 */
function utilisation(s: KpiSnapshot): number {
  return share(s.breakdown.allocatedGpuHours, s.breakdown.availableGpuHours);
}

function queueRose(prev: KpiSnapshot, cur: KpiSnapshot, growth: number): boolean {
  const p = prev.queueWaitP95Seconds;
  const c = cur.queueWaitP95Seconds;
  if (p !== undefined && c !== undefined) return c >= growth * Math.max(p, 1);
  return cur.queuedGpuHours >= growth * Math.max(prev.queuedGpuHours, 1e-9) && cur.queuedGpuHours > 0;
}

/** Decomposes the drop between two windows of one scope; undefined when goodput did not drop enough. */
export function decompose(
  prev: KpiSnapshot,
  cur: KpiSnapshot,
  options: DecompositionOptions = {},
): Decomposition | undefined {
  const o = { ...DEFAULTS, ...definedOnly(options) };
  const g0 = prev.breakdown.goodput;
  const g1 = cur.breakdown.goodput;
  const a0 = prev.breakdown.availableGpuHours;
  const a1 = cur.breakdown.availableGpuHours;
  if (g0 === undefined || g1 === undefined || g0 <= 0) return undefined;
  if (a0 < o.minAvailableGpuHours || a1 < o.minAvailableGpuHours) return undefined;
  const relativeDrop = (g0 - g1) / g0;
  if (relativeDrop < o.minRelativeDrop) return undefined;

  const h0 = categoryHours(prev);
  const h1 = categoryHours(cur);
  const delta = Object.fromEntries(CATEGORIES.map((c) => [c, share(h1[c], a1) - share(h0[c], a0)])) as Record<
    Category,
    number
  >;

  // Cohort evidence for software: where the software-attributed hours grew most.
  const cohortGrowth = new Map<string, number>();
  for (const key of new Set([...Object.keys(prev.softwareByCohort), ...Object.keys(cur.softwareByCohort)]))
    cohortGrowth.set(key, (cur.softwareByCohort[key] ?? 0) - (prev.softwareByCohort[key] ?? 0));
  const swGrowthHours = h1.software - h0.software;
  const [topKey, topGrowth] = [...cohortGrowth.entries()].sort(
    (x, y) => y[1] - x[1] || x[0].localeCompare(y[0]),
  )[0] ?? [undefined, 0];
  const concentration = swGrowthHours > 0 && topGrowth > 0 ? Math.min(1, topGrowth / swGrowthHours) : 0;

  // Classic patterns.
  const utilChange = utilisation(cur) - utilisation(prev);
  const slaFell =
    prev.slaAttainment !== undefined &&
    cur.slaAttainment !== undefined &&
    prev.slaAttainment - cur.slaAttainment >= o.slaDrop;
  const queueUp = queueRose(prev, cur, o.queueGrowth);
  const healthUp =
    delta.hardware > 0.01 ||
    (cur.hardwareFaultsPer1kGpuHours ?? 0) > 1.5 * Math.max(prev.hardwareFaultsPer1kGpuHours ?? 0, 0.1);
  let pattern: ClassicPattern | undefined;
  let reassignment: string | undefined;
  if (utilChange >= -o.flatUtilisation && slaFell) {
    pattern = 'utilisation-flat-sla-misses';
    if (!queueUp && delta.software > 0 && concentration < o.cohortConcentration) {
      reassignment = `stalled/idle-SM growth spread across cohorts (top cohort explains ${pct(concentration)}) with no queue growth: input path (data-io), not a software regression`;
      delta['data-io'] += delta.software;
      delta.software = 0;
    }
  } else if (utilChange < -o.flatUtilisation && queueUp && !healthUp) {
    pattern = 'utilisation-falling-queue-rising';
    if (delta['idle-capacity'] > 0) {
      reassignment =
        'capacity went unused while the queue grew and nodes were healthy: placement, not lack of demand';
      delta.scheduling += delta['idle-capacity'];
      delta['idle-capacity'] = 0;
    }
  }

  const lostGpuHours = (g0 - g1) * a1;
  const positive = CATEGORIES.filter((c) => delta[c] > 0);
  const totalUp = positive.reduce((acc, c) => acc + delta[c], 0);
  const attributed = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  const offsets: Partial<Record<Category, number>> = {};
  for (const c of CATEGORIES) {
    if (delta[c] > 0 && totalUp > 0) attributed[c] = (lostGpuHours * delta[c]) / totalUp;
    else if (delta[c] < 0) offsets[c] = -delta[c] * a1;
  }
  // Ties go to the order of CATEGORIES (the five fault categories come first).
  const dominant = CATEGORIES.reduce(
    (best: Category, c) => (attributed[c] > attributed[best] ? c : best),
    'hardware',
  );

  const p = prev.breakdown;
  const c = cur.breakdown;
  const lostBy = (s: KpiSnapshot, k: string) =>
    r((s.lostUsefulByCause[k] ?? 0) + (s.failedStartupByCause?.[k] ?? 0), 1);
  const evidence: Record<Category, string> = {
    hardware: `unhealthy ${r(p.unhealthyGpuHours, 1)} → ${r(c.unhealthyGpuHours, 1)} GPU-h; faults/1k GPU-h ${r(prev.hardwareFaultsPer1kGpuHours ?? 0, 2)} → ${r(cur.hardwareFaultsPer1kGpuHours ?? 0, 2)}; work lost to hardware failures ${lostBy(prev, 'hardware')} → ${lostBy(cur, 'hardware')} GPU-h`,
    software: `stalled or idle-SM training ${r(p.inefficientGpuHours, 1)} → ${r(c.inefficientGpuHours, 1)} GPU-h; lost to software/unclassified failures ${r(lostBy(prev, 'software') + lostBy(prev, 'unclassified'), 1)} → ${r(lostBy(cur, 'software') + lostBy(cur, 'unclassified'), 1)} GPU-h${topKey ? `; top cohort ${topKey} +${r(topGrowth, 1)} GPU-h (${pct(concentration)} of the growth)` : ''}`,
    scheduling: `queue wait p95 ${r(prev.queueWaitP95Seconds ?? 0, 0)} → ${r(cur.queueWaitP95Seconds ?? 0, 0)} s; SLA attainment ${pct(prev.slaAttainment)} → ${pct(cur.slaAttainment)}; queued ${r(prev.queuedGpuHours, 1)} → ${r(cur.queuedGpuHours, 1)} GPU-h; unallocated ${r(p.unallocatedGpuHours, 1)} → ${r(c.unallocatedGpuHours, 1)} GPU-h; allocated not training ${r(p.notTrainingGpuHours, 1)} → ${r(c.notTrainingGpuHours, 1)} GPU-h; lost to preemption ${lostBy(prev, 'scheduling')} → ${lostBy(cur, 'scheduling')} GPU-h`,
    'data-io': `data-loader wait share ${pct(prev.dataLoaderWaitShare)} → ${pct(cur.dataLoaderWaitShare)}; lost to data-io failures ${lostBy(prev, 'data-io')} → ${lostBy(cur, 'data-io')} GPU-h`,
    network: `communication share ${pct(prev.communicationShare)} → ${pct(cur.communicationShare)}; lost to network failures ${lostBy(prev, 'network')} → ${lostBy(cur, 'network')} GPU-h`,
    'idle-capacity': `unallocated capacity nobody waited for ${r(h0['idle-capacity'], 1)} → ${r(h1['idle-capacity'], 1)} GPU-h`,
    'telemetry-gap': `allocated GPU-hours without telemetry ${r(p.unobservedGpuHours, 1)} → ${r(c.unobservedGpuHours, 1)}`,
  };
  return {
    goodputPrev: g0,
    goodputCur: g1,
    relativeDrop,
    lostGpuHours,
    attributed,
    offsets,
    dominant,
    ...(pattern ? { pattern } : {}),
    ...(reassignment ? { reassignment } : {}),
    evidence,
    ...(topKey ? { topCohort: { key: topKey, growthGpuHours: topGrowth, concentration } } : {}),
  };
}

const VALUE_KEYS: Record<Category, string> = {
  hardware: 'hardware',
  software: 'software',
  scheduling: 'scheduling',
  'data-io': 'dataIo',
  network: 'network',
  'idle-capacity': 'idleCapacity',
  'telemetry-gap': 'telemetryGap',
};

export function scopeLabels(scope: Scope): FindingLabels {
  switch (scope.kind) {
    case 'fleet':
      return {};
    case 'region':
      return { region: scope.region };
    case 'cluster':
      return { region: scope.region, cluster: scope.cluster };
    case 'team':
      return { team: scope.team };
  }
}

function scopeText(scope: Scope): string {
  switch (scope.kind) {
    case 'fleet':
      return 'the fleet';
    case 'region':
      return `region ${scope.region}`;
    case 'cluster':
      return `cluster ${scope.region}/${scope.cluster}`;
    case 'team':
      return `team ${scope.team}`;
  }
}

const FAULT_CATEGORIES: readonly Category[] = ['hardware', 'software', 'scheduling', 'data-io', 'network'];

/** The finding `kpi.goodput_drop` carrying the decomposition. */
export function goodputDropFinding(
  scope: Scope,
  d: Decomposition,
  window: TimeWindow,
  nowMs: number,
): Finding {
  const fault = FAULT_CATEGORIES.includes(d.dominant);
  const cause: Cause = fault ? (d.dominant as Cause) : 'efficiency';
  const ranked = CATEGORIES.filter((c) => d.attributed[c] > 0).sort(
    (a, b) => d.attributed[b] - d.attributed[a],
  );
  const dominantShare = d.lostGpuHours > 0 ? d.attributed[d.dominant] / d.lostGpuHours : 0;
  const values: Record<string, number> = {
    goodputPrev: r(d.goodputPrev, 4),
    goodputCur: r(d.goodputCur, 4),
    relativeDrop: r(d.relativeDrop, 4),
    lostGpuHours: r(d.lostGpuHours, 2),
  };
  for (const c of CATEGORIES) {
    values[`${VALUE_KEYS[c]}GpuHours`] = r(d.attributed[c], 2);
    values[`${VALUE_KEYS[c]}Share`] = r(d.lostGpuHours > 0 ? d.attributed[c] / d.lostGpuHours : 0, 4);
  }
  const kind = 'kpi.goodput_drop';
  const lines = [
    `lost ${r(d.lostGpuHours, 1)} GPU-h of goodput: ${ranked.map((c) => `${c} ${r(d.attributed[c], 1)} (${pct(d.attributed[c] / d.lostGpuHours)})`).join(', ')}`,
    ...(Object.keys(d.offsets).length > 0
      ? [
          `offsets (shrank): ${Object.entries(d.offsets)
            .map(([c, h]) => `${c} ${r(h ?? 0, 1)}`)
            .join(', ')}`,
        ]
      : []),
    ...(d.pattern ? [`pattern: ${d.pattern}${d.reassignment ? ` (${d.reassignment})` : ''}`] : []),
    ...CATEGORIES.map((c) => `${c}: ${d.evidence[c]}`),
  ];
  return {
    schemaVersion: FINDING_SCHEMA_VERSION,
    kind,
    severity: fault ? 'ticket' : 'info',
    cause,
    title:
      `Goodput of ${scopeText(scope)} fell ${r(100 * d.relativeDrop, 1)} % (${r(d.goodputPrev, 3)} → ${r(d.goodputCur, 3)}): mostly ${d.dominant}`.slice(
        0,
        200,
      ),
    summary:
      `Goodput (useful / available GPU-hours) fell from ${pct(d.goodputPrev)} to ${pct(d.goodputCur)}, ${r(d.lostGpuHours, 1)} GPU-hours of useful work at current capacity. ${d.dominant} accounts for ${pct(dominantShare)}: ${d.evidence[d.dominant]}.${d.pattern ? ` Pattern ${d.pattern}.` : ''} Other categories: ${
        listText(
          ranked.filter((c) => c !== d.dominant),
          6,
        ) || 'none'
      }.`.slice(0, 4000),
    labels: scopeLabels(scope),
    evidence: {
      window: { startMs: window.startMs, endMs: window.endMs },
      values,
      detail: lines.join('\n').slice(0, 4000),
    },
    runbook: `docs/runbooks/${kind}.md`,
    detectedAt: nowMs,
  };
}
