import { describe, expect, it, vi } from 'vitest';
import { RecordingLog, RecordingOpsMetrics } from '../../../lambdas/adapters/memory/observability';
import { InMemoryStateStore } from '../../../lambdas/adapters/memory/state-store';
import { InMemoryTelemetrySink } from '../../../lambdas/adapters/memory/telemetry-sink';
import { makeObservability } from '../../../lambdas/adapters/powertools/observability';
import type { DetectSummary, DetectWindowInput } from '../../../lambdas/app/detect-window';
import { InventoryCache } from '../../../lambdas/app/inventory-cache';
import type { MetricSource, SeriesData } from '../../../lambdas/core/ports';
import { fixedClock } from '../../../lambdas/core/time';
import {
  CollectionFailedError,
  DETECTION_BUDGET_MS,
  DETECTION_RESERVE_MS,
  makeHandler,
} from '../../../lambdas/handlers/collect-gpu-metrics';
import type { CollectorRuntime } from '../../../lambdas/wiring/collector';
import { dcgmSeries, runtimeConfig, T0 } from '../collection/fixtures';

function runtime(
  source: MetricSource,
  detect?: CollectorRuntime['detect'],
): CollectorRuntime & { published: () => number; log: RecordingLog; ops: RecordingOpsMetrics } {
  const observability = makeObservability('collect-gpu-metrics-test');
  const publish = vi
    .spyOn(observability.metrics, 'publishStoredMetrics')
    .mockImplementation(() => observability.metrics);
  const log = new RecordingLog();
  const ops = new RecordingOpsMetrics();
  return {
    observability,
    ...(detect !== undefined ? { detect } : {}),
    published: () => publish.mock.calls.length,
    log,
    ops,
    deps: {
      clock: fixedClock(T0),
      config: runtimeConfig([{ cluster: 'a', profile: 'dcgm-exporter', signals: ['gpu_util'] }]),
      source,
      sink: new InMemoryTelemetrySink(),
      state: new InMemoryStateStore(),
      inventory: new InventoryCache(),
      log,
      ops,
    },
  };
}

const empty: MetricSource = {
  listSeries: async () => ({ series: [], calls: 1 }),
  fetch: async () => ({ data: new Map(), incomplete: [], calls: 0, metricsRequested: 0 }),
};

/** One node, two GPUs, gpu_util 50 every minute. */
const busy: MetricSource = {
  listSeries: async (req) => ({
    series: dcgmSeries(req.metricName, ['node-1'], 2).filter((s) => s.namespace === req.namespace),
    calls: 1,
  }),
  fetch: async (req) => {
    const data = new Map<string, SeriesData>();
    for (const q of req.queries) {
      const timestamps: number[] = [];
      for (let t = req.startMs; t < req.endMs; t += q.periodSeconds * 1000) timestamps.push(t);
      data.set(q.id, { timestamps, values: timestamps.map(() => 50) });
    }
    return { data, incomplete: [], calls: 1, metricsRequested: req.queries.length };
  },
};

function detectSummary(findings: number): DetectSummary {
  return {
    startedAtMs: T0,
    durationMs: 1,
    findings,
    published: findings,
    publishFailed: 0,
    bySeverity: {},
    stateWritten: true,
    stateConflict: false,
    stateBytes: 10,
    checkpointListings: 0,
    checkpointListingsFailed: 0,
    inputsFailed: [],
    report: {} as DetectSummary['report'],
  };
}

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

  describe('detection after collection', () => {
    it('runs detection over exactly the committed samples and window, within the deadline', async () => {
      const calls: DetectWindowInput[] = [];
      const rt = runtime(busy, async (input) => {
        calls.push(input);
        return detectSummary(2);
      });
      const result = await makeHandler(() => rt)({}, { getRemainingTimeInMillis: () => 240_000 });
      expect(result.detection).toEqual({ status: 'ran', summary: detectSummary(2) });
      expect(calls).toHaveLength(1);
      const input = calls[0] as DetectWindowInput;
      expect(input.samples.length).toBeGreaterThan(0);
      expect(input.samples.every((s) => s.labels.node === 'node-1')).toBe(true);
      expect(input.samples).toHaveLength(result.counts.samplesWritten);
      expect(input.windowStartMs).toBe(Math.min(...result.chunks.map((c) => c.startMs)));
      expect(input.windowEndMs).toBe(Math.max(...result.chunks.map((c) => c.endMs)));
      expect(input.deadlineMs).toBe(T0 + 240_000 - DETECTION_RESERVE_MS);
      // The samples are handed to detection, not returned in the invocation result.
      expect('committedSamples' in result).toBe(false);
    });

    it('keeps the collection when detection throws: logged, counted, not rethrown', async () => {
      const rt = runtime(busy, async () => {
        throw new TypeError('cannot read baselines of undefined');
      });
      const result = await makeHandler(() => rt)({}, { getRemainingTimeInMillis: () => 240_000 });
      expect(result.chunks.length).toBeGreaterThan(0);
      expect(result.counts.samplesWritten).toBeGreaterThan(0);
      expect(result.detection).toEqual({
        status: 'failed',
        error: 'TypeError: cannot read baselines of undefined',
      });
      expect(rt.ops.total('detectionRunsFailed', { Reason: 'TypeError' })).toBe(1);
      expect(rt.log.find('error', 'Detection failed after a successful collection')).toHaveLength(1);
      expect(rt.published()).toBe(1);
    });

    it('keeps time for detection: the collection deadline is DETECTION_BUDGET_MS earlier', async () => {
      let detected = false;
      const rt = runtime(busy, async () => {
        detected = true;
        return detectSummary(0);
      });
      // 70 s left: 10 s for collection is under the collector's own 20 s reserve, so no chunk.
      const result = await makeHandler(() => rt)(
        {},
        { getRemainingTimeInMillis: () => DETECTION_BUDGET_MS + 10_000 },
      );
      expect(result.chunks).toEqual([]);
      expect(result.stoppedBecause).toBe('deadline');
      expect(detected).toBe(false);
      expect(result.detection).toEqual({ status: 'skipped', reason: 'nothing-collected' });
      expect(rt.ops.total('detectionSkipped', { Reason: 'nothing-collected' })).toBe(1);
    });

    it('skips detection when too little time is left after the collection', async () => {
      const clock = fixedClock(T0);
      const slow: MetricSource = {
        ...busy,
        fetch: async (req) => {
          clock.advance(230_000);
          return busy.fetch(req);
        },
      };
      const rt = runtime(slow, async () => detectSummary(0));
      const rtWithClock = { ...rt, deps: { ...rt.deps, clock } };
      const result = await makeHandler(() => rtWithClock)({}, { getRemainingTimeInMillis: () => 240_000 });
      expect(result.chunks.length).toBeGreaterThan(0);
      expect(result.detection).toEqual({ status: 'skipped', reason: 'no-time-left' });
      expect(rt.ops.total('detectionSkipped', { Reason: 'no-time-left' })).toBe(1);
    });

    it('counts detection as not configured when the runtime has none', async () => {
      const rt = runtime(empty);
      const result = await makeHandler(() => rt)({}, { getRemainingTimeInMillis: () => 60_000 });
      expect(result.detection).toEqual({ status: 'skipped', reason: 'not-configured' });
      expect(rt.ops.total('detectionSkipped', { Reason: 'not-configured' })).toBe(1);
    });
  });
});
