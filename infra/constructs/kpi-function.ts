import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import type { AnomalyAlarmConfig } from '../../lambdas/contracts/config';
import { ENV } from '../../lambdas/contracts/env';
import { KPI_NAMESPACE, KPIS, NORTH_STAR } from '../../lambdas/contracts/kpis';
import { acknowledgeNag, iam5ResourceFinding } from '../nag';
import { FleetWatchFunction } from './fleetwatch-function';
import type { InvocationSchedules } from './invocation-schedules';
import type { StateStores } from './state-stores';

/** Key prefix of the per-window usage records (lambdas/wiring/kpis.ts KPI_USAGE_PREFIX). */
export const KPI_USAGE_PREFIX = 'kpi/usage/';
/** Object of the KPI state (S3StateStore key 'kpi/state', lambdas/app/compute-kpis.ts). */
export const KPI_STATE_OBJECT = 'kpi/state.json.gz';
/** Name of the north-star anomaly alarm (`<stack>-anomaly-kpi-goodput`, kind `alarm.kpi_goodput`). */
export const NORTH_STAR_ALARM_NAME = 'kpi-goodput';

export interface KpiFunctionProps {
  /** Bucket of the usage records and the KPI state (the detection state bucket). */
  readonly bucket: s3.IBucket;
  /** The jobs table, queried through its active-jobs and modified-by-day indexes only. */
  readonly stores: Pick<StateStores, 'jobsTable' | 'grantQueryJobIndexes'>;
  /** Where kpi.goodput_drop findings go (the incident queue). */
  readonly findingsQueue: sqs.IQueue;
  readonly schedules: InvocationSchedules;
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  /** @default Duration.hours(1) */
  readonly every?: Duration;
  /** @default Duration.minutes(5) */
  readonly timeout?: Duration;
  /**
   * A day of usage records at 12,000 GPUs is ~300 MB of JSON parsed record by record (ADR 0010);
   * 1769 MB is one full vCPU.
   * @default 1769
   */
  readonly memorySize?: number;
}

/**
 * The compute-kpis Lambda (lambdas/handlers/compute-kpis.ts) on an hourly EventBridge Scheduler
 * schedule. It reads the usage records the detection run writes, emits the KPIs as EMF
 * (namespace FleetWatch/KPI) and sends kpi.goodput_drop findings to the incident queue.
 *
 * IAM, least privilege:
 *   s3:GetObject     <bucket>/kpi/usage/*                 (the records)
 *   s3:GetObject, s3:PutObject  <bucket>/kpi/state.json.gz (the drop test's snapshots; Head is GetObject)
 *   s3:ListBucket    <bucket>, s3:prefix kpi/usage/* and kpi/state* (listing the hours; a missing
 *                    state object is then a 404, not a 403)
 *   dynamodb:Query   the jobs table's active and modified indexes
 *   sqs:SendMessage  the findings queue; kms Decrypt/GenerateDataKey of the stack key (CDK grants)
 * Reserved concurrency 1: the single writer of kpi/state.
 */
export class KpiFunction extends Construct {
  readonly function: FleetWatchFunction;
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: KpiFunctionProps) {
    super(scope, id);
    const every = props.every ?? Duration.hours(1);
    this.function = new FleetWatchFunction(this, 'ComputeKpis', {
      handlerName: 'compute-kpis',
      description: 'Goodput north star and supporting KPIs (EMF), goodput-drop decomposition findings',
      timeout: props.timeout ?? Duration.minutes(5),
      memorySize: props.memorySize ?? 1769,
      reservedConcurrentExecutions: 1,
      environment: {
        [ENV.jobsTable]: props.stores.jobsTable.tableName,
        [ENV.detectionStateBucket]: props.bucket.bucketName,
        [ENV.findingsQueueUrl]: props.findingsQueue.queueUrl,
      },
      logRetention: props.logRetention,
      encryptionKey: props.encryptionKey,
    });
    this.function.function.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: Duration.seconds(Math.min(every.toSeconds(), 6 * 3600)),
    });
    props.stores.grantQueryJobIndexes(this.function);
    props.findingsQueue.grantSendMessages(this.function);
    this.grantBucket(props.bucket, props.encryptionKey);

    this.schedule = props.schedules.addRateSchedule('ComputeKpisSchedule', {
      target: this.function.function,
      every,
      description: `FleetWatch: compute KPIs every ${every.toHumanString()}`,
    });
  }

  private grantBucket(bucket: s3.IBucket, key: kms.IKey): void {
    const records = bucket.arnForObjects(`${KPI_USAGE_PREFIX}*`);
    const state = bucket.arnForObjects(KPI_STATE_OBJECT);
    acknowledgeNag(this.function, {
      id: iam5ResourceFinding(this.function, records),
      reason: `Usage records under ${KPI_USAGE_PREFIX}: one object per detection window, keys named by time`,
    });
    iam.Grant.addToPrincipal({ grantee: this.function, actions: ['s3:GetObject'], resourceArns: [records] });
    iam.Grant.addToPrincipal({
      grantee: this.function,
      actions: ['s3:GetObject', 's3:PutObject'],
      resourceArns: [state],
    });
    iam.Grant.addToPrincipal({
      grantee: this.function,
      actions: ['s3:ListBucket'],
      resourceArns: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${KPI_USAGE_PREFIX}*`, 'kpi/state*'] } },
    });
    key.grant(this.function, 'kms:Decrypt', 'kms:GenerateDataKey');
  }
}

/**
 * PutObject on the usage records only, for the function whose detection run writes them (the
 * collector), plus GenerateDataKey of the bucket key.
 */
export function grantWriteUsageRecords(
  grantee: iam.IGrantable & IConstruct,
  bucket: s3.IBucket,
  key: kms.IKey,
): void {
  const records = bucket.arnForObjects(`${KPI_USAGE_PREFIX}*`);
  acknowledgeNag(grantee, {
    id: iam5ResourceFinding(grantee, records),
    reason: `Usage records under ${KPI_USAGE_PREFIX}: one object per detection window, keys named by time`,
  });
  iam.Grant.addToPrincipal({ grantee, actions: ['s3:PutObject'], resourceArns: [records] });
  key.grant(grantee, 'kms:GenerateDataKey');
}

/**
 * The north-star anomaly alarm as one more anomaly-alarm entry, so it is built, trained without
 * maintenance windows, muted and routed exactly like the configured ones (AnomalyAlarms, the
 * EventBridge rule to the findings queue, the router's severity and cause lookup):
 *
 *   FleetWatch/KPI Goodput (fleet, no dimensions), hourly Average, lower side of a 2σ band,
 *   3 of 3 hours below → `alarm.kpi_goodput`, severity from the catalogue's alert intent
 *   (ticket), cause efficiency, runbook docs/runbooks/kpi.goodput_drop.md.
 *
 * Only the lower side: a goodput drop is the problem; more goodput than usual is not. The
 * decomposition finding (kpi.goodput_drop, from compute-kpis) says which category took it.
 */
export function northStarAlarm(): AnomalyAlarmConfig {
  const def = KPIS[NORTH_STAR];
  return {
    name: NORTH_STAR_ALARM_NAME,
    namespace: KPI_NAMESPACE,
    metricName: def.metricName,
    stat: 'Average',
    periodSeconds: 3600,
    stdDevs: 2,
    direction: 'below',
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    severity: def.alertIntent === 'page' ? 'page' : def.alertIntent === 'ticket' ? 'ticket' : 'info',
    cause: 'efficiency',
    runbook: 'docs/runbooks/kpi.goodput_drop.md',
  };
}

/** The configured anomaly alarms plus the north-star alarm; a configured alarm of the same name is an error. */
export function withNorthStarAlarm(alarms: readonly AnomalyAlarmConfig[]): AnomalyAlarmConfig[] {
  if (alarms.some((a) => a.name === NORTH_STAR_ALARM_NAME)) {
    throw new Error(
      `anomalyAlarms: the name "${NORTH_STAR_ALARM_NAME}" is reserved for the north-star goodput alarm the stack creates; rename the configured alarm`,
    );
  }
  return [...alarms, northStarAlarm()];
}
