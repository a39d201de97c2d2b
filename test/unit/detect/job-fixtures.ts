/**
 * Shared fixtures for the job-health and efficiency detector tests: realistic p5.48xlarge
 * (8x H100, 700 W TDP) GPU-minutes and training-job states.
 */
import type { GpuSample, TrainingJobState } from '../../../lambdas/core/model';
import { MINUTE_MS } from '../../../lambdas/core/time';
import { prng } from './synthetic';

/** 2026-11-24 08:00 UTC. */
export const T0 = Date.UTC(2026, 10, 24, 8);
export const MIN = MINUTE_MS;

export function job(p: Partial<TrainingJobState> & { jobName: string }): TrainingJobState {
  return {
    region: 'us-east-1',
    arn: `arn:aws:sagemaker:us-east-1:123456789012:training-job/${p.jobName}`,
    status: 'InProgress',
    secondaryStatus: 'Training',
    lastModifiedTime: T0,
    creationTime: T0 - 10 * MIN,
    trainingStartTime: T0,
    instanceType: 'p5.48xlarge',
    instanceCount: 1,
    tags: {},
    team: 'llm',
    transitions: [],
    metricNames: ['train:loss'],
    ...p,
  };
}

export type Values = GpuSample['values'];

/** Per-minute samples for every GPU of the given nodes in [from, to). */
export function minutes(opts: {
  job?: string;
  nodes: readonly string[];
  gpus?: number;
  from: number;
  to: number;
  seed?: number;
  values: (t: number, gpu: number, rand: () => number) => Values;
}): GpuSample[] {
  const rand = prng(opts.seed ?? 7);
  const out: GpuSample[] = [];
  for (let t = opts.from; t < opts.to; t += MIN) {
    for (const node of opts.nodes) {
      for (let g = 0; g < (opts.gpus ?? 8); g++) {
        out.push({
          time: t,
          labels: {
            cluster: 'train-a',
            region: 'us-east-1',
            instanceType: 'p5.48xlarge',
            node,
            gpu: String(g),
            ...(opts.job ? { job: opts.job } : {}),
          },
          values: opts.values(t, g, rand),
        });
      }
    }
  }
  return out;
}

/** A real training step mix on an H100: kernels always resident, SMs and tensor cores busy, power swinging. */
export const training = (_t: number, _g: number, r: () => number): Values => ({
  gpu_util: 100 - Math.floor(r() * 4),
  sm_active: 0.55 + r() * 0.2,
  tensor_active: 0.3 + r() * 0.2,
  power: 540 + r() * 150,
});

export const idle = (_t: number, _g: number, r: () => number): Values => ({
  gpu_util: 0,
  sm_active: r() * 0.01,
  tensor_active: 0,
  power: 70 + r() * 5,
});
