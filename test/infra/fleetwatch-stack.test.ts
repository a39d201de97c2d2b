import { type CfnElement, CfnResource, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import type { FleetWatchFunction } from '../../infra/constructs/fleetwatch-function';
import { parseRuntimeConfig, runtimeConfigFrom } from '../../lambdas/contracts/config';
import { ENV } from '../../lambdas/contracts/env';
import { METRICS_NAMESPACE } from '../../lambdas/contracts/metrics';
import { exampleConfig, synthFleetWatch } from './support/synth';

// One synth for the whole file.
const config = exampleConfig();
const { stacks, home } = synthFleetWatch(config);
const stack = stacks.home;

function ref(construct: IConstruct): string {
  const element = CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild;
  return stack.getLogicalId(element as CfnElement);
}
const getAtt = (construct: IConstruct, attribute = 'Arn') => ({ 'Fn::GetAtt': [ref(construct), attribute] });
const keyArn = () => ({
  'Fn::GetAtt': [stack.getLogicalId(stack.encryptionKey.key.node.defaultChild as CfnElement), 'Arn'],
});

describe('FleetWatch home stack: environment and inventory', () => {
  it('is pinned to the home region and leaves the account unresolved (synth needs no credentials)', () => {
    expect(stack.region).toBe('us-east-1');
    expect(Stack.of(stack).resolve(stack.account)).toEqual({ Ref: 'AWS::AccountId' });
    expect(stack.stackName).toBe('FleetWatch');
  });

  it('contains exactly the expected resources', () => {
    const expected: Record<string, number> = {
      'AWS::KMS::Key': 1,
      'AWS::KMS::Alias': 1,
      // State, jobs, incidents (+ silences, maintenance windows, changes).
      'AWS::DynamoDB::Table': 3,
      'AWS::Timestream::Database': 1,
      'AWS::Timestream::Table': 2,
      // Timestream rejected data, detection state.
      'AWS::S3::Bucket': 2,
      'AWS::S3::BucketPolicy': 2,
      // Job events, schedule DLQ, findings (+ DLQ).
      'AWS::SQS::Queue': 5,
      'AWS::SQS::QueuePolicy': 5,
      // Job state changes, anomaly alarm state changes.
      'AWS::Events::Rule': 2,
      // One detector per configured anomaly alarm (two in the example) + the north-star goodput.
      'AWS::CloudWatch::AnomalyDetector': 2 + 1,
      // Three anomaly alarms + 18 pipeline alarms (heartbeat, lag, data lost, publish and notify
      // failures, and one per function, DLQ and state machine).
      'AWS::CloudWatch::Alarm': 3 + 18,
      // The example's one-off maintenance window mutes the fleet-facing (anomaly) alarms.
      'AWS::CloudWatch::AlarmMuteRule': 1,
      // collect, ingest, reconcile, route-incidents, sweep-incidents, compute-kpis (no drift
      // endpoints configured).
      'AWS::Lambda::Function': 6,
      'AWS::Lambda::EventSourceMapping': 2,
      'AWS::Lambda::EventInvokeConfig': 4,
      // One per function + the state machines' encrypted execution log group.
      'AWS::Logs::LogGroup': 6 + 1,
      'AWS::IAM::Role': 10,
      'AWS::IAM::Policy': 16,
      // collect, reconcile, sweep, compute-kpis.
      'AWS::Scheduler::Schedule': 4,
      // page / ticket / info, with the example's email subscriptions.
      'AWS::SNS::Topic': 3,
      'AWS::SNS::TopicPolicy': 3,
      'AWS::SNS::Subscription': 6,
      // stop-training-job, quarantine-node, retrain-on-drift.
      'AWS::StepFunctions::StateMachine': 3,
      // Fleet overview, GPU health, jobs and SLA, incidents, model drift, FleetWatch health.
      'AWS::CloudWatch::Dashboard': 6,
    };
    const actual: Record<string, number> = {};
    for (const resource of Object.values(home.toJSON().Resources as Record<string, { Type: string }>)) {
      actual[resource.Type] = (actual[resource.Type] ?? 0) + 1;
    }
    expect(actual).toEqual(expected);
  });

  it('says in its description that Timestream for LiveAnalytics is closed to new customers', () => {
    expect(home.toJSON().Description).toMatch(/closed to new AWS customers since 2025-06-20/);
    home.hasOutput('TelemetrySinkNotice', { Value: Match.stringLikeRegexp('closed to new AWS customers') });
  });
});

describe('customer-managed key', () => {
  it('rotates and is retained', () => {
    home.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true, RotationPeriodInDays: 365 },
      DeletionPolicy: 'Retain',
    });
    home.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/fleetwatch/data' });
  });

  it('lets CloudWatch Logs of this region use it for this account only', () => {
    home.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'logs.us-east-1.amazonaws.com' },
            Action: [
              'kms:Decrypt',
              'kms:DescribeKey',
              'kms:Encrypt',
              'kms:GenerateDataKey',
              'kms:GenerateDataKeyWithoutPlaintext',
              'kms:ReEncryptFrom',
              'kms:ReEncryptTo',
            ],
            Condition: {
              ArnLike: {
                'kms:EncryptionContext:aws:logs:arn': {
                  'Fn::Join': ['', ['arn:aws:logs:us-east-1:', { Ref: 'AWS::AccountId' }, ':log-group:*']],
                },
              },
            },
          }),
        ]),
      },
    });
  });

  it('lets EventBridge of this account write to the encrypted queues (and so to the DLQ)', () => {
    home.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'events.amazonaws.com' },
            Action: Match.arrayWith(['kms:Decrypt', 'kms:GenerateDataKey*']),
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ]),
      },
    });
  });
});

describe('DynamoDB state stores', () => {
  const common = {
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    BillingMode: 'PAY_PER_REQUEST',
    PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn() },
  };

  it('StateTable: pk, on demand, PITR, CMK, retained, no TTL', () => {
    expect(stack.stores.stateTable.node.id).toBe('StateTable');
    home.hasResource('AWS::DynamoDB::Table', {
      Properties: { ...common, TimeToLiveSpecification: Match.absent() },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('JobsTable: the same plus TTL on expiresAt and the two detector indexes', () => {
    expect(stack.stores.jobsTable.node.id).toBe('JobsTable');
    home.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        ...common,
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'active', AttributeType: 'S' },
          { AttributeName: 'modifiedDay', AttributeType: 'S' },
          { AttributeName: 'lastModifiedTime', AttributeType: 'N' },
        ],
        GlobalSecondaryIndexes: [
          Match.objectLike({ IndexName: 'active-jobs', Projection: { ProjectionType: 'ALL' } }),
          Match.objectLike({ IndexName: 'modified-by-day', Projection: { ProjectionType: 'ALL' } }),
        ],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });
});

describe('Timestream telemetry sink', () => {
  const sink = stack.telemetrySink;
  if (!sink) throw new Error('the example config uses the timestream sink');

  it('database named from config, encrypted with the CMK, retained', () => {
    home.hasResource('AWS::Timestream::Database', {
      Properties: { DatabaseName: config.sink.databaseName, KmsKeyId: keyArn() },
      DeletionPolicy: 'Retain',
    });
  });

  it.each(['gpu_metrics', 'training_jobs'])(
    '%s: retention from config, magnetic writes on with an S3 rejected-data location',
    (tableName) => {
      home.hasResource('AWS::Timestream::Table', {
        Properties: {
          DatabaseName: { Ref: ref(sink.database) },
          TableName: tableName,
          RetentionProperties: {
            MemoryStoreRetentionPeriodInHours: String(config.sink.memoryStoreRetentionHours),
            MagneticStoreRetentionPeriodInDays: String(config.sink.magneticStoreRetentionDays),
          },
          MagneticStoreWriteProperties: {
            EnableMagneticStoreWrites: true,
            MagneticStoreRejectedDataLocation: {
              S3Configuration: {
                BucketName: { Ref: ref(sink.rejectedDataBucket) },
                EncryptionOption: 'SSE_S3',
                ObjectKeyPrefix: `${tableName}/`,
              },
            },
          },
        },
        DeletionPolicy: 'Retain',
      });
    },
  );

  it('rejected-data bucket: encrypted, no public access, expiring, TLS only', () => {
    home.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: [Match.objectLike({ Status: 'Enabled', ExpirationInDays: 90 })],
      },
    });
    home.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: ref(sink.rejectedDataBucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('outputs the database name', () => {
    home.hasOutput('TimestreamDatabaseName', { Value: 'fleetwatch' });
    home.hasOutput('TelemetrySinkKind', { Value: 'timestream' });
  });
});

describe('job event ingress', () => {
  const ingress = stack.jobEvents;

  it('JobEventsDlq: CMK, 14 days', () => {
    expect(ingress.deadLetterQueue.node.id).toBe('JobEventsDlq');
    home.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: keyArn(),
      MessageRetentionPeriod: 14 * 24 * 3600,
      RedrivePolicy: Match.absent(),
    });
  });

  it('JobEventsQueue: CMK, redrive after 5 receives, visibility >= 6x the consumer timeout', () => {
    expect(ingress.queue.node.id).toBe('JobEventsQueue');
    const [queue] = Object.values(
      home.findResources('AWS::SQS::Queue', { Properties: { RedrivePolicy: Match.anyValue() } }),
    );
    expect(queue?.Properties).toMatchObject({
      KmsMasterKeyId: keyArn(),
      RedrivePolicy: { deadLetterTargetArn: getAtt(ingress.deadLetterQueue), maxReceiveCount: 5 },
    });
    const [ingest] = Object.values(
      home.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: { [ENV.serviceName]: 'ingest-job-events' } } },
      }),
    );
    const timeout = ingest?.Properties.Timeout as number;
    expect(queue?.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
  });

  it.each([
    ['JobEventsQueue', () => ingress.queue],
    ['JobEventsDlq', () => ingress.deadLetterQueue],
  ])('%s refuses requests without TLS', (_name, queue) => {
    home.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: ref(queue()) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('rule: SageMaker training job state changes to the queue, with a DLQ and retries', () => {
    home.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.sagemaker'], 'detail-type': ['SageMaker Training Job State Change'] },
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: getAtt(ingress.queue),
          DeadLetterConfig: { Arn: getAtt(ingress.deadLetterQueue) },
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
        }),
      ],
    });
  });

  it('EventBridge may send to the queue, and to the DLQ only from this rule', () => {
    home.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: ref(ingress.queue) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: Match.arrayWith(['sqs:SendMessage']),
          }),
        ]),
      },
    });
    home.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: ref(ingress.deadLetterQueue) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Condition: { ArnEquals: { 'aws:SourceArn': getAtt(ingress.rule) } },
          }),
        ]),
      },
    });
  });

  it('ingest consumes the queue in batches of 10 with partial batch failures', () => {
    home.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt(ingress.queue),
      FunctionName: { Ref: ref(stack.ingestJobEvents.function) },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });
});

describe.each<[string, () => FleetWatchFunction, { timeout: number; memory: number; reserved?: number }]>([
  ['collect-gpu-metrics', () => stack.collectGpuMetrics, { timeout: 300, memory: 2048, reserved: 1 }],
  ['ingest-job-events', () => stack.ingestJobEvents, { timeout: 30, memory: 512 }],
  ['reconcile-jobs', () => stack.reconcileJobs, { timeout: 300, memory: 512, reserved: 1 }],
])('function %s', (handlerName, fn, expected) => {
  const properties = () => {
    const found = Object.values(
      home.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: { [ENV.serviceName]: handlerName } } },
      }),
    );
    expect(found).toHaveLength(1);
    return found[0]?.Properties as Record<string, unknown>;
  };

  it('Node.js 22 on arm64, active tracing, its own role and log group', () => {
    expect(properties()).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      Timeout: expected.timeout,
      MemorySize: expected.memory,
      Role: getAtt(fn().role),
      LoggingConfig: { LogGroup: { Ref: ref(fn().logGroup) } },
    });
    expect(properties().ReservedConcurrentExecutions).toBe(expected.reserved);
  });

  it('log group: retention from config, CMK, retained', () => {
    const logGroups = home.findResources('AWS::Logs::LogGroup');
    expect(logGroups[ref(fn().logGroup)]).toMatchObject({
      Properties: { RetentionInDays: config.retention.logDays, KmsKeyId: keyArn() },
      DeletionPolicy: 'Retain',
    });
  });

  it('environment: Powertools, runtime config, tables and sink from contracts', () => {
    const variables = (properties().Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toMatchObject({
      [ENV.serviceName]: handlerName,
      [ENV.metricsNamespace]: METRICS_NAMESPACE,
      [ENV.stateTable]: { Ref: ref(stack.stores.stateTable) },
      [ENV.jobsTable]: { Ref: ref(stack.stores.jobsTable) },
      [ENV.sinkKind]: 'timestream',
      [ENV.timestreamDatabase]: 'fleetwatch',
      [ENV.timestreamGpuTable]: 'gpu_metrics',
      [ENV.timestreamJobsTable]: 'training_jobs',
    });
    // The runtime config round-trips through the Lambdas' own parser, compact (no whitespace).
    const json = variables[ENV.runtimeConfig] as string;
    expect(json).not.toMatch(/\n|": /);
    expect(parseRuntimeConfig(JSON.parse(json))).toEqual(runtimeConfigFrom(config));
    expect(variables[ENV.deadLetterQueueUrl]).toEqual(
      handlerName === 'ingest-job-events' ? { Ref: ref(stack.jobEvents.deadLetterQueue) } : undefined,
    );
  });

  it('role: assumed by Lambda only, no AWS managed policies', () => {
    const roles = home.findResources('AWS::IAM::Role');
    expect(roles[ref(fn().role)]?.Properties).toMatchObject({
      AssumeRolePolicyDocument: {
        Statement: [
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
        ],
      },
    });
    expect(roles[ref(fn().role)]?.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('may write only to its own log group', () => {
    home.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: ref(fn().role) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: getAtt(fn().logGroup),
          },
        ]),
      },
    });
  });
});

describe('function permissions (grants)', () => {
  const statementsOf = (fn: FleetWatchFunction) =>
    Object.values(home.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: ref(fn.role) }]))
      .flatMap(
        (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
      );
  const actionsOn = (fn: FleetWatchFunction, resource: unknown) =>
    statementsOf(fn)
      .filter((s) => JSON.stringify(s.Resource).includes(JSON.stringify(resource)))
      .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
  const sink = stack.telemetrySink;
  if (!sink) throw new Error('the example config uses the timestream sink');

  it('collector: state table, CloudWatch reads, GPU metrics writes; only Query on the jobs table indexes', () => {
    const fn = stack.collectGpuMetrics;
    expect(actionsOn(fn, getAtt(stack.stores.stateTable))).toContain('dynamodb:PutItem');
    // Detection reads jobs through the indexes only (test/infra/detection-state.test.ts has the ARNs).
    expect(actionsOn(fn, getAtt(stack.stores.jobsTable))).toEqual(['dynamodb:Query']);
    expect(actionsOn(fn, '*')).toEqual(
      expect.arrayContaining([
        'cloudwatch:GetMetricData',
        'cloudwatch:ListMetrics',
        'timestream:DescribeEndpoints',
      ]),
    );
    expect(actionsOn(fn, getAtt(sink.gpuMetricsTable))).toEqual(['timestream:WriteRecords']);
    expect(actionsOn(fn, getAtt(sink.trainingJobsTable))).toEqual([]);
  });

  it('ingest: jobs table, DLQ send, training job writes; no SageMaker, no CloudWatch', () => {
    const fn = stack.ingestJobEvents;
    // The job store's conditional PutItem and GetItem on the table, not its indexes.
    expect(actionsOn(fn, getAtt(stack.stores.jobsTable))).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(actionsOn(fn, getAtt(stack.jobEvents.deadLetterQueue))).toContain('sqs:SendMessage');
    expect(actionsOn(fn, getAtt(sink.trainingJobsTable))).toEqual(['timestream:WriteRecords']);
    const all = statementsOf(fn).flatMap((s) => s.Action);
    expect(all.filter((a) => /^(sagemaker|cloudwatch):/.test(String(a)))).toEqual([]);
  });

  it('reconcile: both tables, ListTrainingJobs, Describe/ListTags on training jobs of each fleet region', () => {
    const fn = stack.reconcileJobs;
    expect(actionsOn(fn, getAtt(stack.stores.jobsTable))).toContain('dynamodb:PutItem');
    expect(actionsOn(fn, getAtt(stack.stores.stateTable))).toContain('dynamodb:PutItem');
    expect(actionsOn(fn, '*')).toContain('sagemaker:ListTrainingJobs');
    const describe = statementsOf(fn).find((s) =>
      JSON.stringify(s.Action).includes('sagemaker:DescribeTrainingJob'),
    );
    expect(describe).toEqual({
      Effect: 'Allow',
      Action: ['sagemaker:DescribeTrainingJob', 'sagemaker:ListTags'],
      Resource: ['us-east-1', 'us-west-2'].map((region) => ({
        'Fn::Join': ['', [`arn:aws:sagemaker:${region}:`, { Ref: 'AWS::AccountId' }, ':training-job/*']],
      })),
    });
  });
});

describe('scheduled invocations', () => {
  const schedules = stack.schedules;

  it.each([
    ['collector', () => stack.collectGpuMetrics, `rate(${config.collection.cadenceMinutes} minutes)`, 300],
    ['reconcile', () => stack.reconcileJobs, `rate(${config.jobs.reconcileEveryMinutes} minutes)`, 900],
  ])('%s: rate from config, on time, retries with a DLQ', (_name, fn, expression, maxAge) => {
    home.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: expression,
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: getAtt(fn().function),
        RoleArn: getAtt(schedules.role),
        DeadLetterConfig: { Arn: getAtt(schedules.deadLetterQueue) },
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: maxAge },
      },
    });
    // Lambda drops a scheduled event it could not run before the next tick.
    home.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: ref(fn().function) },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: maxAge,
    });
  });

  it('schedule DLQ: CMK, 14 days, TLS only', () => {
    home.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: keyArn(),
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    home.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: ref(schedules.deadLetterQueue) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('scheduler role: trusted by Scheduler of this account; invokes the two functions, sends to the DLQ', () => {
    home.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
    });
    for (const statement of [
      Match.objectLike({
        Action: 'lambda:InvokeFunction',
        Resource: Match.arrayWith([
          getAtt(stack.collectGpuMetrics.function),
          getAtt(stack.reconcileJobs.function),
        ]),
      }),
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: getAtt(schedules.deadLetterQueue) },
      { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: keyArn() },
    ]) {
      home.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: ref(schedules.role) }],
        PolicyDocument: { Statement: Match.arrayWith([statement]) },
      });
    }
  });
});

describe('outputs', () => {
  it.each([
    ['StateTableName', () => ({ Ref: ref(stack.stores.stateTable) })],
    ['JobsTableName', () => ({ Ref: ref(stack.stores.jobsTable) })],
    ['JobEventsQueueUrl', () => ({ Ref: ref(stack.jobEvents.queue) })],
    ['JobEventsDlqUrl', () => ({ Ref: ref(stack.jobEvents.deadLetterQueue) })],
    ['ScheduleDlqUrl', () => ({ Ref: ref(stack.schedules.deadLetterQueue) })],
    ['FindingsQueueUrl', () => ({ Ref: ref(stack.findingsQueue) })],
    ['FindingsDlqUrl', () => ({ Ref: ref(stack.anomalyAlarms.deadLetterQueue) })],
    ['CollectGpuMetricsFunctionName', () => ({ Ref: ref(stack.collectGpuMetrics.function) })],
    ['IngestJobEventsFunctionName', () => ({ Ref: ref(stack.ingestJobEvents.function) })],
    ['ReconcileJobsFunctionName', () => ({ Ref: ref(stack.reconcileJobs.function) })],
  ])('%s', (id, value) => {
    home.hasOutput(id, { Value: value() });
  });
});
