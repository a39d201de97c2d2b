import { describe, expect, it, vi } from 'vitest';
import { RecordingLog, RecordingOpsMetrics } from '../../../lambdas/adapters/memory/observability';
import { InMemoryStateStore } from '../../../lambdas/adapters/memory/state-store';
import { InMemoryTelemetrySink } from '../../../lambdas/adapters/memory/telemetry-sink';
import { makeObservability } from '../../../lambdas/adapters/powertools/observability';
import { InventoryCache } from '../../../lambdas/app/inventory-cache';
import type { MetricSource } from '../../../lambdas/core/ports';
import { fixedClock } from '../../../lambdas/core/time';
import { CollectionFailedError, makeHandler } from '../../../lambdas/handlers/collect-gpu-metrics';
import type { CollectorRuntime } from '../../../lambdas/wiring/collector';
import { runtimeConfig, T0 } from '../collection/fixtures';

function runtime(source: MetricSource): CollectorRuntime & { published: () => number } {
  const observability = makeObservability('collect-gpu-metrics-test');
  const publish = vi
    .spyOn(observability.metrics, 'publishStoredMetrics')
    .mockImplementation(() => observability.metrics);
  return {
    observability,
    published: () => publish.mock.calls.length,
    deps: {
      clock: fixedClock(T0),
      config: runtimeConfig([{ cluster: 'a', profile: 'dcgm-exporter', signals: ['gpu_util'] }]),
      source,
      sink: new InMemoryTelemetrySink(),
      state: new InMemoryStateStore(),
      inventory: new InventoryCache(),
      log: new RecordingLog(),
      ops: new RecordingOpsMetrics(),
    },
  };
}

const empty: MetricSource = {
  listSeries: async () => ({ series: [], calls: 1 }),
  fetch: async () => ({ data: new Map(), incomplete: [], calls: 0, metricsRequested: 0 }),
};

describe('collect-gpu-metrics handler', () => {
  it('ignores the scheduler payload, runs the use case and publishes the metrics', async () => {
    const rt = runtime(empty);
    const summary = await makeHandler(() => rt)(
      { anything: true },
      { getRemainingTimeInMillis: () => 60_000 },
    );
    expect(summary.chunks).toHaveLength(1);
    expect(summary.errors).toEqual([]);
    expect(rt.published()).toBe(1);
  });

  it('takes the deadline from the Lambda context', async () => {
    const rt = runtime(empty);
    // 10 s left is under the 20 s reserve: no chunk may start.
    const summary = await makeHandler(() => rt)({}, { getRemainingTimeInMillis: () => 10_000 });
    expect(summary.stoppedBecause).toBe('deadline');
    expect(summary.chunks).toEqual([]);
  });

  it('fails the invocation when every source failed, after publishing the metrics', async () => {
    const rt = runtime({
      ...empty,
      listSeries: async () => {
        throw new Error('AccessDenied: not authorized to perform cloudwatch:ListMetrics');
      },
    });
    const invocation = makeHandler(() => rt)({}, { getRemainingTimeInMillis: () => 60_000 });
    await expect(invocation).rejects.toThrowError(CollectionFailedError);
    await expect(invocation).rejects.toThrowError(/No GPU metrics were collected: .*AccessDenied/);
    expect(rt.published()).toBe(1);
  });
});
