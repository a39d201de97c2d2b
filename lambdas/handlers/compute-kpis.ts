import type { Context } from 'aws-lambda';
import { type ComputeKpisSummary, computeKpis } from '../app/compute-kpis';
import { type KpisRuntime, kpisRuntime } from '../wiring/kpis';

/**
 * compute-kpis Lambda, run hourly by an EventBridge Scheduler schedule. The payload is ignored:
 * the window is the trailing 24 h ending at the current minute, so a retried invocation computes
 * the same values again (CloudWatch keeps the last value per timestamp in a statistic set; the
 * state write is conditional, a second run gets 'conflict' and keeps the first run's snapshots).
 *
 * Returns the summary without the findings' bodies (they are in the incident queue).
 */
export type KpisResult = Omit<ComputeKpisSummary, 'findings'> & { readonly findingKinds: readonly string[] };

export function makeHandler(getDeps: () => KpisRuntime) {
  return async (_event: unknown, context?: Partial<Context>): Promise<KpisResult> => {
    const { deps, observability } = getDeps();
    const { logger, metrics } = observability;
    if (context?.awsRequestId !== undefined && context.functionName !== undefined) {
      logger.addContext(context as Context);
    }
    metrics.captureColdStartMetric();
    try {
      const { findings, ...summary } = await computeKpis(deps);
      return { ...summary, findingKinds: findings.map((f) => f.kind) };
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

export const handler = makeHandler(kpisRuntime);
