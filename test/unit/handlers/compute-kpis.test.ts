import { describe, expect, it } from 'vitest';
import { InMemoryFindingsPublisher } from '../../../lambdas/adapters/memory/findings';
import { InMemoryJobQueries } from '../../../lambdas/adapters/memory/job-queries';
import { InMemoryKpiSink } from '../../../lambdas/adapters/memory/kpi-sink';
import { RecordingLog } from '../../../lambdas/adapters/memory/observability';
import { InMemoryStateStore } from '../../../lambdas/adapters/memory/state-store';
import { InMemoryUsageRecords } from '../../../lambdas/adapters/memory/usage-source';
import { makeObservability } from '../../../lambdas/adapters/powertools/observability';
import { KPI_STATE_KEY } from '../../../lambdas/app/compute-kpis';
import { windowUsage } from '../../../lambdas/core/kpi/window-usage';
import type { GpuSample, TrainingJobState } from '../../../lambdas/core/model';
import type { KpiSink } from '../../../lambdas/core/ports';
import { fixedClock, MINUTE_MS } from '../../../lambdas/core/time';
import { makeHandler } from '../../../lambdas/handlers/compute-kpis';
import type { KpisRuntime } from '../../../lambdas/wiring/kpis';

/**
 * compute-kpis with memory adapters: usage recorded the way the detection run records it, read
 * back through the same object (UsageSource + NodeInventory), KPIs emitted to the sink.
 */
const START = Date.UTC(2026, 10, 24, 8);
const END = START + 5 * MINUTE_MS;

const job: TrainingJobState = {
  region: 'us-east-1',
  jobName: 'llm-1',
  arn: 'arn:aws:sagemaker:us-east-1:123456789012:training-job/llm-1',
  status: 'InProgress',
  secondaryStatus: 'Training',
  lastModifiedTime: START,
  creationTime: START - MINUTE_MS,
  trainingStartTime: START,
  instanceType: 'p5.48xlarge',
  instanceCount: 1,
  tags: {},
  team: 'llm',
  transitions: [],
};

async function runtime(sink: KpiSink = new InMemoryKpiSink()) {
  // One p5 node (8 GPUs), all held by llm-1 for the 5 minutes, sm_active 0.5, progressing every minute.
  const samples: GpuSample[] = [];
  for (let t = START; t < END; t += MINUTE_MS)
    for (let g = 0; g < 8; g++)
      samples.push({
        time: t,
        labels: {
          cluster: 'train-a',
          region: 'us-east-1',
          instanceType: 'p5.48xlarge',
          node: 'node-a',
          gpu: String(g),
          job: 'llm-1',
          team: 'llm',
        },
        values: { sm_active: 0.5 },
      });
  const usage = new InMemoryUsageRecords();
  await usage.record(
    windowUsage({
      window: { startMs: START, endMs: END },
      samples,
      jobs: [job],
      progress: new Map([['us-east-1#llm-1', [START, START + 2 * MINUTE_MS, START + 4 * MINUTE_MS]]]),
      checkpoints: new Map(),
      maintenance: [],
    }),
  );
  const state = new InMemoryStateStore();
  const findings = new InMemoryFindingsPublisher();
  const log = new RecordingLog();
  const rt: KpisRuntime = {
    observability: makeObservability('compute-kpis'),
    deps: {
      jobs: InMemoryJobQueries.of([job]),
      usage,
      inventory: usage,
      sink,
      findings,
      state,
      clock: fixedClock(END + 30_000),
      log,
    },
  };
  return { rt, state, findings, log };
}

describe('compute-kpis handler', () => {
  it('computes goodput from the recorded usage and saves the KPI state', async () => {
    const sink = new InMemoryKpiSink();
    const { rt, state } = await runtime(sink);
    const result = await makeHandler(() => rt)({});
    // available 8 GPUs × 5 min = 40 GPU-min; useful 40 progressing GPU-min × sm 0.5 = 20 → 0.5.
    expect(sink.latest('goodput')).toBeCloseTo(0.5, 9);
    expect(sink.latest('goodput', { Region: 'us-east-1', Cluster: 'train-a' })).toBeCloseTo(0.5, 9);
    expect(sink.latest('allocationRate')).toBeCloseTo(1, 9);
    expect(result.state).toBe('saved');
    expect(result.valuesEmitted).toBe(sink.values.length);
    expect(result.window.endMs).toBe(END);
    expect(result.findingKinds).toEqual([]);
    expect(await state.get(KPI_STATE_KEY)).toBeDefined();
  });

  it('fails the invocation when the KPIs cannot be emitted (Lambda Errors and the retry see it)', async () => {
    const broken: KpiSink = {
      emit: async () => {
        throw new Error('stdout closed');
      },
    };
    const { rt, state } = await runtime(broken);
    await expect(makeHandler(() => rt)({})).rejects.toThrow('stdout closed');
    expect(await state.get(KPI_STATE_KEY)).toBeUndefined();
  });
});
