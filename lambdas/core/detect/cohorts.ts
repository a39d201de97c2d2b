import { z } from 'zod';
import { FINDING_SCHEMA_VERSION, type Finding, type FindingLabels } from '../../contracts/finding';
import type { TrainingJobState } from '../model';
import { roundTo } from '../numbers';
import { DAY_MS, HOUR_MS } from '../time';
import { type EarlyFailureResult, earlyFailureTest, oldestTrainingAgeMs } from './early-failures';
import { definedOnly, listText } from './jobs';
import { fisherGreaterP } from './proportions';

/**
 * Failure-rate spikes per software/hardware cohort: "jobs on driver 550.54 fail 40 % of the time
 * since 14:00, against 3 % before".
 *
 *   |<──────────── baselineWindowMs (7 d) ────────────>|<── windowMs (6 h) ──>|
 *   now - window - baseline                       now - window               now
 *
 * A job counts where it ended (trainingEndTime, else lastModifiedTime). Rate = Failed / (Completed
 * + Failed + Stopped): a user stop is an outcome, not a failure; running jobs have no outcome yet.
 *
 * Small cohorts: a cohort spikes only when the lower Wilson bound of its window rate is above its
 * baseline's upper Wilson bound, with minimum counts, so one failure among three jobs is noise.
 * A cohort value new in the window (a driver just rolled out) has no baseline of its own and is
 * judged against the whole fleet's baseline rate.
 *
 * Pinning. Cohorts overlap: when driver 550.54 jobs all run image X, image X spikes too, diluted
 * by X's healthy jobs on the old driver. Greedy attribution, repeated until every spiking cohort
 * is placed:
 *   1. among the unplaced spiking cohorts pick the primary: the purest one, i.e. the highest lower
 *      Wilson bound of its failure rate (a superset mixing bad and healthy jobs is less pure than
 *      the bad subset; the bound keeps a lucky tiny subset from winning); ties go to the larger
 *      lift inside/outside, then the smaller cohort, then the dimension order;
 *   2. every other unplaced spiking cohort is re-judged without the primary's jobs; if it no
 *      longer spikes, the primary explains it and it is reported as related in the evidence;
 *   3. cohorts that still spike stay for the next round (an independent second problem).
 * One finding per primary. Ranking by "outside rate is normal" first was tried and rejected: with
 * two independent problems only their common superset (e.g. an instance type) has a normal
 * outside, and it would swallow both.
 *
 * Chronic cohorts. Once a bad rollout has lasted longer than the window, its first jobs sit in the
 * baseline: the cohort's own baseline (30 jobs suffice) is the regression itself, so the cohort no
 * longer spikes against it, while the framework or image cohorts its jobs belong to (baselines of
 * healthy weeks) do: a second page, about the wrong cohort, hours into the first one. A cohort
 * with a baseline of its own that does not spike against it, but fails far more than the rest of
 * the window (the cold-start test: Fisher p ≤ crossSectionalAlpha, minRateIncrease above), is
 * chronic: not reported again, and its window jobs are explained before the others are judged.
 * A genuine second problem in an overlapping cohort still shows on that cohort's other jobs.
 *
 * Cold start: a cross-sectional test. Until the fleet baseline holds minBaselineJobs outcomes
 * (a new deployment, a 6 h demo), there is no "before" to compare with. A cohort is then compared
 * with the rest of the fleet over the same window, like a canary analysis: one-sided Fisher exact
 * p ≤ crossSectionalAlpha, the rate at least minRateIncrease above the rest's, and minimum counts
 * (crossSectionalMinJobs and minFailures in the cohort, minJobs outside it). The finding is the
 * same kind with the outside counts as its reference, the p-value and `crossSectional: 1`.
 *
 * Just rolled out: early failures. A cohort value whose oldest job started training less than
 * newCohortMs ago (a driver, image or framework version that just appeared) and has no baseline of
 * its own is also judged on its jobs' first minutes of training (early-failures.ts): failures per
 * minute at risk against the rest of the window's in the same first minutes, exact conditional
 * test per workload class, p ≤ earlyAlpha with at least minFailures failures (and minJobs
 * started outside the cohort to compare with). Running jobs count with the minutes they have
 * trained, so three jobs crashing at CUDA init out of six started is judged now, not once five
 * jobs have ended. It pages when the share of its jobs failing within those first minutes
 * (Kaplan-Meier, running jobs censored at their age) reaches pageRate. Attribution is the same
 * greedy pinning (smallest p-value first); a cohort the per-job tests reported is not reported
 * twice (its finding carries the early evidence, and pages on it).
 *
 * Scale. At 35,000 jobs a day the 7-day baseline is a quarter of a million jobs, too many to read
 * every run. The baseline can instead come from OutcomeAggregates: per clock hour, outcome counts
 * of the fleet and of every cohort value, folded in once as jobs leave the 6 h window
 * (foldOutcomes). Only the window's jobs are then needed raw. With hour-aligned windows the
 * aggregate baseline equals the raw one exactly; otherwise it is off by less than one hour of
 * jobs at the old end of the 7 days.
 */

export interface CohortDimension {
  /** Name used in findings, e.g. 'driver_version'. */
  readonly name: string;
  /** Tag key on the job holding the cohort value; omitted means the job's instanceType. */
  readonly tag?: string;
}

/** Ordered from most to least specific: the order breaks exact ties in attribution. */
export const DEFAULT_COHORT_DIMENSIONS: readonly CohortDimension[] = [
  { name: 'driver_version', tag: 'driver_version' },
  { name: 'framework', tag: 'framework' },
  { name: 'image', tag: 'image' },
  { name: 'instance_type' },
];

export interface CohortOptions {
  /** Jobs with an outcome a cohort needs in the window. @default 10 */
  readonly minJobs?: number;
  /** Failures a cohort needs in the window. @default 3 */
  readonly minFailures?: number;
  /** Baseline outcomes a cohort needs before its own baseline is trusted over the fleet's. @default 30 */
  readonly minBaselineJobs?: number;
  /** Wilson z; 2.33 is one-sided 99 %, as many cohorts are tested each run. @default 2.33 */
  readonly z?: number;
  /** Window rate must also exceed the baseline rate by this much (absolute). @default 0.05 */
  readonly minRateIncrease?: number;
  /** Page when the excess failures (failed - baseline rate × jobs) reach this. @default 20 */
  readonly pageExcessFailures?: number;
  /** Failure reasons that point at the hardware, for instance-type cohorts. */
  readonly hardwareReason?: RegExp;
  /**
   * Cold start (fleet baseline < minBaselineJobs): one-sided Fisher p-value a cohort's window
   * rate must reach against the rest of the window. Small because many cohorts are tested. @default 0.001
   */
  readonly crossSectionalAlpha?: number;
  /**
   * Cold start: jobs with an outcome the cohort needs. Smaller than minJobs because the exact test
   * accounts for small counts itself (3 of 5 failing against 1 % elsewhere is p ≈ 1e-5), and a
   * fresh rollout has few finished jobs; minFailures still applies. @default 5
   */
  readonly crossSectionalMinJobs?: number;
  /**
   * Also page when the cohort's failure rate reaches this with at least 2 × minFailures failures:
   * most jobs on it fail, an outage for its users however few jobs the window had. @default 0.5
   */
  readonly pageRate?: number;
  /** A cohort value whose oldest started job trained less than this is new (early test). @default 2 h */
  readonly newCohortMs?: number;
  /** Early test: training minutes compared (from each job's training start). @default 30 min */
  readonly earlyWindowMs?: number;
  /** Early test: one-sided p-value to reach. @default 0.001 */
  readonly earlyAlpha?: number;
}

export interface CohortFailureInput {
  /** Recent terminal and running jobs (running ones are ignored: no outcome yet). */
  readonly jobs: readonly TrainingJobState[];
  readonly nowMs: number;
  /** @default 6 h */
  readonly windowMs?: number;
  /** @default 7 d, ending where the window starts */
  readonly baselineWindowMs?: number;
  /** @default DEFAULT_COHORT_DIMENSIONS */
  readonly dimensions?: readonly CohortDimension[];
  readonly options?: CohortOptions;
  /**
   * Baseline outcomes from the detection state instead of raw jobs: when given, `jobs` need only
   * cover the window, and baseline jobs among them are ignored.
   */
  readonly baseline?: OutcomeAggregates;
}

// -------------------------------------------------------------------------------------------------
// Compact baseline: outcome counts per clock hour.
//
//   hours["<hourEnd>"] = outcomes of jobs that ended in (hourEnd - 1 h, hourEnd]
//   folded:  ... ──────────────── foldedThroughMs │ (jobs after it are still in the raw window)

const count0 = z.int().min(0);
/** [jobs with an outcome, failed]. */
const countsTuple = z.tuple([count0, count0]);

export const outcomeHourSchema = z.strictObject({
  n: count0,
  failed: count0,
  /** Keyed by cohortValueKey(dimension name, value). */
  cohorts: z.record(z.string(), countsTuple),
});

export const outcomeAggregatesSchema = z.strictObject({
  /** Jobs that ended at or before this instant have been folded in. */
  foldedThroughMs: z.int().min(0).optional(),
  hours: z.record(z.string().regex(/^\d+$/), outcomeHourSchema),
});
export type OutcomeAggregates = z.output<typeof outcomeAggregatesSchema>;

export function emptyOutcomeAggregates(): OutcomeAggregates {
  return { hours: {} };
}

/** A JSON array, not a joined string: tag values may contain any separator. */
export function cohortValueKey(dimension: string, value: string): string {
  return JSON.stringify([dimension, value]);
}

/** The end of the clock hour slot (end - 1 h, end] that holds instant t. */
export function hourSlotEnd(t: number): number {
  return Math.ceil(t / HOUR_MS) * HOUR_MS;
}

export function jobEndOf(job: TrainingJobState): number {
  return job.trainingEndTime ?? job.lastModifiedTime;
}

/**
 * Folds the outcomes of jobs that ended in (foldedThroughMs, throughMs] into the hourly counts,
 * then drops hours older than `keepMs` before throughMs. Each job is folded once: later runs only
 * look past the new foldedThroughMs. A job whose final state reaches the job store after its end
 * time was folded past is not counted (folding at the window edge, 6 h late, makes that rare).
 */
export function foldOutcomes(
  agg: OutcomeAggregates,
  jobs: readonly TrainingJobState[],
  throughMs: number,
  dims: readonly CohortDimension[] = DEFAULT_COHORT_DIMENSIONS,
  keepMs: number = 7 * DAY_MS + HOUR_MS,
): { aggregates: OutcomeAggregates; folded: number } {
  const from = agg.foldedThroughMs ?? Number.NEGATIVE_INFINITY;
  if (throughMs <= from) return { aggregates: agg, folded: 0 };
  const hours: Record<string, { n: number; failed: number; cohorts: Record<string, [number, number]> }> = {};
  for (const [k, h] of Object.entries(agg.hours)) {
    hours[k] = {
      n: h.n,
      failed: h.failed,
      cohorts: Object.fromEntries(Object.entries(h.cohorts).map(([c, t]) => [c, [t[0], t[1]]])),
    };
  }
  let folded = 0;
  for (const job of jobs) {
    const outcome = outcomeOf(job);
    if (outcome === undefined) continue;
    const end = jobEndOf(job);
    if (end <= from || end > throughMs) continue;
    const key = String(hourSlotEnd(end));
    let hour = hours[key];
    if (!hour) {
      hour = { n: 0, failed: 0, cohorts: {} };
      hours[key] = hour;
    }
    const f = outcome === 'failed' ? 1 : 0;
    hour.n++;
    hour.failed += f;
    for (const dim of dims) {
      const v = cohortValue(job, dim);
      if (v === undefined) continue;
      const ck = cohortValueKey(dim.name, v);
      const c = hour.cohorts[ck] ?? [0, 0];
      hour.cohorts[ck] = [c[0] + 1, c[1] + f];
    }
    folded++;
  }
  const cutoff = throughMs - keepMs;
  for (const k of Object.keys(hours)) if (Number(k) <= cutoff) delete hours[k];
  return { aggregates: { foldedThroughMs: throughMs, hours }, folded };
}

/** Baseline counts over the hours ending after `sinceMs`: the fleet and a lookup per cohort value. */
export function outcomeBaseline(
  agg: OutcomeAggregates,
  sinceMs: number,
): { fleet: Counts; cohort(dim: string, value: string): Counts } {
  const fleet: Counts = { failed: 0, n: 0 };
  const cohorts = new Map<string, Counts>();
  for (const [k, h] of Object.entries(agg.hours)) {
    if (Number(k) <= sinceMs) continue;
    fleet.n += h.n;
    fleet.failed += h.failed;
    for (const [ck, [n, failed]] of Object.entries(h.cohorts)) {
      const c = cohorts.get(ck) ?? { failed: 0, n: 0 };
      c.n += n;
      c.failed += failed;
      cohorts.set(ck, c);
    }
  }
  return {
    fleet,
    cohort: (dim, value) => cohorts.get(cohortValueKey(dim, value)) ?? { failed: 0, n: 0 },
  };
}

const DEFAULTS = {
  minJobs: 10,
  minFailures: 3,
  minBaselineJobs: 30,
  z: 2.33,
  minRateIncrease: 0.05,
  pageExcessFailures: 20,
  hardwareReason: /xid|ecc|hardware|nvlink|fallen off the bus|gpu (is )?lost|row remap/i,
  crossSectionalAlpha: 0.001,
  crossSectionalMinJobs: 5,
  pageRate: 0.5,
  newCohortMs: 2 * HOUR_MS,
  earlyWindowMs: 30 * 60_000,
  earlyAlpha: 0.001,
};

export const COHORT_FAILURE_KIND = 'software.cohort_failure_spike';

/**
 * Job tag naming the cluster a job ran on (set by whoever submits to a shared cluster; the
 * simulator does). When every job of a spiking cohort carries the same value, the finding gets a
 * `cluster` label, so it routes and groups with that cluster's other alerts.
 */
export const JOB_CLUSTER_TAG = 'fleetwatch:cluster';

/** Wilson score interval of a binomial proportion. [0, 1] when n = 0: nothing is known. */
export function wilsonInterval(failures: number, n: number, z: number): { lower: number; upper: number } {
  if (n <= 0) return { lower: 0, upper: 1 };
  const p = failures / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}

type Outcome = 'failed' | 'ok';

function outcomeOf(job: TrainingJobState): Outcome | undefined {
  if (job.status === 'Failed') return 'failed';
  if (job.status === 'Completed' || job.status === 'Stopped') return 'ok';
  return undefined;
}

function cohortValue(job: TrainingJobState, dim: CohortDimension): string | undefined {
  const v = dim.tag === undefined ? job.instanceType : job.tags[dim.tag];
  const t = v?.trim();
  return t ? t : undefined;
}

export interface Counts {
  failed: number;
  n: number;
}

function count(jobs: Iterable<TrainingJobState>): Counts {
  const c: Counts = { failed: 0, n: 0 };
  for (const j of jobs) {
    c.n++;
    if (outcomeOf(j) === 'failed') c.failed++;
  }
  return c;
}

interface Cohort {
  readonly dim: CohortDimension;
  readonly dimIndex: number;
  readonly value: string;
  readonly window: TrainingJobState[];
  readonly baselineRate: number;
  readonly baseline: Counts;
  /** True when the cohort had too few baseline jobs and is judged against the fleet. */
  readonly fleetBaseline: boolean;
}

const round = (x: number, digits = 4): number => roundTo(x, digits);

export function detectCohortFailures(input: CohortFailureInput): { findings: Finding[] } {
  const o: typeof DEFAULTS = { ...DEFAULTS, ...definedOnly(input.options ?? {}) };
  const now = input.nowMs;
  const windowMs = input.windowMs ?? 6 * HOUR_MS;
  const baselineMs = input.baselineWindowMs ?? 7 * DAY_MS;
  const dims = input.dimensions ?? DEFAULT_COHORT_DIMENSIONS;
  const windowStart = now - windowMs;
  const baselineStart = windowStart - baselineMs;

  const inWindow: TrainingJobState[] = [];
  const inBaseline: TrainingJobState[] = [];
  const inWindowSet = new Set<TrainingJobState>();
  for (const job of input.jobs) {
    if (outcomeOf(job) === undefined) continue;
    const end = jobEndOf(job);
    if (end > windowStart && end <= now) {
      inWindow.push(job);
      inWindowSet.add(job);
    } else if (!input.baseline && end > baselineStart && end <= windowStart) inBaseline.push(job);
  }
  const base = input.baseline
    ? outcomeBaseline(input.baseline, baselineStart)
    : rawBaseline(inBaseline, dims);
  const fleet = base.fleet;
  // No trusted "before" yet: judge each cohort against the rest of the same window instead.
  const crossSectional = fleet.n < o.minBaselineJobs;

  // Spike test for a set of window jobs against a reference rate known from `ref` outcomes.
  const spikes = (c: Counts, refRate: number, ref: Counts): boolean => {
    if (c.n < o.minJobs || c.failed < o.minFailures) return false;
    const refUpper = wilsonInterval(ref.failed, ref.n, o.z).upper;
    const rate = c.failed / c.n;
    return wilsonInterval(c.failed, c.n, o.z).lower > refUpper && rate - refRate >= o.minRateIncrease;
  };

  const cohorts: Cohort[] = [];
  dims.forEach((dim, dimIndex) => {
    const byValue = new Map<string, { window: TrainingJobState[] }>();
    const slot = (v: string) => {
      let s = byValue.get(v);
      if (!s) {
        s = { window: [] };
        byValue.set(v, s);
      }
      return s;
    };
    for (const j of inWindow) {
      const v = cohortValue(j, dim);
      if (v !== undefined) slot(v).window.push(j);
    }
    for (const [value, s] of byValue) {
      const own = base.cohort(dim.name, value);
      const fleetBaseline = own.n < o.minBaselineJobs;
      const baseline = fleetBaseline ? fleet : own;
      cohorts.push({
        dim,
        dimIndex,
        value,
        window: s.window,
        baseline,
        baselineRate: baseline.failed / baseline.n,
        fleetBaseline,
      });
    }
  });

  // Cross-sectional spike: the cohort against the jobs outside it, same window.
  const crossSpikes = (c: Counts, rest: Counts): boolean => {
    if (c.n < o.crossSectionalMinJobs || c.failed < o.minFailures || rest.n < o.minJobs) return false;
    if (c.failed / c.n - rest.failed / rest.n < o.minRateIncrease) return false;
    return fisherGreaterP(c.failed, c.n, rest.failed, rest.n) <= o.crossSectionalAlpha;
  };
  const outsideOf = (c: Cohort, excluded: ReadonlySet<TrainingJobState>): Counts => {
    const members = new Set(c.window);
    return count(inWindow.filter((j) => !members.has(j) && !excluded.has(j)));
  };
  const judge = (c: Cohort, excluded: ReadonlySet<TrainingJobState>): boolean => {
    const inside = count(c.window.filter((j) => !excluded.has(j)));
    return crossSectional
      ? crossSpikes(inside, outsideOf(c, excluded))
      : spikes(inside, c.baselineRate, c.baseline);
  };

  // Early-failure test of new cohort values (see the header): the started jobs of the window.
  const started = input.jobs.filter((j) => {
    if (j.trainingStartTime === undefined) return false;
    if (outcomeOf(j) !== undefined) return inWindowSet.has(j);
    return j.status === 'InProgress' || j.status === 'Stopping';
  });
  const startedOf = (c: Cohort) => started.filter((j) => cohortValue(j, c.dim) === c.value);
  const isNew = (c: Cohort) =>
    (crossSectional || c.fleetBaseline) && oldestTrainingAgeMs(startedOf(c), now) <= o.newCohortMs;
  const early = (c: Cohort, excluded: ReadonlySet<TrainingJobState>): EarlyFailureResult => {
    const members = new Set(startedOf(c));
    return earlyFailureTest(
      [...members].filter((j) => !excluded.has(j)),
      started.filter((j) => !members.has(j) && !excluded.has(j)),
      now,
      o.earlyWindowMs,
    );
  };
  const fires = (r: EarlyFailureResult) =>
    r.failed >= o.minFailures && r.restStarted >= o.minJobs && r.pValue <= o.earlyAlpha;
  // Chronic cohorts (see the header): failing far more than the rest of the window at a rate
  // their own recent baseline already holds. Not reported again, but their failures explain the
  // spikes they cause in the cohorts they overlap.
  const explained = new Set<TrainingJobState>();
  if (!crossSectional) {
    for (const c of cohorts) {
      if (c.fleetBaseline || judge(c, new Set())) continue;
      if (crossSpikes(count(c.window), outsideOf(c, new Set()))) for (const j of c.window) explained.add(j);
    }
  }
  let unplaced = cohorts.filter((c) => judge(c, explained));
  const findings: Finding[] = [];
  const reported = new Set<Cohort>();

  while (unplaced.length > 0) {
    const scored = unplaced.map((c) => {
      const members = new Set(c.window);
      const inside = count(c.window.filter((j) => !explained.has(j)));
      const outside = count(inWindow.filter((j) => !members.has(j) && !explained.has(j)));
      // Half-failure smoothing keeps the lift finite when nothing outside failed.
      const lift = (inside.failed + 0.5) / (inside.n + 1) / ((outside.failed + 0.5) / (outside.n + 1));
      const purity = wilsonInterval(inside.failed, inside.n, o.z).lower;
      return { c, inside, outside, lift, purity };
    });
    scored.sort(
      (a, b) =>
        b.purity - a.purity || b.lift - a.lift || a.inside.n - b.inside.n || a.c.dimIndex - b.c.dimIndex,
    );
    const primary = scored[0];
    if (!primary) break;
    const primaryJobs = new Set(primary.c.window);
    const without = new Set([...explained, ...primaryJobs]);
    const related: Cohort[] = [];
    const still: Cohort[] = [];
    for (const c of unplaced) {
      if (c === primary.c) continue;
      if (judge(c, without)) still.push(c);
      else related.push(c);
    }
    // Cross-sectional: the reference is the rest of the window (excluding what is explained).
    const reference: Cohort = crossSectional
      ? {
          ...primary.c,
          baseline: primary.outside,
          baselineRate: primary.outside.failed / Math.max(1, primary.outside.n),
        }
      : primary.c;
    // A new cohort the per-job test caught may already be known to fail early at a page-worthy rate.
    const earlyResult = isNew(primary.c) ? early(primary.c, explained) : undefined;
    findings.push(
      toFinding(reference, primary.inside, primary.outside, primary.lift, related, o, {
        now,
        windowStart,
        baselineMs,
        ...(earlyResult && fires(earlyResult) ? { early: earlyResult } : {}),
        ...(crossSectional
          ? {
              pValue: fisherGreaterP(
                primary.inside.failed,
                primary.inside.n,
                primary.outside.failed,
                primary.outside.n,
              ),
            }
          : {}),
      }),
    );
    for (const j of primaryJobs) explained.add(j);
    reported.add(primary.c);
    for (const r of related) reported.add(r);
    unplaced = still;
  }

  // Early failures of just-rolled-out cohort values (see the header).
  let candidates = cohorts
    .filter((c) => !reported.has(c) && isNew(c))
    .map((c) => ({ c, r: early(c, explained) }))
    .filter((x) => fires(x.r));
  while (candidates.length > 0) {
    candidates.sort((a, b) => a.r.pValue - b.r.pValue || a.c.dimIndex - b.c.dimIndex);
    const primary = candidates[0];
    if (!primary) break;
    const primaryJobs = new Set([...primary.c.window, ...startedOf(primary.c)]);
    const without = new Set([...explained, ...primaryJobs]);
    const related: Cohort[] = [];
    const still: typeof candidates = [];
    for (const x of candidates.slice(1)) {
      const r = early(x.c, without);
      if (fires(r)) still.push({ c: x.c, r });
      else related.push(x.c);
    }
    const members = new Set(primary.c.window);
    const inside = count(primary.c.window.filter((j) => !explained.has(j)));
    const outside = count(inWindow.filter((j) => !members.has(j) && !explained.has(j)));
    const lift = (inside.failed + 0.5) / (inside.n + 1) / ((outside.failed + 0.5) / (outside.n + 1));
    // The per-job part of the evidence: against the rest of the window when cold (as above).
    const reference: Cohort = crossSectional
      ? { ...primary.c, baseline: outside, baselineRate: outside.failed / Math.max(1, outside.n) }
      : primary.c;
    findings.push(
      toFinding(reference, inside, outside, lift, related, o, {
        now,
        windowStart,
        baselineMs,
        ...(crossSectional
          ? { pValue: fisherGreaterP(inside.failed, inside.n, outside.failed, outside.n) }
          : {}),
        early: primary.r,
        earlyOnly: true,
      }),
    );
    for (const j of primaryJobs) explained.add(j);
    candidates = still;
  }
  return { findings };
}

/** The same lookup as outcomeBaseline, computed from raw baseline jobs. */
function rawBaseline(
  jobs: readonly TrainingJobState[],
  dims: readonly CohortDimension[],
): { fleet: Counts; cohort(dim: string, value: string): Counts } {
  const cohorts = new Map<string, Counts>();
  for (const dim of dims) {
    for (const j of jobs) {
      const v = cohortValue(j, dim);
      if (v === undefined) continue;
      const k = cohortValueKey(dim.name, v);
      const c = cohorts.get(k) ?? { failed: 0, n: 0 };
      c.n++;
      if (outcomeOf(j) === 'failed') c.failed++;
      cohorts.set(k, c);
    }
  }
  return {
    fleet: count(jobs),
    cohort: (dim, value) => cohorts.get(cohortValueKey(dim, value)) ?? { failed: 0, n: 0 },
  };
}

function toFinding(
  c: Cohort,
  inside: Counts,
  outside: Counts,
  lift: number,
  related: readonly Cohort[],
  o: typeof DEFAULTS,
  t: {
    now: number;
    windowStart: number;
    baselineMs: number;
    pValue?: number;
    early?: EarlyFailureResult;
    /** Only the early test fired (the per-job tests did not): the title says what did. */
    earlyOnly?: boolean;
  },
): Finding {
  const rate = inside.failed / Math.max(1, inside.n);
  const excess = inside.failed - c.baselineRate * inside.n;
  const cross = t.pValue !== undefined;
  const early = t.early;
  // Early path: the cohort's jobs fail within their first minutes at pageRate or more (Kaplan-Meier,
  // running jobs censored at their age), on a significant early-failure test.
  const page =
    excess >= o.pageExcessFailures ||
    (rate >= o.pageRate && inside.failed >= 2 * o.minFailures) ||
    (early !== undefined && early.failedShare >= o.pageRate);
  const failedJobs = c.window.filter((j) => outcomeOf(j) === 'failed');
  const hardwareShare =
    failedJobs.filter((j) => o.hardwareReason.test(j.failureReason ?? '')).length /
    Math.max(1, failedJobs.length);
  // Only the instance type can be hardware: a driver or image cohort failing with Xids is still
  // most likely the new software tripping over the GPUs.
  const hardware = c.dim.tag === undefined && hardwareShare >= 0.5;
  const cohort = `${c.dim.name}=${c.value}`;
  const pct = (x: number) => `${round(x * 100, 1)} %`;
  const teams = new Set(c.window.map((j) => j.team));
  const regions = new Set(c.window.map((j) => j.region));
  const clusters = new Set(c.window.map((j) => j.tags[JOB_CLUSTER_TAG]?.trim() || undefined));
  const [team] = teams;
  const [region] = regions;
  const [cluster] = clusters;
  const labels: FindingLabels = {
    ...(regions.size === 1 && region ? { region } : {}),
    ...(clusters.size === 1 && cluster ? { cluster } : {}),
    ...(teams.size === 1 && team ? { team } : {}),
  };
  const reasons = [...new Set(failedJobs.map((j) => j.failureReason?.slice(0, 120) ?? 'no reason'))];
  return {
    schemaVersion: FINDING_SCHEMA_VERSION,
    kind: COHORT_FAILURE_KIND,
    severity: page ? 'page' : 'ticket',
    cause: hardware ? 'hardware' : 'software',
    title: (early && t.earlyOnly
      ? `Early failures in new cohort ${cohort}: ${early.failed} of ${early.started} started jobs failed in their first ${round(early.windowMs / 60_000, 1)} min of training`
      : `Failure rate spike in cohort ${cohort}: ${pct(rate)} vs ${cross ? 'rest of fleet' : 'baseline'} ${pct(c.baselineRate)} (${inside.failed}/${inside.n} jobs)`
    ).slice(0, 200),
    summary: `${early ? `${cohort} is new (its first job started training less than ${round(o.newCohortMs / HOUR_MS, 1)} h ago) and its jobs fail early: ${early.failed} of the ${early.started} that started training failed within ${round(early.windowMs / 60_000, 1)} min, in ${early.exposureMinutes} training minutes at risk, against ${early.restFailed} failures in ${early.restExposureMinutes} such minutes for the rest of the fleet (exact conditional test by workload class, p = ${early.pValue.toPrecision(2)}). ` : ''}${inside.failed} of ${inside.n} jobs with ${cohort} failed in the last ${round((t.now - t.windowStart) / HOUR_MS, 1)} h, about ${Math.round(excess)} more than ${cross ? `the rest of the fleet's rate over the same window (${outside.failed}/${outside.n}, ${pct(c.baselineRate)}; one-sided Fisher exact p = ${t.pValue?.toPrecision(2)}; no trusted baseline yet)` : `the ${c.fleetBaseline ? 'fleet' : 'cohort'} baseline rate of ${pct(c.baselineRate)}`} predicts; jobs outside the cohort failed at ${pct(outside.failed / Math.max(1, outside.n))}.${related.length > 0 ? ` It also explains the spikes of ${listText(related.map((r) => `${r.dim.name}=${r.value}`))}.` : ''}`,
    labels,
    evidence: {
      window: { startMs: Math.max(0, t.windowStart), endMs: t.now },
      values: {
        rate: round(rate),
        baselineRate: round(c.baselineRate),
        failed: inside.failed,
        jobs: inside.n,
        baselineFailed: c.baseline.failed,
        baselineJobs: c.baseline.n,
        excessFailures: round(excess, 1),
        outsideRate: round(outside.failed / Math.max(1, outside.n)),
        lift: round(lift, 2),
        ...(cross ? { crossSectional: 1, pValue: Number(t.pValue?.toPrecision(3)) } : {}),
        ...(early
          ? {
              earlyFailed: early.failed,
              earlyStarted: early.started,
              earlyWindowMinutes: round(early.windowMs / 60_000, 1),
              earlyExposureMinutes: early.exposureMinutes,
              earlyRestFailed: early.restFailed,
              earlyRestExposureMinutes: early.restExposureMinutes,
              earlyPValue: Number(early.pValue.toPrecision(3)),
            }
          : {}),
      },
      detail:
        `cohort dimension ${c.dim.name} (${c.dim.tag === undefined ? 'instanceType' : `tag ${c.dim.tag}`}) = ${c.value}; ${early ? 'judged on early failures per training minute (new cohort); ' : ''}${cross ? 'reference: the rest of the fleet in the same window (cross-sectional; the baseline is not warm yet)' : `baseline ${c.fleetBaseline ? 'fleet-wide (cohort new or too small)' : 'own cohort'} over ${round(t.baselineMs / DAY_MS, 1)} d`}; related: ${
          listText(
            related.map((r) => `${r.dim.name}=${r.value}`),
            20,
          ) || 'none'
        }; failed jobs: ${listText(failedJobs.map((j) => j.jobName).sort(), 20)}; reasons: ${listText(reasons, 5)}`.slice(
          0,
          4_000,
        ),
    },
    runbook: `docs/runbooks/${COHORT_FAILURE_KIND}.md`,
    detectedAt: t.now,
  };
}
