import type { Context } from 'aws-lambda';
import { type CollectSummary, collectGpuMetrics } from '../app/collect-gpu-metrics';
import { type CollectorRuntime, collectorRuntime } from '../wiring/collector';

/**
 * collect-gpu-metrics Lambda, run by an EventBridge Scheduler schedule. The payload is ignored:
 * what to collect comes from the watermarks and the runtime config, so a retried or duplicated
 * invocation just continues (or stops on the watermark conflict).
 *
 * Partial failures (one source, one chunk) are in the summary, the logs and CollectorLagSeconds;
 * the invocation fails only when every source with work failed, so Lambda's Errors metric and the
 * scheduler's retry see a collector that is down, not one that is behind.
 */
export type CollectorContext = Pick<Context, 'getRemainingTimeInMillis'> & Partial<Context>;

export class CollectionFailedError extends Error {
  override readonly name = 'CollectionFailedError';
  constructor(readonly summary: CollectSummary) {
    super(`No GPU metrics were collected: ${summary.errors.join(' | ')}`);
  }
}

export function makeHandler(getDeps: () => CollectorRuntime) {
  return async (_event: unknown, context: CollectorContext): Promise<CollectSummary> => {
    const { deps, observability } = getDeps();
    const { logger, metrics, tracer } = observability;
    if (context.awsRequestId !== undefined && context.functionName !== undefined) {
      logger.addContext(context as Context);
    }
    metrics.captureColdStartMetric();

    const segment = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
    const subsegment = segment?.addNewSubsegment('## collect-gpu-metrics');
    if (subsegment !== undefined) {
      tracer.setSegment(subsegment);
      tracer.annotateColdStart();
      tracer.addServiceNameAnnotation();
    }
    try {
      const summary = await collectGpuMetrics(deps, {
        deadlineMs: deps.clock.now() + context.getRemainingTimeInMillis(),
      });
      if (subsegment !== undefined) tracer.addResponseAsMetadata(summary.counts, 'collect-gpu-metrics');
      const attempted = summary.sources.filter((s) => s.chunksPlanned > 0);
      if (summary.errors.length > 0 && attempted.every((s) => s.error !== undefined)) {
        throw new CollectionFailedError(summary);
      }
      return summary;
    } catch (err) {
      if (subsegment !== undefined) tracer.addErrorAsMetadata(err as Error);
      throw err;
    } finally {
      metrics.publishStoredMetrics();
      if (subsegment !== undefined && segment !== undefined) {
        subsegment.close();
        tracer.setSegment(segment);
      }
    }
  };
}

export const handler = makeHandler(collectorRuntime);
