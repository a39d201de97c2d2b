import { describe, expect, it, vi } from 'vitest';
import { RecordingLog, RecordingOpsMetrics } from '../../../lambdas/adapters/memory/observability';
import { InMemoryStateStore } from '../../../lambdas/adapters/memory/state-store';
import { makeObservability } from '../../../lambdas/adapters/powertools/observability';
import { driftSchema, resolveDriftConfig } from '../../../lambdas/contracts/drift-config';
import type { ModelMonitorApi, ObjectReader } from '../../../lambdas/core/ports';
import { fixedClock } from '../../../lambdas/core/time';
import { CheckDriftFailedError, makeHandler } from '../../../lambdas/handlers/check-drift';
import type { DriftRuntime } from '../../../lambdas/wiring/drift';

const NOW = Date.UTC(2026, 10, 24, 12);

function runtime(monitor: ModelMonitorApi, endpoints: unknown[]): DriftRuntime & { published: () => number } {
  const observability = makeObservability('check-drift-test');
  const publish = vi
    .spyOn(observability.metrics, 'publishStoredMetrics')
    .mockImplementation(() => observability.metrics);
  const objects: ObjectReader = {
    readText: async () => ({ status: 'missing' }),
    listObjects: async () => ({ objects: [], truncated: false }),
    listChildPrefixes: async () => [],
  };
  return {
    observability,
    published: () => publish.mock.calls.length,
    deps: {
      monitor,
      objects,
      publisher: { publish: async (f) => ({ published: f.length, failed: [] }) },
      state: new InMemoryStateStore(),
      clock: fixedClock(NOW),
      log: new RecordingLog(),
      ops: new RecordingOpsMetrics(),
      drift: resolveDriftConfig(driftSchema.parse({ endpoints }), 'us-east-1'),
    },
  };
}

const denied: ModelMonitorApi = {
  schedulesOf: async () => {
    throw Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
  },
  executionsSince: async () => [],
  reportLocationOf: async () => undefined,
};
const mm = (name: string) => ({ name, modelMonitor: true, modelMonitorReportsS3Uri: 's3://reports/x' });

describe('check-drift handler', () => {
  it('runs the use case with a deadline from the context and publishes the metrics', async () => {
    const rt = runtime({ ...denied, schedulesOf: async () => [] }, [mm('churn')]);
    const summary = await makeHandler(() => rt)(
      { ignored: true },
      { getRemainingTimeInMillis: () => 60_000 },
    );
    expect(summary.endpoints.map((e) => e.modelMonitor)).toEqual(['ok']);
    expect(summary.published).toBe(1); // no schedule on churn: one stale finding
    expect(rt.published()).toBe(1);
  });

  it('fails the invocation only when every endpoint check failed, after publishing the metrics', async () => {
    const rt = runtime(denied, [mm('a'), mm('b')]);
    const run = makeHandler(() => rt)({}, { getRemainingTimeInMillis: () => 60_000 });
    await expect(run).rejects.toBeInstanceOf(CheckDriftFailedError);
    await expect(run).rejects.toThrow('us-east-1/a: AccessDeniedException: not authorized');
    expect(rt.published()).toBe(1);
  });

  it('succeeds when one endpoint of two failed', async () => {
    const monitor: ModelMonitorApi = {
      ...denied,
      schedulesOf: async (_r, endpoint) =>
        endpoint === 'ok' ? [] : denied.schedulesOf('us-east-1', endpoint),
    };
    const summary = await makeHandler(() => runtime(monitor, [mm('bad'), mm('ok')]))(
      {},
      { getRemainingTimeInMillis: () => 60_000 },
    );
    expect(summary.endpoints.map((e) => e.modelMonitor)).toEqual(['error', 'ok']);
  });
});
