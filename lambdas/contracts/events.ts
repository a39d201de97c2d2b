import { z } from 'zod';
import { describeIssues } from './config';

/**
 * EventBridge "SageMaker Training Job State Change" events, as ingest-job-events receives them
 * (the event JSON is the body of an SQS message). Infra builds the EventBridge rule pattern from
 * the same source and detail-type constants.
 *
 * The schema requires only what FleetWatch uses and accepts (and drops) every other field: AWS
 * adds fields to events without notice, and an unknown field must never send an event to the DLQ.
 *
 * Version history:
 *   1 — initial: time fields as epoch-ms numbers or strings (or ISO-8601), Tags as a map or a
 *       [{Key, Value}] list.
 */
export const SAGEMAKER_JOB_EVENT_SCHEMA_VERSION = 1;

export const SAGEMAKER_EVENT_SOURCE = 'aws.sagemaker';
export const SAGEMAKER_TRAINING_JOB_STATE_CHANGE = 'SageMaker Training Job State Change';

/** TrainingJobStatus values (DescribeTrainingJob / ListTrainingJobs). Mirrors core/model.ts. */
export const SAGEMAKER_TRAINING_JOB_STATUSES = [
  'InProgress',
  'Completed',
  'Failed',
  'Stopping',
  'Stopped',
  'Deleting',
] as const;

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const EPOCH_MS_TEXT = /^\d{1,16}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
const TIME_EXPECTED = 'expected epoch milliseconds (a number or a string of digits) or an ISO-8601 time';

/** Epoch milliseconds from a number, a digit string (what SageMaker sends) or an ISO-8601 time. */
export function epochMillisFrom(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  if (EPOCH_MS_TEXT.test(value)) return Number(value);
  if (ISO_TIME.test(value)) {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

const epochMillis = z.unknown().transform((value, ctx) => {
  const ms = epochMillisFrom(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: TIME_EXPECTED });
    return z.NEVER;
  }
  return ms;
});

/** Optional fields: AWS sometimes sends null for "not set"; null and absent mean the same here. */
function optional<T extends z.ZodType>(schema: T) {
  return schema.nullish().transform((v) => v ?? undefined);
}

const tagsSchema = z
  .union([
    z.record(z.string(), z.string()),
    z.array(z.object({ Key: z.string(), Value: z.string() })).transform((list) => {
      const out: Record<string, string> = {};
      for (const t of list) out[t.Key] = t.Value;
      return out;
    }),
  ])
  .nullish()
  .transform((v) => v ?? {});

export const sageMakerTrainingJobDetailSchema = z.object({
  TrainingJobName: z.string().min(1).max(63),
  TrainingJobArn: z.string().startsWith('arn:'),
  TrainingJobStatus: z.enum(SAGEMAKER_TRAINING_JOB_STATUSES),
  SecondaryStatus: optional(z.string()),
  /** Present only when TrainingJobStatus is Failed. */
  FailureReason: optional(z.string()),
  CreationTime: epochMillis,
  /** The version of the state: newest wins. */
  LastModifiedTime: epochMillis,
  TrainingStartTime: optional(epochMillis),
  TrainingEndTime: optional(epochMillis),
  TrainingTimeInSeconds: optional(z.number().nonnegative()),
  BillableTimeInSeconds: optional(z.number().nonnegative()),
  ResourceConfig: optional(
    z.object({
      // Absent for heterogeneous clusters (InstanceGroups).
      InstanceType: optional(z.string().min(1)),
      InstanceCount: optional(z.int().nonnegative()),
    }),
  ),
  AlgorithmSpecification: optional(
    z.object({ MetricDefinitions: optional(z.array(z.object({ Name: z.string().min(1) }))) }),
  ),
  CheckpointConfig: optional(z.object({ S3Uri: optional(z.string()) })),
  SecondaryStatusTransitions: optional(
    z.array(
      z.object({
        Status: z.string().min(1),
        StartTime: epochMillis,
        EndTime: optional(epochMillis),
        StatusMessage: optional(z.string()),
      }),
    ),
  ).transform((v) => v ?? []),
  Tags: tagsSchema,
});

export const sageMakerTrainingJobEventSchema = z.object({
  id: z.string().min(1),
  'detail-type': z.literal(SAGEMAKER_TRAINING_JOB_STATE_CHANGE),
  source: z.literal(SAGEMAKER_EVENT_SOURCE),
  region: z.string().regex(REGION, 'an AWS region code such as us-east-1'),
  account: optional(z.string()),
  time: optional(z.string()),
  detail: sageMakerTrainingJobDetailSchema,
});

export type SageMakerTrainingJobDetail = z.output<typeof sageMakerTrainingJobDetailSchema>;
export type SageMakerTrainingJobEvent = z.output<typeof sageMakerTrainingJobEventSchema>;

/** Why a message is not a usable job event; used as the DLQ `reason` attribute. */
export type JobEventProblem = 'malformed-json' | 'unknown-event' | 'invalid-event';

export type JobEventParseResult =
  | { readonly ok: true; readonly event: SageMakerTrainingJobEvent }
  | { readonly ok: false; readonly problem: JobEventProblem; readonly detail: string };

/**
 * Parses an SQS message body into a job event. Never throws: a bad body yields a problem and a
 * precise detail (which field, what it held, what is allowed).
 */
export function parseSageMakerJobEvent(body: string): JobEventParseResult {
  let input: unknown;
  try {
    input = JSON.parse(body);
  } catch (err) {
    return {
      ok: false,
      problem: 'malformed-json',
      detail: `message body is not JSON (${(err as Error).message}); expected an EventBridge event`,
    };
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return {
      ok: false,
      problem: 'malformed-json',
      detail: `message body is JSON ${Array.isArray(input) ? 'array' : typeof input}, expected an EventBridge event object`,
    };
  }
  const envelope = input as Record<string, unknown>;
  if (
    envelope.source !== SAGEMAKER_EVENT_SOURCE ||
    envelope['detail-type'] !== SAGEMAKER_TRAINING_JOB_STATE_CHANGE
  ) {
    return {
      ok: false,
      problem: 'unknown-event',
      detail: `source ${JSON.stringify(envelope.source)}, detail-type ${JSON.stringify(envelope['detail-type'])}; expected source "${SAGEMAKER_EVENT_SOURCE}" and detail-type "${SAGEMAKER_TRAINING_JOB_STATE_CHANGE}"`,
    };
  }
  const parsed = sageMakerTrainingJobEventSchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      problem: 'invalid-event',
      detail: describeIssues(parsed.error.issues, input).join('; '),
    };
  }
  return { ok: true, event: parsed.data };
}
