import type { Finding } from '../contracts/finding';
import type { OpsMetricKey } from '../contracts/metrics';
import type { StepTimeSample } from './kpi/step-time';
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
  /**
   * Optional: the step-time breakdown jobs publish as training metrics (core/kpi/step-time.ts),
   * per-minute means in [startMs, endMs), keyed by `<region>#<jobName>`; [] for a job with none.
   * Sources without it leave data waits and communication inside "inefficient" (software).
   */
  stepTimes?(
    queries: readonly StepTimeQuery[],
    startMs: number,
    endMs: number,
  ): Promise<Map<string, StepTimeSample[]>>;
}

/** One job's step-time breakdown metrics (names its metric definitions declare). */
export interface StepTimeQuery {
  readonly region: string;
  readonly jobName: string;
  readonly step: string;
  readonly dataWait?: string;
  readonly communication?: string;
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

// ---------------------------------------------------------------------------------------------
// Model drift: SageMaker Model Monitor results and objects in S3 (Data Capture, baselines, reports)

/** A monitoring schedule on one endpoint (ListMonitoringSchedules + DescribeMonitoringSchedule). */
export interface MonitoringScheduleInfo {
  readonly name: string;
  readonly endpoint: string;
  /** Pending | Failed | Scheduled | Stopped. */
  readonly status: string;
  readonly monitoringType?: import('../contracts/model-monitor').MonitoringType;
  /** The schedule's cron expression, when it has one (cadence for staleness). */
  readonly scheduleExpression?: string;
  /** ScheduledTime (epoch ms) of LastMonitoringExecutionSummary. */
  readonly lastScheduledMs?: number;
}

export interface ModelMonitorApi {
  /** Every monitoring schedule of the endpoint (all pages), described. */
  schedulesOf(region: string, endpoint: string): Promise<MonitoringScheduleInfo[]>;
  /**
   * Executions of one schedule scheduled after `sinceMs`, newest first (ScheduledTime Descending),
   * every page, raw summaries as the API returns them (validated by the caller).
   */
  executionsSince(region: string, scheduleName: string, sinceMs: number): Promise<unknown[]>;
  /**
   * s3:// prefix (no trailing slash) where a monitoring execution's processing job wrote its
   * results, constraint_violations.json among them (DescribeProcessingJob's S3 output);
   * undefined when the job has no S3 output.
   */
  reportLocationOf(region: string, processingJobArn: string): Promise<string | undefined>;
}

export interface StoredObject {
  /** s3://bucket/key */
  readonly uri: string;
  readonly key: string;
  readonly size: number;
  readonly lastModifiedMs: number;
}

export interface ObjectListing {
  readonly objects: StoredObject[];
  /** True when the listing stopped at `maxKeys` with more to come. */
  readonly truncated: boolean;
}

export interface ListObjectsOptions {
  /** Only objects modified at or after this (epoch ms). */
  readonly modifiedFromMs?: number;
  /** Only objects modified before this (epoch ms). */
  readonly modifiedToMs?: number;
  /** Keys are listed after this key (S3 StartAfter): skips older date-partitioned keys cheaply. */
  readonly startAfterKey?: string;
  /** Stop after this many matching objects. @default 10_000 */
  readonly maxKeys?: number;
}

/** An object read as text: absent and oversized objects are outcomes, not errors. */
export type ReadTextResult =
  | { readonly status: 'ok'; readonly text: string }
  | { readonly status: 'missing' }
  | { readonly status: 'too_large'; readonly size: number };

/** Reads objects from S3 by s3:// URI. */
export interface ObjectReader {
  /** The object as UTF-8 text, unless it does not exist or is larger than `maxBytes` (not downloaded). */
  readText(s3Uri: string, maxBytes: number): Promise<ReadTextResult>;
  /** Objects under an s3:// prefix (every page up to maxKeys), in key order. */
  listObjects(prefixUri: string, options?: ListObjectsOptions): Promise<ObjectListing>;
  /** The next path level under an s3:// prefix ("directories", Delimiter "/"), as s3:// URIs ending in "/". */
  listChildPrefixes(prefixUri: string): Promise<string[]>;
}

// ---------------------------------------------------------------------------------------------
// KPIs: goodput north star and supporting KPIs (lambdas/core/kpi, lambdas/app/compute-kpis.ts)
// (types imported inline so this section stays one appended block)

/** Per-job GPU usage aggregates, as the detection run records them per window. */
export interface UsageSource {
  /** Every job that held GPUs in [startMs, endMs), with its usage buckets overlapping that range. */
  usage(startMs: number, endMs: number): Promise<import('./kpi/goodput').JobUsage[]>;
}

/** The GPU node inventory over a window: capacity, planned maintenance, health, hardware faults. */
export interface NodeInventory {
  nodes(startMs: number, endMs: number): Promise<import('./kpi/goodput').NodeWindow[]>;
}

/** Where KPI values go: CloudWatch EMF (Powertools Metrics) with dimensions cluster/region/team. */
export interface KpiSink {
  emit(values: readonly import('../contracts/kpis').KpiValue[]): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Incidents: store, calendar, notifications, remediation (route-incidents; lambdas/app/route-findings.ts)

type IncidentRecord = import('../contracts/incident').Incident;

/**
 * One item per fingerprint (the table key); `incident.version` is the optimistic-write counter.
 * A new episode of a resolved fingerprint overwrites the item (carrying its version).
 */
export interface IncidentStore {
  get(fingerprint: string): Promise<IncidentRecord | undefined>;
  /**
   * Writes the incident if the stored version still equals `incident.version` (0: the item must
   * not exist). Returns the stored incident with version + 1, or 'conflict' (another writer won).
   */
  put(incident: IncidentRecord): Promise<IncidentRecord | 'conflict'>;
  /** Incidents not resolved (pending, open, acknowledged), plus resolved ones with a pending notification. */
  listActive(): Promise<IncidentRecord[]>;
  /** Incidents seen or changed at or after `sinceMs` (any status), e.g. for the quarantine rail and the CLI. */
  listRecent(sinceMs: number): Promise<IncidentRecord[]>;
}

/** Silences and maintenance windows added at run time (the CLI); merged with the config's calendar. */
export interface CalendarStore {
  /** Silences whose end is after `nowMs` (active or future). */
  silences(nowMs: number): Promise<import('../contracts/calendar').Silence[]>;
  maintenanceWindows(): Promise<import('../contracts/calendar').MaintenanceWindow[]>;
  putSilence(silence: import('../contracts/calendar').Silence): Promise<void>;
  /** Ends a silence now (sets its end); false when there is no such silence. */
  expireSilence(id: string, nowMs: number): Promise<boolean>;
  putMaintenanceWindow(id: string, window: import('../contracts/calendar').MaintenanceWindow): Promise<void>;
}

/** Publishes to the topic of `notification.attributes.severity`; returns the message id. */
export interface Notifier {
  publish(notification: import('../contracts/notification').Notification): Promise<string>;
}

/**
 * Starts a remediation workflow (a Step Functions execution). `executionName` is unique per
 * incident and workflow: starting the same name twice returns the existing execution.
 */
export interface RemediationStarter {
  start(
    workflow: import('../contracts/incidents-config').Workflow,
    executionName: string,
    input: Readonly<Record<string, unknown>>,
  ): Promise<{ executionId: string }>;
}

/** Known changes (deploys, driver upgrades) for the post-change grace stage. */
export interface ChangeLog {
  changesSince(sinceMs: number): Promise<import('../contracts/calendar').KnownChange[]>;
}

// ---------------------------------------------------------------------------------------------
// KPI usage records: the detection run records each window's usage (lambdas/core/kpi/window-usage.ts)

/**
 * Keeps one usage record per detection window; the KPI Lambda reads them back through UsageSource
 * and NodeInventory. Recording the same window twice replaces the first record.
 */
export interface UsageRecorder {
  record(usage: import('./kpi/window-usage').WindowUsageRecord): Promise<void>;
}
