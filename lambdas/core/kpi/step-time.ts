import type { InputIssue } from './goodput';

/**
 * Step-time breakdown: how a training job's step time splits into waiting for input, exposed
 * communication and the rest (compute, optimizer, launch overhead). Jobs publish it as SageMaker
 * training metrics from their logs (metric definitions), the way HF Trainer / Lightning / torch
 * profiler / torchtitan log it: a step time, a data-loading time per step, and a communication
 * (NCCL all-reduce / all-gather wait) time per step. The names are configuration
 * (detection.stepTimeMetricNames, lambdas/contracts/detection-config.ts).
 *
 * Of one job in one window:
 *
 *   dataWaitShare = Σ data_time / Σ step_time        commShare = Σ comm_time / Σ step_time
 *
 * over the minutes that have all the values used (a minute with data_time but no step_time says
 * nothing about the share). Sums, not a mean of per-minute ratios: a slow step weighs more.
 * window-usage.ts turns the shares into GPU-minutes: each progressing GPU-minute of the job
 * contributes `dataWaitShare` data-wait and `commShare` communication GPU-minutes.
 *
 * Bad values are rejected and reported, never silently used: a negative or non-finite time drops
 * the minute; shares above 1, or summing above 1, are scaled to 1 (a logging bug or clock skew).
 */
export interface StepTimeSample {
  /** Start of the minute, epoch ms. */
  readonly time: number;
  /** Mean step time of the minute, seconds. */
  readonly stepSeconds?: number;
  /** Mean time per step waiting for input, seconds. */
  readonly dataWaitSeconds?: number;
  /** Mean time per step in exposed collectives, seconds. */
  readonly commSeconds?: number;
}

export interface StepShares {
  /** Share of step time waiting for input (0..1); absent when the job does not report it. */
  readonly dataWaitShare?: number;
  /** Share of step time in exposed communication (0..1); absent when not reported. */
  readonly commShare?: number;
}

const valid = (x: number | undefined): x is number => x !== undefined && Number.isFinite(x) && x >= 0;

/** One job's shares over the samples of a window; undefined when no sample can be used. */
export function stepSharesOf(
  subject: string,
  samples: readonly StepTimeSample[],
  issues: InputIssue[] = [],
): StepShares | undefined {
  let stepForData = 0;
  let stepForComm = 0;
  let data = 0;
  let comm = 0;
  let rejected = 0;
  for (const s of samples) {
    const bad = [s.stepSeconds, s.dataWaitSeconds, s.commSeconds].some((x) => x !== undefined && !valid(x));
    if (bad || !valid(s.stepSeconds) || s.stepSeconds <= 0) {
      if (bad || s.stepSeconds !== undefined) rejected++;
      continue;
    }
    if (valid(s.dataWaitSeconds)) {
      stepForData += s.stepSeconds;
      data += s.dataWaitSeconds;
    }
    if (valid(s.commSeconds)) {
      stepForComm += s.stepSeconds;
      comm += s.commSeconds;
    }
  }
  if (rejected > 0)
    issues.push({
      subject,
      problem: `${rejected} step-time minutes with a negative, non-finite or zero time; allowed step time > 0, data and comm time >= 0; minutes skipped`,
    });
  // A data or comm sum implies a valid step time in the same minutes.
  if (stepForData <= 0 && stepForComm <= 0) return undefined;
  let d = stepForData > 0 ? data / stepForData : undefined;
  let c = stepForComm > 0 ? comm / stepForComm : undefined;
  const total = (d ?? 0) + (c ?? 0);
  if (total > 1 + 1e-9) {
    issues.push({
      subject,
      problem: `data-wait share ${round4(d ?? 0)} + communication share ${round4(c ?? 0)} exceed the step time; scaled to 1`,
    });
    if (d !== undefined) d /= total;
    if (c !== undefined) c /= total;
  }
  return { ...(d !== undefined ? { dataWaitShare: d } : {}), ...(c !== undefined ? { commShare: c } : {}) };
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** The names a job's metric definitions must declare for its breakdown to be read. */
export interface StepTimeMetricNames {
  readonly step: readonly string[];
  readonly dataWait: readonly string[];
  readonly communication: readonly string[];
}

/** The metrics to read for one job: the first configured name of each role that the job declares. */
export interface StepTimeMetricsOfJob {
  readonly step: string;
  readonly dataWait?: string;
  readonly communication?: string;
}

/**
 * Which breakdown metrics a job publishes, from its declared metric definitions. A job must declare
 * a step time and at least one of data wait and communication; otherwise it has no breakdown (and
 * nothing is queried for it: GetMetricData bills per metric requested). Jobs that declare no
 * metric definitions publish no training metrics at all.
 */
export function stepTimeMetricsOf(
  declared: readonly string[] | undefined,
  names: StepTimeMetricNames,
): StepTimeMetricsOfJob | undefined {
  if (declared === undefined || declared.length === 0) return undefined;
  const has = new Set(declared);
  const first = (xs: readonly string[]) => xs.find((n) => has.has(n));
  const step = first(names.step);
  const dataWait = first(names.dataWait);
  const communication = first(names.communication);
  if (step === undefined || (dataWait === undefined && communication === undefined)) return undefined;
  return {
    step,
    ...(dataWait !== undefined ? { dataWait } : {}),
    ...(communication !== undefined ? { communication } : {}),
  };
}

/** Every configured breakdown name (they are not progress metrics: see detect-window.ts). */
export function allStepTimeMetricNames(names: StepTimeMetricNames): Set<string> {
  return new Set([...names.step, ...names.dataWait, ...names.communication]);
}
