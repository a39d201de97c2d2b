import type { Finding } from '../contracts/finding';
import type { OpsMetricKey } from '../contracts/metrics';
import type { GpuSample, TrainingJobState } from './model';

/**
 * Ports: what the use cases need from the outside world. Adapters (lambdas/adapters) implement
 * them over AWS; tests implement them in memory.
 */

// ---------------------------------------------------------------------------------------------
// Observability of FleetWatch itself

/** Structured log lines. Powertools' Logger satisfies this. */
export interface Log {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

/** Counted operational metrics, by catalogue key (lambdas/contracts/metrics.ts). */
export interface OpsMetrics {
  count(metric: OpsMetricKey, value: number, dimensions?: Readonly<Record<string, string>>): void;
}

// ---------------------------------------------------------------------------------------------
// CloudWatch metrics (GPU telemetry source)

export interface SeriesRef {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

export interface ListSeriesRequest {
  readonly region: string;
  readonly namespace: string;
  readonly metricName: string;
  /** Dimension filters (name = value) the series must carry. */
  readonly match: Readonly<Record<string, string>>;
}

export interface MetricQuery {
  /** Unique within one fetch; the adapter maps it to a GetMetricData query id. */
  readonly id: string;
  readonly series: SeriesRef;
  readonly stat: string;
  readonly periodSeconds: number;
}

export interface FetchRequest {
  readonly region: string;
  readonly queries: readonly MetricQuery[];
  /** Inclusive start and exclusive end, epoch ms, aligned to the period. */
  readonly startMs: number;
  readonly endMs: number;
}

export interface SeriesData {
  readonly timestamps: readonly number[];
  readonly values: readonly number[];
}

export interface FetchResult {
  readonly data: ReadonlyMap<string, SeriesData>;
  /** Query ids CloudWatch answered with a non-Complete status even after paging (logged, counted). */
  readonly incomplete: readonly { id: string; status: string; message?: string }[];
  /** API calls made and metrics requested (the billed unit). */
  readonly calls: number;
  readonly metricsRequested: number;
}

export interface MetricSource {
  /** ListMetrics with RecentlyActive=PT3H, all pages. */
  listSeries(req: ListSeriesRequest): Promise<{ series: SeriesRef[]; calls: number }>;
  /** GetMetricData in batches of at most 500 queries, following NextToken, retrying throttling and 5xx. */
  fetch(req: FetchRequest): Promise<FetchResult>;
}

// ---------------------------------------------------------------------------------------------
// Telemetry sink (Timestream for LiveAnalytics by default; replaceable)

export interface SinkRejection {
  /** Index in the array passed to the write call. */
  readonly index: number;
  readonly reason: string;
  readonly existingVersion?: number;
}

export interface SinkWriteResult {
  readonly written: number;
  readonly rejected: readonly SinkRejection[];
  readonly calls: number;
}

/**
 * Implementations count their own recordsWritten / recordsRejected / writeRecordsCalls (with the
 * table as dimension) and log each rejection; callers log them with their domain context.
 */
export interface TelemetrySink {
  readonly name: string;
  writeGpuSamples(samples: readonly GpuSample[]): Promise<SinkWriteResult>;
  writeJobStates(jobs: readonly TrainingJobState[]): Promise<SinkWriteResult>;
}

// ---------------------------------------------------------------------------------------------
// Small single-writer state (watermarks, inventories, detector state)

export interface Versioned<T> {
  readonly value: T;
  readonly version: number;
}

export interface StateStore {
  get<T>(key: string): Promise<Versioned<T> | undefined>;
  /**
   * Writes `value` if the stored version still equals `expectedVersion` (undefined: the key must
   * not exist). Returns the new version, or 'conflict' when another writer got there first.
   */
  put<T>(key: string, value: T, expectedVersion: number | undefined): Promise<number | 'conflict'>;
}

// ---------------------------------------------------------------------------------------------
// SageMaker training jobs

export type ApplyOutcome = 'applied' | 'duplicate' | 'stale';

export interface JobStore {
  /** Conditional write: applied only if newer than the stored LastModifiedTime. */
  apply(state: TrainingJobState): Promise<ApplyOutcome>;
  get(region: string, jobName: string): Promise<TrainingJobState | undefined>;
}

export interface TrainingJobSummary {
  readonly jobName: string;
  readonly status: string;
  readonly lastModifiedTime: number;
}

export interface TrainingJobApi {
  /**
   * ListTrainingJobs with LastModifiedTimeAfter (and LastModifiedTimeBefore when given; both
   * exclusive), every page (short or empty pages included).
   */
  listModifiedSince(region: string, afterMs: number, beforeMs?: number): AsyncIterable<TrainingJobSummary>;
  describe(region: string, jobName: string): Promise<TrainingJobState>;
}

// ---------------------------------------------------------------------------------------------
// Messages that can never be processed

export interface DeadLetters {
  send(message: { body: string; reason: string; source: string; detail?: string }): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Detection: inputs beyond the collected window, and where findings go

/** Reads of the job store that the detectors need (the writes are JobStore). */
export interface JobQueries {
  /**
   * Every job still InProgress or Stopping, plus every job whose state changed at or after
   * `sinceMs` (terminal ones included: the cohort and scheduling detectors need outcomes).
   */
  recentAndActive(sinceMs: number): Promise<TrainingJobState[]>;
}

export interface ProgressQuery {
  readonly region: string;
  readonly jobName: string;
  /** Training metric names (SageMaker metric definitions such as `train:loss`); any one counts. */
  readonly metricNames: readonly string[];
}

/** The progress signal of training jobs: when each job last published its training metric. */
export interface JobProgressSource {
  /**
   * Timestamps (epoch ms, ascending) of the datapoints of each job's progress metrics in
   * [startMs, endMs), keyed by `<region>#<jobName>`. A job with no datapoint maps to [].
   */
  progressTimestamps(
    queries: readonly ProgressQuery[],
    startMs: number,
    endMs: number,
  ): Promise<Map<string, number[]>>;
}

/** The newest checkpoint of a training job. */
export interface CheckpointLister {
  /** LastModified (epoch ms) of the newest object under the s3:// prefix; undefined when empty. */
  newestObjectTime(s3Uri: string): Promise<number | undefined>;
}

export interface PublishFailure {
  readonly index: number;
  readonly reason: string;
}

/** Where findings go: the incident queue. */
export interface FindingsPublisher {
  /** Sends every finding; reports the ones that could not be sent (by input index). */
  publish(findings: readonly Finding[]): Promise<{ published: number; failed: PublishFailure[] }>;
}
