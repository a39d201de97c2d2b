import { CreateTableCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import { CreateQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import {
  CreateDatabaseCommand,
  CreateTableCommand as CreateTimestreamTableCommand,
} from '@aws-sdk/client-timestream-write';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbJobStore } from '../../lambdas/adapters/dynamodb/job-store';
import { DynamoDbStateStore } from '../../lambdas/adapters/dynamodb/state-store';
import { type ReconcileWatermark, watermarkKey } from '../../lambdas/app/reconcile-jobs';
import { parseConfig, runtimeConfigFrom } from '../../lambdas/contracts/config';
import { ENV } from '../../lambdas/contracts/env';
import { makeHandler as makeIngestHandler } from '../../lambdas/handlers/ingest-job-events';
import { makeHandler as makeReconcileHandler } from '../../lambdas/handlers/reconcile-jobs';
import {
  dynamoDocumentClient,
  resetClients,
  sageMakerClient,
  sqsClient,
  timestreamWriteClient,
} from '../../lambdas/wiring/clients';
import { buildIngestJobEventsRuntime, buildReconcileJobsRuntime } from '../../lambdas/wiring/jobs';
import { type EventFixture, eventBody } from '../fixtures/sagemaker/fixtures';
import { uniqueSuffix, useMoto } from '../support/aws-env';
import { motoState } from '../support/moto-server';
import { jobStoreContract } from '../unit/jobs/job-store-contract';

/**
 * SageMaker job state end to end on the real SDK against moto: the DynamoDB stores, the
 * ingest-job-events handler with its real wiring (job store, Timestream sink, SQS DLQ), and a
 * reconciliation sweep over training jobs moto creates (always Completed in moto, so the
 * InProgress/Failed/Stopped paths are covered by the fixtures and mocks instead).
 */
const { endpoint, region } = useMoto();
resetClients();

const suffix = uniqueSuffix();
const jobsTable = `fw-jobs-${suffix}`;
const stateTable = `fw-state-${suffix}`;
const database = `fw_jobs_${suffix}`;
const JOB = 'llama-pretrain-2024-05-14-10-02-11-123';
let dlqUrl = '';

const runtimeConfig = runtimeConfigFrom(
  parseConfig({
    homeRegion: region,
    fleets: [
      {
        cluster: 'train-a',
        region,
        instanceType: 'p4d.24xlarge',
        nodes: 2,
        source: { profile: 'dcgm-exporter' },
      },
    ],
  }),
);

async function createKeyTable(TableName: string): Promise<void> {
  await dynamoDocumentClient(region).send(
    new CreateTableCommand({
      TableName,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}

function sqsRecord(messageId: string, body: string): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1715694330000',
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1715694330001',
    },
    messageAttributes: {},
    md5OfBody: 'x',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${region}:123456789012:fw-job-events`,
    awsRegion: region,
  };
}

function sqsEvent(...bodies: [string, string][]): SQSEvent {
  return { Records: bodies.map(([id, body]) => sqsRecord(id, body)) };
}

async function timestreamJobRecords(): Promise<{ Time?: string }[]> {
  const state = (await motoState(endpoint)).timestreamwrite as {
    TimestreamTable?: { db_name: string; name: string; records: { Time?: string }[] }[];
  };
  return (
    state.TimestreamTable?.find((t) => t.db_name === database && t.name === 'training_jobs')?.records ?? []
  );
}

const lambdaContext = { getRemainingTimeInMillis: () => 120_000 };

beforeAll(async () => {
  await createKeyTable(jobsTable);
  await createKeyTable(stateTable);
  const ts = timestreamWriteClient(region);
  await ts.send(new CreateDatabaseCommand({ DatabaseName: database }));
  for (const TableName of ['gpu_metrics', 'training_jobs']) {
    await ts.send(new CreateTimestreamTableCommand({ DatabaseName: database, TableName }));
  }
  dlqUrl =
    (await sqsClient(region).send(new CreateQueueCommand({ QueueName: `fw-dlq-${suffix}` }))).QueueUrl ?? '';

  process.env[ENV.jobsTable] = jobsTable;
  process.env[ENV.stateTable] = stateTable;
  process.env[ENV.deadLetterQueueUrl] = dlqUrl;
  process.env[ENV.timestreamDatabase] = database;
  process.env[ENV.timestreamGpuTable] = 'gpu_metrics';
  process.env[ENV.timestreamJobsTable] = 'training_jobs';
  process.env[ENV.runtimeConfig] = JSON.stringify(runtimeConfig);
});

jobStoreContract(
  'DynamoDbJobStore on moto',
  () => new DynamoDbJobStore(dynamoDocumentClient(region), jobsTable),
);

describe('DynamoDB stores on moto', () => {
  it('keeps the running marker and TTL attributes that the GSI and DynamoDB TTL rely on', async () => {
    const store = new DynamoDbJobStore(dynamoDocumentClient(region), jobsTable, { retainDays: 7 });
    const name = `ttl-${suffix}`;
    const base = {
      region,
      jobName: name,
      arn: `arn:aws:sagemaker:${region}:123456789012:training-job/${name}`,
      creationTime: 1_000,
      tags: {},
      transitions: [],
    };
    const raw = async () =>
      (
        await dynamoDocumentClient(region).send(
          new GetItemCommand({
            TableName: jobsTable,
            Key: { pk: { S: `${region}#${name}` } },
            ConsistentRead: true,
          }),
        )
      ).Item;

    await store.apply({ ...base, status: 'InProgress', lastModifiedTime: 2_000 });
    expect((await raw())?.active).toEqual({ S: 'Y' });
    expect((await raw())?.expiresAt).toBeUndefined();

    await store.apply({ ...base, status: 'Failed', lastModifiedTime: 9_000, trainingEndTime: 8_000 });
    expect((await raw())?.active).toBeUndefined();
    expect((await raw())?.expiresAt).toEqual({ N: String(Math.floor((8_000 + 7 * 86_400_000) / 1000)) });
  });

  it('DynamoDbStateStore: creates once, then updates only the version it read', async () => {
    const store = new DynamoDbStateStore(dynamoDocumentClient(region), stateTable);
    const key = `test/${suffix}`;
    expect(await store.put(key, { a: 1 }, undefined)).toBe(1);
    expect(await store.put(key, { a: 2 }, undefined)).toBe('conflict');
    expect(await store.put(key, { a: 3 }, 1)).toBe(2);
    expect(await store.put(key, { a: 4 }, 1)).toBe('conflict');
    expect(await store.get(key)).toEqual({ value: { a: 3 }, version: 2 });
  });
});

describe('ingest-job-events handler with real wiring', () => {
  afterEach(() => {
    process.env[ENV.jobsTable] = jobsTable;
    resetClients();
  });

  it('applies duplicate and out-of-order events idempotently and dead-letters bad ones with their reason', async () => {
    const handler = makeIngestHandler(buildIngestJobEventsRuntime);
    const fixture = (id: string, name: EventFixture): [string, string] => [id, eventBody(name)];

    const first = await handler(
      sqsEvent(fixture('m1', 'event-in-progress-training'), fixture('m2', 'event-in-progress-training'), [
        'm3',
        '{"detail-type": "SageMaker Training Job State Change", "source": "aws.sagemaker"',
      ]),
    );
    const second = await handler(
      sqsEvent(
        fixture('m4', 'event-completed'),
        fixture('m5', 'event-in-progress-starting'),
        [
          'm6',
          JSON.stringify({
            ...JSON.parse(eventBody('event-completed')),
            'detail-type': 'SageMaker Endpoint State Change',
          }),
        ],
        fixture('m7', 'event-completed'),
      ),
    );

    expect(first).toEqual({ batchItemFailures: [] });
    expect(second).toEqual({ batchItemFailures: [] });

    const stored = await new DynamoDbJobStore(dynamoDocumentClient(region), jobsTable).get(region, JOB);
    expect(stored).toMatchObject({
      status: 'Completed',
      team: 'nlp',
      workloadClass: 'pretrain',
      instanceCount: 4,
    });
    expect(stored?.transitions.map((t) => t.status)).toEqual([
      'Starting',
      'Downloading',
      'Training',
      'Uploading',
      'Completed',
    ]);

    // Each valid delivery reached the sink at its LastModifiedTime (also its version, which makes
    // the repeats no-ops in Timestream; moto keeps neither CommonAttributes nor that rule).
    const times = (await timestreamJobRecords()).map((r) => r.Time);
    expect(times.sort()).toEqual([
      '1715680933000',
      '1715681230000',
      '1715681230000',
      '1715694330000',
      '1715694330000',
    ]);

    const dead = await sqsClient(region).send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
      }),
    );
    const byReason = Object.fromEntries(
      (dead.Messages ?? []).map((m) => [m.MessageAttributes?.reason?.StringValue, m]),
    );
    expect(Object.keys(byReason).sort()).toEqual(['malformed-json', 'unknown-event']);
    expect(byReason['malformed-json']?.Body).toBe(
      '{"detail-type": "SageMaker Training Job State Change", "source": "aws.sagemaker"',
    );
    expect(byReason['unknown-event']?.MessageAttributes?.source?.StringValue).toBe('ingest-job-events');
    expect(byReason['unknown-event']?.MessageAttributes?.detail?.StringValue).toContain(
      'detail-type "SageMaker Endpoint State Change"',
    );
  });

  it('reports records that fail for a store reason as batch item failures, still dead-lettering bad ones', async () => {
    process.env[ENV.jobsTable] = `missing-${suffix}`;
    const handler = makeIngestHandler(buildIngestJobEventsRuntime);

    const result = await handler(
      sqsEvent(['ok-1', eventBody('event-stopped')], ['bad-1', 'nope'], ['ok-2', eventBody('event-failed')]),
    );

    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['ok-1', 'ok-2']);
  });
});

describe('reconcile-jobs handler with real wiring', () => {
  it('sweeps the jobs SageMaker lists, repairs the store, and skips them on the next sweep', async () => {
    const sm = sageMakerClient(region);
    const names = [0, 1, 2].map((i) => `fw-rec-${suffix}-${i}`);
    for (const [i, TrainingJobName] of names.entries()) {
      await sm.send(
        new CreateTrainingJobCommand({
          TrainingJobName,
          AlgorithmSpecification: { TrainingImage: 'img:latest', TrainingInputMode: 'File' },
          RoleArn: 'arn:aws:iam::123456789012:role/SageMakerTrainingRole',
          OutputDataConfig: { S3OutputPath: 's3://bucket/out' },
          ResourceConfig: { InstanceType: 'ml.p4d.24xlarge', InstanceCount: i + 1, VolumeSizeInGB: 50 },
          StoppingCondition: { MaxRuntimeInSeconds: 3600 },
          Tags: [
            { Key: 'team', Value: i === 0 ? 'vision' : 'nlp' },
            { Key: 'workload-class', Value: 'finetune' },
          ],
        }),
      );
    }
    const handler = makeReconcileHandler(buildReconcileJobsRuntime);

    const first = await handler({}, lambdaContext);

    expect(first.complete).toBe(true);
    expect(first.regions[0]).toMatchObject({ region, reconciled: 3, described: 3 });
    const store = new DynamoDbJobStore(dynamoDocumentClient(region), jobsTable);
    const stored = await store.get(region, names[0] as string);
    expect(stored).toMatchObject({
      status: 'Completed',
      team: 'vision',
      workloadClass: 'finetune',
      instanceType: 'ml.p4d.24xlarge',
      instanceCount: 1,
      // moto fills in a metric definition for every job.
      metricNames: ['test:dcg'],
    });
    const watermark = await new DynamoDbStateStore(
      dynamoDocumentClient(region),
      stateTable,
    ).get<ReconcileWatermark>(watermarkKey(region));
    expect(watermark?.value.watermark).toBe(first.regions[0]?.watermark);

    const second = await handler({}, lambdaContext);
    expect(second.regions[0]).toMatchObject({ complete: true, described: 0, reconciled: 0 });
    expect(second.regions[0]?.upToDate).toBeGreaterThanOrEqual(3);
  });
});
