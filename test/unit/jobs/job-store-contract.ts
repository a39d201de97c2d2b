import { describe, expect, it } from 'vitest';
import { parseSageMakerJobEvent } from '../../../lambdas/contracts/events';
import { jobStateFromEvent } from '../../../lambdas/core/jobs/job-state';
import type { TrainingJobState } from '../../../lambdas/core/model';
import type { JobStore } from '../../../lambdas/core/ports';
import { type EventFixture, eventBody } from '../../fixtures/sagemaker/fixtures';

/**
 * The JobStore contract, run against the in-memory store (unit) and the DynamoDB store (moto).
 * Job names get a per-test suffix so one table serves every case.
 */
export function jobStoreContract(name: string, makeStore: () => JobStore | Promise<JobStore>): void {
  let n = 0;
  const fixtureState = (fixture: EventFixture, suffix: string): TrainingJobState => {
    const parsed = parseSageMakerJobEvent(eventBody(fixture));
    if (!parsed.ok) throw new Error(parsed.detail);
    const s = jobStateFromEvent(parsed.event, { teamTag: 'team', workloadClassTag: 'workload-class' });
    return { ...s, jobName: `${s.jobName}-${suffix}` };
  };
  const fresh = () => `t${Date.now().toString(36)}${n++}`;

  describe(`${name} honours the JobStore contract`, () => {
    it('stores a new job and reads it back unchanged', async () => {
      const store = await makeStore();
      const state = fixtureState('event-completed', fresh());
      expect(await store.apply(state)).toBe('applied');
      expect(await store.get(state.region, state.jobName)).toEqual(state);
    });

    it('answers undefined for a job it has never seen', async () => {
      const store = await makeStore();
      expect(await store.get('us-east-1', `never-${fresh()}`)).toBeUndefined();
    });

    it('treats the same event delivered twice as a duplicate', async () => {
      const store = await makeStore();
      const state = fixtureState('event-in-progress-training', fresh());
      expect(await store.apply(state)).toBe('applied');
      expect(await store.apply(state)).toBe('duplicate');
      expect(await store.get(state.region, state.jobName)).toEqual(state);
    });

    it('ignores an older event arriving after a newer one (newest LastModifiedTime wins)', async () => {
      const store = await makeStore();
      const suffix = fresh();
      const completed = fixtureState('event-completed', suffix);
      expect(await store.apply(completed)).toBe('applied');
      expect(await store.apply(fixtureState('event-in-progress-training', suffix))).toBe('stale');
      expect(await store.apply(fixtureState('event-in-progress-starting', suffix))).toBe('stale');
      const stored = await store.get(completed.region, completed.jobName);
      expect(stored?.status).toBe('Completed');
      expect(stored?.transitions.map((t) => t.status)).toEqual([
        'Starting',
        'Downloading',
        'Training',
        'Uploading',
        'Completed',
      ]);
    });

    it('moves forward through the job lifecycle, keeping the growing transition history', async () => {
      const store = await makeStore();
      const suffix = fresh();
      const steps: EventFixture[] = [
        'event-in-progress-starting',
        'event-in-progress-training',
        'event-completed',
      ];
      const seen: number[] = [];
      for (const step of steps) {
        const state = fixtureState(step, suffix);
        expect(await store.apply(state)).toBe('applied');
        seen.push((await store.get(state.region, state.jobName))?.transitions.length ?? -1);
      }
      expect(seen).toEqual([1, 3, 5]);
    });

    it('keeps jobs with the same name in different regions apart', async () => {
      const store = await makeStore();
      const east = fixtureState('event-completed', fresh());
      const west: TrainingJobState = { ...east, region: 'us-west-2', status: 'Failed', lastModifiedTime: 1 };
      expect(await store.apply(east)).toBe('applied');
      expect(await store.apply(west)).toBe('applied');
      expect((await store.get('us-east-1', east.jobName))?.status).toBe('Completed');
      expect((await store.get('us-west-2', east.jobName))?.status).toBe('Failed');
    });
  });
}
