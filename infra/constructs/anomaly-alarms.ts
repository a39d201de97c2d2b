import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  anomalyAlarmName,
  anomalyAlarmNamePrefix,
  CLOUDWATCH_ALARM_STATE_CHANGE,
  CLOUDWATCH_EVENT_SOURCE,
} from '../../lambdas/contracts/alarm-event';
import { occurrencesOf } from '../../lambdas/contracts/calendar';
import type { AnomalyAlarmConfig, MaintenanceWindow } from '../../lambdas/contracts/config';

/** PutAnomalyDetector accepts at most this many excluded time ranges. */
export const MAX_EXCLUDED_TIME_RANGES = 10;

export interface AnomalyAlarmsProps {
  /** config.anomalyAlarms. */
  readonly alarms: readonly AnomalyAlarmConfig[];
  /** config.maintenance: left out of every detector's model training. */
  readonly maintenance: readonly MaintenanceWindow[];
  /** Customer-managed key of the findings queue and its DLQ. */
  readonly encryptionKey: kms.IKey;
  /**
   * Visibility timeout of the findings queue (six times the consumer's timeout, once it exists).
   * @default Duration.minutes(3)
   */
  readonly visibilityTimeout?: Duration;
  /**
   * Receives after which a message moves to the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
}

/**
 * CloudWatch anomaly-detection alarms on fleet-level aggregates, and the path of their state
 * changes to the incident router:
 *
 *   AnomalyDetector (trained without maintenance windows) ─► Alarm `<stack>-anomaly-<name>`
 *     ─(EventBridge "CloudWatch Alarm State Change", alarm ARN prefix)─► FindingsQueue ─► router
 *
 * The alarms have no actions: EventBridge is the delivery (CloudWatch guarantees those events),
 * so routing, silences and maintenance muting stay in one place, the router.
 */
export class AnomalyAlarms extends Construct {
  readonly detectors: cloudwatch.CfnAnomalyDetector[] = [];
  readonly alarms: cloudwatch.CfnAlarm[] = [];
  readonly findingsQueue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: AnomalyAlarmsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const excludedTimeRanges = excludedTimeRangesOf(props.maintenance);

    for (const a of props.alarms) {
      const dimensions = Object.entries(a.dimensions ?? {}).map(([name, value]) => ({ name, value }));
      const detector = new cloudwatch.CfnAnomalyDetector(this, `${a.name}-detector`, {
        singleMetricAnomalyDetector: {
          namespace: a.namespace,
          metricName: a.metricName,
          stat: a.stat,
          ...(dimensions.length > 0 ? { dimensions } : {}),
        },
        configuration: {
          // UTC: maintenance windows are absolute instants and FleetWatch's hour-of-week baselines
          // are UTC too; a local time zone would shift the learnt daily pattern at DST changes.
          metricTimeZone: 'UTC',
          ...(excludedTimeRanges.length > 0 ? { excludedTimeRanges } : {}),
        },
      });
      const alarm = new cloudwatch.CfnAlarm(this, `${a.name}-alarm`, {
        alarmName: anomalyAlarmName(stack.stackName, a.name),
        alarmDescription: alarmDescription(a),
        actionsEnabled: false,
        comparisonOperator: COMPARISON[a.direction],
        evaluationPeriods: a.evaluationPeriods,
        datapointsToAlarm: a.datapointsToAlarm,
        thresholdMetricId: 'ad1',
        // 'missing': when the aggregate stops arriving for the whole evaluation range the alarm
        // goes to INSUFFICIENT_DATA, which becomes an info finding. 'notBreaching' would turn a
        // blind monitor into a quiet "OK" (and resolve open incidents); 'breaching' would page an
        // anomaly for what is a collection gap, which the ops alarms already report.
        treatMissingData: 'missing',
        metrics: [
          {
            id: 'm1',
            returnData: true,
            metricStat: {
              metric: {
                namespace: a.namespace,
                metricName: a.metricName,
                ...(dimensions.length > 0 ? { dimensions } : {}),
              },
              period: a.periodSeconds,
              stat: a.stat,
            },
          },
          {
            id: 'ad1',
            returnData: true,
            expression: `ANOMALY_DETECTION_BAND(m1, ${a.stdDevs})`,
            label: `${a.metricName} (expected)`,
          },
        ],
      });
      // Create the model (with its exclusions) before the alarm, and delete the alarm first:
      // an evaluated alarm re-creates a missing detector, without our configuration.
      alarm.node.addDependency(detector);
      this.detectors.push(detector);
      this.alarms.push(alarm);
    }

    this.deadLetterQueue = new sqs.Queue(this, 'FindingsDlq', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.findingsQueue = new sqs.Queue(this, 'FindingsQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      visibilityTimeout: props.visibilityTimeout ?? Duration.minutes(3),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
    const alarmArnPrefix = stack.formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: anomalyAlarmNamePrefix(stack.stackName),
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.rule = new events.Rule(this, 'AlarmStateChangeRule', {
      description: 'State changes of the anomaly alarms this stack created, to the findings queue',
      eventPattern: {
        source: [CLOUDWATCH_EVENT_SOURCE],
        detailType: [CLOUDWATCH_ALARM_STATE_CHANGE],
        resources: events.Match.prefix(alarmArnPrefix),
      },
      targets: [
        new targets.SqsQueue(this.findingsQueue, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });
  }
}

const COMPARISON: Record<AnomalyAlarmConfig['direction'], string> = {
  both: 'LessThanLowerOrGreaterThanUpperThreshold',
  above: 'GreaterThanUpperThreshold',
  below: 'LessThanLowerThreshold',
};

function alarmDescription(a: AnomalyAlarmConfig): string {
  const where = Object.entries(a.dimensions ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const side = a.direction === 'both' ? 'outside' : a.direction;
  return [
    `FleetWatch anomaly alarm "${a.name}": ${a.namespace}/${a.metricName} ${a.stat}${where ? ` (${where})` : ''}`,
    `${side} its ${a.stdDevs}-sigma expected band for ${a.datapointsToAlarm} of ${a.evaluationPeriods} ${a.periodSeconds}-s periods.`,
    `Severity ${a.severity}, cause ${a.cause}.`,
    a.runbook ? `Runbook: ${a.runbook}` : undefined,
  ]
    .filter((s) => s !== undefined)
    .join(' ')
    .slice(0, 1024);
}

/**
 * Maintenance windows as PutAnomalyDetector excluded time ranges. CloudWatch takes at most 10, so
 * only the 10 most recent windows (latest start first) are kept: the model trains on the last two
 * weeks, where older windows no longer matter. Times are UTC in CloudWatch's format
 * yyyy-MM-ddTHH:mm:ss.
 */
export function excludedTimeRangesOf(
  windows: readonly MaintenanceWindow[],
): cloudwatch.CfnAnomalyDetector.RangeProperty[] {
  // One-off windows only: a recurring window's occurrences move with time, which a synthesized
  // template cannot follow (expanding them at synth time would make the template depend on the clock).
  return windows
    .filter((w) => w.start !== undefined)
    .flatMap((w) => occurrencesOf(w, 0, Number.MAX_SAFE_INTEGER))
    .map((o) => ({ start: o.startMs, end: o.endMs }))
    .sort((x, y) => y.start - x.start)
    .slice(0, MAX_EXCLUDED_TIME_RANGES)
    .sort((x, y) => x.start - y.start)
    .map((w) => ({ startTime: cloudWatchTime(w.start), endTime: cloudWatchTime(w.end) }));
}

function cloudWatchTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}
