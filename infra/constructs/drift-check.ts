import { Aws, Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type DriftConfig, parseS3Uri } from '../../lambdas/contracts/drift-config';
import { ENV } from '../../lambdas/contracts/env';
import { acknowledgeNag, iam5ResourceFinding } from '../nag';
import { FleetWatchFunction } from './fleetwatch-function';
import type { InvocationSchedules } from './invocation-schedules';

export interface DriftCheckProps {
  /** config.drift with every endpoint's region resolved (resolveDriftConfig); at least one endpoint. */
  readonly drift: DriftConfig;
  /** Single-writer state (drift/state: executions already reported). */
  readonly stateTable: dynamodb.ITable;
  /** Where findings go. */
  readonly findingsQueue: sqs.IQueue;
  readonly schedules: InvocationSchedules;
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  /** @default Duration.minutes(5) */
  readonly timeout?: Duration;
  /** @default 1024 (Data Capture windows and baselines are parsed in memory) */
  readonly memorySize?: number;
}

/**
 * The check-drift function and its schedule: Model Monitor results and FleetWatch's own Data
 * Capture drift check for the configured endpoints (lambdas/app/check-drift.ts).
 *
 * IAM is least privilege and derived from the config:
 *   sagemaker:ListMonitoringSchedules/ListMonitoringExecutions  "*" (no resource-level permissions)
 *   sagemaker:DescribeMonitoringSchedule                        monitoring-schedule/* per region
 *   sagemaker:DescribeProcessingJob (where reports are)          processing-job/* per region
 *   s3:GetObject    <capture prefix>/<endpoint>/*, the baseline object, <reports prefix>/*
 *   s3:ListBucket   the capture and report buckets, only under those prefixes (s3:prefix
 *                   condition): Data Capture is found by listing, reports are looked up by
 *                   listing too (a GetObject on a missing key would be AccessDenied, not 404)
 * plus SendMessage on the findings queue and read/write on the state table (CDK grants, which
 * add the FleetWatch key). Buckets encrypted with a customer managed key of their own need
 * kms:Decrypt for this role in that key's policy.
 */
export class DriftCheck extends Construct {
  readonly function: FleetWatchFunction;
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: DriftCheckProps) {
    super(scope, id);
    const { drift } = props;
    if (drift.endpoints.length === 0) {
      throw new Error(
        `${this.node.path}: DriftCheck needs at least one drift endpoint; create it only when drift.endpoints is non-empty`,
      );
    }
    this.function = new FleetWatchFunction(this, 'CheckDrift', {
      handlerName: 'check-drift',
      description: 'Model drift of SageMaker endpoints: Model Monitor results and own Data Capture checks',
      timeout: props.timeout ?? Duration.minutes(5),
      memorySize: props.memorySize ?? 1024,
      // Single writer of drift/state.
      reservedConcurrentExecutions: 1,
      environment: {
        [ENV.driftConfig]: JSON.stringify(drift),
        [ENV.stateTable]: props.stateTable.tableName,
        [ENV.findingsQueueUrl]: props.findingsQueue.queueUrl,
      },
      logRetention: props.logRetention,
      encryptionKey: props.encryptionKey,
    });
    const every = Duration.minutes(drift.scheduleMinutes);
    this.function.function.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: Duration.seconds(Math.min(every.toSeconds(), 6 * 3600)),
    });
    props.stateTable.grantReadWriteData(this.function);
    props.findingsQueue.grantSendMessages(this.function);
    this.grantModelMonitor(drift.endpoints);
    this.grantS3(drift.endpoints);

    this.schedule = props.schedules.addRateSchedule('CheckDriftSchedule', {
      target: this.function.function,
      every,
      description: `FleetWatch: check model drift of ${drift.endpoints.length} endpoint(s) every ${drift.scheduleMinutes} min`,
    });
  }

  private grantModelMonitor(endpoints: DriftConfig['endpoints']): void {
    const regions = [
      ...new Set(endpoints.filter((e) => e.modelMonitor).map((e) => e.region as string)),
    ].sort();
    if (regions.length === 0) return;
    const stack = Stack.of(this);
    const arns = (resource: string) =>
      regions.map((region) => stack.formatArn({ service: 'sagemaker', region, resource, resourceName: '*' }));
    const schedules = arns('monitoring-schedule');
    const jobs = arns('processing-job');
    acknowledgeNag(
      this.function,
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'sagemaker:ListMonitoringSchedules and sagemaker:ListMonitoringExecutions have no resource-level permissions; "*" is the only possible resource',
      },
      ...[...schedules, ...jobs].map((arn) => ({
        id: iam5ResourceFinding(stack, arn),
        reason:
          'DescribeMonitoringSchedule / DescribeProcessingJob on this account in a drift endpoint region: schedule and job names are only known from the listings',
      })),
    );
    iam.Grant.addToPrincipal({
      grantee: this.function,
      actions: ['sagemaker:ListMonitoringSchedules', 'sagemaker:ListMonitoringExecutions'],
      resourceArns: ['*'],
    });
    iam.Grant.addToPrincipal({
      grantee: this.function,
      actions: ['sagemaker:DescribeMonitoringSchedule'],
      resourceArns: schedules,
    });
    iam.Grant.addToPrincipal({
      grantee: this.function,
      actions: ['sagemaker:DescribeProcessingJob'],
      resourceArns: jobs,
    });
  }

  /** GetObject on exact prefixes; ListBucket per bucket limited to those prefixes. */
  private grantS3(endpoints: DriftConfig['endpoints']): void {
    const objects = new Set<string>();
    const listPrefixes = new Map<string, Set<string>>();
    const add = (uri: string, exact: boolean) => {
      const { bucket, key } = parseS3Uri(uri);
      const prefix = key.replace(/\/+$/, '');
      const objectPattern = exact ? prefix : prefix === '' ? '*' : `${prefix}/*`;
      objects.add(`${bucket}/${objectPattern}`);
      // The baseline is read by its exact key, never listed.
      if (exact) return;
      const set = listPrefixes.get(bucket) ?? new Set<string>();
      set.add(objectPattern);
      if (prefix !== '') set.add(`${prefix}/`);
      listPrefixes.set(bucket, set);
    };
    for (const e of endpoints) {
      if (e.modelMonitor && e.modelMonitorReportsS3Uri) add(e.modelMonitorReportsS3Uri, false);
      if (e.dataCapture) {
        add(`${e.dataCapture.s3Uri.replace(/\/+$/, '')}/${e.name}`, false);
        add(e.dataCapture.baselineS3Uri, true);
      }
    }
    if (objects.size === 0) return;
    const objectArns = [...objects].sort().map((o) => `arn:${Aws.PARTITION}:s3:::${o}`);
    acknowledgeNag(
      this.function,
      ...objectArns
        .filter((arn) => arn.includes('*'))
        .map((arn) => ({
          id: iam5ResourceFinding(this, arn),
          reason:
            's3:GetObject under one configured Data Capture or Model Monitor report prefix: object keys are date-partitioned and created by SageMaker',
        })),
    );
    iam.Grant.addToPrincipal({ grantee: this.function, actions: ['s3:GetObject'], resourceArns: objectArns });
    for (const [bucket, prefixes] of [...listPrefixes].sort(([a], [b]) => a.localeCompare(b))) {
      this.function.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [`arn:${Aws.PARTITION}:s3:::${bucket}`],
          conditions: { StringLike: { 's3:prefix': [...prefixes].sort() } },
        }),
      );
    }
  }
}
