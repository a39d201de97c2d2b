import { z } from 'zod';

/**
 * EventBridge "CloudWatch Alarm State Change" events, as the incident router receives them (the
 * event JSON is the body of an SQS message in FindingsQueue). Infra builds the rule pattern and
 * the alarm names from the constants below, so the router recognises exactly the alarms the
 * stack created.
 *
 * Like the SageMaker event schema, it requires only what FleetWatch uses and accepts every other
 * field: AWS adds fields (alarmTags, alarmTagsStatus...) without notice.
 *
 * Version history:
 *   1 — initial.
 */
export const ALARM_EVENT_SCHEMA_VERSION = 1;

export const CLOUDWATCH_EVENT_SOURCE = 'aws.cloudwatch';
export const CLOUDWATCH_ALARM_STATE_CHANGE = 'CloudWatch Alarm State Change';

export const ALARM_STATES = ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const;
export type AlarmStateValue = (typeof ALARM_STATES)[number];

/** `<stackName>-anomaly-`: every anomaly alarm of a stack starts with it (the rule matches its ARN prefix). */
export function anomalyAlarmNamePrefix(stackName: string): string {
  return `${stackName}-anomaly-`;
}

/** The CloudWatch alarm name of a configured anomaly alarm (config.anomalyAlarms[].name). */
export function anomalyAlarmName(stackName: string, name: string): string {
  return `${anomalyAlarmNamePrefix(stackName)}${name}`;
}

const alarmStateSchema = z.looseObject({
  value: z.enum(ALARM_STATES),
  reason: z.string().default(''),
  /** A JSON string (statistic, period, recentDatapoints, threshold or the band's thresholds). */
  reasonData: z.string().optional(),
  /** e.g. "2026-11-24T19:05:12.345+0000". */
  timestamp: z.string().refine((t) => !Number.isNaN(parseAlarmTimestamp(t)), {
    message: 'expected an ISO-8601 time such as 2026-11-24T19:05:12.345+0000',
  }),
});

const alarmMetricSchema = z.looseObject({
  id: z.string().min(1),
  metricStat: z
    .looseObject({
      metric: z.looseObject({
        namespace: z.string().optional(),
        name: z.string().optional(),
        dimensions: z.record(z.string(), z.string()).optional(),
      }),
      period: z.int().min(1),
      stat: z.string().optional(),
    })
    .optional(),
  /** Metric math alarms (the anomaly band among them) carry expressions instead of metricStat. */
  expression: z.string().optional(),
  label: z.string().optional(),
  returnData: z.boolean().optional(),
});

export const alarmStateChangeEventSchema = z.looseObject({
  source: z.literal(CLOUDWATCH_EVENT_SOURCE),
  'detail-type': z.literal(CLOUDWATCH_ALARM_STATE_CHANGE),
  account: z.string().optional(),
  region: z.string().min(1),
  time: z.string().optional(),
  resources: z.array(z.string()).default([]),
  detail: z.looseObject({
    alarmName: z.string().min(1).max(255),
    state: alarmStateSchema,
    previousState: alarmStateSchema.optional(),
    configuration: z
      .looseObject({
        description: z.string().optional(),
        metrics: z.array(alarmMetricSchema).default([]),
      })
      .default({ metrics: [] }),
  }),
});
export type AlarmStateChangeEvent = z.output<typeof alarmStateChangeEventSchema>;

/** What `state.reasonData` holds (the parts FleetWatch reads). */
export const alarmReasonDataSchema = z.looseObject({
  period: z.int().min(1).optional(),
  statistic: z.string().optional(),
  recentDatapoints: z.array(z.number()).default([]),
  /** Static-threshold alarms. */
  threshold: z.number().optional(),
  /** Anomaly-detection alarms: the band at each recent datapoint. */
  recentLowerThresholds: z.array(z.number()).optional(),
  recentUpperThresholds: z.array(z.number()).optional(),
});
export type AlarmReasonData = z.output<typeof alarmReasonDataSchema>;

/** Epoch ms of a CloudWatch alarm timestamp; it writes the offset without a colon (+0000). */
export function parseAlarmTimestamp(text: string): number {
  const normalised = text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(normalised)) return Number.NaN;
  return Date.parse(normalised);
}
