import type { SAGEMAKER_TRAINING_JOB_STATUSES, SageMakerTrainingJobEvent } from '../../contracts/events';
import {
  type StatusTransition,
  TRAINING_JOB_STATUSES,
  type TrainingJobState,
  type TrainingJobStatus,
} from '../model';

/**
 * The one mapping from SageMaker's job shape to TrainingJobState. EventBridge events (whose
 * `detail` mirrors DescribeTrainingJob) and the reconciliation sweep's DescribeTrainingJob + ListTags
 * both arrive here, so a job looks the same in the store whichever path saw it last.
 */

/** DescribeTrainingJob-shaped input with times already as epoch ms and tags as a map. */
export interface TrainingJobDescription {
  readonly TrainingJobName: string;
  readonly TrainingJobArn: string;
  readonly TrainingJobStatus: TrainingJobStatus;
  readonly SecondaryStatus?: string | undefined;
  readonly FailureReason?: string | undefined;
  readonly CreationTime: number;
  readonly LastModifiedTime: number;
  readonly TrainingStartTime?: number | undefined;
  readonly TrainingEndTime?: number | undefined;
  readonly TrainingTimeInSeconds?: number | undefined;
  readonly BillableTimeInSeconds?: number | undefined;
  readonly ResourceConfig?:
    | { readonly InstanceType?: string | undefined; readonly InstanceCount?: number | undefined }
    | undefined;
  readonly AlgorithmSpecification?:
    | { readonly MetricDefinitions?: readonly { readonly Name: string }[] | undefined }
    | undefined;
  readonly CheckpointConfig?: { readonly S3Uri?: string | undefined } | undefined;
  readonly SecondaryStatusTransitions: readonly {
    readonly Status: string;
    readonly StartTime: number;
    readonly EndTime?: number | undefined;
    readonly StatusMessage?: string | undefined;
  }[];
  readonly Tags: Readonly<Record<string, string>>;
}

/** Which job tags carry the owning team and the workload class (config jobs.teamTag / workloadClassTag). */
export interface JobTagKeys {
  readonly teamTag: string;
  readonly workloadClassTag: string;
}

export const DEFAULT_JOB_TAG_KEYS: JobTagKeys = { teamTag: 'team', workloadClassTag: 'workload-class' };

// The contract's status list and the model's must stay the same set (checked at compile time).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const statusListsAgree: Same<(typeof SAGEMAKER_TRAINING_JOB_STATUSES)[number], TrainingJobStatus> = true;
void statusListsAgree;

const TERMINAL: ReadonlySet<TrainingJobStatus> = new Set(['Completed', 'Failed', 'Stopped', 'Deleting']);

export function isTerminalStatus(status: TrainingJobStatus): boolean {
  return TERMINAL.has(status);
}

export function isTrainingJobStatus(value: unknown): value is TrainingJobStatus {
  return typeof value === 'string' && (TRAINING_JOB_STATUSES as readonly string[]).includes(value);
}

/** Store key of a job: job names are unique per account and region only. */
export function jobKey(region: string, jobName: string): string {
  return `${region}#${jobName}`;
}

export function toTrainingJobState(
  region: string,
  d: TrainingJobDescription,
  tagKeys: JobTagKeys = DEFAULT_JOB_TAG_KEYS,
): TrainingJobState {
  const tags = { ...d.Tags };
  const metricNames = d.AlgorithmSpecification?.MetricDefinitions?.map((m) => m.Name);
  return withoutUndefined({
    region,
    jobName: d.TrainingJobName,
    arn: d.TrainingJobArn,
    status: d.TrainingJobStatus,
    secondaryStatus: nonEmpty(d.SecondaryStatus),
    lastModifiedTime: d.LastModifiedTime,
    creationTime: d.CreationTime,
    trainingStartTime: d.TrainingStartTime,
    trainingEndTime: d.TrainingEndTime,
    instanceType: nonEmpty(d.ResourceConfig?.InstanceType),
    instanceCount: d.ResourceConfig?.InstanceCount,
    // SageMaker documents FailureReason for Failed jobs only; a stray one elsewhere is still kept.
    failureReason: nonEmpty(d.FailureReason),
    tags,
    team: nonEmpty(tags[tagKeys.teamTag]?.trim()),
    workloadClass: nonEmpty(tags[tagKeys.workloadClassTag]?.trim()),
    // Cumulative in every event and description: the newest state carries the whole history.
    transitions: d.SecondaryStatusTransitions.map(
      (t): StatusTransition =>
        withoutUndefined({
          status: t.Status,
          startTime: t.StartTime,
          endTime: t.EndTime,
          message: nonEmpty(t.StatusMessage),
        }),
    ),
    checkpointS3Uri: nonEmpty(d.CheckpointConfig?.S3Uri),
    trainingTimeSeconds: d.TrainingTimeInSeconds,
    billableTimeSeconds: d.BillableTimeInSeconds,
    metricNames: metricNames !== undefined && metricNames.length > 0 ? metricNames : undefined,
  });
}

/** An EventBridge state-change event: its detail is DescribeTrainingJob-shaped. */
export function jobStateFromEvent(event: SageMakerTrainingJobEvent, tagKeys: JobTagKeys): TrainingJobState {
  return toTrainingJobState(event.region, event.detail, tagKeys);
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}

/** Drops undefined fields so states compare and serialise the same whichever path built them. */
export function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
