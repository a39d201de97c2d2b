import type { Context } from 'aws-lambda';
import { type ReconcileJobsDeps, type ReconcileSummary, reconcileJobs } from '../app/reconcile-jobs';
import { type JobsRuntime, reconcileJobsRuntime } from '../wiring/jobs';

/**
 * reconcile-jobs Lambda, run by an EventBridge Scheduler schedule (jobs.reconcileEveryMinutes).
 * The payload is ignored: the watermarks say where to resume. New work stops a safety margin
 * before the Lambda timeout, so the watermark is always saved.
 *
 * A region that stopped on an error is in the summary, the logs and ReconcileIncomplete; the
 * invocation fails only when every region failed, so Lambda's Errors metric means "sweep down".
 */
export type ReconcileContext = Pick<Context, 'getRemainingTimeInMillis'> & Partial<Context>;

/** Time kept back from the Lambda timeout to flush, save watermarks and publish metrics. */
export const DEADLINE_MARGIN_MS = 30_000;

export class ReconcileFailedError extends Error {
  override readonly name = 'ReconcileFailedError';
  constructor(readonly summary: ReconcileSummary) {
    super(
      `Reconciliation failed in every region: ${summary.regions.map((r) => `${r.region}: ${r.error}`).join(' | ')}`,
    );
  }
}

export function makeHandler(getRuntime: () => JobsRuntime<ReconcileJobsDeps>) {
  return async (_event: unknown, context: ReconcileContext): Promise<ReconcileSummary> => {
    const { deps, observability } = getRuntime();
    const { logger, metrics } = observability;
    if (context.awsRequestId !== undefined && context.functionName !== undefined) {
      logger.addContext(context as Context);
    }
    metrics.captureColdStartMetric();
    try {
      const remaining = context.getRemainingTimeInMillis();
      const margin = Math.min(DEADLINE_MARGIN_MS, Math.floor(remaining / 4));
      const summary = await reconcileJobs(deps, { deadline: deps.clock.now() + remaining - margin });
      if (summary.regions.length > 0 && summary.regions.every((r) => r.stoppedBy === 'error')) {
        throw new ReconcileFailedError(summary);
      }
      return summary;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

export const handler = makeHandler(reconcileJobsRuntime);
