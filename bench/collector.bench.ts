/**
 * Collector benchmark: one collect-gpu-metrics run for 12,000 GPUs (1,500 nodes of 8) through the
 * real use case and the real CloudWatch and Timestream adapters, with the SDK clients answered in
 * process by fake clients that keep no call history (aws-sdk-client-mock's stubs keep every call's
 * arguments, which would dominate the memory figure), so the figures measure FleetWatch's own
 * work: API calls against the minimum, wall time and peak memory.
 *
 *   npm run bench:collector  (or: npx tsx bench/collector.bench.ts [--nodes 1500] [--json out.json])
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  ListMetricsCommand,
  type ListMetricsCommandInput,
} from '@aws-sdk/client-cloudwatch';
import {
  type TimestreamWriteClient,
  WriteRecordsCommand,
  type WriteRecordsCommandInput,
} from '@aws-sdk/client-timestream-write';
import { CloudWatchMetricSource } from '../lambdas/adapters/cloudwatch/metric-source';
import { RecordingLog, RecordingOpsMetrics } from '../lambdas/adapters/memory/observability';
import { InMemoryStateStore } from '../lambdas/adapters/memory/state-store';
import { TimestreamTelemetrySink } from '../lambdas/adapters/timestream/telemetry-sink';
import { collectGpuMetrics } from '../lambdas/app/collect-gpu-metrics';
import { InventoryCache } from '../lambdas/app/inventory-cache';
import { parseRuntimeConfig, type RuntimeConfig } from '../lambdas/contracts/config';
import { builtinProfiles } from '../lambdas/contracts/profiles';
import { fixedClock, MINUTE_MS } from '../lambdas/core/time';

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1500' },
    backfill: { type: 'string', default: '60' },
    json: { type: 'string' },
  },
});
const NODES = Number(args.nodes);
const GPUS = 8;
const dcgm = (() => {
  const p = builtinProfiles().find((x) => x.name === 'dcgm-exporter');
  if (p === undefined) throw new Error('dcgm-exporter profile missing');
  return p;
})();

/** Plausible values per DCGM field so every datapoint passes validation. */
const VALUE: Record<string, number> = {
  DCGM_FI_DEV_GPU_UTIL: 87,
  DCGM_FI_PROF_SM_ACTIVE: 0.71,
  DCGM_FI_PROF_PIPE_TENSOR_ACTIVE: 0.42,
  DCGM_FI_DEV_FB_USED: 61_000,
  DCGM_FI_DEV_FB_TOTAL: 81_559,
  DCGM_FI_DEV_GPU_TEMP: 64,
  DCGM_FI_DEV_POWER_USAGE: 512,
};

// Two fleets in two regions, half the nodes each: the reference shape scaled to 12,000 GPUs.
const config: RuntimeConfig = parseRuntimeConfig({
  fleets: [
    {
      cluster: 'train-a',
      region: 'us-east-1',
      instanceType: 'p5.48xlarge',
      nodes: NODES / 2,
      gpusPerNode: GPUS,
      source: { profile: 'dcgm-exporter', match: { ClusterName: 'train-a' } },
    },
    {
      cluster: 'train-b',
      region: 'us-west-2',
      instanceType: 'p4d.24xlarge',
      nodes: NODES / 2,
      gpusPerNode: GPUS,
      source: { profile: 'dcgm-exporter', match: { ClusterName: 'train-b' } },
    },
  ],
  profiles: [],
  collection: {
    cadenceMinutes: 5,
    periodSeconds: 60,
    settleMinutes: 3,
    backfillHorizonHours: 24,
    maxChunkMinutes: 60,
    inventoryTtlMinutes: 30,
  },
  jobs: {
    reconcileEveryMinutes: 15,
    reconcileOverlapMinutes: 10,
    initialLookbackHours: 24,
    teamTag: 'team',
    workloadClassTag: 'workload-class',
    retainDays: 90,
  },
});

function seriesFor(cluster: string, metricName: string) {
  const nodes = NODES / 2;
  const out = [];
  for (let n = 0; n < nodes; n++) {
    for (let g = 0; g < GPUS; g++) {
      out.push({
        Namespace: dcgm.namespace,
        MetricName: metricName,
        Dimensions: [
          { Name: 'ClusterName', Value: cluster },
          { Name: 'Hostname', Value: `${cluster}-ip-10-0-${Math.floor(n / 250)}-${n % 250}` },
          { Name: 'gpu', Value: String(g) },
        ],
      });
    }
  }
  return out;
}

const calls = { listMetrics: 0, getMetricData: 0, writeRecords: 0, records: 0 };
const inventories = new Map<string, ReturnType<typeof seriesFor>>();
function listMetrics(input: ListMetricsCommandInput) {
  calls.listMetrics++;
  const cluster = input.Dimensions?.find((d) => d.Name === 'ClusterName')?.Value ?? '';
  const key = `${cluster}/${input.MetricName}`;
  let all = inventories.get(key);
  if (all === undefined) {
    all = seriesFor(cluster, input.MetricName ?? '');
    inventories.set(key, all);
  }
  const start = Number(input.NextToken ?? 0);
  const page = all.slice(start, start + 500);
  return { Metrics: page, NextToken: start + 500 < all.length ? String(start + 500) : undefined };
}
function getMetricData(input: GetMetricDataCommandInput) {
  calls.getMetricData++;
  const start = (input.StartTime as Date).getTime();
  const end = (input.EndTime as Date).getTime();
  const timestamps: Date[] = [];
  for (let t = start; t < end; t += MINUTE_MS) timestamps.push(new Date(t));
  return {
    MetricDataResults: (input.MetricDataQueries ?? []).map((q) => ({
      Id: q.Id,
      StatusCode: 'Complete',
      Timestamps: timestamps,
      Values: timestamps.map(() => VALUE[q.MetricStat?.Metric?.MetricName ?? ''] ?? 0),
    })),
  };
}
/** Answers in process, asynchronously like the real client, dispatching on the command class. */
const fakeCloudWatch = {
  send: async (command: unknown) => {
    await Promise.resolve();
    if (command instanceof ListMetricsCommand) return listMetrics(command.input);
    if (command instanceof GetMetricDataCommand) return getMetricData(command.input);
    throw new Error(`unexpected CloudWatch command ${String(command)}`);
  },
} as unknown as CloudWatchClient;

const fakeTimestream = {
  send: async (command: unknown) => {
    await Promise.resolve();
    if (!(command instanceof WriteRecordsCommand)) throw new Error(`unexpected command ${String(command)}`);
    const input: WriteRecordsCommandInput = command.input;
    calls.writeRecords++;
    calls.records += input.Records?.length ?? 0;
    return { RecordsIngested: { Total: input.Records?.length ?? 0 } };
  },
} as unknown as TimestreamWriteClient;

async function run(label: string, watermarkAgeMinutes: number | undefined) {
  for (const k of Object.keys(calls) as (keyof typeof calls)[]) calls[k] = 0;
  const now = Date.UTC(2026, 10, 24, 12, 0, 0);
  const clock = fixedClock(now);
  const state = new InMemoryStateStore();
  if (watermarkAgeMinutes !== undefined) {
    const end = Math.floor((now - 3 * MINUTE_MS) / MINUTE_MS) * MINUTE_MS;
    const sources: Record<string, number> = {};
    for (const f of config.fleets)
      sources[`${f.region}/${f.cluster}/dcgm-exporter`] = end - watermarkAgeMinutes * MINUTE_MS;
    await state.put('collector/watermarks', { sources }, undefined);
  }
  const ops = new RecordingOpsMetrics();
  const log = new RecordingLog();
  const deps = {
    clock,
    config,
    source: new CloudWatchMetricSource(() => fakeCloudWatch, { concurrency: 4 }),
    sink: new TimestreamTelemetrySink(
      fakeTimestream,
      { database: 'fleetwatch', gpuTable: 'gpu_metrics', jobsTable: 'training_jobs' },
      { concurrency: 8, log, ops },
    ),
    state,
    inventory: new InventoryCache(),
    log,
    ops,
  };
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let peakHeap = 0;
  let peakRss = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  }, 5);
  const t0 = performance.now();
  const summary = await collectGpuMetrics(deps, { deadlineMs: now + 15 * MINUTE_MS });
  const wallMs = performance.now() - t0;
  clearInterval(sampler);
  const m = process.memoryUsage();
  peakHeap = Math.max(peakHeap, m.heapUsed);
  peakRss = Math.max(peakRss, m.rss);

  const gpus = NODES * GPUS;
  const series = gpus * dcgm.signals.length;
  // Chunks are per region and window; the minimum is one call per 500 queries of each chunk.
  const minutes = new Set(summary.chunks.map((c) => `${c.startMs}-${c.endMs}`));
  const minutesCollected = [...minutes].reduce((s, k) => {
    const [a, b] = k.split('-').map(Number);
    return s + ((b ?? 0) - (a ?? 0)) / MINUTE_MS;
  }, 0);
  const records = gpus * minutesCollected;
  const result = {
    label,
    gpus,
    series,
    minutesCollected,
    getMetricDataCalls: calls.getMetricData,
    getMetricDataMinimum: summary.chunks.reduce((s, c) => s + Math.ceil(c.queries / 500), 0),
    listMetricsCalls: calls.listMetrics,
    listMetricsMinimum:
      config.fleets.length * dcgm.signals.length * Math.ceil(gpus / config.fleets.length / 500),
    writeRecordsCalls: calls.writeRecords,
    writeRecordsMinimum: Math.ceil(records / 100),
    recordsWritten: calls.records,
    samplesWritten: summary.counts.samplesWritten,
    datapointsCollected: summary.counts.datapointsCollected,
    errors: summary.errors.length,
    wallSeconds: +(wallMs / 1000).toFixed(2),
    peakHeapMiB: Math.round(peakHeap / 1_048_576),
    peakRssMiB: Math.round(peakRss / 1_048_576),
    rssBeforeMiB: Math.round(rssBefore / 1_048_576),
  };
  if (result.errors > 0) throw new Error(`run had errors: ${summary.errors.slice(0, 3).join('; ')}`);
  return result;
}

const backfill = Number(args.backfill);
const results = [await run('steady state: 5-minute window', undefined)];
if (backfill > 0) results.push(await run(`backfill after a ${backfill}-minute outage`, backfill));
console.table(results.map((r) => ({ ...r })));
if (args.json !== undefined) writeFileSync(args.json, JSON.stringify(results, null, 2));
