import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { opsInsightsSum, opsMetric, serviceNameOf, shortIdOf } from './fleetwatch-metrics';

/**
 * What FleetWatch watches of itself. The stack passes whatever exists; a new function, DLQ or
 * state machine is one more list entry (test/infra/dashboards.test.ts fails when one is missing).
 */
export interface WatchedResources {
  /** FleetWatchFunction functions (their environment names their Powertools service). */
  readonly functions: readonly lambda.IFunction[];
  /** Dead-letter queues: any message in one is work FleetWatch dropped. */
  readonly deadLetterQueues: readonly sqs.IQueue[];
  /** State machines whose failed or timed-out executions need a human. */
  readonly stateMachines: readonly sfn.IStateMachine[];
  /** The collect-gpu-metrics function: heartbeat and lag come from its ops metrics. */
  readonly collector: lambda.IFunction;
}

/** Pipeline alarms page or open a ticket; nothing about FleetWatch's own health is info-only. */
export type PipelineSeverity = 'page' | 'ticket';

/** One row of the alarm table: the metric, the rule, who hears about it and what to read. */
export interface PipelineAlarmRow {
  /** Unique, stable: construct id and alarm-name suffix. */
  readonly id: string;
  /** What it means when it fires, one sentence. */
  readonly summary: string;
  readonly metric: cloudwatch.IMetric;
  readonly comparison: cloudwatch.ComparisonOperator;
  readonly threshold: number;
  readonly periods: number;
  /** @default periods (every period of the window breaches) */
  readonly datapointsToAlarm?: number;
  readonly treatMissingData: cloudwatch.TreatMissingData;
  /** Why that missing-data treatment (goes into the description, for the reader of the alarm). */
  readonly missingDataBecause: string;
  readonly severity: PipelineSeverity;
  /** Runbook name under the runbook base: `<base>/<runbook>.md`. */
  readonly runbook: string;
}

/** How an alarm reaches people: a strategy, so tests or a different pager can swap it. */
export interface AlarmActionStrategy {
  bind(alarm: cloudwatch.Alarm, severity: PipelineSeverity): void;
}

/**
 * Alarm and OK actions to the SNS topic of the row's severity. Direct to SNS on purpose: these
 * alarms report the router's own failure modes, so they must not depend on the router.
 */
export class SnsActionsBySeverity implements AlarmActionStrategy {
  constructor(private readonly topics: PipelineTopics) {}

  bind(alarm: cloudwatch.Alarm, severity: PipelineSeverity): void {
    const action = new cwActions.SnsAction(this.topics[severity]);
    alarm.addAlarmAction(action);
    // Recovery goes to the same people, so nobody keeps chasing a resolved page.
    alarm.addOkAction(action);
  }
}

export interface PipelineTopics {
  readonly page: sns.ITopic;
  readonly ticket: sns.ITopic;
}

export interface PipelineThresholds {
  /** @default 2 × collection cadence + settle + 5 minutes */
  readonly collectorLagTicketMinutes?: number;
  /** @default max(30, 2 × collectorLagTicketMinutes) */
  readonly collectorLagPageMinutes?: number;
  /** Consecutive collector cadences without a completed run before paging. @default 3 */
  readonly missedCollectorRuns?: number;
  /** Lambda errors / invocations, percent, over every one of `lambdaErrorPeriods` 5-minute periods. @default 5 */
  readonly lambdaErrorRatePercent?: number;
  /** @default 3 */
  readonly lambdaErrorPeriods?: number;
}

export interface PipelineAlarmsProps {
  readonly watched: WatchedResources;
  /** The notification topics (NotificationTopics); the actions strategy defaults to them. */
  readonly topics: PipelineTopics;
  /** @default SnsActionsBySeverity(topics) */
  readonly actions?: AlarmActionStrategy;
  /** config.collection.cadenceMinutes. */
  readonly collectionCadenceMinutes: number;
  /** config.collection.settleMinutes. */
  readonly collectionSettleMinutes: number;
  /** config.runbookBaseUrl: an http(s) URL or the repository-relative docs/runbooks. */
  readonly runbookBaseUrl: string;
  readonly thresholds?: PipelineThresholds;
}

/** Runbook of every pipeline alarm (docs/runbooks/fleetwatch.pipeline.md). */
export const PIPELINE_RUNBOOK = 'fleetwatch.pipeline';

const FIVE_MINUTES = Duration.minutes(5);
const { GREATER_THAN_THRESHOLD: ABOVE, LESS_THAN_THRESHOLD: BELOW } = cloudwatch.ComparisonOperator;
const { BREACHING, NOT_BREACHING } = cloudwatch.TreatMissingData;

/** Prefix of every pipeline alarm's name: `<stack>-pipeline-`. */
export function pipelineAlarmNamePrefix(stackName: string): string {
  return `${stackName}-pipeline-`;
}

/**
 * The table of pipeline alarms, as data: one row per condition and watched resource. Pure
 * function of the props, so the rows are testable without synthesizing.
 */
export function pipelineAlarmRows(props: PipelineAlarmsProps, stack: Stack): PipelineAlarmRow[] {
  const { watched } = props;
  const t = props.thresholds ?? {};
  const cadence = props.collectionCadenceMinutes;
  const lagTicket = t.collectorLagTicketMinutes ?? 2 * cadence + props.collectionSettleMinutes + 5;
  const lagPage = t.collectorLagPageMinutes ?? Math.max(30, 2 * lagTicket);
  if (lagPage <= lagTicket) {
    throw new Error(
      `pipeline alarms: collectorLagPageMinutes (${lagPage}) must be above collectorLagTicketMinutes (${lagTicket})`,
    );
  }
  const missedRuns = t.missedCollectorRuns ?? 3;
  if (cadence * missedRuns > 24 * 60) {
    throw new Error(
      `pipeline alarms: ${missedRuns} missed runs × ${cadence} min exceeds the one-day alarm window CloudWatch allows; lower missedCollectorRuns`,
    );
  }
  const errorRate = t.lambdaErrorRatePercent ?? 5;
  const errorPeriods = t.lambdaErrorPeriods ?? 3;
  const collector = serviceNameOf(watched.collector);
  const runbook = PIPELINE_RUNBOOK;
  const lag = () =>
    opsMetric('collectorLagSeconds', { service: collector, statistic: 'Maximum', period: FIVE_MINUTES });
  /** For counts that should always be zero: the first one in a 5-minute period opens a ticket. */
  const ticketOnFirstOccurrence = {
    comparison: ABOVE,
    threshold: 0,
    periods: 1,
    treatMissingData: NOT_BREACHING,
    severity: 'ticket',
    runbook,
  } as const;

  const rows: PipelineAlarmRow[] = [
    {
      id: 'collector-heartbeat',
      summary: `No completed collector run in ${missedRuns} consecutive ${cadence}-minute cadences: GPU telemetry and detection have stopped`,
      metric: opsMetric('collectorRuns', {
        service: collector,
        statistic: 'Sum',
        period: Duration.minutes(cadence),
      }),
      comparison: BELOW,
      threshold: 1,
      periods: missedRuns,
      treatMissingData: BREACHING,
      missingDataBecause: 'a collector that does not run publishes nothing, and that is exactly the failure',
      severity: 'page',
      runbook,
    },
    {
      id: 'collector-lag-ticket',
      summary: `Collector lag (now minus the oldest watermark) above ${lagTicket} min: data arrives late`,
      metric: lag(),
      comparison: ABOVE,
      threshold: lagTicket * 60,
      periods: 3,
      treatMissingData: NOT_BREACHING,
      missingDataBecause: 'no lag is published when no run completes, which the heartbeat alarm pages on',
      severity: 'ticket',
      runbook,
    },
    {
      id: 'collector-lag-page',
      summary: `Collector lag above ${lagPage} min: detection is blind for that long`,
      metric: lag(),
      comparison: ABOVE,
      threshold: lagPage * 60,
      periods: 2,
      treatMissingData: NOT_BREACHING,
      missingDataBecause: 'no lag is published when no run completes, which the heartbeat alarm pages on',
      severity: 'page',
      runbook,
    },
    {
      id: 'collector-data-lost',
      summary:
        'Missed minutes older than the backfill horizon: a gap in GPU telemetry that will not be repaired',
      metric: opsMetric('minutesBeyondHorizon', {
        service: collector,
        statistic: 'Sum',
        period: FIVE_MINUTES,
      }),
      missingDataBecause: 'the collector publishes the count only when it had to give minutes up',
      ...ticketOnFirstOccurrence,
    },
    {
      id: 'findings-publish-failed',
      summary: 'Findings could not be sent to the incident queue: detections are not reaching the router',
      metric: opsInsightsSum('findingsPublishFailed', { period: FIVE_MINUTES }),
      missingDataBecause: 'failures are counted only when they happen',
      ...ticketOnFirstOccurrence,
    },
    {
      id: 'notifications-failed',
      summary: 'The router could not publish notifications to SNS: people are not being told',
      metric: opsInsightsSum('notificationsFailed', { period: FIVE_MINUTES }),
      missingDataBecause: 'failures are counted only when they happen',
      ...ticketOnFirstOccurrence,
    },
  ];

  for (const fn of watched.functions) {
    const id = shortIdOf(fn, stack);
    const errors = fn.metricErrors({ statistic: 'Sum', period: FIVE_MINUTES });
    const invocations = fn.metricInvocations({ statistic: 'Sum', period: FIVE_MINUTES });
    rows.push({
      id: `${id}-error-rate`,
      summary: `${id}: more than ${errorRate}% of invocations failed in each of ${errorPeriods} consecutive 5-minute periods`,
      metric: new cloudwatch.MathExpression({
        expression: 'IF(invocations > 0, 100 * FILL(errors, 0) / invocations, 0)',
        usingMetrics: { errors, invocations },
        period: FIVE_MINUTES,
        label: `${id} error rate (%)`,
      }),
      comparison: ABOVE,
      threshold: errorRate,
      periods: errorPeriods,
      treatMissingData: NOT_BREACHING,
      missingDataBecause: 'no invocations means no errors; a stopped schedule is the heartbeat alarm’s job',
      severity: 'ticket',
      runbook,
    });
  }

  for (const queue of watched.deadLetterQueues) {
    const id = shortIdOf(queue, stack);
    rows.push({
      id: `${id}-depth`,
      summary: `${id}: messages in a dead-letter queue, i.e. work FleetWatch gave up on`,
      metric: queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: FIVE_MINUTES }),
      missingDataBecause: 'SQS stops publishing metrics for a queue that stays empty and inactive',
      ...ticketOnFirstOccurrence,
    });
  }

  for (const machine of watched.stateMachines) {
    const id = shortIdOf(machine, stack);
    rows.push({
      id: `${id}-failures`,
      summary: `${id}: state machine executions failed or timed out (a remediation did not finish)`,
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(failed, 0) + FILL(timedOut, 0)',
        usingMetrics: {
          failed: machine.metricFailed({ statistic: 'Sum', period: FIVE_MINUTES }),
          timedOut: machine.metricTimedOut({ statistic: 'Sum', period: FIVE_MINUTES }),
        },
        period: FIVE_MINUTES,
        label: `${id} failed + timed out`,
      }),
      missingDataBecause: 'no executions means no failures',
      ...ticketOnFirstOccurrence,
    });
  }

  const seen = new Set<string>();
  for (const row of rows) {
    if (seen.has(row.id)) {
      throw new Error(
        `pipeline alarms: two rows with id "${row.id}"; give the watched constructs distinct ids`,
      );
    }
    seen.add(row.id);
  }
  return rows;
}

/**
 * Alarms on FleetWatch itself, built from the pipeline alarm table (pipelineAlarmRows). Each
 * alarm's description says what fired, why missing data is treated the way it is, and links the
 * runbook; actions go by severity through the action strategy.
 */
export class PipelineAlarms extends Construct {
  readonly rows: readonly PipelineAlarmRow[];
  /** Alarms by row id. */
  readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;

  constructor(scope: Construct, id: string, props: PipelineAlarmsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const actions = props.actions ?? new SnsActionsBySeverity(props.topics);
    const base = props.runbookBaseUrl.replace(/\/+$/, '');
    this.rows = pipelineAlarmRows(props, stack);
    const alarms: Record<string, cloudwatch.Alarm> = {};
    for (const row of this.rows) {
      const alarm = new cloudwatch.Alarm(this, row.id, {
        alarmName: `${pipelineAlarmNamePrefix(stack.stackName)}${row.id}`,
        alarmDescription: describe(row, `${base}/${row.runbook}.md`),
        metric: row.metric,
        comparisonOperator: row.comparison,
        threshold: row.threshold,
        evaluationPeriods: row.periods,
        datapointsToAlarm: row.datapointsToAlarm ?? row.periods,
        treatMissingData: row.treatMissingData,
      });
      actions.bind(alarm, row.severity);
      alarms[row.id] = alarm;
    }
    this.alarms = alarms;
  }

  /** The alarms as a list (for dashboards). */
  get alarmList(): cloudwatch.Alarm[] {
    return Object.values(this.alarms);
  }
}

function describe(row: PipelineAlarmRow, runbookUrl: string): string {
  return [
    `[FleetWatch pipeline, ${row.severity}] ${row.summary}.`,
    `Runbook: ${runbookUrl}`,
    `Missing data: ${row.treatMissingData} (${row.missingDataBecause}).`,
  ]
    .join(' ')
    .slice(0, 1024);
}
