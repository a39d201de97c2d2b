import { CloudWatchJobProgress } from '../adapters/cloudwatch/job-progress';
import { DynamoDbJobQueries } from '../adapters/dynamodb/job-queries';
import { S3CheckpointLister } from '../adapters/s3/checkpoints';
import { S3StateStore } from '../adapters/s3/state-store';
import { SqsFindingsPublisher } from '../adapters/sqs/findings-publisher';
import type { DetectWindowDeps } from '../app/detect-window';
import type { RuntimeConfig } from '../contracts/config';
import { ENV } from '../contracts/env';
import type { Log, OpsMetrics } from '../core/ports';
import type { Clock } from '../core/time';
import { cloudWatchClient, dynamoDocumentClient, s3Client, sqsClient } from './clients';
import { homeRegion, requireEnv } from './env';
import { usageStore } from './kpis';

/**
 * Composition of the detection run (lambdas/app/detect-window.ts) on AWS. It runs inside the
 * collector, after each collection, so it shares the collector's clock, config, log and metrics
 * (one invocation, one EMF flush).
 *
 * - state: S3StateStore on ENV.detectionStateBucket, keys as the detectors name them
 *   ('detect/state'); the stack grants the collector objects under `detect/` only.
 * - jobs: the jobs table's active-jobs and modified-by-day indexes.
 * - progress: training metrics in each job's region (per-region CloudWatch clients).
 * - checkpoints: the home-region S3 client for every bucket; a bucket in another region costs
 *   one redirected request (clients.ts s3Client follows region redirects). Only the buckets in
 *   config jobs.checkpointBuckets are listed (the only ones the stack grants s3:ListBucket on).
 * - findings: the incident queue ENV.findingsQueueUrl.
 * - usage: per-window KPI usage records under `kpi/usage/` of the same bucket (wiring/kpis.ts);
 *   the stack grants the collector PutObject there.
 */
export interface DetectorContext {
  readonly clock: Clock;
  readonly config: RuntimeConfig;
  readonly log: Log;
  readonly ops: OpsMetrics;
}

export function buildDetectorDeps(ctx: DetectorContext): DetectWindowDeps {
  const { config, log, ops } = ctx;
  const region = homeRegion();
  const s3 = s3Client(region);
  return {
    clock: ctx.clock,
    config,
    state: new S3StateStore(s3, requireEnv(ENV.detectionStateBucket)),
    jobs: new DynamoDbJobQueries(dynamoDocumentClient(region), requireEnv(ENV.jobsTable), ctx.clock),
    progress: new CloudWatchJobProgress((r) => cloudWatchClient(r), {
      onRetry: (retry) => {
        if (retry.throttled) ops.count('apiThrottled', 1, { Api: 'GetMetricData' });
        log.warn('CloudWatch call for training job progress retried', { ...retry });
      },
      onCall: (call) => {
        ops.count('getMetricDataCalls', 1);
        ops.count('metricsRequested', call.metricsRequested);
      },
    }),
    checkpoints: new S3CheckpointLister(() => s3, {
      allowedBuckets: config.jobs.checkpointBuckets,
      onNotPermitted: ({ bucket, reason }) => {
        ops.count('checkpointsNotPermitted', 1);
        log.debug('Checkpoint prefix not listed', { bucket, reason });
      },
      onTruncated: ({ uri, pages }) => {
        ops.count('checkpointListingsTruncated', 1);
        log.warn('Checkpoint listing stopped at the page cap; the newest checkpoint may be missed', {
          uri,
          pages,
        });
      },
    }),
    findings: new SqsFindingsPublisher(sqsClient(region), requireEnv(ENV.findingsQueueUrl), {
      onRetry: (retry) => {
        ops.count('findingsPublishRetries', 1);
        log.warn('SendMessageBatch to the findings queue retried', { ...retry });
      },
    }),
    // Per-window usage records for the KPI Lambda (ADR 0010), same bucket, prefix kpi/usage/.
    usage: usageStore(log, ops),
    log,
    ops,
  };
}
