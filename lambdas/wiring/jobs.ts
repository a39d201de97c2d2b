import { DynamoDbJobStore } from '../adapters/dynamodb/job-store';
import { DynamoDbStateStore } from '../adapters/dynamodb/state-store';
import { makeObservability, type Observability } from '../adapters/powertools/observability';
import { SageMakerTrainingJobApi } from '../adapters/sagemaker/training-jobs';
import { SqsDeadLetters } from '../adapters/sqs/dead-letters';
import type { IngestJobEventsDeps } from '../app/ingest-job-events';
import type { ReconcileJobsDeps } from '../app/reconcile-jobs';
import type { RuntimeConfig } from '../contracts/config';
import { ENV } from '../contracts/env';
import type { JobTagKeys } from '../core/jobs/job-state';
import { dynamoDocumentClient, sageMakerClient, sqsClient } from './clients';
import { homeRegion, readEnv, requireEnv } from './env';
import { runtimeConfigFromEnv } from './runtime-config';
import { makeTelemetrySink } from './sink';

/** Composition roots of ingest-job-events and reconcile-jobs. Built on first use, never at import. */
export interface JobsRuntime<D> {
  readonly deps: D;
  readonly observability: Observability;
}

export function buildIngestJobEventsRuntime(): JobsRuntime<IngestJobEventsDeps> {
  const observability = makeObservability(readEnv(ENV.serviceName) ?? 'ingest-job-events');
  const { log, ops } = observability;
  const region = homeRegion();
  const config = runtimeConfigFromEnv();
  return {
    observability,
    deps: {
      sink: makeTelemetrySink({ log, ops }),
      jobStore: new DynamoDbJobStore(dynamoDocumentClient(region), requireEnv(ENV.jobsTable), {
        retainDays: config.jobs.retainDays,
      }),
      deadLetters: new SqsDeadLetters(sqsClient(region), requireEnv(ENV.deadLetterQueueUrl)),
      tagKeys: tagKeysOf(config),
      log,
      ops,
    },
  };
}

export function buildReconcileJobsRuntime(): JobsRuntime<ReconcileJobsDeps> {
  const observability = makeObservability(readEnv(ENV.serviceName) ?? 'reconcile-jobs');
  const { log, ops } = observability;
  const region = homeRegion();
  const config = runtimeConfigFromEnv();
  const doc = dynamoDocumentClient(region);
  return {
    observability,
    deps: {
      api: new SageMakerTrainingJobApi((r) => sageMakerClient(r), { log, ops, tagKeys: tagKeysOf(config) }),
      jobStore: new DynamoDbJobStore(doc, requireEnv(ENV.jobsTable), { retainDays: config.jobs.retainDays }),
      sink: makeTelemetrySink({ log, ops }),
      state: new DynamoDbStateStore(doc, requireEnv(ENV.stateTable)),
      clock: { now: () => Date.now() },
      regions: [...new Set(config.fleets.map((f) => f.region))],
      jobs: config.jobs,
      log,
      ops,
    },
  };
}

let ingestRuntime: JobsRuntime<IngestJobEventsDeps> | undefined;
let reconcileRuntime: JobsRuntime<ReconcileJobsDeps> | undefined;

export function ingestJobEventsRuntime(): JobsRuntime<IngestJobEventsDeps> {
  ingestRuntime ??= buildIngestJobEventsRuntime();
  return ingestRuntime;
}

export function reconcileJobsRuntime(): JobsRuntime<ReconcileJobsDeps> {
  reconcileRuntime ??= buildReconcileJobsRuntime();
  return reconcileRuntime;
}

function tagKeysOf(config: RuntimeConfig): JobTagKeys {
  return { teamTag: config.jobs.teamTag, workloadClassTag: config.jobs.workloadClassTag };
}
