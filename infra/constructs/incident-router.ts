import { gzipSync } from 'node:zlib';
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { AnomalyAlarmConfig, MaintenanceWindow } from '../../lambdas/contracts/config';
import { ENV } from '../../lambdas/contracts/env';
import type { Workflow } from '../../lambdas/contracts/incident';
import type { IncidentsConfig } from '../../lambdas/contracts/incidents-config';
import { STATE_MACHINE_ARN_ENV_OF_WORKFLOW } from '../../lambdas/contracts/notifications-config';
import { FleetWatchFunction } from './fleetwatch-function';
import { INCIDENTS_TABLE, type IncidentsTable } from './incidents-table';
import type { InvocationSchedules } from './invocation-schedules';
import type { NotificationTopics } from './notification-topics';
import type { Remediation } from './remediation';

/** Shape of ENV.routerConfig (parsed by lambdas/wiring/router.ts routerConfigSchema). */
export interface RouterSettings {
  readonly stackName: string;
  readonly incidents: IncidentsConfig;
  readonly anomalyAlarms: readonly AnomalyAlarmConfig[];
  readonly maintenance: readonly MaintenanceWindow[];
  /** config.runbookBaseUrl: notification runbook links point there when it is an http(s) URL. */
  readonly runbookBaseUrl?: string;
}

export interface IncidentRouterProps {
  readonly settings: RouterSettings;
  readonly incidentsTable: IncidentsTable;
  readonly topics: NotificationTopics;
  readonly remediation: Remediation;
  /** The FindingsQueue (detection run findings and alarm state-change events). */
  readonly findingsQueue: sqs.IQueue;
  /** Its dead-letter queue: malformed messages are sent there with a reason. */
  readonly deadLetterQueue: sqs.IQueue;
  readonly schedules: InvocationSchedules;
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
}

/** Router timeout; the FindingsQueue's visibility timeout (3 min) is six times this. */
export const ROUTE_TIMEOUT = Duration.seconds(30);
export const SWEEP_TIMEOUT = Duration.seconds(60);
/**
 * Batching window: one detection run publishes its findings within a second or two, so a few
 * seconds of batching brings them to the router together (grouping and inhibition see them in
 * one batch). SQS event sources allow up to 10,000 records per batch with a window.
 */
export const ROUTE_BATCH_WINDOW = Duration.seconds(5);
export const ROUTE_BATCH_SIZE = 100;
/** Event source maximum concurrency (2 is the lowest SQS event sources accept). */
export const ROUTE_MAX_CONCURRENCY = 2;

/**
 * The incident router: route-incidents (SQS consumer of the FindingsQueue, partial batch
 * failures) and sweep-incidents (every minute).
 *
 * Concurrency: incident writes are optimistic (versioned conditional writes), so concurrent
 * writers are correct; what one writer buys is determinism of grouping and inhibition, which
 * the batching window already gives (a detection run's findings arrive in one batch). The
 * router is therefore NOT given reserved concurrency 1: with an SQS event source, throttled
 * invocations return the batch to the queue and count as receives, so a busy router would
 * dead-letter valid findings after maxReceiveCount. Instead the event source's maximum
 * concurrency is 2 (its minimum), which bounds parallel batches without throttling. The sweep
 * (scheduled) has reserved concurrency 1: two sweeps at once would only fight over versions.
 *
 * IAM: GetItem/UpdateItem on the incidents table and Query on its status index (the stores
 * write with UpdateItem only), sns:Publish on the three topics, states:StartExecution on the
 * remediation machines, sqs:SendMessage on the findings DLQ (route only), and the key.
 */
export class IncidentRouter extends Construct {
  readonly route: FleetWatchFunction;
  readonly sweep: FleetWatchFunction;

  constructor(scope: Construct, id: string, props: IncidentRouterProps) {
    super(scope, id);
    const machines = props.remediation;
    const table = props.incidentsTable.table;
    const environment: Record<string, string> = {
      [ENV.routerConfig]: encodeRouterSettings(props.settings),
      [ENV.incidentsTable]: props.incidentsTable.table.tableName,
      [ENV.deadLetterQueueUrl]: props.deadLetterQueue.queueUrl,
      [ENV.pageTopicArn]: props.topics.topic('page').topicArn,
      [ENV.ticketTopicArn]: props.topics.topic('ticket').topicArn,
      [ENV.infoTopicArn]: props.topics.topic('info').topicArn,
    };
    // One ARN variable per router workflow whose state machine exists (retrain only with drift).
    for (const [workflow, envKey] of Object.entries(STATE_MACHINE_ARN_ENV_OF_WORKFLOW)) {
      const machine = machines.stateMachineFor(workflow as Workflow);
      if (machine) environment[ENV[envKey]] = machine.stateMachineArn;
    }
    const common = {
      environment,
      encryptionKey: props.encryptionKey,
      logRetention: props.logRetention,
      memorySize: 512,
    };
    this.route = new FleetWatchFunction(this, 'RouteIncidents', {
      ...common,
      handlerName: 'route-incidents',
      description: 'Findings and alarm state changes to incidents, suppression decisions, notifications',
      timeout: ROUTE_TIMEOUT,
    });
    this.route.function.addEventSource(
      new lambdaEventSources.SqsEventSource(props.findingsQueue, {
        batchSize: ROUTE_BATCH_SIZE,
        maxBatchingWindow: ROUTE_BATCH_WINDOW,
        maxConcurrency: ROUTE_MAX_CONCURRENCY,
        reportBatchItemFailures: true,
      }),
    );
    props.deadLetterQueue.grantSendMessages(this.route);

    this.sweep = new FleetWatchFunction(this, 'SweepIncidents', {
      ...common,
      handlerName: 'sweep-incidents',
      description: 'Resolves quiet incidents, notifies after windows end, re-notifies open pages',
      timeout: SWEEP_TIMEOUT,
      reservedConcurrentExecutions: 1,
    });
    // A missed sweep is superseded by the next minute's.
    this.sweep.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.seconds(60) });
    props.schedules.addRateSchedule('SweepIncidentsSchedule', {
      target: this.sweep.function,
      every: Duration.minutes(1),
      description: 'FleetWatch: incident sweep every minute',
    });

    for (const fn of [this.route, this.sweep]) {
      // GetItem/UpdateItem on the table, Query on the status index: named ARNs, no wildcard.
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
          resources: [table.tableArn, `${table.tableArn}/index/${INCIDENTS_TABLE.statusIndex}`],
        }),
      );
      props.encryptionKey.grant(fn, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey');
      for (const severity of ['page', 'ticket', 'info'] as const)
        props.topics.topic(severity).grantPublish(fn);
      for (const machine of Object.values(machines.stateMachines)) machine.grantStartExecution(fn);
    }
  }
}

/**
 * The settings as `gz:<base64 of gzip'd JSON>`: the incidents section with its defaults (kind
 * lifecycles, inhibition rules, remediation policies) is ~3 KB of JSON, and Lambda allows 4 KB
 * of environment in total; gzip brings it to about a third. lambdas/wiring/router.ts decodes it.
 */
export function encodeRouterSettings(settings: RouterSettings): string {
  return `gz:${gzipSync(JSON.stringify(settings), { level: 9 }).toString('base64')}`;
}
