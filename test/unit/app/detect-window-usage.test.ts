import { describe, expect, it } from 'vitest';
import { InMemoryCheckpointLister } from '../../../lambdas/adapters/memory/checkpoints';
import { InMemoryFindingsPublisher } from '../../../lambdas/adapters/memory/findings';
import { InMemoryJobQueries } from '../../../lambdas/adapters/memory/job-queries';
import { RecordingLog, RecordingOpsMetrics } from '../../../lambdas/adapters/memory/observability';
import { InMemoryProgressSource } from '../../../lambdas/adapters/memory/progress';
import { InMemoryStateStore } from '../../../lambdas/adapters/memory/state-store';
import { InMemoryUsageRecords } from '../../../lambdas/adapters/memory/usage-source';
import { type DetectWindowDeps, detectWindow } from '../../../lambdas/app/detect-window';
import { classifyXid } from '../../../lambdas/contracts/xid';
import type { UsageRecorder } from '../../../lambdas/core/ports';
import { fixedClock, HOUR_MS, MINUTE_MS } from '../../../lambdas/core/time';
import { runtimeConfig } from '../collection/fixtures';
import { job, minutes, training } from '../detect/job-fixtures';

/** The run right after the 09:00-09:05 window; one p5 node running llm-1, GPU 3 reporting Xid 79. */
const NOW = Date.UTC(2026, 10, 24, 9, 5);
const WINDOW = { windowStartMs: NOW - 5 * MINUTE_MS, windowEndMs: NOW, deadlineMs: NOW + 60_000 };

function setup(usage?: UsageRecorder) {
  const samples = minutes({
    job: 'llm-1',
    nodes: ['ip-10-0-0-7'],
    from: WINDOW.windowStartMs,
    to: WINDOW.windowEndMs,
    values: (t, g, r) => ({ ...training(t, g, r), xid: g === 3 ? 79 : 0 }),
  });
  const jobs = [
    job({
      jobName: 'llm-1',
      trainingStartTime: NOW - 2 * HOUR_MS,
      checkpointS3Uri: 's3://ckpt/llm-1/',
      metricNames: ['train:loss'],
    }),
  ];
  const progress = new InMemoryProgressSource().add(
    'us-east-1',
    'llm-1',
    'train:loss',
    Array.from({ length: 10 }, (_, i) => NOW - (10 - i) * MINUTE_MS),
  );
  const log = new RecordingLog();
  const ops = new RecordingOpsMetrics();
  const deps: DetectWindowDeps = {
    clock: fixedClock(NOW),
    config: runtimeConfig([{ cluster: 'train-a', profile: 'dcgm-exporter' }]),
    state: new InMemoryStateStore(),
    jobs: InMemoryJobQueries.of(jobs),
    progress,
    checkpoints: new InMemoryCheckpointLister().set('s3://ckpt/llm-1/', NOW - 20 * MINUTE_MS),
    findings: new InMemoryFindingsPublisher(),
    log,
    ops,
    ...(usage ? { usage } : {}),
  };
  return { deps, samples, log, ops };
}

describe('detectWindow records the window usage for the KPIs', () => {
  it('records one window: the job’s buckets, its checkpoint, and the node with its faults', async () => {
    const records = new InMemoryUsageRecords();
    const { deps, samples, ops } = setup(records);
    await detectWindow(deps, { samples, ...WINDOW });

    const [rec, ...rest] = records.all();
    expect(rest).toEqual([]);
    expect(rec?.window).toEqual({ startMs: WINDOW.windowStartMs, endMs: WINDOW.windowEndMs });
    const llm = rec?.jobs.find((j) => j.jobName === 'llm-1');
    // 8 GPUs × 5 minutes, all training and progressing (a train:loss datapoint every minute).
    expect(llm?.buckets.reduce((a, b) => a + b.observedGpuMinutes, 0)).toBe(40);
    expect(llm?.buckets.reduce((a, b) => a + b.progressingGpuMinutes, 0)).toBe(40);
    const sm = samples.reduce((a, s) => a + (s.values.sm_active ?? 0), 0);
    expect(llm?.buckets.reduce((a, b) => a + b.progressingSmGpuMinutes, 0)).toBeCloseTo(sm, 9);
    // The checkpoint listed in this run reaches the record.
    expect(llm?.checkpoints).toEqual([NOW - 20 * MINUTE_MS]);
    const faultsPerMinute = classifyXid(79).fatal ? 1 : 0;
    expect(rec?.nodes).toEqual([
      expect.objectContaining({
        node: 'ip-10-0-0-7',
        gpus: 8,
        presentMinutes: 5,
        hardwareFaults: 5 * faultsPerMinute,
      }),
    ]);
    expect(ops.total('usageRecordsWritten')).toBe(1);
    expect(ops.total('usageRecordsFailed')).toBe(0);

    // The same object serves the KPI side.
    const usage = await records.usage(WINDOW.windowStartMs, WINDOW.windowEndMs);
    expect(usage.map((u) => u.jobName)).toEqual(['llm-1']);
    expect(await records.nodes(WINDOW.windowStartMs, WINDOW.windowEndMs)).toHaveLength(1);
  });

  it('counts and logs a failed recording and still finishes the run', async () => {
    const failing: UsageRecorder = {
      record: async () => {
        throw new Error('AccessDenied: kpi/usage/');
      },
    };
    const { deps, samples, ops, log } = setup(failing);
    const summary = await detectWindow(deps, { samples, ...WINDOW });
    expect(summary.stateWritten).toBe(true);
    expect(summary.findings).toBeGreaterThan(0);
    expect(ops.total('usageRecordsFailed')).toBe(1);
    expect(ops.total('usageRecordsWritten')).toBe(0);
    const line = log.lines.find((l) => l.level === 'error' && l.message.includes('window usage'));
    expect(line?.attributes.error).toContain('AccessDenied');
  });

  it('records nothing and counts nothing without a recorder', async () => {
    const { deps, samples, ops } = setup();
    await detectWindow(deps, { samples, ...WINDOW });
    expect(ops.entries.filter((e) => e.metric.startsWith('usageRecords'))).toEqual([]);
  });
});
