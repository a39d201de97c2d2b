import { describe, expect, it } from 'vitest';
import type { MaintenanceWindow } from '../../../lambdas/contracts/calendar';
import { jobStateKey } from '../../../lambdas/core/detect/detection-state';
import {
  mergeUsageRecords,
  UNKNOWN_CLUSTER,
  type WindowUsageInput,
  type WindowUsageRecord,
  windowUsage,
} from '../../../lambdas/core/kpi/window-usage';
import type { GpuSample } from '../../../lambdas/core/model';
import { MIN, state, T0 } from './fixtures';

/** Window of 5 minutes starting at T0 (08:00). */
const W = { startMs: T0, endMs: T0 + 5 * MIN };

function sample(
  minute: number,
  gpu: string,
  values: GpuSample['values'],
  p: Partial<GpuSample['labels']> = {},
) {
  return {
    time: T0 + minute * MIN,
    labels: {
      cluster: 'train-a',
      region: 'us-east-1',
      instanceType: 'p5.48xlarge',
      node: 'node-a',
      gpu,
      job: 'job-1',
      team: 'llm',
      ...p,
    },
    values,
  } satisfies GpuSample;
}

function input(p: Partial<WindowUsageInput>): WindowUsageInput {
  return {
    window: W,
    samples: [],
    jobs: [state({ jobName: 'job-1', trainingStartTime: T0 - 30 * MIN })],
    progress: new Map(),
    checkpoints: new Map(),
    maintenance: [],
    bucketMs: MIN,
    ...p,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('windowUsage: jobs', () => {
  // Two GPUs × 5 minutes, sm_active 0.5; one progress datapoint at 08:01 with a 10-minute tolerance:
  // minute 08:00 is before it (not progressing), 08:01..08:04 see it.
  //   observed 10, training 10, progressing 2 GPUs × 4 min = 8, SM-weighted 8 × 0.5 = 4
  const samples = [0, 1, 2, 3, 4].flatMap((m) => ['0', '1'].map((g) => sample(m, g, { sm_active: 0.5 })));

  it('turns per-GPU samples and progress into buckets (hand-computed sums)', () => {
    const rec = windowUsage(
      input({
        samples,
        progress: new Map([['us-east-1#job-1', [T0 + 1 * MIN]]]),
        progressToleranceMs: 10 * MIN,
      }),
    );
    expect(rec.jobs).toHaveLength(1);
    const job = rec.jobs[0];
    const sum = (
      k: 'observedGpuMinutes' | 'trainingGpuMinutes' | 'progressingGpuMinutes' | 'progressingSmGpuMinutes',
    ) => job?.buckets.reduce((a, b) => a + b[k], 0);
    expect(job?.buckets).toHaveLength(5);
    expect(sum('observedGpuMinutes')).toBe(10);
    expect(sum('trainingGpuMinutes')).toBe(10);
    expect(sum('progressingGpuMinutes')).toBe(8);
    expect(sum('progressingSmGpuMinutes')).toBe(4);
    expect(job?.cluster).toBe('train-a');
    expect(job?.gpus).toBe(8); // p5.48xlarge × 1 instance
    expect(job?.outcome).toBe('running');
    // Running job: allocated from training start (no Downloading transition) to the window end.
    expect(job?.allocations).toEqual([{ startMs: T0 - 30 * MIN, endMs: W.endMs }]);
  });

  it('aggregates into 5-minute buckets by default', () => {
    const { bucketMs: _, ...rest } = input({ samples, progress: new Map([['us-east-1#job-1', [T0 + MIN]]]) });
    const job = windowUsage(rest).jobs[0];
    expect(job?.buckets).toEqual([
      {
        startMs: T0,
        endMs: T0 + 5 * MIN,
        observedGpuMinutes: 10,
        trainingGpuMinutes: 10,
        progressingGpuMinutes: 8,
        progressingSmGpuMinutes: 4,
      },
    ]);
  });

  it('earns no progressing minutes for a job whose progress is unknown', () => {
    const rec = windowUsage(input({ samples }));
    const job = rec.jobs[0];
    expect(job?.buckets.reduce((a, b) => a + b.progressingGpuMinutes, 0)).toBe(0);
    expect(job?.buckets.reduce((a, b) => a + b.trainingGpuMinutes, 0)).toBe(10);
  });

  it('counts minutes before training start as observed but not training', () => {
    const rec = windowUsage(
      input({
        samples,
        jobs: [state({ jobName: 'job-1', trainingStartTime: T0 + 2 * MIN })],
        progress: new Map([['us-east-1#job-1', [T0 + 2 * MIN]]]),
      }),
    );
    const job = rec.jobs[0];
    // training from 08:02: 3 minutes × 2 GPUs; progressing needs a datapoint in [t − 10 min, t + 1 min): 08:02..08:04.
    expect(job?.buckets.reduce((a, b) => a + b.trainingGpuMinutes, 0)).toBe(6);
    expect(job?.buckets.reduce((a, b) => a + b.progressingGpuMinutes, 0)).toBe(6);
  });

  it('carries the newest checkpoint and records a job that failed in the window without samples', () => {
    const failed = state({
      jobName: 'job-2',
      status: 'Failed',
      secondaryStatus: 'Failed',
      trainingStartTime: T0 - 60 * MIN,
      trainingEndTime: T0 - 10 * MIN,
      lastModifiedTime: T0 + MIN,
      failureReason: 'AlgorithmError: NCCL timeout in collective operation',
    });
    const old = state({
      jobName: 'job-3',
      status: 'Completed',
      trainingStartTime: T0 - 5 * 60 * MIN,
      trainingEndTime: T0 - 3 * 60 * MIN,
      lastModifiedTime: T0 - 3 * 60 * MIN,
    });
    const rec = windowUsage(
      input({
        jobs: [failed, old],
        checkpoints: new Map([[jobStateKey('us-east-1', 'job-2'), T0 - 20 * MIN]]),
        fleets: [{ region: 'us-east-1', cluster: 'train-a' }],
      }),
    );
    expect(rec.jobs.map((j) => j.jobName)).toEqual(['job-2']);
    expect(rec.jobs[0]).toMatchObject({
      outcome: 'failed',
      failureCause: 'network',
      checkpoints: [T0 - 20 * MIN],
      cluster: 'train-a',
      buckets: [],
    });
  });

  it('leaves a job unplaced when its region has several clusters, and counts samples of unknown jobs', () => {
    const rec = windowUsage(
      input({
        samples: [sample(0, '0', { sm_active: 1 }, { job: 'ghost' })],
        fleets: [
          { region: 'us-east-1', cluster: 'train-a' },
          { region: 'us-east-1', cluster: 'train-b' },
        ],
      }),
    );
    expect(rec.unattributedSamples).toBe(1);
    expect(rec.jobs[0]?.cluster).toBe(UNKNOWN_CLUSTER);
  });

  it('attributes unlabelled samples to the job placed on their node', () => {
    const unlabelled = [0, 1].map((m) => sample(m, '0', { sm_active: 1 }, { job: undefined }));
    const without = windowUsage(input({ samples: unlabelled }));
    expect(without.jobs[0]?.buckets).toEqual([]);
    const placed = windowUsage(
      input({
        samples: unlabelled,
        placement: new Map([['job-1', { cluster: 'train-a', nodes: ['node-a'] }]]),
      }),
    );
    expect(placed.jobs[0]?.buckets.reduce((a, b) => a + b.observedGpuMinutes, 0)).toBe(2);
  });

  it('records nodes only when the job store could not be read', () => {
    const rec = windowUsage(input({ samples, jobs: undefined }));
    expect(rec.jobs).toEqual([]);
    expect(rec.nodes).toHaveLength(1);
  });
});

describe('windowUsage: nodes', () => {
  it('gives a seen node the whole window at its catalogue GPU count', () => {
    const rec = windowUsage(input({ samples: [sample(4, '0', { sm_active: 1 })] }));
    expect(rec.nodes).toEqual([
      {
        node: 'node-a',
        region: 'us-east-1',
        cluster: 'train-a',
        team: 'llm',
        instanceType: 'p5.48xlarge',
        gpus: 8,
        presentMinutes: 5,
        maintenanceMinutes: 0,
        unhealthyMinutes: 0,
        hardwareFaults: 0,
      },
    ]);
  });

  it('marks the node unhealthy from its first fatal fault to the window end', () => {
    // Xid 48 (uncorrectable ECC, fatal) at 08:03 and ecc_dbe at 08:04: 2 faults, unhealthy 08:03..08:05.
    const rec = windowUsage(
      input({
        samples: [
          sample(0, '0', { sm_active: 1 }),
          sample(3, '1', { xid: 48 }),
          sample(4, '1', { ecc_dbe: 1 }),
        ],
      }),
    );
    expect(rec.nodes[0]).toMatchObject({ unhealthyMinutes: 2, hardwareFaults: 2 });
  });

  it('does not count a non-fatal Xid as a hardware fault', () => {
    const rec = windowUsage(input({ samples: [sample(1, '0', { xid: 13 })] }));
    expect(rec.nodes[0]).toMatchObject({ unhealthyMinutes: 0, hardwareFaults: 0 });
  });

  it('takes planned maintenance of the node out, and a window scoped to another node does not', () => {
    const maintenance: MaintenanceWindow[] = [
      { start: iso(T0 + MIN), end: iso(T0 + 3 * MIN), scope: [{ label: 'node', op: '=', value: 'node-a' }] },
      { start: iso(T0), end: iso(T0 + 5 * MIN), scope: [{ label: 'node', op: '=', value: 'node-z' }] },
    ];
    const rec = windowUsage(input({ samples: [sample(0, '0', { sm_active: 1 })], maintenance }));
    expect(rec.nodes[0]).toMatchObject({ presentMinutes: 5, maintenanceMinutes: 2 });
  });

  it('counts a GPU count from telemetry for an instance type not in the catalogue, and says so', () => {
    const other = { instanceType: 'x9.weird', node: 'node-x', job: undefined };
    const rec = windowUsage(
      input({ samples: [sample(0, '0', {}, other), sample(0, '1', {}, other), sample(1, '1', {}, other)] }),
    );
    expect(rec.nodes[0]?.gpus).toBe(2);
    expect(rec.issues.some((i) => i.subject === 'node node-x' && i.problem.includes('x9.weird'))).toBe(true);
  });
});

describe('mergeUsageRecords', () => {
  const w1 = { startMs: T0, endMs: T0 + 5 * MIN };
  const w2 = { startMs: T0 + 5 * MIN, endMs: T0 + 10 * MIN };
  const samples1 = [0, 1, 2, 3, 4].map((m) => sample(m, '0', { sm_active: 1 }));
  const samples2 = [5, 6].map((m) => sample(m, '0', { sm_active: 1 }));
  const running = state({ jobName: 'job-1', trainingStartTime: T0 - 30 * MIN });
  const failed = {
    ...running,
    status: 'Failed' as const,
    trainingEndTime: T0 + 7 * MIN,
    lastModifiedTime: T0 + 7 * MIN,
  };
  const r1 = windowUsage(input({ window: w1, samples: samples1, jobs: [running] }));
  const r2 = windowUsage(
    input({
      window: w2,
      samples: samples2,
      jobs: [failed],
      checkpoints: new Map([[jobStateKey('us-east-1', 'job-1'), T0 + 2 * MIN]]),
    }),
  );

  it('joins buckets across windows and takes the newest state of the job', () => {
    const m = mergeUsageRecords([r2, r1], T0, T0 + 10 * MIN);
    expect(m.jobs).toHaveLength(1);
    const job = m.jobs[0];
    expect(job?.buckets.map((b) => b.startMs)).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => T0 + i * MIN));
    expect(job?.outcome).toBe('failed');
    expect(job?.allocations).toEqual([{ startMs: T0 - 30 * MIN, endMs: T0 + 7 * MIN }]);
    expect(job?.checkpoints).toEqual([T0 + 2 * MIN]);
  });

  it('sums node minutes over windows and scales a window cut by the range', () => {
    // Range 08:03..08:10: 2 of w1's 5 minutes + all of w2.
    const m = mergeUsageRecords([r1, r2], T0 + 3 * MIN, T0 + 10 * MIN);
    expect(m.nodes).toHaveLength(1);
    expect(m.nodes[0]?.presentMinutes).toBeCloseTo(7, 9);
    expect(m.jobs[0]?.buckets.map((b) => b.startMs)).toEqual([3, 4, 5, 6].map((i) => T0 + i * MIN));
  });

  it('does not count overlapping windows twice, and reports records with an empty window', () => {
    const again: WindowUsageRecord = { ...r2, window: { startMs: T0 + 3 * MIN, endMs: T0 + 8 * MIN } };
    const broken: WindowUsageRecord = { ...r1, window: { startMs: T0, endMs: T0 } };
    const m = mergeUsageRecords([r1, again, broken], T0, T0 + 10 * MIN);
    // r1 covers 08:00..08:05; `again` adds only 08:05..08:08 (3 of its 5 minutes).
    expect(m.nodes[0]?.presentMinutes).toBeCloseTo(8, 9);
    expect(m.issues).toHaveLength(1);
    expect(m.issues[0]?.problem).toContain('not after its start');
  });
});
