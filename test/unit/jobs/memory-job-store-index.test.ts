import { describe, expect, it, vi } from 'vitest';
import { InMemoryJobStore } from '../../../lambdas/adapters/memory/job-store';
import { parseSageMakerJobEvent } from '../../../lambdas/contracts/events';
import { jobStateFromEvent } from '../../../lambdas/core/jobs/job-state';
import type { TrainingJobState } from '../../../lambdas/core/model';
import { eventBody } from '../../fixtures/sagemaker/fixtures';

/**
 * recentAndActive's index (adapters/memory/job-store.ts): the same answer as filtering every job,
 * and no full scan when callers alternate between horizons (detection asks now - 6 h, the
 * simulation's observers the window start), which used to scan and clone every job each window.
 */
const base = (() => {
  const parsed = parseSageMakerJobEvent(eventBody('event-completed'));
  if (!parsed.ok) throw new Error(parsed.detail);
  return jobStateFromEvent(parsed.event, { teamTag: 'team', workloadClassTag: 'workload-class' });
})();
const MIN = 60_000;
const T0 = Date.parse('2026-09-07T00:00:00Z');

const job = (i: number, t: number, status: TrainingJobState['status']): TrainingJobState => ({
  ...base,
  jobName: `job-${i}`,
  status,
  lastModifiedTime: t,
});

const reference = (store: InMemoryJobStore, sinceMs: number) =>
  store
    .all()
    .filter((j) => j.status === 'InProgress' || j.status === 'Stopping' || j.lastModifiedTime >= sinceMs);

describe('InMemoryJobStore.recentAndActive', () => {
  it('answers like a full filter for alternating horizons, without scanning every job', async () => {
    const store = new InMemoryJobStore();
    const all = vi.spyOn(store, 'all');
    let i = 0;
    for (let w = 1; w <= 60; w++) {
      const now = T0 + w * 5 * MIN;
      // Each window: two jobs start, one of an earlier window finishes.
      await store.apply(job(i++, now, 'InProgress'));
      await store.apply(job(i++, now, 'InProgress'));
      await store.apply(job(w - 1, now, w % 3 === 0 ? 'Failed' : 'Completed'));
      all.mockClear();
      const detect = await store.recentAndActive(now - 360 * MIN);
      const observer = await store.recentAndActive(now - 5 * MIN);
      expect(all).not.toHaveBeenCalled();
      all.mockRestore();
      expect(detect).toEqual(reference(store, now - 360 * MIN));
      expect(observer).toEqual(reference(store, now - 5 * MIN));
      vi.spyOn(store, 'all');
    }
  });

  it('still answers a query older than every recent one, by a full scan', async () => {
    const store = new InMemoryJobStore();
    await store.apply(job(1, T0, 'Completed'));
    await store.apply(job(2, T0 + 60 * MIN, 'Completed'));
    await store.apply(job(3, T0 + 120 * MIN, 'InProgress'));
    expect((await store.recentAndActive(T0 + 90 * MIN)).map((j) => j.jobName)).toEqual(['job-3']);
    expect((await store.recentAndActive(T0 + 30 * MIN)).map((j) => j.jobName)).toEqual(['job-2', 'job-3']);
    expect((await store.recentAndActive(T0)).map((j) => j.jobName)).toEqual(['job-1', 'job-2', 'job-3']);
  });

  it('forgets finished jobs beyond retainFinishedMs but still answers newest-wins for them', async () => {
    const store = new InMemoryJobStore({ retainFinishedMs: 60 * MIN });
    const keeper = new InMemoryJobStore();
    const events = [
      job(1, T0, 'InProgress'),
      job(1, T0 + 10 * MIN, 'Completed'),
      job(2, T0 + 20 * MIN, 'InProgress'), // still running when it is old: never forgotten
      job(3, T0 + 90 * MIN, 'Failed'), // moves the newest change: job 1 is now 80 min behind
      job(1, T0 + 10 * MIN, 'Completed'), // late duplicate of a forgotten job
      job(1, T0 + 5 * MIN, 'InProgress'), // stale event of a forgotten job
    ];
    const outcomes = [];
    for (const e of events) outcomes.push([await store.apply(e), await keeper.apply(e)]);
    for (const [a, b] of outcomes) expect(a).toBe(b);
    expect(outcomes.map(([a]) => a)).toEqual([
      'applied',
      'applied',
      'applied',
      'applied',
      'duplicate',
      'stale',
    ]);
    expect(store.forgotten).toBe(1);
    expect(await store.get(base.region, 'job-1')).toBeUndefined();
    expect(store.all().map((j) => j.jobName)).toEqual(['job-2', 'job-3']);
    // Horizons inside the retention answer as the store that keeps everything...
    const since = T0 + 40 * MIN;
    expect(await store.recentAndActive(since)).toEqual(await keeper.recentAndActive(since));
    expect(store.incompleteQueries).toBe(0);
    // ...one reaching a forgotten job's time is counted.
    await store.recentAndActive(T0);
    expect(store.incompleteQueries).toBe(1);
    // A newer event brings the job back.
    expect(await store.apply(job(1, T0 + 100 * MIN, 'InProgress'))).toBe('applied');
    expect((await store.get(base.region, 'job-1'))?.status).toBe('InProgress');
  });

  it('hands out stored states a caller cannot change', async () => {
    const store = new InMemoryJobStore();
    await store.apply(job(1, T0, 'InProgress'));
    const [hit] = await store.recentAndActive(T0);
    expect(() => {
      (hit as { status: string }).status = 'Failed';
    }).toThrow(TypeError);
    expect((await store.get(base.region, 'job-1'))?.status).toBe('InProgress');
  });
});
