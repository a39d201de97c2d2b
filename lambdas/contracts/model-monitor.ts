import { z } from 'zod';

/**
 * SageMaker Model Monitor shapes FleetWatch reads: the monitoring execution summary
 * (ListMonitoringExecutions / DescribeMonitoringSchedule.LastMonitoringExecutionSummary), the
 * constraint_violations.json reports written to S3, and Data Capture JSONL lines.
 *
 * Every object is loose: AWS adds fields over time and BYOC containers write their own (the NLP
 * example adds sentence, endpoint_name, monitoring_schedule_name). We validate what we use.
 */

export const MONITORING_EXECUTION_STATUSES = [
  'Pending',
  'Completed',
  'CompletedWithViolations',
  'InProgress',
  'Failed',
  'Stopping',
  'Stopped',
] as const;
export type MonitoringExecutionStatus = (typeof MONITORING_EXECUTION_STATUSES)[number];

export const MONITORING_TYPES = ['DataQuality', 'ModelQuality', 'ModelBias', 'ModelExplainability'] as const;
export type MonitoringType = (typeof MONITORING_TYPES)[number];

// The SDK hands us Date objects; a JSON round trip (tests, queues) hands us ISO strings.
const timestamp = z
  .union([z.date(), z.iso.datetime({ offset: true })])
  .transform((v) => new Date(v).getTime());

export const monitoringExecutionSummarySchema = z.looseObject({
  MonitoringScheduleName: z.string().min(1),
  ScheduledTime: timestamp,
  MonitoringExecutionStatus: z.enum(MONITORING_EXECUTION_STATUSES),
  // Optional in the API: older schedules predate MonitoringType, and a job may not have started.
  MonitoringType: z.enum(MONITORING_TYPES).optional(),
  EndpointName: z.string().min(1).optional(),
  ProcessingJobArn: z.string().min(1).optional(),
  FailureReason: z.string().optional(),
});
export type MonitoringExecutionSummary = z.output<typeof monitoringExecutionSummarySchema>;
export type MonitoringExecutionSummaryInput = z.input<typeof monitoringExecutionSummarySchema>;

const checkType = z.string().min(1);
const description = z.string();

/** Data quality (prebuilt container and BYOC): one violation per feature. */
export const dataQualityViolationsSchema = z.looseObject({
  version: z.string().optional(),
  violations: z.array(
    z.looseObject({ feature_name: z.string().min(1), constraint_check_type: checkType, description }),
  ),
});

/**
 * Model quality. AWS documents no schema (see aws-facts.md §4); the example notebooks show
 * { metric_name, constraint_check_type: 'LessThanThreshold' | ..., description }.
 */
export const modelQualityViolationsSchema = z.looseObject({
  version: z.string().optional(),
  violations: z.array(
    z.looseObject({ metric_name: z.string().min(1), constraint_check_type: checkType, description }),
  ),
});

export const biasDriftViolationsSchema = z.looseObject({
  version: z.string(),
  violations: z.array(
    z.looseObject({
      facet: z.string().min(1),
      facet_value: z.union([z.string(), z.number()]).transform(String),
      metric_name: z.string().min(1),
      constraint_check_type: z.literal('bias_drift_check'),
      description,
    }),
  ),
});

export const featureAttributionViolationsSchema = z.looseObject({
  version: z.string(),
  violations: z.array(
    z.looseObject({
      label: z.string().min(1),
      metric_name: z.literal('shap'),
      constraint_check_type: z.literal('feature_attribution_drift_check'),
      description,
    }),
  ),
});

/** The report schema for each monitoring type. */
export const constraintViolationsSchemas = {
  DataQuality: dataQualityViolationsSchema,
  ModelQuality: modelQualityViolationsSchema,
  ModelBias: biasDriftViolationsSchema,
  ModelExplainability: featureAttributionViolationsSchema,
} as const;

export const DATA_CAPTURE_ENCODINGS = ['CSV', 'JSON', 'BASE64'] as const;

const captureDataSchema = z.looseObject({
  observedContentType: z.string().optional(),
  mode: z.enum(['INPUT', 'OUTPUT']),
  data: z.string(),
  encoding: z.enum(DATA_CAPTURE_ENCODINGS),
});

/** One line of an endpoint Data Capture file: s3://…/{endpoint}/{variant}/yyyy/mm/dd/hh/*.jsonl */
export const dataCaptureLineSchema = z.looseObject({
  captureData: z.looseObject({
    endpointInput: captureDataSchema.optional(),
    endpointOutput: captureDataSchema.optional(),
  }),
  eventMetadata: z.looseObject({
    eventId: z.string().min(1),
    inferenceTime: z.iso.datetime({ offset: true }).optional(),
  }),
  eventVersion: z.string().optional(),
});
export type DataCaptureLine = z.output<typeof dataCaptureLineSchema>;
