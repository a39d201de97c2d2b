import type { Context } from 'aws-lambda';
import { type CheckDriftSummary, checkDriftRun } from '../app/check-drift';
import { type DriftRuntime, driftRuntime } from '../wiring/drift';

/**
 * check-drift Lambda, run by an EventBridge Scheduler schedule (drift.scheduleMinutes). The
 * payload is ignored. New work stops a safety margin before the Lambda timeout so findings are
 * published and drift/state is saved.
 *
 * An endpoint that failed is in the summary, the logs and DriftEndpointsFailed; the invocation
 * fails only when every endpoint check failed, so Lambda's Errors metric means "drift check down".
 */
export type CheckDriftContext = Pick<Context, 'getRemainingTimeInMillis'> & Partial<Context>;

/** Time kept back from the Lambda timeout to publish findings, save state and flush metrics. */
export const DEADLINE_MARGIN_MS = 30_000;

export class CheckDriftFailedError extends Error {
  override readonly name = 'CheckDriftFailedError';
  constructor(readonly summary: CheckDriftSummary) {
    super(
      `Drift check failed for every endpoint: ${summary.endpoints.map((e) => `${e.region}/${e.endpoint}: ${e.error}`).join(' | ')}`,
    );
  }
}

export function makeHandler(getRuntime: () => DriftRuntime) {
  return async (_event: unknown, context: CheckDriftContext): Promise<CheckDriftSummary> => {
    const { deps, observability } = getRuntime();
    const { logger, metrics } = observability;
    if (context.awsRequestId !== undefined && context.functionName !== undefined) {
      logger.addContext(context as Context);
    }
    metrics.captureColdStartMetric();
    try {
      const remaining = context.getRemainingTimeInMillis();
      const margin = Math.min(DEADLINE_MARGIN_MS, Math.floor(remaining / 4));
      const summary = await checkDriftRun(deps, { deadline: deps.clock.now() + remaining - margin });
      const paths = summary.endpoints.flatMap((e) =>
        [e.modelMonitor, e.dataCapture].filter((p) => p !== 'skipped'),
      );
      if (paths.length > 0 && paths.every((p) => p === 'error')) throw new CheckDriftFailedError(summary);
      return summary;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

export const handler = makeHandler(driftRuntime);
