import type { TrainingJobState } from '../model';
import { workloadClassOf } from './jobs';
import { logChoose } from './proportions';

/**
 * Early failures of a just-rolled-out cohort (a new driver, image or framework version), judged
 * per minute of training at risk instead of per finished job, so a rollout is judged on its first
 * few failures instead of waiting for enough of its jobs to end.
 *
 * Why not the per-job rate: minutes after a rollout, the only jobs of the new cohort that have
 * ended are the ones that failed fast; the ones still training have no outcome yet, and a job
 * that has trained two minutes says little either way. Exposure does: each job contributes the
 * minutes it has trained (up to `earlyWindowMs`), and the cohort's failures in those minutes are
 * compared with the rest of the fleet's failures in the same first minutes of their training.
 *
 *   job start ──► trained minutes at risk, capped at W ──► failed within them? (early failure)
 *   W = min(earlyWindowMs, the oldest cohort job's training age): both sides over the same ages.
 *
 * Test (exact, conditional): with equal hazards, given the K early failures of a stratum, the
 * cohort's share is Binomial(K, E_cohort / (E_cohort + E_rest)), E being exposure. The reference
 * rate's own uncertainty is accounted for by conditioning, as in Fisher's test for proportions.
 * Strata are workload classes (a notebook fails earlier in its life than a 6 h run), the strata's
 * binomials convolved; the p-value is P(cohort early failures ≥ observed).
 */

export interface EarlyFailureResult {
  /** One-sided p-value; 1 when nothing can be concluded (no exposure, no failure). */
  readonly pValue: number;
  /** Cohort jobs that failed within the first W of training. */
  readonly failed: number;
  /** Cohort jobs that started training (running ones included). */
  readonly started: number;
  /** Cohort training minutes at risk, and the rest's. */
  readonly exposureMinutes: number;
  readonly restExposureMinutes: number;
  readonly restFailed: number;
  /** Jobs of the rest that started training. */
  readonly restStarted: number;
  /** W, the span of training age compared. */
  readonly windowMs: number;
  /**
   * Kaplan-Meier estimate of the share of the cohort's jobs that fail within W of training:
   * running jobs are censored at their current age, so they neither count as failed nor as
   * having survived the whole window. The magnitude behind the page decision.
   */
  readonly failedShare: number;
}

interface Stratum {
  failed: number;
  exposure: number;
  restFailed: number;
  restExposure: number;
}

/** A job's training age at `nowMs` (to its end when it ended), and whether it failed by `capMs` of it. */
function exposureOf(
  job: TrainingJobState,
  nowMs: number,
  capMs: number,
): { exposure: number; earlyFailure: boolean } | undefined {
  const start = job.trainingStartTime;
  if (start === undefined || start > nowMs) return undefined;
  const ended = job.status === 'Failed' || job.status === 'Completed' || job.status === 'Stopped';
  const end = ended ? Math.min(nowMs, job.trainingEndTime ?? job.lastModifiedTime) : nowMs;
  const age = Math.max(0, end - start);
  return { exposure: Math.min(age, capMs), earlyFailure: job.status === 'Failed' && age <= capMs };
}

/** Training age of the oldest started job of `jobs` at `nowMs` (0 when none started). */
export function oldestTrainingAgeMs(jobs: readonly TrainingJobState[], nowMs: number): number {
  let oldest = 0;
  for (const j of jobs)
    if (j.trainingStartTime !== undefined) oldest = Math.max(oldest, nowMs - j.trainingStartTime);
  return oldest;
}

function binomialPmf(k: number, n: number, p: number): number {
  if (p <= 0) return k === 0 ? 1 : 0;
  if (p >= 1) return k === n ? 1 : 0;
  return Math.exp(logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log(1 - p));
}

/**
 * Early-failure test of `cohort` (jobs of the cohort value that started training: running, or
 * ended in the window) against `rest` (the other jobs of the same window), over the first
 * min(earlyWindowMs, oldest cohort job's training age) of training.
 */
export function earlyFailureTest(
  cohort: readonly TrainingJobState[],
  rest: readonly TrainingJobState[],
  nowMs: number,
  earlyWindowMs: number,
): EarlyFailureResult {
  const capMs = Math.min(earlyWindowMs, oldestTrainingAgeMs(cohort, nowMs));
  const strata = new Map<string, Stratum>();
  const stratum = (j: TrainingJobState): Stratum => {
    const key = workloadClassOf(j);
    let s = strata.get(key);
    if (!s) {
      s = { failed: 0, exposure: 0, restFailed: 0, restExposure: 0 };
      strata.set(key, s);
    }
    return s;
  };
  let started = 0;
  const lives: { age: number; failed: boolean }[] = [];
  for (const j of cohort) {
    const e = exposureOf(j, nowMs, capMs);
    if (!e) continue;
    started++;
    lives.push({ age: e.exposure, failed: e.earlyFailure });
    const s = stratum(j);
    s.exposure += e.exposure;
    if (e.earlyFailure) s.failed++;
  }
  let restStarted = 0;
  for (const j of rest) {
    const e = exposureOf(j, nowMs, capMs);
    if (!e) continue;
    restStarted++;
    const s = stratum(j);
    s.restExposure += e.exposure;
    if (e.earlyFailure) s.restFailed++;
  }
  // Distribution of the cohort's early failures under equal hazards: per stratum a binomial,
  // convolved across strata. Strata where one side has no exposure carry no information.
  let dist = [1];
  let failed = 0;
  let exposure = 0;
  let restExposure = 0;
  let restFailed = 0;
  for (const s of strata.values()) {
    exposure += s.exposure;
    restExposure += s.restExposure;
    restFailed += s.restFailed;
    if (s.exposure <= 0 || s.restExposure <= 0) continue;
    failed += s.failed;
    const k = s.failed + s.restFailed;
    const share = s.exposure / (s.exposure + s.restExposure);
    const pmf = Array.from({ length: k + 1 }, (_, i) => binomialPmf(i, k, share));
    const next = new Array<number>(dist.length + k).fill(0);
    dist.forEach((a, i) => {
      pmf.forEach((b, j) => {
        next[i + j] = (next[i + j] as number) + a * b;
      });
    });
    dist = next;
  }
  let tail = 0;
  for (let i = failed; i < dist.length; i++) tail += dist[i] as number;
  const minutes = (ms: number) => Math.round(ms / 6_000) / 10;
  return {
    pValue: failed === 0 ? 1 : Math.min(1, Math.max(0, tail)),
    failed,
    started,
    exposureMinutes: minutes(exposure),
    restExposureMinutes: minutes(restExposure),
    restFailed,
    restStarted,
    windowMs: capMs,
    failedShare: kaplanMeierFailed(lives),
  };
}

/** 1 − Kaplan-Meier survival at the end of the lives given (failures before censorings on ties). */
export function kaplanMeierFailed(lives: readonly { age: number; failed: boolean }[]): number {
  const sorted = [...lives].sort((a, b) => a.age - b.age || Number(b.failed) - Number(a.failed));
  let atRisk = sorted.length;
  let survival = 1;
  for (const l of sorted) {
    if (l.failed && atRisk > 0) survival *= 1 - 1 / atRisk;
    atRisk--;
  }
  return 1 - survival;
}
