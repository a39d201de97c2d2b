/**
 * The metric catalogue: every metric FleetWatch emits about itself. The handlers emit them (via
 * Powertools Metrics / EMF) and infra builds alarms and dashboards from the same entries, so no
 * metric name is typed twice.
 */
export const METRICS_NAMESPACE = 'FleetWatch';

export interface CatalogueMetric {
  readonly name: string;
  readonly unit: 'Count' | 'Seconds' | 'Milliseconds' | 'None';
  readonly description: string;
  /** Dimension names this metric is emitted with (beyond `service`). */
  readonly dimensions: readonly string[];
}

function metric(
  name: string,
  unit: CatalogueMetric['unit'],
  description: string,
  dimensions: readonly string[] = [],
): CatalogueMetric {
  return { name, unit, description, dimensions };
}

export const OPS_METRICS = {
  // collect-gpu-metrics
  collectorRuns: metric('CollectorRuns', 'Count', 'Completed collector runs'),
  collectorLagSeconds: metric(
    'CollectorLagSeconds',
    'Seconds',
    'Now minus the oldest source watermark after a run',
  ),
  seriesDiscovered: metric('SeriesDiscovered', 'Count', 'GPU series in the inventory'),
  seriesUnmapped: metric('SeriesUnmapped', 'Count', 'Series whose dimensions do not identify a node/GPU'),
  datapointsCollected: metric('DatapointsCollected', 'Count', 'Datapoints read from CloudWatch and accepted'),
  datapointsRejected: metric('DatapointsRejected', 'Count', 'Datapoints rejected (NaN, out of range)', [
    'Reason',
  ]),
  backfilledMinutes: metric(
    'BackfilledMinutes',
    'Count',
    'Minutes collected beyond the normal cadence window',
  ),
  minutesBeyondHorizon: metric(
    'MinutesBeyondHorizon',
    'Count',
    'Missed minutes older than the backfill horizon',
  ),
  getMetricDataCalls: metric('GetMetricDataCalls', 'Count', 'GetMetricData requests made'),
  metricsRequested: metric(
    'MetricsRequested',
    'Count',
    'Metrics requested from GetMetricData (the billed unit)',
  ),
  listMetricsCalls: metric('ListMetricsCalls', 'Count', 'ListMetrics requests made'),
  datapointsMissing: metric(
    'DatapointsMissing',
    'Count',
    'Series-minutes with no datapoint from CloudWatch (series gone quiet or late)',
  ),
  queriesIncomplete: metric(
    'QueriesIncomplete',
    'Count',
    'GetMetricData results not Complete after paging (possible gaps)',
  ),
  // telemetry sink
  recordsWritten: metric('RecordsWritten', 'Count', 'Records accepted by the telemetry sink', ['Table']),
  recordsRejected: metric('RecordsRejected', 'Count', 'Records rejected by the telemetry sink', [
    'Table',
    'Reason',
  ]),
  writeRecordsCalls: metric('WriteRecordsCalls', 'Count', 'WriteRecords requests made', ['Table']),
  sinkRetries: metric('SinkRetries', 'Count', 'Sink requests retried after throttling or 5xx'),
  // ingest-job-events / reconcile-jobs
  jobEventsApplied: metric('JobEventsApplied', 'Count', 'Job state changes applied to the job store'),
  jobEventsDuplicate: metric(
    'JobEventsDuplicate',
    'Count',
    'Job events already applied (same LastModifiedTime)',
  ),
  jobEventsStale: metric('JobEventsStale', 'Count', 'Job events older than the stored state (out of order)'),
  jobEventsInvalid: metric(
    'JobEventsInvalid',
    'Count',
    'Job events that failed validation (sent to the DLQ)',
  ),
  jobEventsFailed: metric(
    'JobEventsFailed',
    'Count',
    'Job events that failed transiently (reported as batch item failures and retried)',
  ),
  jobsReconciled: metric('JobsReconciled', 'Count', 'Jobs repaired by the reconciliation sweep'),
  reconcileIncomplete: metric(
    'ReconcileIncomplete',
    'Count',
    'Region sweeps that stopped before the end (watermark kept at the last finished window)',
    ['Reason'],
  ),
  trainingJobListingsTruncated: metric(
    'TrainingJobListingsTruncated',
    'Count',
    'ListTrainingJobs listings stopped on a repeated NextToken or the page cap',
  ),
  listTrainingJobsCalls: metric('ListTrainingJobsCalls', 'Count', 'ListTrainingJobs requests made'),
  describeTrainingJobCalls: metric('DescribeTrainingJobCalls', 'Count', 'DescribeTrainingJob requests made'),
  apiThrottled: metric('ApiThrottled', 'Count', 'AWS API calls throttled and retried', ['Api']),
  // detection after collection (collect-gpu-metrics)
  detectionRunsFailed: metric(
    'DetectionRunsFailed',
    'Count',
    'Detection runs that failed after a collection (the collection result is kept)',
    ['Reason'],
  ),
  detectionSkipped: metric(
    'DetectionSkipped',
    'Count',
    'Collections after which detection did not run (no time left, or nothing collected)',
    ['Reason'],
  ),
  checkpointsNotPermitted: metric(
    'CheckpointsNotPermitted',
    'Count',
    'Checkpoint listings skipped: bucket not in jobs.checkpointBuckets, or access denied',
  ),
  checkpointListingsTruncated: metric(
    'CheckpointListingsTruncated',
    'Count',
    'Checkpoint listings stopped at the page cap (newest time may be missed)',
  ),
  findingsPublishRetries: metric(
    'FindingsPublishRetries',
    'Count',
    'SendMessageBatch calls to the findings queue retried after throttling or server errors',
  ),
  // check-drift
  driftEndpointsChecked: metric('DriftEndpointsChecked', 'Count', 'Endpoints check-drift finished', ['Path']),
  driftEndpointsFailed: metric(
    'DriftEndpointsFailed',
    'Count',
    'Endpoint checks that stopped on an error or the deadline (the others still ran)',
    ['Path', 'Reason'],
  ),
  driftFindings: metric('DriftFindings', 'Count', 'Drift and Model Monitor findings produced', ['Path']),
  driftFindingsUnpublished: metric(
    'DriftFindingsUnpublished',
    'Count',
    'Drift findings the findings queue did not take (retried next run)',
  ),
  driftCaptureLinesInvalid: metric(
    'DriftCaptureLinesInvalid',
    'Count',
    'Data Capture lines that could not be parsed (reported in a capture_invalid finding)',
  ),
  driftCaptureObjectsSkipped: metric(
    'DriftCaptureObjectsSkipped',
    'Count',
    'Data Capture objects not read (over the size cap, the object cap, or the listing cap)',
    ['Reason'],
  ),
  monitoringSummariesInvalid: metric(
    'MonitoringSummariesInvalid',
    'Count',
    'Monitoring execution summaries that failed validation (logged and skipped)',
  ),
  monitoringReportsRead: metric(
    'MonitoringReportsRead',
    'Count',
    'constraint_violations.json reports read from S3',
  ),
  driftStateConflicts: metric(
    'DriftStateConflicts',
    'Count',
    'Runs whose drift/state write lost to a concurrent run',
  ),
  modelMonitorCalls: metric('ModelMonitorCalls', 'Count', 'SageMaker Model Monitor API requests made', [
    'Api',
  ]),
  // detection run (detect-window)
  detectRuns: metric('DetectRuns', 'Count', 'Completed detection runs'),
  detectDurationMs: metric('DetectDuration', 'Milliseconds', 'Wall time of one detection run'),
  detectStateBytes: metric('DetectStateBytes', 'None', 'Size of the detection state written (JSON bytes)'),
  detectStateReset: metric(
    'DetectStateReset',
    'Count',
    'Stored detection state discarded (corrupt or another version); baselines re-learn',
    ['Reason'],
  ),
  detectStateConflicts: metric(
    'DetectStateConflicts',
    'Count',
    'Detection state writes lost to a concurrent run (not overwritten)',
  ),
  detectInputsFailed: metric(
    'DetectInputsFailed',
    'Count',
    'Detection inputs that could not be read (job store, progress, state); the run went on without them',
    ['Input'],
  ),
  findingsEmitted: metric('FindingsEmitted', 'Count', 'Findings produced by the detectors', [
    'Severity',
    'Kind',
  ]),
  findingsPublishFailed: metric(
    'FindingsPublishFailed',
    'Count',
    'Findings that could not be sent to the incident queue',
    ['Kind'],
  ),
  checkpointListings: metric('CheckpointListings', 'Count', 'Checkpoint prefixes listed (newest object)'),
  checkpointListingsFailed: metric(
    'CheckpointListingsFailed',
    'Count',
    'Checkpoint prefix listings that failed (the remembered value is kept)',
  ),
  // KPI usage records (detection run writes them, compute-kpis reads them)
  usageRecordsWritten: metric(
    'UsageRecordsWritten',
    'Count',
    'Per-window KPI usage records written by the detection run',
  ),
  usageRecordsFailed: metric(
    'UsageRecordsFailed',
    'Count',
    'Per-window KPI usage records that could not be written (goodput misses that window)',
  ),
  usageRecordsUnreadable: metric(
    'UsageRecordsUnreadable',
    'Count',
    'KPI usage records compute-kpis could not read (missing or corrupt), by reason',
    ['Reason'],
  ),
  // route-incidents (the router emits these; the dashboards read them)
  incidentsOpened: metric('IncidentsOpened', 'Count', 'Incidents opened (new fingerprint)', ['Severity']),
  incidentsSuppressed: metric(
    'IncidentsSuppressed',
    'Count',
    'Incidents muted by a suppression stage (dedup, silence, maintenance, seasonal, inhibition)',
    ['Stage'],
  ),
  notificationsSent: metric('NotificationsSent', 'Count', 'Notifications published to SNS', ['Severity']),
  notificationsFailed: metric('NotificationsFailed', 'Count', 'Notifications SNS did not accept'),
  routerMessagesInvalid: metric(
    'RouterMessagesInvalid',
    'Count',
    'Findings-queue messages that are neither a valid finding nor an alarm state change (sent to the DLQ)',
  ),
  routerMessagesRetried: metric(
    'RouterMessagesRetried',
    'Count',
    'Findings-queue messages returned as batch item failures (redelivered by SQS)',
  ),
  remediationsStarted: metric(
    'RemediationsStarted',
    'Count',
    'Remediation state machine executions started',
    ['Workflow'],
  ),
  // Incident KPIs: one sample per notified incident when its resolved message goes out
  // (lambdas/core/incidents/resolution-timing.ts; route-incidents and sweep-incidents emit them).
  incidentTimeToDetect: metric(
    'IncidentTimeToDetect',
    'Seconds',
    'Onset (first finding detectedAt) to the first open notification sent, per resolved notified incident',
    ['Severity', 'Cause'],
  ),
  incidentTimeToResolve: metric(
    'IncidentTimeToResolve',
    'Seconds',
    'Onset (first finding detectedAt) to resolution, per resolved notified incident',
    ['Severity', 'Cause'],
  ),
} as const satisfies Record<string, CatalogueMetric>;

export type OpsMetricKey = keyof typeof OPS_METRICS;
