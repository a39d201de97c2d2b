import { CloudWatchMetricSource } from '../adapters/cloudwatch/metric-source';
import { DynamoDbStateStore } from '../adapters/dynamodb/state-store';
import { makeObservability, type Observability } from '../adapters/powertools/observability';
import type { CollectGpuMetricsDeps } from '../app/collect-gpu-metrics';
import { type DetectSummary, type DetectWindowInput, detectWindow } from '../app/detect-window';
import { InventoryCache } from '../app/inventory-cache';
import { ENV } from '../contracts/env';
import { cloudWatchClient, dynamoDocumentClient } from './clients';
import { buildDetectorDeps } from './detector';
import { homeRegion, readEnv, requireEnv } from './env';
import { runtimeConfigFromEnv } from './runtime-config';
import { makeTelemetrySink } from './sink';

/**
 * Composition root of collect-gpu-metrics. The series inventory lives at module scope, so warm
 * invocations reuse it until its TTL expires (a cold start rediscovers).
 *
 * Detection (issue 3) runs in the same invocation, over the samples just committed: `detect` is
 * set when the stack passed a detection state bucket (ENV.detectionStateBucket), and undefined
 * otherwise (a stack from before detection, or a test), which the handler counts as
 * DetectionSkipped{Reason=not-configured} on every run rather than failing the collection.
 */
const inventory = new InventoryCache();

export interface CollectorRuntime {
  readonly deps: CollectGpuMetricsDeps;
  readonly observability: Observability;
  /** One detection run over a committed window; undefined when detection is not configured. */
  readonly detect?: (input: DetectWindowInput) => Promise<DetectSummary>;
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
  const clock = { now: () => Date.now() };
  const config = runtimeConfigFromEnv();
  const detectDeps =
    readEnv(ENV.detectionStateBucket) === undefined
      ? undefined
      : buildDetectorDeps({ clock, config, log, ops });
  if (detectDeps === undefined) {
    log.warn(`Detection is off: ${ENV.detectionStateBucket} is not set (the FleetWatch stack sets it)`);
  }
  return {
    observability,
    ...(detectDeps !== undefined
      ? { detect: (input: DetectWindowInput) => detectWindow(detectDeps, input) }
      : {}),
    deps: {
      clock,
      config,
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
