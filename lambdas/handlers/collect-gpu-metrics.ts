import type { Context } from 'aws-lambda';
import { type CollectSummary, collectGpuMetrics } from '../app/collect-gpu-metrics';
import type { DetectSummary } from '../app/detect-window';
import type { GpuSample } from '../core/model';
import { type CollectorRuntime, collectorRuntime } from '../wiring/collector';

/**
 * collect-gpu-metrics Lambda, run by an EventBridge Scheduler schedule. The payload is ignored:
 * what to collect comes from the watermarks and the runtime config, so a retried or duplicated
 * invocation just continues (or stops on the watermark conflict).
 *
 * Partial failures (one source, one chunk) are in the summary, the logs and CollectorLagSeconds;
 * the invocation fails only when every source with work failed, so Lambda's Errors metric and the
 * scheduler's retry see a collector that is down, not one that is behind.
 *
 * Detection runs after the collection, over the samples of the chunks it committed:
 *
 *   start ─── collection (deadline − DETECTION_BUDGET_MS) ───┬── detection ──┬─ reserve ─ deadline
 *                                                           committed       DETECTION_RESERVE_MS
 *
 * A detection failure never costs the collection: the watermarks are already committed, the
 * invocation succeeds, and the failure is logged and counted (DetectionRunsFailed{Reason}); so is
 * a skipped run (DetectionSkipped{Reason}: not-configured, nothing-collected, no-time-left).
 * The next run's detection reads the state it left and goes on. When every source failed the
 * invocation still fails as before, without detection (nothing was collected to detect on).
 */
/** Time kept back from the collection for detection when detection is configured. */
export const DETECTION_BUDGET_MS = 60_000;
/** Detection does not start with less than this before the deadline. */
export const DETECTION_MIN_MS = 15_000;
/** Left after detection for flushing metrics and returning. */
export const DETECTION_RESERVE_MS = 5_000;

export type DetectionOutcome =
  | { readonly status: 'ran'; readonly summary: DetectSummary }
  | { readonly status: 'skipped'; readonly reason: 'not-configured' | 'nothing-collected' | 'no-time-left' }
  | { readonly status: 'failed'; readonly error: string };

/** The collection summary (without the retained samples, which can be megabytes) and the detection outcome. */
export type CollectorResult = Omit<CollectSummary, 'committedSamples'> & {
  readonly detection: DetectionOutcome;
};
export type CollectorContext = Pick<Context, 'getRemainingTimeInMillis'> & Partial<Context>;

export class CollectionFailedError extends Error {
  override readonly name = 'CollectionFailedError';
  constructor(readonly summary: CollectSummary) {
    super(`No GPU metrics were collected: ${summary.errors.join(' | ')}`);
  }
}

export function makeHandler(getDeps: () => CollectorRuntime) {
  return async (_event: unknown, context: CollectorContext): Promise<CollectorResult> => {
    const { deps, observability, detect } = getDeps();
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
      const deadlineMs = deps.clock.now() + context.getRemainingTimeInMillis();
      const summary = await collectGpuMetrics(deps, {
        deadlineMs: detect === undefined ? deadlineMs : deadlineMs - DETECTION_BUDGET_MS,
        retainSamples: detect !== undefined,
      });
      if (subsegment !== undefined) tracer.addResponseAsMetadata(summary.counts, 'collect-gpu-metrics');
      const attempted = summary.sources.filter((s) => s.chunksPlanned > 0);
      if (summary.errors.length > 0 && attempted.every((s) => s.error !== undefined)) {
        throw new CollectionFailedError(summary);
      }
      const { committedSamples, ...collected } = summary;
      const detection = await runDetection({ deps, detect }, summary, committedSamples ?? [], deadlineMs);
      return { ...collected, detection };
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

interface DetectionRun {
  readonly deps: CollectorRuntime['deps'];
  readonly detect: CollectorRuntime['detect'];
}

async function runDetection(
  { deps, detect }: DetectionRun,
  summary: CollectSummary,
  samples: readonly GpuSample[],
  deadlineMs: number,
): Promise<DetectionOutcome> {
  const skipped = (reason: 'not-configured' | 'nothing-collected' | 'no-time-left'): DetectionOutcome => {
    deps.ops.count('detectionSkipped', 1, { Reason: reason });
    if (reason !== 'not-configured') deps.log.info('Detection skipped after collection', { reason });
    return { status: 'skipped', reason };
  };
  if (detect === undefined) return skipped('not-configured');
  if (summary.chunks.length === 0) return skipped('nothing-collected');
  if (deadlineMs - deps.clock.now() < DETECTION_MIN_MS) return skipped('no-time-left');
  try {
    const detected = await detect({
      samples,
      windowStartMs: Math.min(...summary.chunks.map((c) => c.startMs)),
      windowEndMs: Math.max(...summary.chunks.map((c) => c.endMs)),
      deadlineMs: deadlineMs - DETECTION_RESERVE_MS,
    });
    return { status: 'ran', summary: detected };
  } catch (err) {
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    deps.ops.count('detectionRunsFailed', 1, { Reason: err instanceof Error ? err.name : 'Error' });
    deps.log.error('Detection failed after a successful collection; the collection is kept', {
      error,
      chunks: summary.chunks.length,
      samples: samples.length,
    });
    return { status: 'failed', error };
  }
}
