import { beforeEach, describe, expect, it } from 'vitest';
import { InMemoryJobStore } from '../../../lambdas/adapters/memory/job-store';
import { RecordingLog, RecordingOpsMetrics } from '../../../lambdas/adapters/memory/observability';
import { InMemoryStateStore } from '../../../lambdas/adapters/memory/state-store';
import { InMemoryTelemetrySink } from '../../../lambdas/adapters/memory/telemetry-sink';
import {
  type ReconcileJobsDeps,
  type ReconcileWatermark,
  reconcileJobs,
  watermarkKey,
} from '../../../lambdas/app/reconcile-jobs';
import { TrainingJobNotFoundError } from '../../../lambdas/core/jobs/errors';
import type { TrainingJobState } from '../../../lambdas/core/model';
import type { TrainingJobApi, TrainingJobSummary } from '../../../lambdas/core/ports';
import { fixedClock, HOUR_MS, MINUTE_MS } from '../../../lambdas/core/time';

const NOW = Date.UTC(2024, 4, 14, 12, 0, 0);

function job(
  jobName: string,
  lastModifiedTime: number,
  over: Partial<TrainingJobState> = {},
): TrainingJobState {
  return {
    region: 'us-east-1',
    jobName,
    arn: `arn:aws:sagemaker:us-east-1:123456789012:training-job/${jobName}`,
    status: 'Completed',
    lastModifiedTime,
    creationTime: lastModifiedTime - HOUR_MS,
    tags: {},
    transitions: [],
    ...over,
  };
}

/** SageMaker as the sweep sees it: ListTrainingJobs filtered by LastModifiedTime, DescribeTrainingJob. */
class FakeSageMaker implements TrainingJobApi {
  readonly jobs = new Map<string, TrainingJobState>();
  readonly listCalls: { region: string; afterMs: number; beforeMs: number | undefined }[] = [];
  readonly described: string[] = [];
  onDescribe: (region: string, jobName: string) => void = () => {};

  add(...states: TrainingJobState[]): this {
    for (const s of states) this.jobs.set(`${s.region}#${s.jobName}`, s);
    return this;
  }

  async *listModifiedSince(
    region: string,
    afterMs: number,
    beforeMs?: number,
  ): AsyncIterable<TrainingJobSummary> {
    this.listCalls.push({ region, afterMs, beforeMs });
    for (const s of this.jobs.values()) {
      if (s.region !== region || s.lastModifiedTime <= afterMs) continue;
      if (beforeMs !== undefined && s.lastModifiedTime >= beforeMs) continue;
      yield { jobName: s.jobName, status: s.status, lastModifiedTime: s.lastModifiedTime };
    }
  }

  async describe(region: string, jobName: string): Promise<TrainingJobState> {
    this.described.push(`${region}/${jobName}`);
    this.onDescribe(region, jobName);
    const s = this.jobs.get(`${region}#${jobName}`);
    if (s === undefined) throw new TrainingJobNotFoundError(region, jobName);
    return structuredClone(s);
  }
}

describe('reconcileJobs', () => {
  let api: FakeSageMaker;
  let store: InMemoryJobStore;
  let sink: InMemoryTelemetrySink;
  let state: InMemoryStateStore;
  let clock: ReturnType<typeof fixedClock>;
  let log: RecordingLog;
  let ops: RecordingOpsMetrics;
  let deps: ReconcileJobsDeps;
  const farDeadline = { deadline: NOW + HOUR_MS };

  beforeEach(() => {
    api = new FakeSageMaker();
    store = new InMemoryJobStore();
    sink = new InMemoryTelemetrySink();
    state = new InMemoryStateStore();
    clock = fixedClock(NOW);
    log = new RecordingLog();
    ops = new RecordingOpsMetrics();
    deps = {
      api,
      jobStore: store,
      sink,
      state,
      clock,
      log,
      ops,
      regions: ['us-east-1'],
      jobs: { reconcileOverlapMinutes: 10, initialLookbackHours: 24 },
    };
  });

  it('first sweep: repairs what the store lacks or has older, skips what it has, and saves the watermark', async () => {
    const missing = job('missed-entirely', NOW - 20 * HOUR_MS);
    const behind = job('missed-completion', NOW - 2 * HOUR_MS);
    const current = job('up-to-date', NOW - HOUR_MS);
    api.add(missing, behind, current, job('too-old', NOW - 30 * HOUR_MS));
    await store.apply({ ...behind, status: 'InProgress', lastModifiedTime: NOW - 3 * HOUR_MS });
    await store.apply(current);

    const summary = await reconcileJobs(deps, farDeadline);

    expect(summary.complete).toBe(true);
    expect(summary.jobsReconciled).toBe(2);
    expect(summary.regions[0]).toMatchObject({
      listed: 3,
      upToDate: 1,
      described: 2,
      reconciled: 2,
      watermark: NOW,
    });
    expect(api.described.sort()).toEqual(['us-east-1/missed-completion', 'us-east-1/missed-entirely']);
    expect((await store.get('us-east-1', 'missed-completion'))?.status).toBe('Completed');
    expect(sink.jobs.size).toBe(2);
    expect(ops.total('jobsReconciled')).toBe(2);
    // The first sweep looks back jobs.initialLookbackHours, window by window.
    expect(api.listCalls[0]?.afterMs).toBe(NOW - 24 * HOUR_MS);
    expect(api.listCalls.at(-1)?.beforeMs).toBe(NOW);
    expect((await state.get<ReconcileWatermark>(watermarkKey('us-east-1')))?.value).toEqual({
      watermark: NOW,
    });
  });

  it('later sweeps re-read only the overlap since the watermark, and describe nothing already current', async () => {
    api.add(job('a', NOW - 5 * MINUTE_MS));
    await reconcileJobs(deps, farDeadline);
    api.listCalls.length = 0;
    api.described.length = 0;

    clock.advance(15 * MINUTE_MS);
    api.add(job('b', NOW + 14 * MINUTE_MS));
    const summary = await reconcileJobs(deps, { deadline: clock.now() + HOUR_MS });

    expect(api.listCalls).toEqual([
      { region: 'us-east-1', afterMs: NOW - 10 * MINUTE_MS, beforeMs: NOW + 15 * MINUTE_MS },
    ]);
    expect(api.described).toEqual(['us-east-1/b']);
    expect(summary.regions[0]).toMatchObject({ listed: 2, upToDate: 1, reconciled: 1 });
  });

  it('stops at the deadline, keeps the watermark at the last finished window, and resumes there', async () => {
    // First sweep: 24 h in 6-hour windows. Each describe takes 10 minutes of clock.
    api.add(
      job('w1', NOW - 23 * HOUR_MS),
      job('w2a', NOW - 17 * HOUR_MS),
      job('w2b', NOW - 17 * HOUR_MS + 1),
      job('w2c', NOW - 17 * HOUR_MS + 2),
      job('w4', NOW - 5 * HOUR_MS),
    );
    api.onDescribe = () => clock.advance(10 * MINUTE_MS);

    const first = await reconcileJobs(deps, { deadline: NOW + 25 * MINUTE_MS });

    const windowEnd = NOW - 18 * HOUR_MS;
    expect(first.complete).toBe(false);
    expect(first.regions[0]).toMatchObject({
      stoppedBy: 'deadline',
      windowsCompleted: 1,
      watermark: windowEnd,
    });
    // w2a and w2b were described before the deadline struck: they are stored, not lost.
    expect(
      store
        .all()
        .map((s) => s.jobName)
        .sort(),
    ).toEqual(['w1', 'w2a', 'w2b']);
    expect(ops.total('reconcileIncomplete', { Reason: 'deadline' })).toBe(1);
    expect((await state.get<ReconcileWatermark>(watermarkKey('us-east-1')))?.value.watermark).toBe(windowEnd);

    api.listCalls.length = 0;
    api.described.length = 0;
    const second = await reconcileJobs(deps, { deadline: clock.now() + 2 * HOUR_MS });
    expect(second.complete).toBe(true);
    expect(api.listCalls[0]?.afterMs).toBe(windowEnd - 10 * MINUTE_MS);
    // Already-repaired jobs are listed again but not described again.
    expect(api.described).toEqual(['us-east-1/w2c', 'us-east-1/w4']);
    expect(second.regions[0]).toMatchObject({ upToDate: 2, reconciled: 2 });
    expect(store.all()).toHaveLength(5);
  });

  it('skips a job deleted between the listing and the describe', async () => {
    api.add(job('gone', NOW - HOUR_MS), job('here', NOW - HOUR_MS));
    api.onDescribe = (_r, name) => {
      if (name === 'gone') api.jobs.delete('us-east-1#gone');
    };
    const summary = await reconcileJobs(deps, farDeadline);
    expect(summary.complete).toBe(true);
    expect(summary.regions[0]).toMatchObject({ notFound: 1, reconciled: 1 });
    expect(log.find('warn', 'no longer exists')).toHaveLength(1);
  });

  it('stops a region on an error without moving its watermark, and still sweeps the other regions', async () => {
    deps = { ...deps, regions: ['us-east-1', 'us-west-2', 'us-east-1'] };
    const watermark = NOW - 2 * HOUR_MS;
    await state.put(watermarkKey('us-east-1'), { watermark }, undefined);
    await state.put(watermarkKey('us-west-2'), { watermark }, undefined);
    api.add(job('east', NOW - HOUR_MS), job('west', NOW - HOUR_MS, { region: 'us-west-2' }));
    api.onDescribe = (region) => {
      if (region === 'us-east-1')
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    };

    const summary = await reconcileJobs(deps, farDeadline);

    expect(summary.regions.map((r) => r.region)).toEqual(['us-east-1', 'us-west-2']);
    expect(summary.regions[0]).toMatchObject({
      stoppedBy: 'error',
      error: 'ThrottlingException: Rate exceeded',
    });
    expect(summary.regions[0]?.watermark).toBe(watermark);
    expect(summary.regions[1]).toMatchObject({ complete: true, reconciled: 1, watermark: NOW });
    expect((await state.get<ReconcileWatermark>(watermarkKey('us-east-1')))?.value.watermark).toBe(watermark);
    expect(await store.get('us-east-1', 'east')).toBeUndefined();
    expect(ops.total('reconcileIncomplete', { Reason: 'error' })).toBe(1);
    expect(log.find('error', 'stopped on an error')[0]?.attributes).toMatchObject({ region: 'us-east-1' });
  });

  it('yields to a concurrent sweep that moved the watermark first', async () => {
    await state.put(watermarkKey('us-east-1'), { watermark: NOW - 2 * HOUR_MS }, undefined);
    api.add(job('a', NOW - HOUR_MS));
    // Another sweep writes the watermark between this sweep's read and its write.
    api.onDescribe = () => {
      void state.put(watermarkKey('us-east-1'), { watermark: NOW - MINUTE_MS }, 1);
    };
    const summary = await reconcileJobs(deps, farDeadline);
    expect(summary.regions[0]).toMatchObject({ stoppedBy: 'conflict', complete: false });
    expect((await state.get<ReconcileWatermark>(watermarkKey('us-east-1')))?.value.watermark).toBe(
      NOW - MINUTE_MS,
    );
    expect(ops.total('reconcileIncomplete', { Reason: 'conflict' })).toBe(1);
  });

  it('writes repaired states to the sink in batches', async () => {
    for (let i = 0; i < 5; i++) api.add(job(`j${i}`, NOW - HOUR_MS + i));
    await reconcileJobs({ ...deps, sinkBatchSize: 2 }, farDeadline);
    expect(sink.jobWriteCalls).toBe(3);
    expect(sink.jobs.size).toBe(5);
  });
});
