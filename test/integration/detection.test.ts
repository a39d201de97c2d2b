import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CloudWatchJobProgress } from '../../lambdas/adapters/cloudwatch/job-progress';
import { DynamoDbJobQueries } from '../../lambdas/adapters/dynamodb/job-queries';
import { DynamoDbJobStore } from '../../lambdas/adapters/dynamodb/job-store';
import { RecordingLog, RecordingOpsMetrics } from '../../lambdas/adapters/memory/observability';
import { S3CheckpointLister } from '../../lambdas/adapters/s3/checkpoints';
import { S3StateStore } from '../../lambdas/adapters/s3/state-store';
import { SqsFindingsPublisher } from '../../lambdas/adapters/sqs/findings-publisher';
import { DETECTION_STATE_KEY, detectWindow } from '../../lambdas/app/detect-window';
import { parseConfig, runtimeConfigFrom } from '../../lambdas/contracts/config';
import { ENV } from '../../lambdas/contracts/env';
import { JOBS_TABLE } from '../../lambdas/contracts/jobs-table';
import type { TrainingJobState } from '../../lambdas/core/model';
import { fixedClock, HOUR_MS, MINUTE_MS } from '../../lambdas/core/time';
import {
  cloudWatchClient,
  dynamoDocumentClient,
  resetClients,
  s3Client,
  sqsClient,
} from '../../lambdas/wiring/clients';
import { buildDetectorDeps } from '../../lambdas/wiring/detector';
import { uniqueSuffix, useMoto } from '../support/aws-env';
import { finding } from '../support/findings';

/**
 * The detection adapters on the real SDK v3 against moto: S3 state (round trip and a real
 * conditional-write race), job queries over a DynamoDB table with the indexes CDK creates, the
 * findings publisher into a real SQS queue, the checkpoint lister over real objects, and job
 * progress over datapoints put with PutMetricData.
 */
const { region } = useMoto();
resetClients();
const suffix = uniqueSuffix();

describe('S3StateStore on moto', () => {
  const bucket = `fw-detect-state-${suffix}`;
  beforeAll(async () => {
    await s3Client(region).send(new CreateBucketCommand({ Bucket: bucket }));
  });

  it('round-trips a value with versions, and a stale writer gets conflict', async () => {
    const a = new S3StateStore(s3Client(region), bucket, { prefix: 'detect/' });
    const b = new S3StateStore(s3Client(region), bucket, { prefix: 'detect/' });
    expect(await a.get('state')).toBeUndefined();
    expect(await a.put('state', { baselines: { x: [1, 2, 3] } }, undefined)).toBe(1);
    // A second creator loses (If-None-Match: *).
    expect(await b.put('state', { other: true }, undefined)).toBe('conflict');
    expect(await b.get('state')).toEqual({ value: { baselines: { x: [1, 2, 3] } }, version: 1 });
    // Both read version 1; a writes first; b's write on the ETag it read is refused (If-Match).
    expect(await a.get('state')).toMatchObject({ version: 1 });
    expect(await a.put('state', { n: 2 }, 1)).toBe(2);
    expect(await b.put('state', { n: 'lost' }, 1)).toBe('conflict');
    // A fresh store (no ETag seen) asking for the wrong version conflicts without writing.
    const c = new S3StateStore(s3Client(region), bucket, { prefix: 'detect/' });
    expect(await c.put('state', { n: 'x' }, 1)).toBe('conflict');
    expect(await c.put('state', { n: 3 }, 2)).toBe(3);
    expect(await a.get('state')).toEqual({ value: { n: 3 }, version: 3 });
  });
});

const table = `fw-jobs-detect-${suffix}`;

describe('DynamoDbJobQueries on moto', () => {
  const NOW = Date.UTC(2024, 4, 14, 0, 30);
  const job = (
    name: string,
    status: TrainingJobState['status'],
    lastModifiedTime: number,
  ): TrainingJobState => ({
    region,
    jobName: name,
    arn: `arn:aws:sagemaker:${region}:123456789012:training-job/${name}`,
    status,
    lastModifiedTime,
    creationTime: lastModifiedTime - HOUR_MS,
    tags: {},
    transitions: [],
  });

  beforeAll(async () => {
    // The table as infra/constructs/state-stores.ts creates it.
    await dynamoDocumentClient(region).send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: JOBS_TABLE.activeAttribute, AttributeType: 'S' },
          { AttributeName: JOBS_TABLE.modifiedDayAttribute, AttributeType: 'S' },
          { AttributeName: JOBS_TABLE.lastModifiedAttribute, AttributeType: 'N' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: JOBS_TABLE.activeIndex,
            KeySchema: [{ AttributeName: JOBS_TABLE.activeAttribute, KeyType: 'HASH' }],
            Projection: { ProjectionType: 'ALL' },
          },
          {
            IndexName: JOBS_TABLE.modifiedIndex,
            KeySchema: [
              { AttributeName: JOBS_TABLE.modifiedDayAttribute, KeyType: 'HASH' },
              { AttributeName: JOBS_TABLE.lastModifiedAttribute, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
  });

  it('returns running jobs of any age and jobs changed since, across a UTC midnight', async () => {
    const store = new DynamoDbJobStore(dynamoDocumentClient(region), table);
    const jobs = [
      job('running-for-days', 'InProgress', NOW - 3 * 24 * HOUR_MS),
      job('stopping', 'Stopping', NOW - 2 * 24 * HOUR_MS),
      job('failed-before-midnight', 'Failed', NOW - 40 * MINUTE_MS),
      job('completed-after-midnight', 'Completed', NOW - 10 * MINUTE_MS),
      job('completed-long-ago', 'Completed', NOW - 5 * HOUR_MS),
    ];
    for (const j of jobs) expect(await store.apply(j)).toBe('applied');
    const found = await new DynamoDbJobQueries(
      dynamoDocumentClient(region),
      table,
      fixedClock(NOW),
    ).recentAndActive(NOW - HOUR_MS);
    expect(found.map((j) => j.jobName).sort()).toEqual([
      'completed-after-midnight',
      'failed-before-midnight',
      'running-for-days',
      'stopping',
    ]);
    expect(found.find((j) => j.jobName === 'stopping')).toEqual(jobs[1]);
  });
});

describe('SqsFindingsPublisher on moto', () => {
  it('sends 23 findings in batches with attributes and rejects the invalid one with its reason', async () => {
    const sqs = sqsClient(region);
    const created = await sqs.send(new CreateQueueCommand({ QueueName: `fw-findings-${suffix}` }));
    const url = created.QueueUrl ?? '';
    const findings = Array.from({ length: 24 }, (_, i) => finding(i));
    findings[7] = finding(7, { kind: 'Not A Kind' });
    const result = await new SqsFindingsPublisher(sqs, url).publish(findings);
    expect(result.published).toBe(23);
    expect(result.failed).toEqual([
      {
        index: 7,
        reason: expect.stringMatching(/^invalid finding, not sent: kind: dotted lower-case words/),
      },
    ]);

    const received: { body: unknown; attributes: Record<string, string | undefined> }[] = [];
    for (let i = 0; i < 10 && received.length < 23; i++) {
      const page = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }),
      );
      for (const m of page.Messages ?? []) {
        received.push({
          body: JSON.parse(m.Body ?? ''),
          attributes: Object.fromEntries(
            Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue]),
          ),
        });
      }
    }
    expect(received).toHaveLength(23);
    expect(received.map((r) => (r.body as { labels: { node: string } }).labels.node).sort()).toEqual(
      findings
        .filter((_, i) => i !== 7)
        .map((f) => f.labels.node)
        .sort(),
    );
    expect(received[0]?.attributes).toEqual({
      severity: 'page',
      kind: 'gpu.xid_fatal',
      cause: 'hardware',
      cluster: 'train-a',
    });
  });
});

describe('S3CheckpointLister on moto', () => {
  const bucket = `fw-ckpt-${suffix}`;
  it('finds the newest object under the prefix, and nothing under an empty prefix', async () => {
    const s3 = s3Client(region);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (let i = 0; i < 5; i++) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `jobs/llama/step-${i}.pt`, Body: 'x' }));
    }
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'jobs/other/late.pt', Body: 'x' }));
    const lister = new S3CheckpointLister(() => s3, { allowedBuckets: [bucket] });
    const newest = await lister.newestObjectTime(`s3://${bucket}/jobs/llama/`);
    expect(newest).toBeGreaterThan(Date.now() - 10 * MINUTE_MS);
    expect(await lister.newestObjectTime(`s3://${bucket}/jobs/none/`)).toBeUndefined();
  });
});

describe('CloudWatchJobProgress on moto', () => {
  it('reads back the minutes in which a job published its training metric', async () => {
    const jobName = `llama-${suffix}`;
    const end = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
    const start = end - 30 * MINUTE_MS;
    const minutes = [start + 2 * MINUTE_MS, start + 7 * MINUTE_MS, start + 20 * MINUTE_MS];
    await cloudWatchClient(region).send(
      new PutMetricDataCommand({
        Namespace: '/aws/sagemaker/TrainingJobs',
        MetricData: minutes.map((t, i) => ({
          MetricName: 'train:loss',
          Dimensions: [{ Name: 'Host', Value: `${jobName}/algo-1` }],
          Timestamp: new Date(t + 5_000),
          Value: 2.5 - i * 0.1,
        })),
      }),
    );
    const progress = await new CloudWatchJobProgress((r) => cloudWatchClient(r)).progressTimestamps(
      [
        { region, jobName, metricNames: ['train:loss', 'train:step'] },
        { region, jobName: `silent-${suffix}`, metricNames: ['train:loss'] },
      ],
      start,
      end,
    );
    expect(progress.get(`${region}#${jobName}`)).toEqual(minutes);
    expect(progress.get(`${region}#silent-${suffix}`)).toEqual([]);
  });
});

describe('detector wiring on moto', () => {
  it('builds the detection run from env and reads/writes real S3, DynamoDB, CloudWatch and SQS', async () => {
    const bucket = `fw-detect-wiring-${suffix}`;
    await s3Client(region).send(new CreateBucketCommand({ Bucket: bucket }));
    const queue = await sqsClient(region).send(new CreateQueueCommand({ QueueName: `fw-wiring-${suffix}` }));
    process.env[ENV.detectionStateBucket] = bucket;
    process.env[ENV.jobsTable] = table;
    process.env[ENV.findingsQueueUrl] = queue.QueueUrl ?? '';
    const config = runtimeConfigFrom(
      parseConfig({
        homeRegion: region,
        fleets: [
          {
            cluster: 'train-a',
            region,
            instanceType: 'p4d.24xlarge',
            nodes: 1,
            source: { profile: 'dcgm-exporter' },
          },
        ],
      }),
    );
    const log = new RecordingLog();
    const ops = new RecordingOpsMetrics();
    const now = Date.now();
    const deps = buildDetectorDeps({ clock: { now: () => Date.now() }, config, log, ops });
    const input = {
      samples: [],
      windowStartMs: now - 5 * MINUTE_MS,
      windowEndMs: now,
      deadlineMs: now + 60_000,
    };

    const first = await detectWindow(deps, input);
    expect(first.inputsFailed).toEqual([]);
    expect(first.stateWritten).toBe(true);
    const second = await detectWindow(deps, input);
    expect(second.inputsFailed).toEqual([]);
    expect(second.stateWritten).toBe(true);
    // The state object went through the S3 store (version 2 after two runs) under detect/.
    const stored = await new S3StateStore(s3Client(region), bucket).get(DETECTION_STATE_KEY);
    expect(stored?.version).toBe(2);
    expect(ops.total('detectInputsFailed')).toBe(0);
  });
});
