import { Annotations, ArnFormat, Duration, Stack } from 'aws-cdk-lib';
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
import { expandWindows, type MatcherLabel } from '../../lambdas/contracts/calendar';
import type { AnomalyAlarmConfig, MaintenanceWindow } from '../../lambdas/contracts/config';
import { MaintenanceMuteRules, type MuteTarget, scopeCovers } from './alarm-mute-rules';

/** PutAnomalyDetector accepts at most this many excluded time ranges. */
export const MAX_EXCLUDED_TIME_RANGES = 10;
/** The anomaly model trains on (about) the last two weeks: older windows no longer matter. */
export const TRAINING_HORIZON_DAYS = 14;
/**
 * CDK context key pinning the synth clock (ISO instant), for reproducible templates: recurring
 * windows are expanded, and ended one-off windows dropped, relative to it. Default: now.
 */
export const SYNTH_TIME_CONTEXT_KEY = 'fleetwatch:synthTime';
const DAY_MS = 86_400_000;

export interface AnomalyAlarmsProps {
  /** config.anomalyAlarms. */
  readonly alarms: readonly AnomalyAlarmConfig[];
  /**
   * config.maintenance, the one calendar: left out of the training of every detector whose alarm
   * the window's scope covers, and made into alarm mute rules for those alarms.
   */
  readonly maintenance: readonly MaintenanceWindow[];
  /**
   * Synth time (epoch ms) for expanding recurring windows and dropping ended ones.
   * @default the `fleetwatch:synthTime` context value, else Date.now()
   */
  readonly nowMs?: number;
  /**
   * How far ahead of synth time recurring windows become excluded ranges. They go stale after
   * that: redeploy (docs/configuration.md).
   * @default 14
   */
  readonly excludeAheadDays?: number;
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
  /** The maintenance calendar's mute rules for these alarms (never for the pipeline alarms). */
  readonly muteRules: MaintenanceMuteRules;

  constructor(scope: Construct, id: string, props: AnomalyAlarmsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const nowMs = props.nowMs ?? synthTimeOf(this);
    const muteTargets: MuteTarget[] = [];

    for (const a of props.alarms) {
      const labels = anomalyAlarmLabels(a, stack.region);
      const inScope = props.maintenance.filter((w) => scopeCovers(w.scope, labels));
      const excluded = excludedTimeRangesOf(inScope, {
        nowMs,
        aheadDays: props.excludeAheadDays ?? TRAINING_HORIZON_DAYS,
      });
      if (excluded.dropped > 0) {
        Annotations.of(this).addInfo(
          `anomaly detector ${a.name}: ${excluded.dropped} maintenance range(s) beyond CloudWatch's ${MAX_EXCLUDED_TIME_RANGES} excluded time ranges left out (the ones farthest from synth time)`,
        );
      }
      const excludedTimeRanges = excluded.ranges;
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
      muteTargets.push({ alarm, labels });
    }
    this.muteRules = new MaintenanceMuteRules(this, 'MaintenanceMuteRules', {
      windows: props.maintenance,
      targets: muteTargets,
      nowMs,
    });

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
 * The labels an anomaly alarm's alerts carry (core/detect/alarm-events.ts: region, cluster from
 * the ClusterName/cluster dimension, kind `alarm.<name>`, configured severity and cause), which
 * maintenance-window scopes are matched against, here exactly as in the router.
 */
export function anomalyAlarmLabels(
  a: AnomalyAlarmConfig,
  region: string,
): Partial<Record<MatcherLabel, string>> {
  const cluster = a.dimensions?.['ClusterName'] ?? a.dimensions?.['cluster'];
  return {
    region,
    ...(cluster !== undefined ? { cluster } : {}),
    kind: `alarm.${a.name.replace(/-/g, '_')}`,
    severity: a.severity,
    cause: a.cause,
  };
}

function synthTimeOf(scope: Construct): number {
  const pinned: unknown = scope.node.tryGetContext(SYNTH_TIME_CONTEXT_KEY);
  if (pinned === undefined) return Date.now();
  const ms = typeof pinned === 'string' ? Date.parse(pinned) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new Error(
      `context ${SYNTH_TIME_CONTEXT_KEY}: got ${JSON.stringify(pinned)}; allowed: an ISO-8601 instant such as 2026-11-24T00:00:00Z`,
    );
  }
  return ms;
}

export interface ExcludedTimeRanges {
  readonly ranges: cloudwatch.CfnAnomalyDetector.RangeProperty[];
  /** Ranges left out by the CloudWatch limit. */
  readonly dropped: number;
}

/**
 * Maintenance windows as PutAnomalyDetector excluded time ranges, through the calendar's own
 * expansion (expandWindows): every one-off window, and the occurrences of recurring windows (in
 * their time zone, DST included) from the training horizon (14 days before synth time) to
 * `aheadDays` after it. Overlapping ranges are merged. CloudWatch takes at
 * most 10: the ones nearest to synth time are kept (an ongoing range first), as the model trains
 * on the recent past and the next redeploy recomputes the future. Times are UTC in CloudWatch's
 * format yyyy-MM-ddTHH:mm:ss.
 *
 * Ranges computed at synth go stale: recurring occurrences after `aheadDays` are not excluded
 * until the stack is synthesized and deployed again.
 */
export function excludedTimeRangesOf(
  windows: readonly MaintenanceWindow[],
  opts: { readonly nowMs: number; readonly aheadDays: number },
): ExcludedTimeRanges {
  const fromMs = opts.nowMs - TRAINING_HORIZON_DAYS * DAY_MS;
  const oneOff = windows.filter((w) => w.start !== undefined);
  const recurring = windows.filter((w) => w.start === undefined);
  const occurrences = [
    ...expandWindows(oneOff, 0, Number.MAX_SAFE_INTEGER),
    ...expandWindows(recurring, fromMs, opts.nowMs + opts.aheadDays * DAY_MS),
  ].sort((x, y) => x.startMs - y.startMs);
  const merged: { start: number; end: number }[] = [];
  for (const o of occurrences) {
    const last = merged[merged.length - 1];
    if (last !== undefined && o.startMs <= last.end) last.end = Math.max(last.end, o.endMs);
    else merged.push({ start: o.startMs, end: o.endMs });
  }
  const distance = (r: { start: number; end: number }) =>
    r.end < opts.nowMs ? opts.nowMs - r.end : r.start > opts.nowMs ? r.start - opts.nowMs : 0;
  const kept = [...merged]
    .sort((x, y) => distance(x) - distance(y) || x.start - y.start)
    .slice(0, MAX_EXCLUDED_TIME_RANGES)
    .sort((x, y) => x.start - y.start);
  return {
    ranges: kept.map((r) => ({ startTime: cloudWatchTime(r.start), endTime: cloudWatchTime(r.end) })),
    dropped: merged.length - kept.length,
  };
}

function cloudWatchTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}
