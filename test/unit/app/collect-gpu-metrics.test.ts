import { describe, expect, it } from 'vitest';
import { RecordingLog, RecordingOpsMetrics } from '../../../lambdas/adapters/memory/observability';
import { InMemoryStateStore } from '../../../lambdas/adapters/memory/state-store';
import { InMemoryTelemetrySink } from '../../../lambdas/adapters/memory/telemetry-sink';
import {
  type CollectGpuMetricsDeps,
  collectGpuMetrics,
  MAX_REJECTION_LOG_LINES,
} from '../../../lambdas/app/collect-gpu-metrics';
import { InventoryCache } from '../../../lambdas/app/inventory-cache';
import type { RuntimeConfig } from '../../../lambdas/contracts/config';
import { WATERMARK_STATE_KEY, type WatermarkState } from '../../../lambdas/core/collection/watermarks';
import type { GpuSample } from '../../../lambdas/core/model';
import type {
  FetchRequest,
  FetchResult,
  ListSeriesRequest,
  MetricSource,
  SeriesData,
  SeriesRef,
  SinkWriteResult,
  StateStore,
  TelemetrySink,
} from '../../../lambdas/core/ports';
import { fixedClock } from '../../../lambdas/core/time';
import {
  DCGM_NAMESPACE,
  dcgmSeries,
  type FleetInput,
  MIN,
  runtimeConfig,
  series,
  T0,
} from '../collection/fixtures';

/** CloudWatch in memory: an inventory, a value per series and minute, and injectable failures. */
class FakeMetricSource implements MetricSource {
  inventory: SeriesRef[] = [];
  value: (s: SeriesRef, t: number) => number | undefined = defaultValue;
  readonly lists: ListSeriesRequest[] = [];
  readonly fetches: FetchRequest[] = [];
  failFetches = 0;
  failRegions = new Set<string>();
  failLists = false;
  onFetch: () => void = () => {};

  async listSeries(req: ListSeriesRequest): Promise<{ series: SeriesRef[]; calls: number }> {
    this.lists.push(req);
    if (this.failLists) throw new Error('ListMetrics is down');
    const found = this.inventory.filter(
      (s) =>
        s.namespace === req.namespace &&
        s.metricName === req.metricName &&
        Object.entries(req.match).every(([k, v]) => s.dimensions[k] === v),
    );
    return { series: found, calls: 1 };
  }

  async fetch(req: FetchRequest): Promise<FetchResult> {
    this.fetches.push(req);
    this.onFetch();
    if (this.failFetches > 0 || this.failRegions.has(req.region)) {
      this.failFetches = Math.max(0, this.failFetches - 1);
      throw Object.assign(new Error('Rate exceeded after 5 attempts'), { name: 'CloudWatchCallError' });
    }
    const data = new Map<string, SeriesData>();
    for (const q of req.queries) {
      const timestamps: number[] = [];
      const values: number[] = [];
      for (let t = req.startMs; t < req.endMs; t += q.periodSeconds * 1_000) {
        const v = this.value(q.series, t);
        if (v === undefined) continue;
        timestamps.push(t);
        values.push(v);
      }
      data.set(q.id, { timestamps, values });
    }
    return {
      data,
      incomplete: [],
      calls: Math.ceil(req.queries.length / 500),
      metricsRequested: req.queries.length,
    };
  }
}

/** Deterministic, valid values: utilisation varies by minute and GPU, power by GPU. */
function defaultValue(s: SeriesRef, t: number): number {
  const gpu = Number(s.dimensions.gpu ?? 0);
  if (s.metricName === 'DCGM_FI_DEV_POWER_USAGE') return 300 + gpu;
  if (s.metricName === 'GPUUtilization') return 640;
  return ((t / MIN) % 90) + gpu;
}

const NODES = ['ip-10-0-1-1', 'ip-10-0-1-2'];
const DCGM_FLEET: FleetInput = {
  cluster: 'train-a',
  profile: 'dcgm-exporter',
  signals: ['gpu_util', 'power'],
};

function harness(fleets: FleetInput[] = [DCGM_FLEET], collection: Partial<RuntimeConfig['collection']> = {}) {
  const clock = fixedClock(T0);
  const state = new InMemoryStateStore();
  const sink = new InMemoryTelemetrySink();
  const source = new FakeMetricSource();
  source.inventory = [
    ...dcgmSeries('DCGM_FI_DEV_GPU_UTIL', NODES),
    ...dcgmSeries('DCGM_FI_DEV_POWER_USAGE', NODES),
  ];
  const inventory = new InventoryCache();
  const config = runtimeConfig(fleets, collection);
  const base = { clock, config, source, sink, state, inventory };
  return {
    ...base,
    async run(overrides: Partial<CollectGpuMetricsDeps> = {}, deadlineMs = clock.now() + 900_000) {
      const log = new RecordingLog();
      const ops = new RecordingOpsMetrics();
      const summary = await collectGpuMetrics({ ...base, log, ops, ...overrides }, { deadlineMs });
      return { summary, log, ops };
    },
    async watermarks(): Promise<WatermarkState | undefined> {
      return (await state.get<WatermarkState>(WATERMARK_STATE_KEY))?.value;
    },
  };
}

const SOURCE_ID = 'us-east-1/train-a/dcgm-exporter';
const END0 = Date.parse('2025-03-10T11:57:00Z'); // floor(T0 − 3 min settle)
const GPUS = NODES.length * 8;

/** Distinct GPU-minutes in the sink, and whether any was offered twice with other values. */
function minutesIn(sink: InMemoryTelemetrySink): number[] {
  return [...new Set([...sink.gpu.values()].map((s) => s.time))].sort((a, b) => a - b);
}

describe('collectGpuMetrics', () => {
  it('first run: collects the cadence window for every GPU and records the watermark', async () => {
    const h = harness();
    const { summary, ops, log } = await h.run();

    expect(h.sink.gpu.size).toBe(GPUS * 5);
    expect(minutesIn(h.sink)).toEqual([0, 1, 2, 3, 4].map((i) => END0 - 5 * MIN + i * MIN));
    const sample = [...h.sink.gpu.values()].find(
      (s) => s.labels.node === 'ip-10-0-1-2' && s.labels.gpu === '3',
    );
    expect(sample?.labels).toEqual({
      cluster: 'train-a',
      region: 'us-east-1',
      instanceType: 'p5.48xlarge',
      node: 'ip-10-0-1-2',
      gpu: '3',
    });
    expect(sample?.values).toEqual({ gpu_util: (((sample?.time ?? 0) / MIN) % 90) + 3, power: 303 });
    expect(await h.watermarks()).toEqual({ sources: { [SOURCE_ID]: END0 } });

    expect(summary.counts).toMatchObject({
      seriesDiscovered: 32,
      seriesUnmapped: 0,
      datapointsCollected: 32 * 5,
      datapointsRejected: 0,
      getMetricDataCalls: 1,
      metricsRequested: 32,
      listMetricsCalls: 2,
      backfilledMinutes: 0,
      samplesWritten: GPUS * 5,
    });
    expect(ops.total('collectorRuns')).toBe(1);
    expect(ops.total('datapointsCollected')).toBe(160);
    expect(ops.total('metricsRequested')).toBe(32);
    expect(ops.total('collectorLagSeconds')).toBe((T0 - END0) / 1_000);
    expect(log.find('error', '')).toEqual([]);
  });

  it('backfills every missed minute after failed runs, writing each GPU-minute once', async () => {
    const h = harness();
    await h.run();
    h.source.failFetches = 2;
    for (let i = 0; i < 2; i++) {
      h.clock.advance(5 * MIN);
      const { summary, log } = await h.run();
      expect(summary.errors).toHaveLength(1);
      expect(summary.sources[0]?.error).toMatch(/GetMetricData failed .* Rate exceeded/);
      expect(log.find('error', 'GPU metric fetch failed')).toHaveLength(1);
      expect(await h.watermarks()).toEqual({ sources: { [SOURCE_ID]: END0 } });
    }
    h.clock.advance(5 * MIN);
    const { summary, ops } = await h.run();

    expect(summary.errors).toEqual([]);
    expect(summary.counts.backfilledMinutes).toBe(10);
    expect(ops.total('backfilledMinutes')).toBe(10);
    expect(h.sink.gpu.size).toBe(GPUS * 20);
    expect(minutesIn(h.sink)).toHaveLength(20);
    expect(await h.watermarks()).toEqual({ sources: { [SOURCE_ID]: END0 + 15 * MIN } });
    expect(ops.total('recordsRejected')).toBe(0);
  });

  it('reports minutes older than the backfill horizon as skipped, once', async () => {
    const h = harness([DCGM_FLEET], { backfillHorizonHours: 1 });
    await h.run();
    h.clock.advance(3 * 60 * MIN);
    const { summary, ops, log } = await h.run();

    expect(summary.counts.minutesBeyondHorizon).toBe(120);
    expect(ops.total('minutesBeyondHorizon')).toBe(120);
    expect(summary.chunks.map((c) => (c.endMs - c.startMs) / MIN)).toEqual([60]);
    expect(log.find('warn', 'older than the backfill horizon')[0]?.attributes).toMatchObject({
      source: SOURCE_ID,
      minutes: 120,
    });
    h.clock.advance(5 * MIN);
    expect((await h.run()).summary.counts.minutesBeyondHorizon).toBe(0);
  });

  it('stops with a warning when another run changed the watermarks (version conflict)', async () => {
    const h = harness();
    await h.run();
    h.clock.advance(3 * 60 * MIN); // three 60-minute chunks to do
    const racing: StateStore = {
      get: (key) => h.state.get(key),
      put: async (key, value, expected) => {
        // Another run commits first, between our read and our first write.
        const current = await h.state.get<WatermarkState>(key);
        await h.state.put(key, { sources: { [SOURCE_ID]: END0 + 60 * MIN } }, current?.version);
        return h.state.put(key, value, expected);
      },
    };
    const { summary, log } = await h.run({ state: racing });

    expect(summary.stoppedBecause).toBe('conflict');
    expect(summary.chunks).toEqual([]);
    expect(h.source.fetches.length).toBe(2); // the first run, and the chunk whose commit lost
    expect(log.find('warn', 'Another collector run changed the watermarks')).toHaveLength(1);
    expect(log.find('error', '')).toEqual([]);
    expect(await h.watermarks()).toEqual({ sources: { [SOURCE_ID]: END0 + 60 * MIN } });
  });

  it('logs sink rejections one by one up to a cap, sums them up, counts all and still commits', async () => {
    const h = harness();
    const rejecting: TelemetrySink = {
      name: 'picky',
      async writeGpuSamples(samples: readonly GpuSample[]): Promise<SinkWriteResult> {
        const rejected = samples.slice(0, 30).map((_, index) => ({
          index,
          reason: 'A record with the same dimensions, time and measure name but a different value exists',
          existingVersion: 1,
        }));
        return { written: samples.length - rejected.length, rejected, calls: 1 };
      },
      writeJobStates: async () => ({ written: 0, rejected: [], calls: 0 }),
    };
    const { summary, ops, log } = await h.run({ sink: rejecting });

    const lines = log.find('warn', 'Telemetry sink rejected a GPU sample');
    expect(lines).toHaveLength(MAX_REJECTION_LOG_LINES);
    expect(lines[0]?.attributes).toMatchObject({
      sink: 'picky',
      category: 'duplicate',
      existingVersion: 1,
      node: 'ip-10-0-1-1',
      gpu: '0',
      time: new Date(END0 - 5 * MIN).toISOString(),
    });
    expect(log.find('warn', 'Telemetry sink rejections (summary)')[0]?.attributes).toMatchObject({
      total: 30,
      byCategory: { duplicate: 30 },
      loggedIndividually: 20,
    });
    // Counting is the sink adapter's job (see timestream-sink.test.ts), so it is not counted twice here.
    expect(ops.total('recordsRejected')).toBe(0);
    expect(summary.counts.samplesRejected).toBe(30);
    expect(await h.watermarks()).toEqual({ sources: { [SOURCE_ID]: END0 } });
  });

  it('does not advance the watermark when the sink write fails', async () => {
    const h = harness();
    const failing: TelemetrySink = {
      name: 'down',
      writeGpuSamples: async () => {
        throw new Error('ServiceUnavailable');
      },
      writeJobStates: async () => ({ written: 0, rejected: [], calls: 0 }),
    };
    const { summary, log } = await h.run({ sink: failing });
    expect(summary.sources[0]?.error).toMatch(/telemetry sink down failed/);
    expect(log.find('error', 'Telemetry sink write failed')).toHaveLength(1);
    expect(await h.watermarks()).toBeUndefined();
  });

  it('stops starting chunks near the deadline and continues on the next run', async () => {
    const h = harness();
    await h.run();
    h.clock.advance(4 * 60 * MIN); // four 60-minute chunks to do
    h.source.onFetch = () => h.clock.advance(30_000);
    const deadline = h.clock.now() + 75_000; // 30 s per chunk: 75, 45 left, then 15 < 20 s reserve
    const first = await h.run({}, deadline);

    expect(first.summary.stoppedBecause).toBe('deadline');
    expect(first.summary.chunks).toHaveLength(2);
    expect(first.log.find('warn', 'Stopping before the Lambda deadline')).toHaveLength(1);
    expect(await h.watermarks()).toEqual({ sources: { [SOURCE_ID]: END0 + 120 * MIN } });

    const second = await h.run();
    expect(second.summary.stoppedBecause).toBeUndefined();
    expect(await h.watermarks()).toEqual({ sources: { [SOURCE_ID]: END0 + 241 * MIN } });
    expect(minutesIn(h.sink)).toHaveLength(5 + 241);
    expect(h.sink.gpu.size).toBe(GPUS * (5 + 241));
  });

  it('shares one GetMetricData fetch between the sources of a region, never across regions', async () => {
    const h = harness([
      DCGM_FLEET,
      { cluster: 'train-b', profile: 'dcgm-exporter', signals: ['gpu_util'], match: { ClusterName: 'b' } },
      { cluster: 'train-c', region: 'us-west-2', profile: 'dcgm-exporter', signals: ['gpu_util'] },
    ]);
    const bNodes = Array.from({ length: 40 }, (_, i) => `b-${i}`);
    h.source.inventory.push(
      ...bNodes.flatMap((n) =>
        Array.from({ length: 8 }, (_, g) =>
          series(DCGM_NAMESPACE, 'DCGM_FI_DEV_GPU_UTIL', { ClusterName: 'b', Hostname: n, gpu: String(g) }),
        ),
      ),
    );
    const { summary } = await h.run();

    const east = h.source.fetches.filter((f) => f.region === 'us-east-1');
    expect(east).toHaveLength(1);
    // train-a lists without a filter, so it also sees train-b's series: the match filter is per fleet.
    expect(east[0]?.queries).toHaveLength(32 + 320 + 320);
    expect(summary.counts.getMetricDataCalls).toBe(2 + 1); // ceil(672 / 500) + the us-west-2 fetch
    expect(h.source.fetches.filter((f) => f.region === 'us-west-2')).toHaveLength(1);
    expect(new Set(east[0]?.queries.map((q) => q.id)).size).toBe(672);
  });

  it('keeps other regions going when one region fails', async () => {
    const h = harness([DCGM_FLEET, { cluster: 'train-c', region: 'us-west-2', profile: 'dcgm-exporter' }]);
    h.source.inventory.push(...dcgmSeries('DCGM_FI_DEV_GPU_UTIL', ['w-1']).map((s) => ({ ...s })));
    h.source.failRegions.add('us-west-2');
    const { summary } = await h.run();
    expect(summary.errors).toHaveLength(1);
    expect(summary.sources.map((s) => [s.id, s.error === undefined])).toEqual([
      [SOURCE_ID, true],
      ['us-west-2/train-c/dcgm-exporter', false],
    ]);
    expect(await h.watermarks()).toEqual({ sources: { [SOURCE_ID]: END0 } });
  });

  it('rejects bad datapoints with a counted reason and a log line, writing the rest', async () => {
    const h = harness();
    h.source.value = (s, t) => {
      if (s.dimensions.gpu === '0' && s.metricName === 'DCGM_FI_DEV_GPU_UTIL')
        return t === END0 - MIN ? Number.NaN : -2;
      return defaultValue(s, t);
    };
    const { summary, ops, log } = await h.run();

    expect(summary.rejectedByReason).toEqual({ nan: 2, negative: 8 }); // 2 nodes: 1 NaN + 4 negative each
    expect(ops.total('datapointsRejected', { Reason: 'nan' })).toBe(2);
    expect(ops.total('datapointsRejected', { Reason: 'negative' })).toBe(8);
    expect(ops.total('datapointsCollected')).toBe(160 - 10);
    const line = log.find('warn', 'GPU datapoints rejected')[0];
    expect(line?.attributes).toMatchObject({ source: SOURCE_ID, total: 10 });
    expect(JSON.stringify(line?.attributes)).toContain('"raw":"NaN"');
    const gpu0 = [...h.sink.gpu.values()].filter((s) => s.labels.gpu === '0');
    expect(gpu0.every((s) => s.values.gpu_util === undefined && s.values.power === 300)).toBe(true);
  });

  it('reports series it cannot place and minutes with no data', async () => {
    const h = harness();
    h.source.inventory.push(series(DCGM_NAMESPACE, 'DCGM_FI_DEV_GPU_UTIL', { Hostname: 'ip-10-0-1-1' }));
    h.source.value = (s, t) => (s.dimensions.Hostname === 'ip-10-0-1-2' ? undefined : defaultValue(s, t));
    const { ops, log } = await h.run();

    expect(ops.total('seriesUnmapped')).toBe(1);
    expect(log.find('warn', 'GPU series not collected')[0]?.attributes).toMatchObject({
      byReason: [expect.objectContaining({ reason: 'no-gpu-dimension', count: 1 })],
    });
    expect(ops.total('datapointsMissing')).toBe(16 * 5);
    expect(log.find('warn', 'no datapoint for some minutes')[0]?.attributes).toMatchObject({ missing: 80 });
  });

  it('reuses the series inventory until its TTL expires', async () => {
    const h = harness([DCGM_FLEET], { inventoryTtlMinutes: 12 });
    await h.run();
    h.clock.advance(5 * MIN);
    const second = await h.run();
    expect(second.summary.counts.listMetricsCalls).toBe(0);
    h.clock.advance(10 * MIN);
    const third = await h.run();
    expect(third.summary.counts.listMetricsCalls).toBe(2);
    expect(h.source.lists).toHaveLength(4);
  });

  it('uses the expired inventory when ListMetrics fails, and says so', async () => {
    const h = harness([DCGM_FLEET], { inventoryTtlMinutes: 1 });
    await h.run();
    h.clock.advance(5 * MIN);
    h.source.failLists = true;
    const { summary, log } = await h.run();
    expect(summary.errors).toEqual([]);
    expect(log.find('warn', 'using the previous (expired) series inventory')).toHaveLength(2);
    expect(h.sink.gpu.size).toBe(GPUS * 10);
  });

  it('fails only the source whose discovery fails without a cached inventory', async () => {
    const h = harness();
    h.source.failLists = true;
    const { summary, log } = await h.run();
    expect(summary.sources[0]?.error).toMatch(/ListMetrics failed: Error: ListMetrics is down/);
    expect(log.find('error', 'GPU series discovery failed')).toHaveLength(1);
    expect(await h.watermarks()).toBeUndefined();
  });

  it('normalises SageMaker GPUUtilization over the fleet GPU count and labels the job', async () => {
    const h = harness([{ cluster: 'sm', profile: 'sagemaker-training', gpusPerNode: 8, team: 'nlp' }]);
    h.source.inventory = [
      series('/aws/sagemaker/TrainingJobs', 'GPUUtilization', { Host: 'bert-ft-7/algo-1' }),
      series('/aws/sagemaker/TrainingJobs', 'GPUUtilization', { Host: 'bert-ft-7/algo-2' }),
    ];
    await h.run();
    const samples = [...h.sink.gpu.values()];
    expect(samples).toHaveLength(10);
    expect(samples[0]).toMatchObject({
      labels: { node: 'bert-ft-7/algo-1', gpu: 'all', job: 'bert-ft-7', team: 'nlp' },
      values: { gpu_util: 80 },
    });
  });

  it('advances an idle fleet (no series) without fetching, so the lag stays honest', async () => {
    const h = harness();
    h.source.inventory = [];
    const { summary, ops } = await h.run();
    expect(h.source.fetches).toHaveLength(0);
    expect(summary.chunks).toHaveLength(1);
    expect(await h.watermarks()).toEqual({ sources: { [SOURCE_ID]: END0 } });
    expect(ops.total('collectorLagSeconds')).toBe(180 + 30);
  });

  it('does nothing when called twice in the same minute', async () => {
    const h = harness();
    await h.run();
    const again = await h.run();
    expect(again.summary.chunks).toEqual([]);
    expect(h.source.fetches).toHaveLength(1);
    expect(again.ops.total('collectorRuns')).toBe(1);
  });

  it('ignores an invalid stored watermark entry with a warning', async () => {
    const h = harness();
    await h.state.put(WATERMARK_STATE_KEY, { sources: { [SOURCE_ID]: 'yesterday' } }, undefined);
    const { log } = await h.run();
    expect(log.find('warn', 'Ignoring an invalid collector watermark')).toHaveLength(1);
    expect(await h.watermarks()).toEqual({ sources: { [SOURCE_ID]: END0 } });
  });
});

describe('collectGpuMetrics: retainSamples (hand-off to detection)', () => {
  it('carries the samples of committed chunks only when asked', async () => {
    const h = harness();
    const log = new RecordingLog();
    const ops = new RecordingOpsMetrics();
    const deps = { ...h, log, ops } as CollectGpuMetricsDeps;
    const without = await collectGpuMetrics(deps, { deadlineMs: h.clock.now() + 900_000 });
    expect(without.committedSamples).toBeUndefined();
    h.clock.advance(5 * MIN);
    const withSamples = await collectGpuMetrics(deps, {
      deadlineMs: h.clock.now() + 900_000,
      retainSamples: true,
    });
    expect(withSamples.committedSamples).toHaveLength(GPUS * 5);
    expect(new Set(withSamples.committedSamples?.map((s) => s.time))).toEqual(
      new Set([0, 1, 2, 3, 4].map((i) => END0 + i * MIN)),
    );
  });

  it('leaves out the samples of a chunk whose sink write failed (not committed)', async () => {
    const h = harness();
    const failing: TelemetrySink = {
      name: 'down',
      writeGpuSamples: async () => {
        throw new Error('ServiceUnavailable');
      },
      writeJobStates: async () => ({ written: 0, rejected: [], calls: 0 }),
    };
    const summary = await collectGpuMetrics(
      { ...h, sink: failing, log: new RecordingLog(), ops: new RecordingOpsMetrics() },
      { deadlineMs: h.clock.now() + 900_000, retainSamples: true },
    );
    expect(summary.chunks).toHaveLength(0);
    expect(summary.committedSamples).toEqual([]);
  });
});
