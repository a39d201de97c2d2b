import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateDatabaseCommand,
  CreateTableCommand as CreateTimestreamTableCommand,
} from '@aws-sdk/client-timestream-write';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbStateStore } from '../../lambdas/adapters/dynamodb/state-store';
import { collectionSchema, jobsSchema, type RuntimeConfig } from '../../lambdas/contracts/config';
import { ENV } from '../../lambdas/contracts/env';
import { WATERMARK_STATE_KEY, type WatermarkState } from '../../lambdas/core/collection/watermarks';
import { fixedClock } from '../../lambdas/core/time';
import { makeHandler } from '../../lambdas/handlers/collect-gpu-metrics';
import {
  cloudWatchClient,
  dynamoDocumentClient,
  resetClients,
  timestreamWriteClient,
} from '../../lambdas/wiring/clients';
import { buildCollectorRuntime, type CollectorRuntime } from '../../lambdas/wiring/collector';
import { uniqueSuffix, useMoto } from '../support/aws-env';
import { motoState } from '../support/moto-server';

/**
 * The collector end to end on the real SDK against moto: DCGM metrics in CloudWatch → handler
 * (real wiring) → Timestream records and the DynamoDB watermark. moto keeps no CommonAttributes,
 * so records are read by their own dimensions; every request here spans several nodes, so node
 * and gpu stay on the records.
 */
const { endpoint, region } = useMoto();
resetClients();

const MIN = 60_000;
const suffix = uniqueSuffix();
const cluster = `it-${suffix}`;
const database = `fw_it_${suffix}`;
const stateTable = `fw-state-${suffix}`;
const NODES = [0, 1, 2].map((n) => `it-${suffix}-node-${n}`);
const GPUS = 8;
// Six minutes of data, the newest a little over six minutes old.
const M0 = Math.floor(Date.now() / MIN) * MIN - 12 * MIN;
const MINUTES = [0, 1, 2, 3, 4, 5].map((i) => M0 + i * MIN);

const util = (node: number, gpu: number, minute: number) => 10 * node + gpu + minute;
const power = (gpu: number, minute: number) => 200 + 10 * gpu + minute;

const runtimeConfig: RuntimeConfig = {
  fleets: [
    {
      cluster,
      region,
      instanceType: 'p4d.24xlarge',
      nodes: 3,
      gpusPerNode: GPUS,
      source: { profile: 'dcgm-exporter', match: {}, signals: ['gpu_util', 'power'] },
    },
  ],
  profiles: [],
  collection: collectionSchema.parse({ cadenceMinutes: 5, settleMinutes: 3 }),
  jobs: jobsSchema.parse({}),
};
const SOURCE_ID = `${region}/${cluster}/dcgm-exporter`;

interface StoredRecord {
  Dimensions?: { Name: string; Value: string }[];
  MeasureValues?: { Name: string; Value: string }[];
  Time?: string;
}

/** Our GPU records as moto stored them: node, gpu, minute and measures. */
async function gpuRecords() {
  const state = await motoState(endpoint);
  const tables = ((state.timestreamwrite as { TimestreamTable?: unknown[] } | undefined)?.TimestreamTable ??
    []) as { db_name: string; name: string; records: StoredRecord[] }[];
  const table = tables.find((t) => t.db_name === database && t.name === 'gpu');
  if (table === undefined) throw new Error(`Timestream table ${database}.gpu not found in moto state`);
  return table.records
    .map((r) => {
      const dims = Object.fromEntries((r.Dimensions ?? []).map((d) => [d.Name, d.Value]));
      const values = Object.fromEntries((r.MeasureValues ?? []).map((m) => [m.Name, Number(m.Value)]));
      return { node: dims.node, gpu: dims.gpu, time: Number(r.Time), values };
    })
    .filter((r) => r.node !== undefined && NODES.includes(r.node));
}

function handlerAt(nowMs?: number) {
  const runtime = buildCollectorRuntime();
  const deps = nowMs === undefined ? runtime.deps : { ...runtime.deps, clock: fixedClock(nowMs) };
  const withClock: CollectorRuntime = { ...runtime, deps };
  return makeHandler(() => withClock);
}

const context = { getRemainingTimeInMillis: () => 120_000 };

beforeAll(async () => {
  process.env[ENV.runtimeConfig] = JSON.stringify(runtimeConfig);
  process.env[ENV.stateTable] = stateTable;
  process.env[ENV.sinkKind] = 'timestream';
  process.env[ENV.timestreamDatabase] = database;
  process.env[ENV.timestreamGpuTable] = 'gpu';
  process.env[ENV.timestreamJobsTable] = 'jobs';

  await dynamoDocumentClient(region).send(
    new CreateTableCommand({
      TableName: stateTable,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const ts = timestreamWriteClient(region);
  await ts.send(new CreateDatabaseCommand({ DatabaseName: database }));
  for (const t of ['gpu', 'jobs'])
    await ts.send(new CreateTimestreamTableCommand({ DatabaseName: database, TableName: t }));

  const datums = NODES.flatMap((Hostname, n) =>
    Array.from({ length: GPUS }, (_, g) =>
      MINUTES.flatMap((t, m) => [
        {
          MetricName: 'DCGM_FI_DEV_GPU_UTIL',
          Dimensions: [
            { Name: 'Hostname', Value: Hostname },
            { Name: 'gpu', Value: String(g) },
          ],
          Timestamp: new Date(t + 10_000),
          Value: util(n, g, m),
        },
        {
          MetricName: 'DCGM_FI_DEV_POWER_USAGE',
          Dimensions: [
            { Name: 'Hostname', Value: Hostname },
            { Name: 'gpu', Value: String(g) },
          ],
          Timestamp: new Date(t + 10_000),
          Value: power(g, m),
        },
      ]),
    ).flat(),
  );
  await cloudWatchClient(region).send(
    new PutMetricDataCommand({ Namespace: 'CWAgent/DCGM', MetricData: datums }),
  );
});

describe('collect-gpu-metrics against moto', () => {
  it('collects every GPU-minute once across runs and never writes one twice', async () => {
    // Run 1, as if it ran right after minute M0+3 settled: collects M0 .. M0+3.
    const first = await handlerAt(M0 + 7 * MIN + 30_000)({}, context);
    expect(first.errors).toEqual([]);
    expect(first.counts.seriesDiscovered).toBeGreaterThanOrEqual(NODES.length * GPUS * 2);
    expect(first.counts.getMetricDataCalls).toBeGreaterThanOrEqual(1);

    let records = await gpuRecords();
    expect(records).toHaveLength(NODES.length * GPUS * 4);
    expect([...new Set(records.map((r) => r.time))].sort()).toEqual(MINUTES.slice(0, 4));

    // Run 2, now: continues at the watermark (M0+4) and picks up the two remaining minutes.
    const second = await handlerAt()({}, context);
    expect(second.errors).toEqual([]);
    expect(second.chunks).toHaveLength(1);
    expect(second.chunks[0]?.startMs).toBe(M0 + 4 * MIN);

    records = await gpuRecords();
    expect(records).toHaveLength(NODES.length * GPUS * MINUTES.length);
    const keys = records.map((r) => `${r.node}/${r.gpu}@${r.time}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(records.map((r) => `${r.node}/${r.gpu}`)).size).toBe(NODES.length * GPUS);
    expect([...new Set(records.map((r) => r.time))].sort()).toEqual(MINUTES);
    for (const r of records) {
      const n = NODES.indexOf(r.node ?? '');
      const g = Number(r.gpu);
      const m = (r.time - M0) / MIN;
      expect(r.values).toEqual({ gpu_util: util(n, g, m), power: power(g, m) });
    }

    const stored = await new DynamoDbStateStore(dynamoDocumentClient(region), stateTable).get<WatermarkState>(
      WATERMARK_STATE_KEY,
    );
    expect(stored?.value.sources[SOURCE_ID]).toBe(second.chunks[0]?.endMs);
    expect(stored?.version).toBe(2);

    // Run 3, again now: nothing new has settled, nothing is written again.
    const third = await handlerAt()({}, context);
    expect(third.chunks).toEqual([]);
    expect(await gpuRecords()).toHaveLength(NODES.length * GPUS * MINUTES.length);
  });
});
