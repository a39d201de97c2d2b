import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateProcessingJobCommand,
  DescribeMonitoringScheduleCommand,
  DescribeProcessingJobCommand,
  ListMonitoringExecutionsCommand,
  ListMonitoringSchedulesCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { CreateQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it } from 'vitest';
import { hourPath } from '../../lambdas/app/check-drift';
import { ENV } from '../../lambdas/contracts/env';
import { type Finding, findingSchema } from '../../lambdas/contracts/finding';
import { makeHandler } from '../../lambdas/handlers/check-drift';
import { dynamoDocumentClient, resetClients, sageMakerClient, sqsClient } from '../../lambdas/wiring/clients';
import { buildDriftRuntime, resetDriftRuntime, s3Client } from '../../lambdas/wiring/drift';
import { uniqueSuffix, useMoto } from '../support/aws-env';
import { baselineCsv, captureJsonl, rows } from '../support/drift-data';

/**
 * check-drift on the real SDK against moto: baselines, Data Capture and Model Monitor reports in
 * moto S3, findings on a real SQS queue, drift/state in DynamoDB, DescribeProcessingJob on moto.
 * moto has no Model Monitor schedule/execution APIs (HTTP 500, probed), so those three calls are
 * mocked on the same client instance and everything else passes through to moto.
 */
const { region } = useMoto();
resetClients();
resetDriftRuntime();

const suffix = uniqueSuffix();
const captureBucket = `fw-capture-${suffix}`;
const baselineBucket = `fw-baseline-${suffix}`;
const reportBucket = `fw-reports-${suffix}`;
const stateTable = `fw-state-${suffix}`;
const jobName = `model-monitoring-${suffix}`.slice(0, 63);
let queueUrl = '';
let processingJobArn = '';

const HOUR_MS = 3_600_000;
const now = Date.now();
const lastHour = Math.floor(now / HOUR_MS) * HOUR_MS - HOUR_MS;

async function put(bucket: string, key: string, body: string): Promise<void> {
  await s3Client(region).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function receiveAll(): Promise<Finding[]> {
  const out: Finding[] = [];
  for (let i = 0; i < 10; i++) {
    const res = await sqsClient(region).send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    const messages = res.Messages ?? [];
    if (messages.length === 0) break;
    for (const m of messages) out.push(findingSchema.parse(JSON.parse(m.Body ?? '')));
  }
  return out;
}

const context = { getRemainingTimeInMillis: () => 120_000 };

beforeAll(async () => {
  for (const Bucket of [captureBucket, baselineBucket, reportBucket]) {
    await s3Client(region).send(new CreateBucketCommand({ Bucket }));
  }
  queueUrl =
    (await sqsClient(region).send(new CreateQueueCommand({ QueueName: `fw-findings-${suffix}` }))).QueueUrl ??
    '';
  await dynamoDocumentClient(region).send(
    new CreateTableCommand({
      TableName: stateTable,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  process.env[ENV.findingsQueueUrl] = queueUrl;
  process.env[ENV.stateTable] = stateTable;
});

describe('check-drift against moto', () => {
  it('own drift: a generated +1.5 σ shift in latency_ms arrives on the queue as one endpoint finding naming that feature only', async () => {
    await put(baselineBucket, 'churn/baseline.csv', baselineCsv(rows(800, 11)));
    const variant = `datacapture/churn-${suffix}/AllTraffic`;
    await put(
      captureBucket,
      `${variant}/${hourPath(lastHour)}/part-1.jsonl`,
      captureJsonl(rows(250, 12, { latencySd: 1.5 }), lastHour),
    );
    await put(
      captureBucket,
      `${variant}/${hourPath(lastHour + HOUR_MS)}/part-2.jsonl`,
      `${captureJsonl(rows(250, 13, { latencySd: 1.5 }), lastHour + HOUR_MS)}\n{"truncated":`,
    );
    process.env[ENV.driftConfig] = JSON.stringify({
      endpoints: [
        {
          name: `churn-${suffix}`,
          team: 'ml-risk',
          dataCapture: {
            s3Uri: `s3://${captureBucket}/datacapture`,
            baselineS3Uri: `s3://${baselineBucket}/churn/baseline.csv`,
            features: [
              { name: 'latency_ms', type: 'numeric' },
              { name: 'region', type: 'categorical' },
            ],
            windowHours: 3,
          },
        },
      ],
    });
    resetDriftRuntime();
    const summary = await makeHandler(buildDriftRuntime)({}, context);
    expect(summary.endpoints[0]).toMatchObject({
      dataCapture: 'ok',
      captureObjects: 2,
      captureRows: 500,
      badLines: 1,
    });

    const findings = await receiveAll();
    const drift = findings.filter((f) => f.kind === 'model.drift.data_quality');
    expect(drift.map((f) => [f.labels.endpoint, f.labels.feature, f.labels.team])).toEqual([
      [`churn-${suffix}`, undefined, 'ml-risk'],
    ]);
    expect(drift[0]?.title).toMatch(
      new RegExp(`^1 of 2 features drifted on endpoint churn-${suffix}: latency_ms \\(`),
    );
    expect(drift[0]?.evidence.values?.['latency_ms.n_recent']).toBe(500);
    expect(drift[0]?.evidence.values?.['region.psi']).toBeUndefined();
    expect(
      findings.filter((f) => f.kind === 'model.drift.capture_invalid').map((f) => f.evidence.values),
    ).toEqual([{ bad_lines: 1, rows: 500 }]);
  });

  it('Model Monitor: the fixture report is read once from S3 via DescribeProcessingJob, one finding for the endpoint, not re-sent', async () => {
    const report = await import('../fixtures/model-monitor/data-quality-constraint_violations.json', {
      with: { type: 'json' },
    });
    const outputUri = `s3://${reportBucket}/monitor/churn/churn-dq/${hourPath(lastHour)}`;
    await put(
      reportBucket,
      `monitor/churn/churn-dq/${hourPath(lastHour)}/constraint_violations.json`,
      JSON.stringify(report.default),
    );
    const sm = sageMakerClient(region);
    const created = await sm.send(
      new CreateProcessingJobCommand({
        ProcessingJobName: jobName,
        RoleArn: 'arn:aws:iam::123456789012:role/monitor',
        AppSpecification: {
          ImageUri: '156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer',
        },
        ProcessingResources: {
          ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.m5.xlarge', VolumeSizeInGB: 20 },
        },
        ProcessingOutputConfig: {
          Outputs: [
            {
              OutputName: 'result',
              S3Output: {
                S3Uri: outputUri,
                LocalPath: '/opt/ml/processing/resultdata',
                S3UploadMode: 'EndOfJob',
              },
            },
          ],
        },
      }),
    );
    processingJobArn = created.ProcessingJobArn ?? '';
    expect(processingJobArn).toContain(jobName);

    const smMock = mockClient(sm);
    smMock.callsFake(() => {
      throw new Error('unexpected SageMaker call');
    });
    // Passed through to moto by a second, unmocked client (this aws-sdk-client-mock has no callThrough).
    const moto = new SageMakerClient({ region });
    smMock
      .on(DescribeProcessingJobCommand)
      .callsFake((input) => moto.send(new DescribeProcessingJobCommand(input)));
    smMock.on(ListMonitoringSchedulesCommand).resolves({
      MonitoringScheduleSummaries: [
        {
          MonitoringScheduleName: 'churn-dq',
          MonitoringScheduleArn: 'arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/churn-dq',
          CreationTime: new Date(lastHour - 48 * HOUR_MS),
          LastModifiedTime: new Date(lastHour),
          MonitoringScheduleStatus: 'Scheduled',
        },
      ],
    });
    smMock.on(DescribeMonitoringScheduleCommand).resolves({
      MonitoringScheduleName: 'churn-dq',
      MonitoringScheduleArn: 'arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/churn-dq',
      MonitoringScheduleStatus: 'Scheduled',
      MonitoringType: 'DataQuality',
      EndpointName: 'churn',
      CreationTime: new Date(lastHour - 48 * HOUR_MS),
      LastModifiedTime: new Date(lastHour),
      MonitoringScheduleConfig: { ScheduleConfig: { ScheduleExpression: 'cron(0 * ? * * *)' } },
    });
    smMock.on(ListMonitoringExecutionsCommand).resolves({
      MonitoringExecutionSummaries: [
        {
          MonitoringScheduleName: 'churn-dq',
          ScheduledTime: new Date(lastHour),
          CreationTime: new Date(lastHour),
          LastModifiedTime: new Date(lastHour + 900_000),
          MonitoringExecutionStatus: 'CompletedWithViolations',
          ProcessingJobArn: processingJobArn,
          EndpointName: 'churn',
          MonitoringType: 'DataQuality',
        },
      ],
    });
    try {
      process.env[ENV.driftConfig] = JSON.stringify({
        endpoints: [{ name: 'churn', modelMonitor: true, modelMonitorReportsS3Uri: 's3://reports/monitor' }],
      });
      resetDriftRuntime();
      const handler = makeHandler(buildDriftRuntime);
      const first = await handler({}, context);
      expect(first.endpoints[0]).toMatchObject({ modelMonitor: 'ok', executionsNew: 1, reportsRead: 1 });
      const findings = await receiveAll();
      expect(findings.map((f) => [f.kind, f.labels.endpoint, f.labels.feature])).toEqual([
        ['model.drift.data_quality', 'churn', undefined],
      ]);
      expect(findings[0]?.evidence.values).toMatchObject({
        features_drifted: 3,
        'Night Calls.distance': 0.2701,
        'Day Mins.distance': 0.27,
        'Account Length.observed_pct': 0,
      });
      expect(smMock.commandCalls(DescribeProcessingJobCommand)).toHaveLength(1);

      // Second run (a fresh container: state comes from DynamoDB): nothing new is sent or read.
      resetDriftRuntime();
      const second = await makeHandler(buildDriftRuntime)({}, context);
      expect(second.endpoints[0]).toMatchObject({ modelMonitor: 'ok', executionsNew: 0, reportsRead: 0 });
      expect(await receiveAll()).toEqual([]);
      expect(smMock.commandCalls(DescribeProcessingJobCommand)).toHaveLength(1);
    } finally {
      smMock.restore();
    }
  });
});
