import { CreateDatabaseCommand, CreateTableCommand } from '@aws-sdk/client-timestream-write';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TimestreamTelemetrySink } from '../../lambdas/adapters/timestream/telemetry-sink';
import { ENV } from '../../lambdas/contracts/env';
import type { GpuSample, TrainingJobState } from '../../lambdas/core/model';
import { resetClients, timestreamWriteClient } from '../../lambdas/wiring/clients';
import { makeTelemetrySink } from '../../lambdas/wiring/sink';
import { uniqueSuffix, useMoto } from '../support/aws-env';
import { motoState } from '../support/moto-server';

/**
 * The Timestream sink with the real SDK against moto. moto validates nothing, never rejects
 * records and drops CommonAttributes, so this proves the wire format is accepted and every record
 * arrives once; CommonAttributes, rejections and retries are covered with aws-sdk-client-mock in
 * test/adapters/timestream-sink.test.ts.
 */
const { endpoint, region } = useMoto();
resetClients();

const suffix = uniqueSuffix();
const database = `fw_sink_${suffix}`;
const gpuTable = 'gpu_metrics';
const jobsTable = 'training_jobs';
const T0 = Date.UTC(2024, 4, 14, 10, 0, 0);

interface StoredRecord {
  Dimensions?: { Name: string; Value: string }[];
  MeasureValues?: { Name: string; Value: string; Type: string }[];
  Time?: string;
  Version?: number;
}

async function storedRecords(table: string): Promise<StoredRecord[]> {
  const state = (await motoState(endpoint)).timestreamwrite as {
    TimestreamTable?: { db_name: string; name: string; records: StoredRecord[] }[];
  };
  return state.TimestreamTable?.find((t) => t.db_name === database && t.name === table)?.records ?? [];
}

function samples(n: number): GpuSample[] {
  const out: GpuSample[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      time: T0 + Math.floor(i / 64) * 60_000,
      labels: {
        cluster: 'train-a',
        region,
        instanceType: 'p5.48xlarge',
        node: `node-${(i % 64) >> 3}`,
        gpu: String(i % 8),
        team: 'nlp',
      },
      values: { gpu_util: i % 101, power: 400 + (i % 7), xid: i % 3 === 0 ? 79 : 0 },
    });
  }
  return out;
}

describe('TimestreamTelemetrySink against moto', () => {
  const saved = { ...process.env };

  beforeAll(async () => {
    const client = timestreamWriteClient(region);
    await client.send(new CreateDatabaseCommand({ DatabaseName: database }));
    for (const TableName of [gpuTable, jobsTable]) {
      await client.send(new CreateTableCommand({ DatabaseName: database, TableName }));
    }
  });

  afterEach(() => {
    process.env = { ...saved };
    resetClients();
  });

  it('stores 250 GPU samples as 250 multi-measure records in 3 requests', async () => {
    const sink = new TimestreamTelemetrySink(timestreamWriteClient(region), {
      database,
      gpuTable,
      jobsTable,
    });
    const input = samples(250);

    const result = await sink.writeGpuSamples(input);

    expect(result).toEqual({ written: 250, rejected: [], calls: 3 });
    const records = await storedRecords(gpuTable);
    expect(records).toHaveLength(250);
    for (const r of records) {
      expect(r.MeasureValues?.map((m) => m.Name)).toEqual(['gpu_util', 'power', 'xid']);
      expect(r.MeasureValues?.find((m) => m.Name === 'xid')?.Type).toBe('BIGINT');
    }
    const key = (time: string | number, gpu: string, util: string) => `${time}|${gpu}|${util}`;
    const stored = records.map((r) =>
      key(
        r.Time ?? '',
        r.Dimensions?.find((d) => d.Name === 'gpu')?.Value ?? '',
        r.MeasureValues?.[0]?.Value ?? '',
      ),
    );
    expect(stored.sort()).toEqual(
      input.map((s) => key(s.time, s.labels.gpu, String(s.values.gpu_util))).sort(),
    );
  });

  it('stores job states with LastModifiedTime as time and version', async () => {
    const sink = new TimestreamTelemetrySink(timestreamWriteClient(region), {
      database,
      gpuTable,
      jobsTable,
    });
    const state = (lm: number, status: TrainingJobState['status']): TrainingJobState => ({
      region,
      jobName: `job-${suffix}`,
      arn: `arn:aws:sagemaker:${region}:123456789012:training-job/job-${suffix}`,
      status,
      lastModifiedTime: lm,
      creationTime: T0,
      instanceType: 'ml.p5.48xlarge',
      instanceCount: 2,
      tags: {},
      transitions: [],
    });

    const result = await sink.writeJobStates([
      state(T0 + 1_000, 'InProgress'),
      state(T0 + 9_000, 'Completed'),
    ]);

    expect(result).toEqual({ written: 2, rejected: [], calls: 1 });
    const records = await storedRecords(jobsTable);
    expect(records.map((r) => [r.Time, r.Version, r.MeasureValues?.[0]?.Value])).toEqual([
      [String(T0 + 1_000), T0 + 1_000, 'InProgress'],
      [String(T0 + 9_000), T0 + 9_000, 'Completed'],
    ]);
  });

  it('is chosen by FLEETWATCH_SINK: Timestream by default, none on request, an error otherwise', async () => {
    process.env[ENV.timestreamDatabase] = database;
    process.env[ENV.timestreamGpuTable] = gpuTable;
    process.env[ENV.timestreamJobsTable] = jobsTable;

    delete process.env[ENV.sinkKind];
    const byDefault = makeTelemetrySink();
    expect(byDefault.name).toBe('timestream');
    const before = (await storedRecords(gpuTable)).length;
    expect((await byDefault.writeGpuSamples(samples(3))).written).toBe(3);
    expect(await storedRecords(gpuTable)).toHaveLength(before + 3);

    process.env[ENV.sinkKind] = 'none';
    const none = makeTelemetrySink();
    expect(none.name).toBe('none');
    expect(await none.writeGpuSamples(samples(3))).toEqual({ written: 0, rejected: [], calls: 0 });
    expect(await storedRecords(gpuTable)).toHaveLength(before + 3);

    process.env[ENV.sinkKind] = 'influx';
    expect(() => makeTelemetrySink()).toThrow('FLEETWATCH_SINK is "influx"; allowed: timestream, none');

    delete process.env[ENV.sinkKind];
    delete process.env[ENV.timestreamGpuTable];
    expect(() => makeTelemetrySink()).toThrow('FLEETWATCH_TIMESTREAM_GPU_TABLE is not set');
  });
});
