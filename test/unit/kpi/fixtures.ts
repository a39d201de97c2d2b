/**
 * Small fleets for the KPI tests. Nodes are p5.48xlarge (8 GPUs); a window is one hour unless a
 * test says otherwise, so GPU-hours are easy to check by hand (one node-hour = 8 GPU-hours).
 */
import type { JobUsage, NodeWindow, TimeWindow, UsageBucket } from '../../../lambdas/core/kpi/goodput';
import type { TrainingJobState } from '../../../lambdas/core/model';
import { MINUTE_MS } from '../../../lambdas/core/time';

export const MIN = MINUTE_MS;
/** 2026-11-24 08:00 UTC. */
export const T0 = Date.UTC(2026, 10, 24, 8);
export const HOUR_WINDOW: TimeWindow = { startMs: T0, endMs: T0 + 60 * MIN };

export function node(name: string, p: Partial<NodeWindow> = {}): NodeWindow {
  return {
    node: name,
    region: 'us-east-1',
    cluster: 'train-a',
    instanceType: 'p5.48xlarge',
    gpus: 8,
    presentMinutes: 60,
    maintenanceMinutes: 0,
    unhealthyMinutes: 0,
    hardwareFaults: 0,
    ...p,
  };
}

export function nodes(n: number, p: Partial<NodeWindow> = {}): NodeWindow[] {
  return Array.from({ length: n }, (_, i) => node(`node-${i}`, p));
}

/**
 * A bucket covering [from, to) for `gpus` GPUs: every GPU-minute observed; `training`,
 * `progressing` are shares of GPU-minutes; `sm` is the mean sm_active of progressing minutes.
 */
export function bucket(
  from: number,
  to: number,
  gpus: number,
  p: { training?: number; progressing?: number; sm?: number; dataWait?: number; comm?: number } = {},
): UsageBucket {
  const gm = ((to - from) / MIN) * gpus;
  const training = gm * (p.training ?? 1);
  const progressing = gm * (p.progressing ?? 1);
  return {
    startMs: from,
    endMs: to,
    observedGpuMinutes: gm,
    trainingGpuMinutes: training,
    progressingGpuMinutes: progressing,
    progressingSmGpuMinutes: progressing * (p.sm ?? 1),
    ...(p.dataWait ? { dataWaitGpuMinutes: gm * p.dataWait } : {}),
    ...(p.comm ? { commGpuMinutes: gm * p.comm } : {}),
  };
}

/** A job that held `gpus` GPUs for the whole window, one bucket. */
export function usage(
  jobName: string,
  p: Partial<JobUsage> & {
    sm?: number;
    progressing?: number;
    training?: number;
    dataWait?: number;
    comm?: number;
  } = {},
  window: TimeWindow = HOUR_WINDOW,
): JobUsage {
  const { sm, progressing, training, dataWait, comm, ...rest } = p;
  const gpus = rest.gpus ?? 8;
  return {
    jobName,
    region: 'us-east-1',
    cluster: 'train-a',
    team: 'llm',
    instanceType: 'p5.48xlarge',
    gpus,
    allocations: [window],
    buckets: [
      bucket(window.startMs, window.endMs, gpus, {
        ...(sm === undefined ? {} : { sm }),
        ...(progressing === undefined ? {} : { progressing }),
        ...(training === undefined ? {} : { training }),
        ...(dataWait === undefined ? {} : { dataWait }),
        ...(comm === undefined ? {} : { comm }),
      }),
    ],
    outcome: 'running',
    checkpoints: [],
    ...rest,
  };
}

export function state(p: Partial<TrainingJobState> & { jobName: string }): TrainingJobState {
  return {
    region: 'us-east-1',
    arn: `arn:aws:sagemaker:us-east-1:123456789012:training-job/${p.jobName}`,
    status: 'InProgress',
    secondaryStatus: 'Training',
    lastModifiedTime: T0,
    creationTime: T0 - 10 * MIN,
    instanceType: 'p5.48xlarge',
    instanceCount: 1,
    tags: {},
    team: 'llm',
    transitions: [],
    ...p,
  };
}
