import { describe, expect, it } from 'vitest';
import { InMemoryCheckpointLister } from '../../../lambdas/adapters/memory/checkpoints';
import { InMemoryFindingsPublisher } from '../../../lambdas/adapters/memory/findings';
import { InMemoryJobQueries } from '../../../lambdas/adapters/memory/job-queries';
import { RecordingLog, RecordingOpsMetrics } from '../../../lambdas/adapters/memory/observability';
import { InMemoryProgressSource } from '../../../lambdas/adapters/memory/progress';
import { InMemoryStateStore } from '../../../lambdas/adapters/memory/state-store';
import {
  CHECKPOINT_CONCURRENCY,
  DETECTION_STATE_KEY,
  type DetectWindowDeps,
  detectWindow,
} from '../../../lambdas/app/detect-window';
import { defaultDetectionConfig as defaultDetection } from '../../../lambdas/contracts/detection-config';
import { findingSchema } from '../../../lambdas/contracts/finding';
import {
  type DetectionState,
  detectionStateSchema,
  jobStateKey,
} from '../../../lambdas/core/detect/detection-state';
import type { StateStore, Versioned } from '../../../lambdas/core/ports';
import { fixedClock, HOUR_MS, MINUTE_MS } from '../../../lambdas/core/time';
import { runtimeConfig } from '../collection/fixtures';
import { job, minutes, training } from '../detect/job-fixtures';

/** Tuesday 2026-11-24 09:05 UTC: the run right after the 09:00-09:05 window. */
const NOW = Date.UTC(2026, 10, 24, 9, 5);
const WINDOW = { windowStartMs: NOW - 5 * MINUTE_MS, windowEndMs: NOW, deadlineMs: NOW + 60_000 };

/** Counts reads and writes of the wrapped store (the state must be read once and written once). */
class CountingStore implements StateStore {
  gets = 0;
  puts = 0;
  constructor(readonly inner: StateStore = new InMemoryStateStore()) {}
  async get<T>(key: string): Promise<Versioned<T> | undefined> {
    this.gets++;
    return this.inner.get<T>(key);
  }
  async put<T>(key: string, value: T, expectedVersion: number | undefined): Promise<number | 'conflict'> {
    this.puts++;
    return this.inner.put(key, value, expectedVersion);
  }
}

/** A node whose GPU 3 reports Xid 79 (one page) and a running job on it. */
function scenario() {
  const samples = minutes({
    job: 'llm-1',
    nodes: ['ip-10-0-0-7'],
    from: WINDOW.windowStartMs,
    to: WINDOW.windowEndMs,
    values: (t, g, r) => ({ ...training(t, g, r), xid: g === 3 ? 79 : 0 }),
  });
  const jobs = [
    job({ jobName: 'llm-1', trainingStartTime: NOW - 2 * HOUR_MS, checkpointS3Uri: 's3://ckpt/llm-1/' }),
  ];
  return { samples, jobs };
}

function deps(overrides: Partial<DetectWindowDeps> = {}) {
  const { jobs } = scenario();
  const state = new CountingStore();
  const findings = new InMemoryFindingsPublisher();
  const checkpoints = new InMemoryCheckpointLister().set('s3://ckpt/llm-1/', NOW - 20 * MINUTE_MS);
  const progress = new InMemoryProgressSource();
  const log = new RecordingLog();
  const ops = new RecordingOpsMetrics();
  const d: DetectWindowDeps = {
    clock: fixedClock(NOW),
    config: runtimeConfig([{ cluster: 'train-a', profile: 'dcgm-exporter' }]),
    state,
    jobs: InMemoryJobQueries.of(jobs),
    progress,
    checkpoints,
    findings,
    log,
    ops,
    ...overrides,
  };
  return { d, state, findings, checkpoints, progress, log, ops };
}

describe('detectWindow', () => {
  it('reads the state once, publishes valid findings, writes the state once and counts', async () => {
    const { d, state, findings, ops } = deps();
    const summary = await detectWindow(d, { samples: scenario().samples, ...WINDOW });
    expect(state.gets).toBe(1);
    expect(state.puts).toBe(1);
    expect(summary.stateWritten).toBe(true);
    expect(findings.published.map((f) => f.kind)).toContain('gpu.xid.fatal');
    for (const f of findings.published) expect(findingSchema.parse(f)).toEqual(f);
    expect(ops.total('findingsEmitted', { Severity: 'page', Kind: 'gpu.xid.fatal' })).toBe(1);
    expect(ops.total('detectRuns')).toBe(1);
    const stored = await state.inner.get<DetectionState>(DETECTION_STATE_KEY);
    expect(detectionStateSchema.parse(stored?.value)).toEqual(stored?.value);
    expect(ops.total('detectStateBytes')).toBe(Buffer.byteLength(JSON.stringify(stored?.value)));
    expect(summary.stateBytes).toBeGreaterThan(0);
    // The checkpoint was listed and remembered.
    expect(stored?.value.checkpoints[jobStateKey('us-east-1', 'llm-1')]).toMatchObject({
      newestMs: NOW - 20 * MINUTE_MS,
    });
  });

  it('a second run does not page the same Xid again and does not re-list a fresh checkpoint', async () => {
    const { d, findings, checkpoints } = deps();
    await detectWindow(d, { samples: scenario().samples, ...WINDOW });
    (d.clock as ReturnType<typeof fixedClock>).advance(5 * MINUTE_MS);
    const later = scenario().samples.map((s) => ({ ...s, time: s.time + 5 * MINUTE_MS }));
    await detectWindow(d, {
      samples: later,
      windowStartMs: WINDOW.windowEndMs,
      windowEndMs: WINDOW.windowEndMs + 5 * MINUTE_MS,
      deadlineMs: WINDOW.deadlineMs + 5 * MINUTE_MS,
    });
    expect(findings.published.filter((f) => f.kind === 'gpu.xid.fatal')).toHaveLength(1);
    expect(checkpoints.calls).toEqual(['s3://ckpt/llm-1/']);
  });

  it('counts and logs failed publishes by kind, and does not throw', async () => {
    const { d, findings, ops, log } = deps();
    findings.failIf = (f) => f.kind === 'gpu.xid.fatal';
    const summary = await detectWindow(d, { samples: scenario().samples, ...WINDOW });
    expect(summary.publishFailed).toBe(1);
    expect(ops.total('findingsPublishFailed', { Kind: 'gpu.xid.fatal' })).toBe(1);
    expect(log.find('error', 'could not be published')[0]?.attributes.kind).toBe('gpu.xid.fatal');
    expect(summary.stateWritten).toBe(true);
  });

  it('survives a publisher that throws', async () => {
    const { d, findings, ops } = deps();
    findings.throwWith = new Error('SQS unavailable');
    const summary = await detectWindow(d, { samples: scenario().samples, ...WINDOW });
    expect(summary.publishFailed).toBe(summary.findings);
    expect(ops.total('findingsPublishFailed')).toBe(summary.findings);
  });

  it('on a state conflict keeps the other writer’s state (no overwrite) and counts it', async () => {
    const { d, state, ops, log } = deps();
    const racing = new InMemoryStateStore();
    const store: StateStore = {
      get: async <T>(key: string) => {
        const v = await racing.get<T>(key);
        await racing.put(DETECTION_STATE_KEY, { written: 'by another run' }, undefined); // sneaks in
        return v;
      },
      put: (key, value, version) => racing.put(key, value, version),
    };
    const summary = await detectWindow({ ...d, state: store }, { samples: scenario().samples, ...WINDOW });
    expect(summary.stateConflict).toBe(true);
    expect(summary.stateWritten).toBe(false);
    expect((await racing.get(DETECTION_STATE_KEY))?.value).toEqual({ written: 'by another run' });
    expect(ops.total('detectStateConflicts')).toBe(1);
    expect(log.find('warn', 'Another detection run')).toHaveLength(1);
    expect(state.puts).toBe(0);
  });

  it.each([
    ['corrupt', { version: 1, hardware: 'oops' }, 'invalid'],
    ['from an older version', { version: 0 }, 'old-version'],
  ])('resets a %s state with a counted reason and replaces it', async (_name, stored, reason) => {
    const { d, state, ops, log } = deps();
    await state.inner.put(DETECTION_STATE_KEY, stored, undefined);
    const summary = await detectWindow(d, { samples: scenario().samples, ...WINDOW });
    expect(summary.stateReset).toBe(reason);
    expect(ops.total('detectStateReset', { Reason: reason })).toBe(1);
    expect(log.find('warn', 'Discarded the stored detection state')).toHaveLength(1);
    expect(summary.stateWritten).toBe(true);
    const after = await state.inner.get(DETECTION_STATE_KEY);
    expect(after?.version).toBe(2);
    expect(detectionStateSchema.safeParse(after?.value).success).toBe(true);
  });

  it('with an unreadable job store still runs hardware detection, and says so', async () => {
    const jobs = InMemoryJobQueries.of([]);
    jobs.failWith = new Error('DynamoDB throttled');
    const { d, findings, ops } = deps({ jobs });
    const summary = await detectWindow(d, { samples: scenario().samples, ...WINDOW });
    expect(summary.inputsFailed).toEqual(['jobs']);
    expect(ops.total('detectInputsFailed', { Input: 'jobs' })).toBe(1);
    expect(findings.published.map((f) => f.kind)).toContain('gpu.xid.fatal');
    expect(summary.report.jobsUnavailable).toBe(true);
  });

  it('with unreadable state runs but does not write', async () => {
    const failing: StateStore = {
      get: async () => {
        throw new Error('S3 500');
      },
      put: async () => {
        throw new Error('must not be called');
      },
    };
    const { d, ops } = deps({ state: failing });
    const summary = await detectWindow(d, { samples: scenario().samples, ...WINDOW });
    expect(summary.stateWritten).toBe(false);
    expect(ops.total('detectInputsFailed', { Input: 'state' })).toBe(1);
  });

  it('queries jobs for the 6 h window and progress with the job’s metric names or the configured ones', async () => {
    const jobs = InMemoryJobQueries.of([
      job({ jobName: 'declared', metricNames: ['val:acc'] }),
      job({ jobName: 'undeclared', metricNames: [] }),
    ]);
    const { d, progress } = deps({ jobs });
    progress.add('us-east-1', 'declared', 'val:acc', [NOW - 10 * MINUTE_MS]);
    await detectWindow(d, { samples: [], ...WINDOW });
    expect(jobs.calls).toEqual([NOW - 6 * HOUR_MS]);
    const call = progress.calls[0];
    expect(call?.startMs).toBe(NOW - 3 * HOUR_MS);
    expect(call?.queries.map((q) => [q.jobName, q.metricNames])).toEqual([
      ['declared', ['val:acc']],
      ['undeclared', ['train:loss', 'train_loss', 'loss', 'epoch']],
    ]);
  });

  it('lists due checkpoints with bounded concurrency, within the per-run budget, and survives failures', async () => {
    const many = Array.from({ length: 30 }, (_, i) =>
      job({ jobName: `j${i}`, trainingStartTime: NOW - HOUR_MS, checkpointS3Uri: `s3://ckpt/j${i}/` }),
    );
    const checkpoints = new InMemoryCheckpointLister();
    for (let i = 0; i < 30; i++) checkpoints.set(`s3://ckpt/j${i}/`, NOW - 5 * MINUTE_MS);
    checkpoints.failing.add('s3://ckpt/j1/'); // among the first 20 (by name: j0, j1, j10...)
    const config = runtimeConfig([{ cluster: 'train-a', profile: 'dcgm-exporter' }]);
    const { d, ops } = deps({
      jobs: InMemoryJobQueries.of(many),
      checkpoints,
      config: { ...config, detection: { ...defaultDetection(), maxCheckpointChecksPerRun: 20 } },
    });
    const summary = await detectWindow(d, { samples: [], ...WINDOW });
    expect(checkpoints.calls).toHaveLength(20);
    expect(checkpoints.maxInFlight).toBeLessThanOrEqual(CHECKPOINT_CONCURRENCY);
    expect(checkpoints.maxInFlight).toBeGreaterThan(1);
    expect(summary.checkpointListingsFailed).toBe(1);
    expect(ops.total('checkpointListingsFailed')).toBe(1);
  });

  it('starts no checkpoint listing when the deadline is too close', async () => {
    const { d, checkpoints } = deps();
    await detectWindow(d, { samples: [], ...WINDOW, deadlineMs: NOW + 5_000 });
    expect(checkpoints.calls).toEqual([]);
  });
});
