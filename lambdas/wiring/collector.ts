import { CloudWatchMetricSource } from '../adapters/cloudwatch/metric-source';
import { DynamoDbStateStore } from '../adapters/dynamodb/state-store';
import { makeObservability, type Observability } from '../adapters/powertools/observability';
import type { CollectGpuMetricsDeps } from '../app/collect-gpu-metrics';
import { InventoryCache } from '../app/inventory-cache';
import { ENV } from '../contracts/env';
import { cloudWatchClient, dynamoDocumentClient } from './clients';
import { homeRegion, readEnv, requireEnv } from './env';
import { runtimeConfigFromEnv } from './runtime-config';
import { makeTelemetrySink } from './sink';

/**
 * Composition root of collect-gpu-metrics. The series inventory lives at module scope, so warm
 * invocations reuse it until its TTL expires (a cold start rediscovers).
 */
const inventory = new InventoryCache();

export interface CollectorRuntime {
  readonly deps: CollectGpuMetricsDeps;
  readonly observability: Observability;
}

export function buildCollectorRuntime(): CollectorRuntime {
  const observability = makeObservability(readEnv(ENV.serviceName) ?? 'collect-gpu-metrics');
  const { log, ops } = observability;
  const region = homeRegion();
  const source = new CloudWatchMetricSource((r) => cloudWatchClient(r), {
    onRetry: (retry) => {
      if (retry.throttled) ops.count('apiThrottled', 1, { Api: retry.api });
      log.warn('CloudWatch call retried', { ...retry });
    },
  });
  return {
    observability,
    deps: {
      clock: { now: () => Date.now() },
      config: runtimeConfigFromEnv(),
      source,
      sink: makeTelemetrySink({ log, ops }),
      state: new DynamoDbStateStore(dynamoDocumentClient(region), requireEnv(ENV.stateTable)),
      inventory,
      log,
      ops,
    },
  };
}

let runtime: CollectorRuntime | undefined;

/** Built on first use (not at import), then reused by warm invocations. */
export function collectorRuntime(): CollectorRuntime {
  runtime ??= buildCollectorRuntime();
  return runtime;
}
