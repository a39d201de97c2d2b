import { describe, expect, it } from 'vitest';
import { jobGoodput } from '../../../lambdas/core/kpi/goodput';
import { cohortOf, failureCauseOf, jobUsageOf, outcomeOf } from '../../../lambdas/core/kpi/job-usage';
import { bucket, HOUR_WINDOW, MIN, state, T0 } from './fixtures';

describe('failureCauseOf', () => {
  it.each([
    ['AlgorithmError: CUDA error: uncorrectable ECC error encountered', 'hardware'],
    ['AlgorithmError: Xid 79 reported, GPU has fallen off the bus', 'hardware'],
    ['AlgorithmError: Watchdog caught collective operation timeout: WorkNCCL(SeqNum=88)', 'network'],
    ['ClientError: Data download failed: Failed to download data. NoSuchKey', 'data-io'],
    ['CapacityError: Unable to provision requested ML compute capacity', 'scheduling'],
    ['Training job interrupted: Spot capacity reclaimed', 'scheduling'],
    ['AlgorithmError: torch.OutOfMemoryError: CUDA out of memory', 'software'],
    ['AlgorithmError: ExecuteUserScriptError: Traceback (most recent call last)', 'software'],
    ['InternalServerError: We encountered an internal error. Please try again.', undefined],
    ['', undefined],
  ])('%s → %s', (reason, cause) => {
    expect(failureCauseOf(reason)).toBe(cause);
  });
});

describe('jobUsageOf', () => {
  it('maps status, GPUs, allocation, cause, cohort and checkpoint', () => {
    const job = state({
      jobName: 'j',
      status: 'Failed',
      instanceCount: 2,
      trainingStartTime: T0 + 10 * MIN,
      trainingEndTime: T0 + 50 * MIN,
      failureReason: 'AlgorithmError: NCCL error: unhandled system error',
      tags: { driver_version: '550.54', framework: 'pytorch-2.5' },
      transitions: [
        { status: 'Starting', startTime: T0 - 10 * MIN },
        { status: 'Downloading', startTime: T0 },
        { status: 'Training', startTime: T0 + 10 * MIN },
      ],
    });
    const u = jobUsageOf(job, {
      cluster: 'train-a',
      buckets: [],
      newestCheckpointMs: T0 + 30 * MIN,
      nowMs: T0 + 60 * MIN,
    });
    expect(u).toMatchObject({
      gpus: 16, // 2 × p5.48xlarge
      allocations: [{ startMs: T0, endMs: T0 + 50 * MIN }], // billed from Downloading
      outcome: 'failed',
      failureCause: 'network',
      checkpoints: [T0 + 30 * MIN],
      cohort: { driver_version: '550.54', framework: 'pytorch-2.5', instance_type: 'p5.48xlarge' },
    });
  });

  it('running jobs hold their GPUs until now; unknown instance types are reported', () => {
    const issues: { subject: string; problem: string }[] = [];
    const u = jobUsageOf(
      state({ jobName: 'r', instanceType: 'x9.huge', trainingStartTime: T0 }),
      { cluster: 'c', buckets: [bucket(T0, T0 + 60 * MIN, 1)], nowMs: T0 + 60 * MIN },
      issues,
    );
    expect(u.outcome).toBe('running');
    expect(u.gpus).toBe(1);
    expect(u.allocations).toEqual([{ startMs: T0, endMs: T0 + 60 * MIN }]);
    expect(issues[0]?.problem).toMatch(/x9.huge is not in the GPU catalogue/);
    expect(jobGoodput(u, HOUR_WINDOW).usefulGpuHours).toBeCloseTo(1);
  });

  it('maps every status to an outcome', () => {
    expect(
      (['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped', 'Deleting'] as const).map((status) =>
        outcomeOf(state({ jobName: 'x', status })),
      ),
    ).toEqual(['running', 'completed', 'failed', 'stopped', 'stopped', 'running']);
    expect(cohortOf(state({ jobName: 'y', tags: { image: 'img:1' } }))).toEqual({
      image: 'img:1',
      instance_type: 'p5.48xlarge',
    });
  });
});

describe('jobUsageOf: queued jobs hold no GPU (issue 6)', () => {
  it('gives a job still Starting (no Downloading, no training start) no allocation', () => {
    // Before: the allocation fell back to the creation time, so a queue of waiting jobs counted as
    // allocated capacity and the allocation rate went above 1 during a load surge.
    const queued = state({ jobName: 'q', secondaryStatus: 'Starting', creationTime: T0 - 30 * MIN });
    const u = jobUsageOf(queued, { cluster: 'train-a', buckets: [], nowMs: T0 });
    expect(u.allocations).toEqual([]);
    const training = state({ jobName: 't', trainingStartTime: T0 - 20 * MIN, creationTime: T0 - 30 * MIN });
    expect(jobUsageOf(training, { cluster: 'train-a', buckets: [], nowMs: T0 }).allocations).toEqual([
      { startMs: T0 - 20 * MIN, endMs: T0 },
    ]);
  });
});
