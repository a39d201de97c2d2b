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
} as const satisfies Record<string, CatalogueMetric>;

export type OpsMetricKey = keyof typeof OPS_METRICS;
