import { describe, expect, it } from 'vitest';
import { InMemoryCheckpointLister } from '../../../lambdas/adapters/memory/checkpoints';
import { InMemoryFindingsPublisher } from '../../../lambdas/adapters/memory/findings';
import { InMemoryJobQueries } from '../../../lambdas/adapters/memory/job-queries';
import { RecordingLog, RecordingOpsMetrics } from '../../../lambdas/adapters/memory/observability';
import { InMemoryProgressSource } from '../../../lambdas/adapters/memory/progress';
import { deepFreeze, InMemoryStateStore } from '../../../lambdas/adapters/memory/state-store';
import { DETECTION_STATE_KEY, detectWindow } from '../../../lambdas/app/detect-window';
import { fixedClock, HOUR_MS, MINUTE_MS } from '../../../lambdas/core/time';
import { runtimeConfig } from '../collection/fixtures';
import { job, minutes, training } from '../detect/job-fixtures';

const NOW = Date.UTC(2026, 10, 24, 9, 5);

describe('InMemoryStateStore values', () => {
  it("'clone' (default) isolates both ways: mutating what was put or got changes nothing stored", async () => {
    const store = new InMemoryStateStore();
    const value = { a: { list: [1, 2] } };
    expect(await store.put('k', value, undefined)).toBe(1);
    value.a.list.push(3);
    const got = await store.get<typeof value>('k');
    expect(got?.value).toEqual({ a: { list: [1, 2] } });
    got?.value.a.list.push(4);
    expect((await store.get<typeof value>('k'))?.value).toEqual({ a: { list: [1, 2] } });
  });

  it("'frozen' hands back the very value put, deep-frozen, so a mutation throws instead of corrupting it", async () => {
    const store = new InMemoryStateStore({ values: 'frozen' });
    const value = { a: { list: [1, { b: 2 }] }, n: 1 };
    expect(await store.put('k', value, undefined)).toBe(1);
    const got = await store.get<typeof value>('k');
    expect(got).toEqual({ value, version: 1 });
    expect(got?.value).toBe(value);
    expect(() => {
      value.n = 2;
    }).toThrow(TypeError);
    expect(() => value.a.list.push(3)).toThrow(TypeError);
    expect(() => {
      (value.a.list[1] as { b: number }).b = 3;
    }).toThrow(TypeError);
    expect(got?.value).toEqual({ a: { list: [1, { b: 2 }] }, n: 1 });
  });

  it("'frozen' keeps the optimistic-version contract", async () => {
    const store = new InMemoryStateStore({ values: 'frozen' });
    expect(await store.put('k', { v: 1 }, undefined)).toBe(1);
    expect(await store.put('k', { v: 2 }, undefined)).toBe('conflict');
    expect(await store.put('k', { v: 2 }, 1)).toBe(2);
    expect(await store.put('k', { v: 3 }, 1)).toBe('conflict');
    expect((await store.get<{ v: number }>('k'))?.value).toEqual({ v: 2 });
    expect(await store.get('missing')).toBeUndefined();
  });

  it('deepFreeze freezes every level, and does not walk again what is frozen already', () => {
    const inner = { x: [1, { y: 2 }] };
    const value = { a: inner, b: [inner] };
    expect(deepFreeze(value)).toBe(value);
    expect(Object.isFrozen(value.b)).toBe(true);
    expect(Object.isFrozen(inner.x)).toBe(true);
    expect(Object.isFrozen(inner.x[1])).toBe(true);
    // A frozen object counts as frozen all the way down (what deepFreeze and the state parse make).
    const shallow = Object.freeze({ child: { z: 1 } });
    deepFreeze({ shallow });
    expect(Object.isFrozen(shallow.child)).toBe(false);
    expect(deepFreeze(5)).toBe(5);
    expect(deepFreeze(null)).toBeNull();
  });

  it('detectWindow over a frozen store finds and remembers exactly what it does over a cloning one', async () => {
    const run = async (store: InMemoryStateStore) => {
      const findings = new InMemoryFindingsPublisher();
      const clock = fixedClock(NOW);
      const jobs = [
        job({ jobName: 'llm-1', trainingStartTime: NOW - 2 * HOUR_MS, checkpointS3Uri: 's3://ckpt/llm-1/' }),
      ];
      const d = {
        clock,
        config: runtimeConfig([{ cluster: 'train-a', profile: 'dcgm-exporter' as const }]),
        state: store,
        jobs: InMemoryJobQueries.of(jobs),
        progress: new InMemoryProgressSource(),
        checkpoints: new InMemoryCheckpointLister().set('s3://ckpt/llm-1/', NOW - 20 * MINUTE_MS),
        findings,
        log: new RecordingLog(),
        ops: new RecordingOpsMetrics(),
      };
      const summaries = [];
      // Three windows: the second and third read the state the previous one wrote.
      for (let i = 0; i < 3; i++) {
        const end = NOW + i * 5 * MINUTE_MS;
        const samples = minutes({
          job: 'llm-1',
          nodes: ['ip-10-0-0-7'],
          from: end - 5 * MINUTE_MS,
          to: end,
          values: (t, g, r) => ({ ...training(t, g, r), xid: g === 3 && i === 1 ? 79 : 0 }),
        });
        const s = await detectWindow(d, {
          samples,
          windowStartMs: end - 5 * MINUTE_MS,
          windowEndMs: end,
          deadlineMs: end + 60_000,
        });
        summaries.push({ ...s, durationMs: 0 });
        clock.advance(5 * MINUTE_MS);
      }
      return {
        summaries,
        findings: findings.published,
        state: JSON.parse(JSON.stringify((await store.get(DETECTION_STATE_KEY))?.value)),
      };
    };
    const cloning = await run(new InMemoryStateStore());
    const frozen = await run(new InMemoryStateStore({ values: 'frozen' }));
    expect(frozen.summaries.every((s) => s.stateWritten && s.inputsFailed.length === 0)).toBe(true);
    expect(cloning.findings.map((f) => f.kind)).toContain('gpu.xid.fatal');
    expect(frozen).toEqual(cloning);
  });
});
