import { describe, expect, it } from 'vitest';
import type { JobPlacement } from '../../../lambdas/core/detect/jobs';
import type { JobUsage } from '../../../lambdas/core/kpi/goodput';
import {
  mergeUsageRecords,
  type WindowUsageInput,
  windowUsage,
} from '../../../lambdas/core/kpi/window-usage';
import type { GpuSample } from '../../../lambdas/core/model';
import { MIN, state, T0 } from './fixtures';

/**
 * Issue 6 (S5): per-window usage attribution when jobs share a node (fix 1) and when a window's
 * samples are older than the placement read "now" (fix 2). Samples carry no job label here:
 * node-level profiles attribute by placement only.
 */

const W = { startMs: T0, endMs: T0 + 5 * MIN };

/** An unlabelled sample (no `job`) of node-a's GPU `gpu` at minute `minute` of the window. */
function sample(minute: number, gpu: string, node = 'node-a'): GpuSample {
  return {
    time: T0 + minute * MIN,
    labels: { cluster: 'train-a', region: 'us-east-1', instanceType: 'p5.48xlarge', node, gpu },
    values: { sm_active: 1 },
  };
}

function input(p: Partial<WindowUsageInput>): WindowUsageInput {
  return {
    window: W,
    samples: [],
    jobs: [
      state({ jobName: 'job-a', trainingStartTime: T0 - 60 * MIN }),
      state({ jobName: 'job-b', trainingStartTime: T0 - 60 * MIN }),
    ],
    progress: new Map(),
    checkpoints: new Map(),
    maintenance: [],
    bucketMs: 5 * MIN,
    ...p,
  };
}

const observed = (jobs: readonly JobUsage[], name: string) =>
  jobs.find((j) => j.jobName === name)?.buckets.reduce((a, b) => a + b.observedGpuMinutes, 0) ?? 0;

/** 8 GPUs of node-a × 5 minutes = 40 samples. */
const fullNode = [0, 1, 2, 3, 4].flatMap((m) =>
  ['0', '1', '2', '3', '4', '5', '6', '7'].map((g) => sample(m, g)),
);

describe('windowUsage: shared nodes (fix 1)', () => {
  it('splits a node between two jobs by their GPU indexes, idle GPUs to nobody', () => {
    // job-a holds GPUs 0-3, job-b GPUs 4-5, GPUs 6-7 are free.
    const placement = new Map<string, JobPlacement>([
      ['job-a', { cluster: 'train-a', nodes: ['node-a'], gpus: { 'node-a': ['0', '1', '2', '3'] } }],
      ['job-b', { cluster: 'train-a', nodes: ['node-a'], gpus: { 'node-a': ['4', '5'] } }],
    ]);
    const r = windowUsage(input({ samples: fullNode, placement }));
    expect(observed(r.jobs, 'job-a')).toBe(4 * 5);
    expect(observed(r.jobs, 'job-b')).toBe(2 * 5);
    expect(r.ambiguousSamples).toBeUndefined();
    // Capacity is the whole node either way: 8 GPUs.
    expect(r.nodes[0]?.gpus).toBe(8);
  });

  it('credits neither job when two share a node without GPU indexes, and says so', () => {
    // Before the fix the last listed job got all 40 GPU-minutes (more than its 4 GPUs could do).
    const placement = new Map<string, JobPlacement>([
      ['job-a', { cluster: 'train-a', nodes: ['node-a'] }],
      ['job-b', { cluster: 'train-a', nodes: ['node-a'] }],
    ]);
    const r = windowUsage(input({ samples: fullNode, placement }));
    expect(observed(r.jobs, 'job-a')).toBe(0);
    expect(observed(r.jobs, 'job-b')).toBe(0);
    expect(r.ambiguousSamples).toBe(40);
    expect(r.issues.map((i) => i.problem).join('\n')).toMatch(/40 GPU samples .* credited to no job/);
  });

  it('still gives a whole node to its only job when placement has no GPU indexes', () => {
    const placement = new Map<string, JobPlacement>([['job-a', { cluster: 'train-a', nodes: ['node-a'] }]]);
    const r = windowUsage(input({ samples: fullNode, placement }));
    expect(observed(r.jobs, 'job-a')).toBe(40);
    expect(r.ambiguousSamples).toBeUndefined();
  });
});

describe('windowUsage: placement over time (fix 2)', () => {
  it('credits each minute to the job that held the GPU then, not the one holding it now', () => {
    // GPU 0: job-a until minute 2 (ended, still listed as recently ended), job-b from minute 2.
    const placement = new Map<string, JobPlacement>([
      [
        'job-a',
        {
          cluster: 'train-a',
          nodes: ['node-a'],
          gpus: { 'node-a': ['0'] },
          fromMs: T0 - 60 * MIN,
          toMs: T0 + 2 * MIN,
        },
      ],
      ['job-b', { cluster: 'train-a', nodes: ['node-a'], gpus: { 'node-a': ['0'] }, fromMs: T0 + 2 * MIN }],
    ]);
    const samples = [0, 1, 2, 3, 4].map((m) => sample(m, '0'));
    const jobs = [
      state({
        jobName: 'job-a',
        status: 'Completed',
        secondaryStatus: 'Completed',
        trainingStartTime: T0 - 60 * MIN,
        trainingEndTime: T0 + 2 * MIN,
        lastModifiedTime: T0 + 2 * MIN,
      }),
      state({ jobName: 'job-b', trainingStartTime: T0 + 2 * MIN }),
    ];
    const r = windowUsage(input({ samples, placement, jobs }));
    expect(observed(r.jobs, 'job-a')).toBe(2);
    expect(observed(r.jobs, 'job-b')).toBe(3);
  });

  it('counts a GPU released before the sample and not yet re-placed as idle capacity', () => {
    const placement = new Map<string, JobPlacement>([
      [
        'job-a',
        {
          cluster: 'train-a',
          nodes: ['node-a'],
          gpus: { 'node-a': ['0'] },
          fromMs: T0 - 60 * MIN,
          toMs: T0 + 1 * MIN,
        },
      ],
    ]);
    const samples = [0, 1, 2, 3, 4].map((m) => sample(m, '0'));
    const r = windowUsage(input({ samples, placement }));
    expect(observed(r.jobs, 'job-a')).toBe(1);
    expect(r.nodes[0]?.presentMinutes).toBe(5);
  });

  it('treats overlapping node-level placements as ambiguous only while they overlap', () => {
    // job-a holds the node until minute 3, job-b from minute 2 (node-level, no GPU indexes):
    // minutes 0-1 job-a, minute 2 both (ambiguous), minutes 3-4 job-b.
    const placement = new Map<string, JobPlacement>([
      ['job-a', { cluster: 'train-a', nodes: ['node-a'], fromMs: T0 - 60 * MIN, toMs: T0 + 3 * MIN }],
      ['job-b', { cluster: 'train-a', nodes: ['node-a'], fromMs: T0 + 2 * MIN }],
    ]);
    const samples = [0, 1, 2, 3, 4].map((m) => sample(m, '0'));
    const r = windowUsage(input({ samples, placement }));
    expect(observed(r.jobs, 'job-a')).toBe(2);
    expect(observed(r.jobs, 'job-b')).toBe(2);
    expect(r.ambiguousSamples).toBe(1);
  });
});

describe('windowUsage: allocation from placement', () => {
  it('counts the GPUs a job was placed on, not instanceCount × the instance type', () => {
    // A 2-GPU job on a p5 (8 GPUs): allocation 2 GPUs, so the node's other 6 stay unallocated.
    const placement = new Map<string, JobPlacement>([
      ['job-a', { cluster: 'train-a', nodes: ['node-a'], gpus: { 'node-a': ['0', '1'] } }],
    ]);
    const r = windowUsage(input({ samples: fullNode, placement }));
    expect(r.jobs.find((j) => j.jobName === 'job-a')?.gpus).toBe(2);
    // Without GPU indexes the job-store fallback stays: 1 × p5.48xlarge = 8.
    expect(r.jobs.find((j) => j.jobName === 'job-b')?.gpus).toBe(8);
  });
});

describe('mergeUsageRecords: windows not aligned with buckets', () => {
  it('adds the parts of a bucket that two consecutive windows filled, and replaces a re-run', () => {
    // Windows [08:02, 08:07) and [08:07, 08:12) with 5-minute buckets at 08:00/08:05/08:10: the
    // 08:05 bucket gets minutes 05-06 from the first and 07-09 from the second. Before the fix the
    // second replaced the first and 2 of its 5 GPU-minutes were lost (a telemetry gap).
    const placement = new Map<string, JobPlacement>([['job-a', { cluster: 'train-a', nodes: ['node-a'] }]]);
    const rec = (from: number, to: number) =>
      windowUsage(
        input({
          window: { startMs: T0 + from * MIN, endMs: T0 + to * MIN },
          samples: Array.from({ length: to - from }, (_, i) => sample(from + i, '0')),
          placement,
        }),
      );
    const a = rec(2, 7);
    const b = rec(7, 12);
    const merged = mergeUsageRecords([a, b], T0, T0 + 15 * MIN);
    expect(observed(merged.jobs, 'job-a')).toBe(10);
    // A re-run of the second window (same minutes) replaces it rather than adding.
    const again = mergeUsageRecords([a, b, rec(7, 12)], T0, T0 + 15 * MIN);
    expect(observed(again.jobs, 'job-a')).toBe(10);
  });
});
