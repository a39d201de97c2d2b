import { z } from 'zod';
import { FINDING_SCHEMA_VERSION, type Finding, type FindingLabels } from '../../contracts/finding';
import type { TrainingJobState } from '../model';
import { roundTo } from '../numbers';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../time';
import { JOB_CLUSTER_TAG } from './cohorts';
import { definedOnly, listText, WORKLOAD_CLASSES, type WorkloadClass, workloadClassOf } from './jobs';
import { madSorted, quantileSorted, sortedCopy } from './robust';

/**
 * Scheduling health: how long jobs wait before they train, per region and workload class.
 *
 *   creation (or 'Starting') ──── start latency ────► 'Training' transition ── ... ── end
 *
 *   |<──────────── baselineWindowMs (7 d) ────────────>|<── windowMs (6 h) ──>|
 *                                                 now - window               now
 *
 * A job belongs to the window in which it began training. Growth compares the window's median and
 * p95 with the baseline's: capacity shortfalls first stretch the tail, then the middle.
 * Jobs still waiting have no latency yet, so they stay out of the growth statistics (their
 * partial waits would drag the median down); the SLA check counts them as soon as they pass the
 * deadline, which is what catches a queue that has stopped moving altogether.
 *
 * SLA misses are judged as attainment, the way an SLA is written ("95 % of interactive jobs start
 * within 10 minutes"), over the last hour per (region, class, cluster): the jobs that began
 * training in it, plus those still waiting past their deadline. Two late jobs among three hundred
 * on time are the promise kept; two late jobs among twenty, or a queue that stopped, are not.
 *
 * Scale. The 7-day baseline can come from LatencyAggregates instead of raw jobs: per clock hour
 * and (region, class), a histogram of start latencies in log buckets 5 % wide, folded in once as
 * jobs leave the window (foldLatencies). Counts are exact; median, p95 and MAD are read from the
 * histogram to within half a bucket (about 2.5 %, or 1 s for latencies under 20 s).
 */

export interface ClassSla {
  /** Longest acceptable wait from creation to Training. */
  readonly maxStartLatencyMs?: number;
  /** Longest acceptable time from creation to end (or to now, while running). */
  readonly maxDurationMs?: number;
  /**
   * The attainment the class promises: the share of jobs judged in the attainment window (an hour
   * by default) that met the SLA. Misses while attainment stays at or above it are the SLA working
   * as promised (they show on the SLA attainment KPI, not as a finding). @default 0.95
   */
  readonly minAttainment?: number;
}

export const DEFAULT_SLAS: Readonly<Record<WorkloadClass, ClassSla>> = {
  interactive: { maxStartLatencyMs: 10 * MINUTE_MS },
  batch: { maxStartLatencyMs: 60 * MINUTE_MS },
  // Multi-node jobs wait for a whole placement group; two hours is the common capacity promise.
  distributed: { maxStartLatencyMs: 120 * MINUTE_MS },
};

export interface SchedulingOptions {
  /** Latency starts at creation (default) or at the 'Starting' transition, when present. */
  readonly latencyFrom?: 'creation' | 'starting';
  /** SLAs per class, merged over DEFAULT_SLAS. */
  readonly sla?: Partial<Record<WorkloadClass, ClassSla>>;
  /** Started jobs a (region, class) needs in the window. @default 10 */
  readonly minWindowJobs?: number;
  /** ... and in the baseline. @default 30 */
  readonly minBaselineJobs?: number;
  /**
   * Warm-up: the baseline must reach back at least this far before the window (a full daily
   * cycle), or growth is not judged. Start latency is seasonal (night vs morning peak): 30 night
   * jobs are plenty of jobs but no yardstick for the morning. @default 24 h
   */
  readonly minBaselineSpanMs?: number;
  /** Window median at least this × the baseline median ... @default 1.5 */
  readonly medianRatio?: number;
  /** ... and at least this much longer. @default 2 min */
  readonly minMedianIncreaseMs?: number;
  /** Or: window p95 at least this × the baseline p95 ... (needs 20 window jobs) @default 2 */
  readonly p95Ratio?: number;
  /** ... and at least this much longer. @default 10 min */
  readonly minP95IncreaseMs?: number;
  /** SLA misses below this count are 'info', from it on 'ticket' (when attainment is short). @default 2 */
  readonly ticketMinMisses?: number;
  /** The stretch SLA attainment is judged over. @default 1 h */
  readonly attainmentWindowMs?: number;
  /** Jobs listed in an SLA finding. @default 20 */
  readonly maxListedJobs?: number;
}

export interface SchedulingInput {
  readonly jobs: readonly TrainingJobState[];
  readonly nowMs: number;
  /** @default 6 h */
  readonly windowMs?: number;
  /** @default 7 d */
  readonly baselineWindowMs?: number;
  readonly options?: SchedulingOptions;
  /** Baseline latencies from the detection state instead of raw jobs (see LatencyAggregates). */
  readonly baseline?: LatencyAggregates;
}

// -------------------------------------------------------------------------------------------------
// Compact baseline: start-latency histograms per clock hour and (region, class).
//
//   hours["<hourEnd>"][groupKey(region, class)]["<bucket>"] = jobs that began training in
//   (hourEnd - 1 h, hourEnd] with a latency in that bucket

/** Bucket i holds latencies in [G^i - 1, G^(i+1) - 1) seconds. */
export const LATENCY_BUCKET_GROWTH = 1.05;
const LOG_G = Math.log(LATENCY_BUCKET_GROWTH);

export function latencyBucket(latencyMs: number): number {
  return Math.floor(Math.log1p(Math.max(0, latencyMs) / 1_000) / LOG_G);
}

/** The bucket's representative latency: its geometric centre, in ms. */
export function latencyBucketValueMs(bucket: number): number {
  return Math.expm1((bucket + 0.5) * LOG_G) * 1_000;
}

const histogramSchema = z.record(z.string().regex(/^\d+$/), z.int().min(1));
export type LatencyHistogram = z.output<typeof histogramSchema>;

export const latencyAggregatesSchema = z.strictObject({
  /** Jobs that began training at or before this instant have been folded in. */
  foldedThroughMs: z.int().min(0).optional(),
  latencyFrom: z.enum(['creation', 'starting']),
  hours: z.record(z.string().regex(/^\d+$/), z.record(z.string(), histogramSchema)),
});
export type LatencyAggregates = z.output<typeof latencyAggregatesSchema>;

export function emptyLatencyAggregates(latencyFrom: 'creation' | 'starting' = 'creation'): LatencyAggregates {
  return { latencyFrom, hours: {} };
}

export function latencyGroupKey(region: string, cls: WorkloadClass): string {
  return JSON.stringify([region, cls]);
}

/**
 * Folds the start latencies of jobs that began training in (foldedThroughMs, throughMs], then
 * drops hours older than `keepMs` before throughMs. Aggregates built with another `latencyFrom`
 * are discarded (they measure something else).
 */
export function foldLatencies(
  agg: LatencyAggregates,
  jobs: readonly TrainingJobState[],
  throughMs: number,
  latencyFrom: 'creation' | 'starting' = 'creation',
  keepMs: number = 7 * DAY_MS + HOUR_MS,
): { aggregates: LatencyAggregates; folded: number } {
  const current = agg.latencyFrom === latencyFrom ? agg : emptyLatencyAggregates(latencyFrom);
  const from = current.foldedThroughMs ?? Number.NEGATIVE_INFINITY;
  if (throughMs <= from) return { aggregates: current, folded: 0 };
  const hours: Record<string, Record<string, Record<string, number>>> = {};
  for (const [k, groups] of Object.entries(current.hours)) {
    hours[k] = Object.fromEntries(Object.entries(groups).map(([g, h]) => [g, { ...h }]));
  }
  let folded = 0;
  for (const job of jobs) {
    const began = trainingBeganAt(job);
    const lat = startLatencyMs(job, latencyFrom);
    if (began === undefined || lat === undefined || began <= from || began > throughMs) continue;
    const hk = String(Math.ceil(began / HOUR_MS) * HOUR_MS);
    const groups = hours[hk] ?? {};
    hours[hk] = groups;
    const gk = latencyGroupKey(job.region, workloadClassOf(job));
    const h = groups[gk] ?? {};
    groups[gk] = h;
    const b = String(latencyBucket(lat));
    h[b] = (h[b] ?? 0) + 1;
    folded++;
  }
  const cutoff = throughMs - keepMs;
  for (const k of Object.keys(hours)) if (Number(k) <= cutoff) delete hours[k];
  return { aggregates: { latencyFrom, foldedThroughMs: throughMs, hours }, folded };
}

export interface LatencyStats {
  readonly n: number;
  readonly median: number;
  readonly p95: number;
  /** Scaled MAD (sigma-equivalent), like robust.ts madSorted. */
  readonly mad: number;
}

/** Merged histogram per (region, class) over the hours ending after `sinceMs`. */
export function mergedHistograms(agg: LatencyAggregates, sinceMs: number): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  for (const [k, groups] of Object.entries(agg.hours)) {
    if (Number(k) <= sinceMs) continue;
    for (const [g, h] of Object.entries(groups)) {
      const m = out.get(g) ?? new Map<number, number>();
      for (const [b, c] of Object.entries(h)) m.set(Number(b), (m.get(Number(b)) ?? 0) + c);
      out.set(g, m);
    }
  }
  return out;
}

/** R-7 quantile of a weighted set of (value, count) pairs sorted by value. */
function weightedQuantile(sorted: readonly (readonly [number, number])[], n: number, p: number): number {
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const at = (rank: number): number => {
    let seen = 0;
    for (const [v, c] of sorted) {
      seen += c;
      if (rank < seen) return v;
    }
    return sorted[sorted.length - 1]?.[0] ?? Number.NaN;
  };
  const a = at(lo);
  const b = at(Math.min(lo + 1, n - 1));
  return a + (h - lo) * (b - a);
}

/** Median, p95 and MAD of a latency histogram (values at bucket centres). */
export function histogramStats(hist: ReadonlyMap<number, number>): LatencyStats | undefined {
  const pairs = [...hist.entries()]
    .filter(([, c]) => c > 0)
    .map(([b, c]) => [latencyBucketValueMs(b), c] as const)
    .sort((a, b) => a[0] - b[0]);
  const n = pairs.reduce((a, [, c]) => a + c, 0);
  if (n === 0) return undefined;
  const med = weightedQuantile(pairs, n, 0.5);
  const deviations = pairs.map(([v, c]) => [Math.abs(v - med), c] as const).sort((a, b) => a[0] - b[0]);
  return {
    n,
    median: med,
    p95: weightedQuantile(pairs, n, 0.95),
    mad: weightedQuantile(deviations, n, 0.5) * 1.4826,
  };
}

const DEFAULTS = {
  latencyFrom: 'creation' as 'creation' | 'starting',
  minWindowJobs: 10,
  minBaselineJobs: 30,
  minBaselineSpanMs: DAY_MS,
  medianRatio: 1.5,
  minMedianIncreaseMs: 2 * MINUTE_MS,
  p95Ratio: 2,
  minP95IncreaseMs: 10 * MINUTE_MS,
  ticketMinMisses: 2,
  attainmentWindowMs: HOUR_MS,
  maxListedJobs: 20,
};
/** SLA attainment a class promises unless configured otherwise. */
export const DEFAULT_MIN_ATTAINMENT = 0.95;
const MIN_P95_JOBS = 20;

export const START_LATENCY_KIND = 'scheduling.start_latency_growth';
export const SLA_MISS_KIND = 'scheduling.sla_miss';

/** When the job's wait began: creation, or the 'Starting' transition when asked for and present. */
export function waitStartOf(job: TrainingJobState, from: 'creation' | 'starting' = 'creation'): number {
  if (from === 'starting') {
    const s = job.transitions.find((t) => t.status === 'Starting')?.startTime;
    if (s !== undefined) return s;
  }
  return job.creationTime;
}

/** When the job began training: the 'Training' transition, else SageMaker's TrainingStartTime. */
export function trainingBeganAt(job: TrainingJobState): number | undefined {
  return job.transitions.find((t) => t.status === 'Training')?.startTime ?? job.trainingStartTime;
}

/** Start latency in ms; undefined while the job has not begun training. */
export function startLatencyMs(
  job: TrainingJobState,
  from: 'creation' | 'starting' = 'creation',
): number | undefined {
  const began = trainingBeganAt(job);
  return began === undefined ? undefined : Math.max(0, began - waitStartOf(job, from));
}

const isEnded = (j: TrainingJobState) => j.status !== 'InProgress' && j.status !== 'Stopping';

const round = (x: number, digits = 2): number => roundTo(x, digits);

const minutes = (ms: number) => round(ms / MINUTE_MS, 1);

const percent = (share: number) => `${round(share * 100, 1)} %`;

/** The job's cluster from its JOB_CLUSTER_TAG; undefined when untagged. */
function clusterOf(job: TrainingJobState): string | undefined {
  return job.tags[JOB_CLUSTER_TAG]?.trim() || undefined;
}

/**
 * Region, plus the team and the cluster when every job agrees on one: a queue that stopped moving
 * is a cluster's problem, and without the cluster the incident cannot group or route with that
 * cluster's other alerts (nor be matched to it).
 */
function groupLabels(jobs: readonly TrainingJobState[], region: string): FindingLabels {
  const teams = new Set(jobs.map((j) => j.team));
  const clusters = new Set(jobs.map(clusterOf));
  const [team] = teams;
  const [cluster] = clusters;
  return {
    region,
    ...(clusters.size === 1 && cluster ? { cluster } : {}),
    ...(teams.size === 1 && team ? { team } : {}),
  };
}

/** Jobs split by cluster tag (untagged jobs form one group of their own), in a stable order. */
function byCluster(jobs: readonly TrainingJobState[]): TrainingJobState[][] {
  const m = new Map<string, TrainingJobState[]>();
  for (const j of jobs) {
    const key = clusterOf(j) ?? '';
    const list = m.get(key);
    if (list) list.push(j);
    else m.set(key, [j]);
  }
  return [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, js]) => js);
}

export function detectScheduling(input: SchedulingInput): { findings: Finding[] } {
  const o: typeof DEFAULTS = { ...DEFAULTS, ...definedOnly(input.options ?? {}) };
  const now = input.nowMs;
  const windowStart = now - (input.windowMs ?? 6 * HOUR_MS);
  const baselineStart = windowStart - (input.baselineWindowMs ?? 7 * DAY_MS);
  const window = { startMs: Math.max(0, windowStart), endMs: now };

  const groups = new Map<string, { region: string; cls: WorkloadClass; jobs: TrainingJobState[] }>();
  for (const job of input.jobs) {
    const cls = workloadClassOf(job);
    const key = `${job.region}|${cls}`;
    const g = groups.get(key) ?? { region: job.region, cls, jobs: [] };
    g.jobs.push(job);
    groups.set(key, g);
  }

  const findings: Finding[] = [];
  const ordered = [...groups.values()].sort(
    (a, b) =>
      a.region.localeCompare(b.region) || WORKLOAD_CLASSES.indexOf(a.cls) - WORKLOAD_CLASSES.indexOf(b.cls),
  );
  // Aggregates measured from another starting point describe another latency: no baseline then.
  const histograms = input.baseline
    ? mergedHistograms(
        input.baseline.latencyFrom === o.latencyFrom ? input.baseline : emptyLatencyAggregates(o.latencyFrom),
        baselineStart,
      )
    : undefined;
  // How far back the baseline reaches (fleet-wide: when the detector started seeing jobs).
  const oldest = input.baseline
    ? Math.min(...Object.keys(input.baseline.hours).map((k) => Number(k) - HOUR_MS))
    : Math.min(
        ...input.jobs.flatMap((j) => {
          const b = trainingBeganAt(j);
          return b !== undefined && b > baselineStart ? [b] : [];
        }),
      );
  const warm = windowStart - oldest >= o.minBaselineSpanMs;
  for (const g of ordered) {
    const fromAggregates = histograms
      ? (histogramStats(histograms.get(latencyGroupKey(g.region, g.cls)) ?? new Map()) ?? null)
      : undefined;
    const growth = warm
      ? latencyGrowth(g, o, now, windowStart, baselineStart, window, fromAggregates)
      : undefined;
    if (growth) findings.push(growth);
    // SLA misses per cluster: queues are per cluster, and one congested cluster must not be
    // reported as a region-wide problem (or hidden among the others' jobs).
    const attainmentStart = Math.max(0, now - o.attainmentWindowMs);
    for (const jobs of byCluster(g.jobs)) {
      const sla = slaMisses({ ...g, jobs }, input.options?.sla?.[g.cls], o, now, attainmentStart);
      if (sla) findings.push(sla);
    }
  }
  return { findings };
}

function latencyGrowth(
  g: { region: string; cls: WorkloadClass; jobs: TrainingJobState[] },
  o: typeof DEFAULTS,
  now: number,
  windowStart: number,
  baselineStart: number,
  window: { startMs: number; endMs: number },
  /** Baseline from aggregates; null: the aggregates have none for this group; undefined: use raw jobs. */
  aggregated?: LatencyStats | null,
): Finding | undefined {
  const recent: number[] = [];
  const past: number[] = [];
  const recentJobs: TrainingJobState[] = [];
  for (const job of g.jobs) {
    const began = trainingBeganAt(job);
    const lat = startLatencyMs(job, o.latencyFrom);
    if (began === undefined || lat === undefined) continue;
    if (began > windowStart && began <= now) {
      recent.push(lat);
      recentJobs.push(job);
    } else if (aggregated === undefined && began > baselineStart && began <= windowStart) past.push(lat);
  }
  const b = aggregated === undefined ? rawStats(past) : (aggregated ?? undefined);
  if (recent.length < o.minWindowJobs || b === undefined || b.n < o.minBaselineJobs) return undefined;
  const r = sortedCopy(recent);
  const rMed = quantileSorted(r, 0.5);
  const bMed = b.median;
  const rP95 = quantileSorted(r, 0.95);
  const bP95 = b.p95;
  const medianGrew = rMed >= o.medianRatio * bMed && rMed - bMed >= o.minMedianIncreaseMs;
  const tailGrew =
    recent.length >= MIN_P95_JOBS && rP95 >= o.p95Ratio * bP95 && rP95 - bP95 >= o.minP95IncreaseMs;
  if (!medianGrew && !tailGrew) return undefined;
  const what = medianGrew ? 'median' : 'p95';
  const [now_, base] = medianGrew ? [rMed, bMed] : [rP95, bP95];
  return {
    schemaVersion: FINDING_SCHEMA_VERSION,
    kind: START_LATENCY_KIND,
    severity: 'ticket',
    cause: 'scheduling',
    title: `${g.cls} jobs in ${g.region} wait longer to start: ${what} ${minutes(now_)} min vs ${minutes(base)} min baseline`,
    summary: `${recent.length} ${g.cls} jobs began training in the window; start latency (${o.latencyFrom === 'starting' ? 'Starting' : 'creation'} to Training) median ${minutes(rMed)} min, p95 ${minutes(rP95)} min, against ${minutes(bMed)} / ${minutes(bP95)} min over the baseline (${b.n} jobs). Check capacity, quotas and warm pools.`,
    labels: groupLabels(recentJobs, g.region),
    evidence: {
      window,
      values: {
        medianMinutes: minutes(rMed),
        p95Minutes: minutes(rP95),
        jobs: recent.length,
        medianRatio: round(rMed / Math.max(bMed, 1)),
        p95Ratio: round(rP95 / Math.max(bP95, 1)),
      },
      baseline: { median: minutes(bMed), mad: minutes(b.mad), p95: minutes(bP95), n: b.n },
      detail: `class ${g.cls}; region ${g.region}; minutes throughout`,
    },
    runbook: `docs/runbooks/${START_LATENCY_KIND}.md`,
    detectedAt: now,
  };
}

function rawStats(latencies: readonly number[]): LatencyStats | undefined {
  if (latencies.length === 0) return undefined;
  const s = sortedCopy(latencies);
  return { n: s.length, median: quantileSorted(s, 0.5), p95: quantileSorted(s, 0.95), mad: madSorted(s) };
}

function slaMisses(
  g: { region: string; cls: WorkloadClass; jobs: TrainingJobState[] },
  override: ClassSla | undefined,
  o: typeof DEFAULTS,
  now: number,
  windowStart: number,
): Finding | undefined {
  const sla: ClassSla = { ...DEFAULT_SLAS[g.cls], ...definedOnly(override ?? {}) };
  const misses: { job: TrainingJobState; what: string; overMs: number }[] = [];
  // Jobs whose SLA was judged in the window: each counts once, however many limits it missed.
  const judged = new Set<TrainingJobState>();
  for (const job of g.jobs) {
    const from = waitStartOf(job, o.latencyFrom);
    const began = trainingBeganAt(job);
    if (sla.maxStartLatencyMs !== undefined) {
      if (began !== undefined) {
        // Judged once, in the window where the job began training.
        const wait = began - from;
        if (began > windowStart && began <= now) {
          judged.add(job);
          if (wait > sla.maxStartLatencyMs)
            misses.push({ job, what: 'start', overMs: wait - sla.maxStartLatencyMs });
        }
      } else if (!isEnded(job) && now - from > sla.maxStartLatencyMs) {
        // Still waiting past the deadline: reported every run until it starts (the router dedups).
        judged.add(job);
        misses.push({ job, what: 'start (still waiting)', overMs: now - from - sla.maxStartLatencyMs });
      }
    }
    if (sla.maxDurationMs !== undefined) {
      const ended = isEnded(job);
      const end = ended ? (job.trainingEndTime ?? job.lastModifiedTime) : now;
      const total = end - job.creationTime;
      // Ended in the window (judged once), or still running past the limit (judged every run).
      if (ended ? end > windowStart && end <= now : total > sla.maxDurationMs) {
        judged.add(job);
        if (total > sla.maxDurationMs)
          misses.push({ job, what: 'duration', overMs: total - sla.maxDurationMs });
      }
    }
  }
  if (misses.length === 0) return undefined;
  const jobs = new Set(misses.map((m) => m.job));
  const attainment = 1 - jobs.size / judged.size;
  const target = sla.minAttainment ?? DEFAULT_MIN_ATTAINMENT;
  if (attainment >= target) return undefined;
  misses.sort((a, b) => b.overMs - a.overMs || a.job.jobName.localeCompare(b.job.jobName));
  const window = { startMs: windowStart, endMs: now };
  const startMisses = misses.filter((m) => m.what.startsWith('start')).length;
  const durationMisses = misses.length - startMisses;
  const limits = [
    sla.maxStartLatencyMs === undefined ? undefined : `start ≤ ${minutes(sla.maxStartLatencyMs)} min`,
    sla.maxDurationMs === undefined ? undefined : `duration ≤ ${minutes(sla.maxDurationMs)} min`,
  ]
    .filter((x) => x !== undefined)
    .join(', ');
  const labels = groupLabels([...jobs], g.region);
  const where = labels.cluster ? `cluster ${labels.cluster} (${g.region})` : g.region;
  return {
    schemaVersion: FINDING_SCHEMA_VERSION,
    kind: SLA_MISS_KIND,
    severity: misses.length >= o.ticketMinMisses ? 'ticket' : 'info',
    cause: 'scheduling',
    title: `${misses.length} SLA miss(es) for ${g.cls} jobs in ${where} (${limits}): attainment ${percent(attainment)} < ${percent(target)}`,
    summary: `${jobs.size} of ${judged.size} ${g.cls} job(s) judged in the last ${minutes(now - windowStart)} min missed the class SLA (${limits}): ${startMisses} on start latency, ${durationMisses} on duration. Attainment ${percent(attainment)} against a target of ${percent(target)}.`,
    labels,
    evidence: {
      window,
      values: {
        misses: misses.length,
        judgedJobs: judged.size,
        attainment: round(attainment, 4),
        targetAttainment: target,
        startMisses,
        durationMisses,
        worstOverMinutes: minutes(misses[0]?.overMs ?? 0),
      },
      detail: `class ${g.cls}; jobs: ${listText(
        misses.map((m) => `${m.job.jobName} ${m.what} +${minutes(m.overMs)} min`),
        o.maxListedJobs,
      )}`.slice(0, 4_000),
    },
    runbook: `docs/runbooks/${SLA_MISS_KIND}.md`,
    detectedAt: now,
  };
}
