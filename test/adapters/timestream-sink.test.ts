import {
  InternalServerException,
  RejectedRecordsException,
  ResourceNotFoundException,
  ThrottlingException,
  TimestreamWriteClient,
  ValidationException,
  WriteRecordsCommand,
  type WriteRecordsCommandInput,
} from '@aws-sdk/client-timestream-write';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { NullTelemetrySink } from '../../lambdas/adapters/memory/null-sink';
import { RecordingLog, RecordingOpsMetrics } from '../../lambdas/adapters/memory/observability';
import {
  MAX_MEASURE_VALUE_CHARS,
  rejectionCategory,
  TelemetrySinkError,
  type TimestreamSinkOptions,
  TimestreamTelemetrySink,
} from '../../lambdas/adapters/timestream/telemetry-sink';
import type { GpuSample, TrainingJobState } from '../../lambdas/core/model';

const T0 = Date.UTC(2024, 4, 14, 10, 0, 0);
const TABLES = { database: 'fleetwatch', gpuTable: 'gpu_metrics', jobsTable: 'training_jobs' };
const tsMock = mockClient(TimestreamWriteClient);

function sample(node: string, gpu: number, minute = 0, over: Partial<GpuSample['labels']> = {}): GpuSample {
  return {
    time: T0 + minute * 60_000,
    labels: {
      cluster: 'train-a',
      region: 'us-east-1',
      instanceType: 'p4d.24xlarge',
      node,
      gpu: String(gpu),
      job: 'llama-pretrain',
      team: 'nlp',
      ...over,
    },
    values: { gpu_util: 97.5, power: 312.25, temperature: 71, xid: 0 },
  };
}

/** 32 nodes × 8 GPUs, cut to `n`, in an order unlike the sink's own (so index mapping is tested). */
function fleet(n: number): GpuSample[] {
  const all: GpuSample[] = [];
  for (let gpu = 7; gpu >= 0; gpu--) {
    for (let node = 31; node >= 0; node--) all.push(sample(`node-${String(node).padStart(2, '0')}`, gpu));
  }
  return all.slice(0, n);
}

function inputs(): WriteRecordsCommandInput[] {
  return tsMock.commandCalls(WriteRecordsCommand).map((c) => c.args[0].input);
}

/** The full dimension set and time of record `i` of a request, common attributes merged in. */
function identify(
  input: WriteRecordsCommandInput,
  i: number,
): { dims: Record<string, string>; time: string } {
  const rec = input.Records?.[i];
  const dims: Record<string, string> = {};
  for (const d of [...(input.CommonAttributes?.Dimensions ?? []), ...(rec?.Dimensions ?? [])]) {
    dims[d.Name as string] = d.Value as string;
  }
  return { dims, time: rec?.Time ?? input.CommonAttributes?.Time ?? '' };
}

function indexOfSample(
  samples: readonly GpuSample[],
  id: { dims: Record<string, string>; time: string },
): number {
  return samples.findIndex(
    (s) => s.labels.node === id.dims.node && s.labels.gpu === id.dims.gpu && String(s.time) === id.time,
  );
}

describe('TimestreamTelemetrySink', () => {
  let log: RecordingLog;
  let ops: RecordingOpsMetrics;
  let sleeps: number[];
  let sink: TimestreamTelemetrySink;
  const make = (options: TimestreamSinkOptions = {}) =>
    new TimestreamTelemetrySink(new TimestreamWriteClient({ region: 'us-east-1' }), TABLES, {
      log,
      ops,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
      baseDelayMs: 100,
      ...options,
    });

  beforeEach(() => {
    tsMock.reset();
    tsMock.on(WriteRecordsCommand).resolves({ RecordsIngested: { Total: 0 } });
    log = new RecordingLog();
    ops = new RecordingOpsMetrics();
    sleeps = [];
    sink = make();
  });

  it('writes GPU samples as multi-measure records with shared dimensions in CommonAttributes', async () => {
    const result = await sink.writeGpuSamples([sample('node-01', 1), sample('node-01', 0)]);

    expect(result).toEqual({ written: 2, rejected: [], calls: 1 });
    const dim = (Name: string, Value: string) => ({ Name, Value, DimensionValueType: 'VARCHAR' });
    const measures = [
      { Name: 'gpu_util', Value: '97.5', Type: 'DOUBLE' },
      { Name: 'power', Value: '312.25', Type: 'DOUBLE' },
      { Name: 'temperature', Value: '71', Type: 'DOUBLE' },
      { Name: 'xid', Value: '0', Type: 'BIGINT' },
    ];
    expect(inputs()).toEqual([
      {
        DatabaseName: 'fleetwatch',
        TableName: 'gpu_metrics',
        CommonAttributes: {
          Dimensions: [
            dim('cluster', 'train-a'),
            dim('region', 'us-east-1'),
            dim('instance_type', 'p4d.24xlarge'),
            dim('node', 'node-01'),
            dim('job', 'llama-pretrain'),
            dim('team', 'nlp'),
          ],
          Version: 1,
          MeasureName: 'gpu',
          MeasureValueType: 'MULTI',
          TimeUnit: 'MILLISECONDS',
        },
        Records: [
          { Dimensions: [dim('gpu', '0')], MeasureValues: measures, Time: String(T0) },
          { Dimensions: [dim('gpu', '1')], MeasureValues: measures, Time: String(T0) },
        ],
      },
    ]);
    expect(ops.total('recordsWritten', { Table: 'gpu_metrics' })).toBe(2);
    expect(ops.total('writeRecordsCalls', { Table: 'gpu_metrics' })).toBe(1);
  });

  it('never sends an empty dimension value', async () => {
    await sink.writeGpuSamples([sample('node-01', 0, 0, { job: '', team: undefined as unknown as string })]);
    const { dims } = identify(inputs()[0] as WriteRecordsCommandInput, 0);
    expect(Object.keys(dims).sort()).toEqual(['cluster', 'gpu', 'instance_type', 'node', 'region']);
    expect(Object.values(dims)).not.toContain('');
  });

  it('sends 250 samples in 3 requests of at most 100, none overlapping its common dimensions', async () => {
    const samples = fleet(250);
    const result = await sink.writeGpuSamples(samples);

    expect(result).toMatchObject({ written: 250, rejected: [], calls: 3 });
    expect(inputs().map((i) => i.Records?.length)).toEqual([100, 100, 50]);
    const seen = new Set<number>();
    for (const input of inputs()) {
      const common = new Set((input.CommonAttributes?.Dimensions ?? []).map((d) => d.Name));
      expect(common.has('cluster')).toBe(true);
      for (const [i, rec] of (input.Records ?? []).entries()) {
        for (const d of rec.Dimensions ?? []) expect(common.has(d.Name)).toBe(false);
        seen.add(indexOfSample(samples, identify(input, i)));
      }
    }
    // Every sample went out exactly once.
    expect(seen.size).toBe(250);
    expect(seen.has(-1)).toBe(false);
  });

  it('keeps the rest of a request when some records are rejected, mapping each back to the caller index', async () => {
    const samples = fleet(250);
    tsMock
      .on(WriteRecordsCommand)
      .resolvesOnce({})
      .rejectsOnce(
        new RejectedRecordsException({
          message: 'One or more records have been rejected.',
          $metadata: { httpStatusCode: 419 },
          RejectedRecords: [
            {
              RecordIndex: 3,
              Reason:
                'A record with the same dimensions, timestamp, and measure name exists but with a different measure value.',
              ExistingVersion: 1,
            },
            {
              RecordIndex: 57,
              Reason:
                'The record timestamp is outside the time range [2024-05-13T10:00:00Z, 2024-05-14T10:15:00Z) of the memory store.',
            },
          ],
        }),
      )
      .resolves({});
    const withCap = make({ maxLoggedRejections: 1 });

    const result = await withCap.writeGpuSamples(samples);

    const second = inputs()[1] as WriteRecordsCommandInput;
    const i3 = indexOfSample(samples, identify(second, 3));
    const i57 = indexOfSample(samples, identify(second, 57));
    expect(i3).toBeGreaterThanOrEqual(0);
    expect(i57).toBeGreaterThanOrEqual(0);
    expect(result.written).toBe(248);
    expect(result.calls).toBe(3);
    expect(result.rejected).toEqual(
      [
        { index: i3, reason: expect.stringContaining('same dimensions'), existingVersion: 1 },
        { index: i57, reason: expect.stringContaining('outside the time range') },
      ].sort((a, b) => a.index - b.index),
    );
    expect(ops.total('recordsRejected', { Table: 'gpu_metrics', Reason: 'duplicate' })).toBe(1);
    expect(ops.total('recordsRejected', { Table: 'gpu_metrics', Reason: 'out-of-retention' })).toBe(1);
    expect(ops.total('recordsWritten', { Table: 'gpu_metrics' })).toBe(248);
    // Detail lines are capped; the summary line always comes.
    expect(log.find('warn', 'Telemetry record rejected')).toHaveLength(1);
    expect(
      log.find('warn', 'rejected records; the rest of each batch was kept')[0]?.attributes,
    ).toMatchObject({
      table: 'gpu_metrics',
      rejected: 2,
      byReason: { duplicate: 1, 'out-of-retention': 1 },
    });
  });

  it('retries a throttled request with backoff and the identical payload', async () => {
    tsMock
      .on(WriteRecordsCommand)
      .rejectsOnce(
        new ThrottlingException({
          message: 'Rate exceeded',
          Message: 'Rate exceeded',
          $metadata: { httpStatusCode: 429 },
        }),
      )
      .resolves({});

    const result = await sink.writeGpuSamples(fleet(10));

    expect(result).toMatchObject({ written: 10, calls: 2 });
    const [first, second] = inputs();
    expect(second).toEqual(first);
    expect(sleeps).toEqual([75]);
    expect(ops.total('sinkRetries')).toBe(1);
    expect(ops.total('apiThrottled', { Api: 'WriteRecords' })).toBe(1);
    expect(log.find('warn', 'retrying the same request')[0]?.attributes).toMatchObject({
      attempt: 1,
      error: 'ThrottlingException',
    });
  });

  it('gives up after maxAttempts of 5xx with a specific error, counting every call', async () => {
    tsMock.on(WriteRecordsCommand).rejects(
      new InternalServerException({
        message: 'Internal error',
        Message: 'Internal error',
        $metadata: { httpStatusCode: 500 },
      }),
    );
    const failing = make({ maxAttempts: 3 });

    await expect(failing.writeGpuSamples(fleet(5))).rejects.toThrow(
      /WriteRecords to fleetwatch\.gpu_metrics failed after 3 attempt\(s\) \(5 records\): InternalServerException/,
    );
    expect(inputs()).toHaveLength(3);
    expect(sleeps).toEqual([75, 150]);
    expect(ops.total('writeRecordsCalls', { Table: 'gpu_metrics' })).toBe(3);
    expect(ops.total('apiThrottled')).toBe(0);
  });

  it('does not retry an error that will not go away (missing table)', async () => {
    tsMock
      .on(WriteRecordsCommand)
      .rejects(
        new ResourceNotFoundException({ message: 'The table gpu_metrics does not exist.', $metadata: {} }),
      );
    await expect(sink.writeGpuSamples(fleet(3))).rejects.toBeInstanceOf(TelemetrySinkError);
    expect(inputs()).toHaveLength(1);
  });

  it('keeps requests that succeeded when another one fails for good, and reports it', async () => {
    tsMock.on(WriteRecordsCommand).callsFake((input: WriteRecordsCommandInput) => {
      if ((input.Records?.length ?? 0) === 50) {
        throw new InternalServerException({
          message: 'Internal error',
          Message: 'Internal error',
          $metadata: { httpStatusCode: 500 },
        });
      }
      return {};
    });
    await expect(make({ maxAttempts: 2 }).writeGpuSamples(fleet(250))).rejects.toBeInstanceOf(
      TelemetrySinkError,
    );
    expect(ops.total('recordsWritten', { Table: 'gpu_metrics' })).toBe(200);
    expect(log.find('error', 'Timestream write incomplete')[0]?.attributes).toMatchObject({
      failedRequests: 1,
      requests: 3,
      recordsWritten: 200,
    });
  });

  it('isolates the record behind a whole-request ValidationException by halving the request', async () => {
    const samples = [sample('node-01', 0), sample('node-01', 1), sample('node-bad', 0), sample('node-02', 0)];
    tsMock.on(WriteRecordsCommand).callsFake((input: WriteRecordsCommandInput) => {
      const all = (input.Records ?? []).map((_, i) => identify(input, i).dims.node);
      if (all.includes('node-bad')) {
        throw new ValidationException({
          message: 'Dimension value exceeds the limit.',
          Message: 'Dimension value exceeds the limit.',
          $metadata: {},
        });
      }
      return {};
    });

    const result = await sink.writeGpuSamples(samples);

    expect(result.written).toBe(3);
    expect(result.rejected).toEqual([
      { index: 2, reason: 'ValidationException: Dimension value exceeds the limit.' },
    ]);
    // 4 → (2 bad → 1 + 1) + 2
    expect(result.calls).toBe(5);
    expect(ops.total('recordsRejected', { Table: 'gpu_metrics', Reason: 'invalid' })).toBe(1);
  });

  it('rejects, without a call, a sample that has no finite value to write', async () => {
    const empty: GpuSample = { ...sample('node-01', 0), values: { gpu_util: Number.NaN } };
    const result = await sink.writeGpuSamples([empty]);
    expect(result).toEqual({
      written: 0,
      calls: 0,
      rejected: [
        { index: 0, reason: 'no finite signal value to write (a record needs at least one measure)' },
      ],
    });
    expect(inputs()).toHaveLength(0);
    expect(ops.total('recordsRejected', { Table: 'gpu_metrics', Reason: 'invalid' })).toBe(1);
  });

  it('writes job states with LastModifiedTime as time and version, and a truncated failure reason', async () => {
    const base: TrainingJobState = {
      region: 'us-east-1',
      jobName: 'llama-pretrain',
      arn: 'arn:aws:sagemaker:us-east-1:123456789012:training-job/llama-pretrain',
      status: 'InProgress',
      secondaryStatus: 'Training',
      lastModifiedTime: T0,
      creationTime: T0 - 60_000,
      instanceType: 'ml.p4d.24xlarge',
      instanceCount: 4,
      tags: { team: 'nlp' },
      team: 'nlp',
      workloadClass: 'pretrain',
      transitions: [],
    };
    const failed: TrainingJobState = {
      ...base,
      status: 'Failed',
      secondaryStatus: 'Failed',
      lastModifiedTime: T0 + 5_000,
      trainingTimeSeconds: 222.5,
      billableTimeSeconds: 222,
      failureReason: 'x'.repeat(3000),
    };

    const result = await sink.writeJobStates([base, failed]);

    expect(result).toEqual({ written: 2, rejected: [], calls: 1 });
    const [input] = inputs();
    expect(input?.TableName).toBe('training_jobs');
    expect(input?.CommonAttributes).toEqual({
      Dimensions: [
        { Name: 'region', Value: 'us-east-1', DimensionValueType: 'VARCHAR' },
        { Name: 'job_name', Value: 'llama-pretrain', DimensionValueType: 'VARCHAR' },
        { Name: 'instance_type', Value: 'ml.p4d.24xlarge', DimensionValueType: 'VARCHAR' },
        { Name: 'team', Value: 'nlp', DimensionValueType: 'VARCHAR' },
        { Name: 'workload_class', Value: 'pretrain', DimensionValueType: 'VARCHAR' },
      ],
      MeasureName: 'job_state',
      MeasureValueType: 'MULTI',
      TimeUnit: 'MILLISECONDS',
    });
    expect(input?.Records?.[0]).toEqual({
      MeasureValues: [
        { Name: 'status', Value: 'InProgress', Type: 'VARCHAR' },
        { Name: 'secondary_status', Value: 'Training', Type: 'VARCHAR' },
        { Name: 'instance_count', Value: '4', Type: 'BIGINT' },
      ],
      Time: String(T0),
      Version: T0,
    });
    const failedRecord = input?.Records?.[1];
    expect(failedRecord?.Version).toBe(T0 + 5_000);
    expect(failedRecord?.MeasureValues?.map((m) => [m.Name, m.Type])).toEqual([
      ['status', 'VARCHAR'],
      ['secondary_status', 'VARCHAR'],
      ['instance_count', 'BIGINT'],
      ['training_seconds', 'DOUBLE'],
      ['billable_seconds', 'DOUBLE'],
      ['failure_reason', 'VARCHAR'],
    ]);
    const reason = failedRecord?.MeasureValues?.find((m) => m.Name === 'failure_reason')?.Value ?? '';
    expect(reason).toHaveLength(MAX_MEASURE_VALUE_CHARS);
    expect(reason.endsWith('…')).toBe(true);
  });

  it.each([
    ['A record with the same dimensions, timestamp, and measure name exists', undefined, 'duplicate'],
    ['anything', 3, 'duplicate'],
    ['The record timestamp is outside the time range of the memory store.', undefined, 'out-of-retention'],
    ['Measure value size exceeds the limit', undefined, 'over-limit'],
    ['ValidationException: bad', undefined, 'invalid'],
    ['Something new', undefined, 'other'],
  ])('categorises "%s" as %s', (reason, existingVersion, category) => {
    expect(rejectionCategory({ reason, ...(existingVersion ? { existingVersion } : {}) })).toBe(category);
  });
});

describe('NullTelemetrySink', () => {
  it('writes nothing and says so', async () => {
    const log = new RecordingLog();
    const sink = new NullTelemetrySink(log);
    expect(sink.name).toBe('none');
    expect(await sink.writeGpuSamples(fleet(3))).toEqual({ written: 0, rejected: [], calls: 0 });
    expect(await sink.writeJobStates([])).toEqual({ written: 0, rejected: [], calls: 0 });
    expect(log.find('debug', 'records not stored')[0]?.attributes).toEqual({ kind: 'gpu', records: 3 });
  });
});
