import type { InputIssue } from '../core/kpi/goodput';
import {
  allStepTimeMetricNames,
  type StepShares,
  type StepTimeMetricNames,
  stepSharesOf,
  stepTimeMetricsOf,
} from '../core/kpi/step-time';
import type { TrainingJobState } from '../core/model';
import type { JobProgressSource, StepTimeQuery } from '../core/ports';

/**
 * How far back the breakdown is read: jobs log it every few minutes (with their progress), often
 * less than once per detection window, and a slowed job less still. The window's own datapoints
 * are used when there are any, else the newest one of the half hour before it (the job's current
 * split). GetMetricData bills per metric, not per datapoint, so the longer read costs nothing more.
 */
export const STEP_TIME_LOOKBACK_MS = 30 * 60_000;

/**
 * The step-time breakdown of the jobs of one detection window, for the usage record (goodput's
 * data-io and network buckets): which jobs publish one (their metric definitions), one read through
 * the progress source, and each job's shares over the window (core/kpi/step-time.ts).
 *
 * Only jobs that declare the metrics are queried (GetMetricData bills per metric requested); a
 * source without `stepTimes` yields nothing, so those jobs keep today's attribution (software).
 */
export async function readStepShares(
  source: JobProgressSource,
  jobs: readonly TrainingJobState[],
  names: StepTimeMetricNames,
  window: { readonly startMs: number; readonly endMs: number },
  issues: InputIssue[],
): Promise<Map<string, StepShares>> {
  const out = new Map<string, StepShares>();
  if (source.stepTimes === undefined) return out;
  const queries: StepTimeQuery[] = [];
  for (const j of jobs) {
    const m = stepTimeMetricsOf(j.metricNames, names);
    if (m !== undefined) queries.push({ region: j.region, jobName: j.jobName, ...m });
  }
  if (queries.length === 0) return out;
  const got = await source.stepTimes(
    queries,
    Math.min(window.startMs, window.endMs - STEP_TIME_LOOKBACK_MS),
    window.endMs,
  );
  for (const [key, all] of got) {
    const inWindow = all.filter((x) => x.time >= window.startMs);
    const newest = all.filter((x) => x.stepSeconds !== undefined).at(-1);
    const samples = inWindow.length > 0 ? inWindow : newest ? [newest] : [];
    const shares = stepSharesOf(`job ${key}`, samples, issues);
    if (shares !== undefined) out.set(key, shares);
  }
  return out;
}

/**
 * Progress metric names of a job that declares its own: the declared ones except the breakdown
 * (querying those too would bill more metrics for the same proof of progress); all declared ones
 * if nothing else is left, so a job logging only step times still shows progress.
 */
export function progressNamesOf(declared: readonly string[], names: StepTimeMetricNames): readonly string[] {
  const breakdown = allStepTimeMetricNames(names);
  const rest = declared.filter((n) => !breakdown.has(n));
  return rest.length > 0 ? rest : declared;
}
