import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDbStateStore } from '../adapters/dynamodb/state-store';
import { makeObservability, type Observability } from '../adapters/powertools/observability';
import { S3ObjectReader } from '../adapters/s3/object-reader';
import { SageMakerModelMonitorApi } from '../adapters/sagemaker/model-monitor';
import { SqsFindingsPublisher } from '../adapters/sqs/findings-publisher';
import type { CheckDriftDeps } from '../app/check-drift';
import { ConfigError, describeIssues } from '../contracts/config';
import { type DriftConfig, driftSchema, resolveDriftConfig } from '../contracts/drift-config';
import { ENV } from '../contracts/env';
import { dynamoDocumentClient, sageMakerClient, sqsClient } from './clients';
import { homeRegion, readEnv, requireEnv } from './env';

/** Composition root of check-drift. Built on first use, never at import. */
export interface DriftRuntime {
  readonly deps: CheckDriftDeps;
  readonly observability: Observability;
}

/**
 * S3 client for Data Capture, baselines and reports. clients.ts has none yet, so it is made here
 * with the same endpoint rules: AWS_ENDPOINT_URL is honoured by the SDK itself, and a local
 * emulator needs path-style addressing. Buckets in other regions are followed (region redirects),
 * since capture buckets live where their endpoints are.
 */
let s3: S3Client | undefined;
export function s3Client(region: string): S3Client {
  s3 ??= new S3Client({
    region,
    forcePathStyle: readEnv(ENV.awsEndpointUrl) !== undefined,
    followRegionRedirects: true,
  });
  return s3;
}

/** The drift section infra wrote into ENV.driftConfig, validated with the same schema. */
export function driftConfigFromEnv(region: string): DriftConfig {
  const source = `environment variable ${ENV.driftConfig}`;
  let json: unknown;
  try {
    json = JSON.parse(requireEnv(ENV.driftConfig));
  } catch (err) {
    if (err instanceof SyntaxError) throw new ConfigError(source, [`not valid JSON (${err.message})`]);
    throw err;
  }
  const parsed = driftSchema.safeParse(json);
  if (!parsed.success) throw new ConfigError(source, describeIssues(parsed.error.issues, json));
  return resolveDriftConfig(parsed.data, region);
}

export function buildDriftRuntime(): DriftRuntime {
  const observability = makeObservability(readEnv(ENV.serviceName) ?? 'check-drift');
  const { log, ops } = observability;
  const region = homeRegion();
  return {
    observability,
    deps: {
      monitor: new SageMakerModelMonitorApi((r) => sageMakerClient(r), { log, ops }),
      objects: new S3ObjectReader(s3Client(region)),
      publisher: new SqsFindingsPublisher(sqsClient(region), requireEnv(ENV.findingsQueueUrl), {
        onRetry: (r) => {
          if (/throttl/i.test(r.error)) ops.count('apiThrottled', 1, { Api: 'SendMessageBatch' });
        },
      }),
      state: new DynamoDbStateStore(dynamoDocumentClient(region), requireEnv(ENV.stateTable)),
      clock: { now: () => Date.now() },
      drift: driftConfigFromEnv(region),
      log,
      ops,
    },
  };
}

let runtime: DriftRuntime | undefined;

export function driftRuntime(): DriftRuntime {
  runtime ??= buildDriftRuntime();
  return runtime;
}

/** For tests that point the process at a new emulator between suites. */
export function resetDriftRuntime(): void {
  runtime = undefined;
  s3 = undefined;
}
