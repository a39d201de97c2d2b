import type { Signal } from '../contracts/signals';

/** Labels that place one GPU series in the fleet. `gpu` is 'all' for per-host series. */
export interface GpuLabels {
  readonly cluster: string;
  readonly region: string;
  readonly instanceType: string;
  readonly node: string;
  readonly gpu: string;
  readonly job?: string;
  readonly team?: string;
}

/** One GPU-minute: every canonical signal read for that GPU in that minute. */
export interface GpuSample {
  /** Start of the minute, epoch ms. */
  readonly time: number;
  readonly labels: GpuLabels;
  readonly values: Partial<Record<Signal, number>>;
}

export const TRAINING_JOB_STATUSES = [
  'InProgress',
  'Completed',
  'Failed',
  'Stopping',
  'Stopped',
  'Deleting',
] as const;
export type TrainingJobStatus = (typeof TRAINING_JOB_STATUSES)[number];

export interface StatusTransition {
  readonly status: string;
  readonly startTime: number;
  readonly endTime?: number;
  readonly message?: string;
}

/** Current state of one SageMaker training job, as kept in the job store and written to the sink. */
export interface TrainingJobState {
  readonly region: string;
  readonly jobName: string;
  readonly arn: string;
  readonly status: TrainingJobStatus;
  readonly secondaryStatus?: string;
  /** LastModifiedTime, epoch ms: the version of this state. Newest wins. */
  readonly lastModifiedTime: number;
  readonly creationTime: number;
  readonly trainingStartTime?: number;
  readonly trainingEndTime?: number;
  readonly instanceType?: string;
  readonly instanceCount?: number;
  readonly failureReason?: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly team?: string;
  readonly workloadClass?: string;
  readonly transitions: readonly StatusTransition[];
  readonly checkpointS3Uri?: string;
  readonly trainingTimeSeconds?: number;
  readonly billableTimeSeconds?: number;
  /** Names of the job's SageMaker metric definitions (its progress signals, e.g. train:loss). */
  readonly metricNames?: readonly string[];
}
