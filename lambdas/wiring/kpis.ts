import { DynamoDbJobQueries } from '../adapters/dynamodb/job-queries';
import { PowertoolsKpiSink } from '../adapters/powertools/kpi-sink';
import { makeObservability, type Observability } from '../adapters/powertools/observability';
import { S3StateStore } from '../adapters/s3/state-store';
import { S3UsageStore } from '../adapters/s3/usage-store';
import { SqsFindingsPublisher } from '../adapters/sqs/findings-publisher';
import type { ComputeKpisDeps } from '../app/compute-kpis';
import { ENV } from '../contracts/env';
import type { Log, OpsMetrics } from '../core/ports';
import { dynamoDocumentClient, s3Client, sqsClient } from './clients';
import { homeRegion, readEnv, requireEnv } from './env';

/**
 * Composition root of compute-kpis (lambdas/app/compute-kpis.ts) on AWS:
 *
 * - jobs: the jobs table's active-jobs and modified-by-day indexes (DynamoDbJobQueries).
 * - usage + inventory: ONE S3UsageStore on ENV.detectionStateBucket, prefix `kpi/usage/` (the
 *   records the detection run writes per window; ADR 0010), so both reads share one listing.
 *   Unreadable objects are counted (UsageRecordsUnreadable{Reason}) and logged.
 * - sink: EMF through Powertools Metrics, namespace FleetWatch/KPI (PowertoolsKpiSink).
 * - findings: the incident queue, so kpi.goodput_drop becomes an incident like any finding.
 * - state: S3StateStore in the same bucket, key 'kpi/state' (object `kpi/state.json.gz`);
 *   the stack grants this function that object and the usage prefix only.
 */
export interface KpisRuntime {
  readonly deps: ComputeKpisDeps;
  readonly observability: Observability;
}

/** Where the detection run writes usage records and compute-kpis reads them. */
export const KPI_USAGE_PREFIX = 'kpi/usage/';

export function usageStore(log: Log, ops: OpsMetrics): S3UsageStore {
  return new S3UsageStore(s3Client(homeRegion()), requireEnv(ENV.detectionStateBucket), {
    prefix: KPI_USAGE_PREFIX,
    onUnreadable: ({ key, reason, detail }) => {
      ops.count('usageRecordsUnreadable', 1, { Reason: reason });
      log.warn('KPI usage record skipped', { key, reason, detail });
    },
    onIssue: (issue) => log.warn('KPI usage records inconsistent', { ...issue }),
  });
}

export function buildKpisRuntime(): KpisRuntime {
  const observability = makeObservability(readEnv(ENV.serviceName) ?? 'compute-kpis');
  const { log, ops } = observability;
  const region = homeRegion();
  const clock = { now: () => Date.now() };
  const usage = usageStore(log, ops);
  return {
    observability,
    deps: {
      jobs: new DynamoDbJobQueries(dynamoDocumentClient(region), requireEnv(ENV.jobsTable), clock),
      usage,
      inventory: usage,
      sink: new PowertoolsKpiSink({ serviceName: readEnv(ENV.serviceName) ?? 'compute-kpis', log }),
      findings: new SqsFindingsPublisher(sqsClient(region), requireEnv(ENV.findingsQueueUrl), {
        onRetry: (retry) => {
          ops.count('findingsPublishRetries', 1);
          log.warn('SendMessageBatch to the findings queue retried', { ...retry });
        },
      }),
      state: new S3StateStore(s3Client(region), requireEnv(ENV.detectionStateBucket)),
      clock,
      log,
    },
  };
}

let runtime: KpisRuntime | undefined;

/** Built on first use (not at import), then reused by warm invocations. */
export function kpisRuntime(): KpisRuntime {
  runtime ??= buildKpisRuntime();
  return runtime;
}
