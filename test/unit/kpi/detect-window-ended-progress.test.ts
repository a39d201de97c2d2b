import { describe, expect, it } from 'vitest';
import { InMemoryCheckpointLister } from '../../../lambdas/adapters/memory/checkpoints';
import { InMemoryFindingsPublisher } from '../../../lambdas/adapters/memory/findings';
import { InMemoryJobQueries } from '../../../lambdas/adapters/memory/job-queries';
import { RecordingLog, RecordingOpsMetrics } from '../../../lambdas/adapters/memory/observability';
import { InMemoryProgressSource } from '../../../lambdas/adapters/memory/progress';
import { InMemoryStateStore } from '../../../lambdas/adapters/memory/state-store';
import { InMemoryUsageRecords } from '../../../lambdas/adapters/memory/usage-source';
import { type DetectWindowDeps, detectWindow } from '../../../lambdas/app/detect-window';
import { fixedClock, HOUR_MS, MINUTE_MS } from '../../../lambdas/core/time';
import { runtimeConfig } from '../collection/fixtures';
import { job, minutes, training } from '../detect/job-fixtures';

/**
 * Issue 6 (S5), fix 3: a job that completes inside a window trained (and progressed) in the
 * window's first minutes; the usage record must see its progress although the detection run,
 * after the end, no longer counts it as training.
 */
const NOW = Date.UTC(2026, 10, 24, 9, 5);
const START = NOW - 5 * MINUTE_MS;
const END_AT = START + 3 * MINUTE_MS;

describe('detectWindow: progress of a job that ended inside the window reaches the usage record', () => {
  it('credits the ended job’s progressing minutes before its end', async () => {
    // One node, 8 GPUs, samples for the three minutes the job still held them.
    const samples = minutes({
      job: 'llm-done',
      nodes: ['ip-10-0-0-7'],
      from: START,
      to: END_AT,
      values: training,
    });
    const done = job({
      jobName: 'llm-done',
      status: 'Completed',
      secondaryStatus: 'Completed',
      trainingStartTime: NOW - 2 * HOUR_MS,
      trainingEndTime: END_AT,
      lastModifiedTime: END_AT,
    });
    const progress = new InMemoryProgressSource().add(
      'us-east-1',
      'llm-done',
      'train:loss',
      Array.from({ length: 10 }, (_, i) => END_AT - (10 - i) * MINUTE_MS),
    );
    const records = new InMemoryUsageRecords();
    const deps: DetectWindowDeps = {
      clock: fixedClock(NOW),
      config: runtimeConfig([{ cluster: 'train-a', profile: 'dcgm-exporter' }]),
      state: new InMemoryStateStore(),
      jobs: InMemoryJobQueries.of([done]),
      progress,
      checkpoints: new InMemoryCheckpointLister(),
      findings: new InMemoryFindingsPublisher(),
      log: new RecordingLog(),
      ops: new RecordingOpsMetrics(),
      usage: records,
    };
    await detectWindow(deps, { samples, windowStartMs: START, windowEndMs: NOW, deadlineMs: NOW + 60_000 });

    const usage = records.all()[0]?.jobs.find((j) => j.jobName === 'llm-done');
    const sum = (k: 'observedGpuMinutes' | 'trainingGpuMinutes' | 'progressingGpuMinutes') =>
      usage?.buckets.reduce((a, b) => a + b[k], 0);
    // 8 GPUs × 3 minutes, all training; before the fix the job's progress was never fetched and
    // progressing read 0.
    expect(sum('observedGpuMinutes')).toBe(24);
    expect(sum('trainingGpuMinutes')).toBe(24);
    expect(sum('progressingGpuMinutes')).toBe(24);
  });
});
