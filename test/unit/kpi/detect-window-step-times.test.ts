import { describe, expect, it } from 'vitest';
import { InMemoryCheckpointLister } from '../../../lambdas/adapters/memory/checkpoints';
import { InMemoryFindingsPublisher } from '../../../lambdas/adapters/memory/findings';
import { InMemoryJobQueries } from '../../../lambdas/adapters/memory/job-queries';
import { RecordingLog, RecordingOpsMetrics } from '../../../lambdas/adapters/memory/observability';
import { InMemoryProgressSource } from '../../../lambdas/adapters/memory/progress';
import { InMemoryStateStore } from '../../../lambdas/adapters/memory/state-store';
import { InMemoryUsageRecords } from '../../../lambdas/adapters/memory/usage-source';
import { type DetectWindowDeps, detectWindow } from '../../../lambdas/app/detect-window';
import type { StepTimeSample } from '../../../lambdas/core/kpi/step-time';
import type { StepTimeQuery } from '../../../lambdas/core/ports';
import { fixedClock, HOUR_MS, MINUTE_MS } from '../../../lambdas/core/time';
import { runtimeConfig } from '../collection/fixtures';
import { job, minutes, training } from '../detect/job-fixtures';

/**
 * Issue 6: a job that publishes a step-time breakdown has its data waits and communication
 * recorded as such in the window's usage (the goodput partition's data-io and network), read
 * through the progress source; its progress query leaves the breakdown names out.
 */
const NOW = Date.UTC(2026, 10, 24, 9, 5);
const START = NOW - 5 * MINUTE_MS;

class StepTimeProgress extends InMemoryProgressSource {
  stepCalls: StepTimeQuery[][] = [];
  stepFails = false;
  constructor(private readonly samples: StepTimeSample[]) {
    super();
  }
  async stepTimes(queries: readonly StepTimeQuery[]): Promise<Map<string, StepTimeSample[]>> {
    this.stepCalls.push([...queries]);
    if (this.stepFails) throw new Error('ThrottlingException');
    return new Map(queries.map((q) => [`${q.region}#${q.jobName}`, this.samples]));
  }
}

async function run(progress: StepTimeProgress) {
  const samples = minutes({ job: 'llm', nodes: ['ip-10-0-0-7'], from: START, to: NOW, values: training });
  const j = job({
    jobName: 'llm',
    trainingStartTime: NOW - 2 * HOUR_MS,
    metricNames: ['train:loss', 'step_time', 'data_time', 'comm_time'],
  });
  progress.add(
    'us-east-1',
    'llm',
    'train:loss',
    Array.from({ length: 10 }, (_, i) => NOW - (10 - i) * MINUTE_MS),
  );
  const records = new InMemoryUsageRecords();
  const ops = new RecordingOpsMetrics();
  const deps: DetectWindowDeps = {
    clock: fixedClock(NOW),
    config: runtimeConfig([{ cluster: 'train-a', profile: 'dcgm-exporter' }]),
    state: new InMemoryStateStore(),
    jobs: InMemoryJobQueries.of([j]),
    progress,
    checkpoints: new InMemoryCheckpointLister(),
    findings: new InMemoryFindingsPublisher(),
    log: new RecordingLog(),
    ops,
    usage: records,
  };
  const summary = await detectWindow(deps, {
    samples,
    windowStartMs: START,
    windowEndMs: NOW,
    deadlineMs: NOW + 60_000,
  });
  const usage = records.all()[0]?.jobs.find((x) => x.jobName === 'llm');
  const sum = (k: 'progressingGpuMinutes' | 'dataWaitGpuMinutes' | 'commGpuMinutes') =>
    usage?.buckets.reduce((a, b) => a + (b[k] ?? 0), 0) ?? 0;
  return { summary, sum };
}

describe('detectWindow: step-time breakdown into the usage record', () => {
  it('progressing GPU-minutes × the job’s data and comm shares; breakdown names not read as progress', async () => {
    // Step 2 s: data 0.5 s (25 %), comm 0.2 s (10 %).
    const progress = new StepTimeProgress([
      { time: START + MINUTE_MS, stepSeconds: 2, dataWaitSeconds: 0.5, commSeconds: 0.2 },
    ]);
    const { sum } = await run(progress);
    const p = sum('progressingGpuMinutes');
    expect(p).toBe(40); // 8 GPUs × 5 minutes
    expect(sum('dataWaitGpuMinutes')).toBeCloseTo(0.25 * p, 9);
    expect(sum('commGpuMinutes')).toBeCloseTo(0.1 * p, 9);
    expect(progress.stepCalls[0]).toEqual([
      {
        region: 'us-east-1',
        jobName: 'llm',
        step: 'step_time',
        dataWait: 'data_time',
        communication: 'comm_time',
      },
    ]);
    expect(progress.calls[0]?.queries[0]?.metricNames).toEqual(['train:loss']);
  });

  it('an unreadable breakdown is an input failure; the record is still written without it', async () => {
    const progress = new StepTimeProgress([]);
    progress.stepFails = true;
    const { summary, sum } = await run(progress);
    expect(summary.inputsFailed).toContain('step-times');
    expect(sum('progressingGpuMinutes')).toBe(40);
    expect(sum('dataWaitGpuMinutes')).toBe(0);
  });
});
