import { hashString, noise } from './rng';
import { DATALOADER_SM_FACTOR, NETWORK_SM_FACTOR } from './telemetry';
import { CLASS_PROFILES, type SimJob } from './workload';

/**
 * The step-time breakdown simulated jobs publish as SageMaker training metrics (metric definitions
 * `step_time`, `data_time`, `comm_time`, seconds per step, logged with every progress datapoint),
 * for the jobs on the platform's PyTorch trainer (framework pytorch-*: about three quarters of the
 * jobs); TensorFlow and JAX jobs do not log it, so their waits stay under software.
 *
 * Each job has a steady split of its step time, consistent with its SM activity in the telemetry
 * model (telemetry.ts: sm ≈ lerp(profile.sm, intensity)): the time not computing, 1 − sm, is
 * split into data wait (15–35 %), communication (distributed jobs 30–50 %, others 5–15 %) and other
 * overhead (the rest), so the published waits never exceed what the GPUs show as idle.
 *
 * Faults stretch one part of the step, the way the telemetry model shrinks SM activity:
 *
 *   dataloader_bottleneck   compute and comm shares × DATALOADER_SM_FACTOR, data wait takes the rest
 *   network_degradation     compute and data shares × NETWORK_SM_FACTOR, communication takes the rest
 *
 * A stalled or idle job logs no steps at all (its progress cadence is 0).
 */

export const STEP_TIME_METRIC_DEFINITIONS = [
  { Name: 'step_time', Regex: 'step_time=([0-9\\.]+)' },
  { Name: 'data_time', Regex: 'data_time=([0-9\\.]+)' },
  { Name: 'comm_time', Regex: 'comm_time=([0-9\\.]+)' },
] as const;

export const STEP_TIME_METRIC = 'step_time';
export const DATA_TIME_METRIC = 'data_time';
export const COMM_TIME_METRIC = 'comm_time';

const KEY = hashString('step-times');

/** Whether a job publishes the breakdown (a stable property of the job: its training stack). */
export function publishesStepTimes(job: Pick<SimJob, 'framework'>): boolean {
  return job.framework.startsWith('pytorch');
}

export interface StepTimes {
  readonly stepSeconds: number;
  readonly dataWaitSeconds: number;
  readonly commSeconds: number;
}

/** The job's breakdown at a datapoint time (effects from its effect log, so past minutes replay). */
export function stepTimesAt(job: SimJob, tMs: number): StepTimes {
  const h = hashString(job.name);
  const p = CLASS_PROFILES[job.cls];
  const sm = p.sm[0] + (p.sm[1] - p.sm[0]) * job.intensity;
  const waiting = 1 - sm;
  let data = waiting * (0.15 + 0.2 * noise(KEY, h, 2));
  let comm =
    waiting * (job.cls === 'distributed' ? 0.3 + 0.2 * noise(KEY, h, 3) : 0.05 + 0.1 * noise(KEY, h, 3));
  let compute = 1 - data - comm; // compute and other overhead
  let step = 1; // relative to the undisturbed step
  for (const logged of job.effectLog) {
    if (tMs < logged.fromMs || tMs >= logged.toMs) continue;
    const kind = logged.effect.kind;
    if (kind !== 'dataloader' && kind !== 'network') continue;
    const f = kind === 'dataloader' ? DATALOADER_SM_FACTOR : NETWORK_SM_FACTOR;
    step /= f;
    compute *= f;
    if (kind === 'dataloader') {
      comm *= f;
      data = 1 - compute - comm;
    } else {
      data *= f;
      comm = 1 - compute - data;
    }
  }
  const base = 0.25 + 1.5 * noise(KEY, h, 4); // seconds per undisturbed step
  const stepSeconds = base * step;
  const r = (x: number) => Math.round(x * 10_000) / 10_000;
  return {
    stepSeconds: r(stepSeconds),
    dataWaitSeconds: r(stepSeconds * data),
    commSeconds: r(stepSeconds * comm),
  };
}
