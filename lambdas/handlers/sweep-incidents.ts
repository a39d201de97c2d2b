import type { Context } from 'aws-lambda';
import { type SweepResult, sweepIncidents } from '../app/route-findings';
import { timingDatapoints } from '../core/incidents/resolution-timing';
import { type RouterRuntime, sweepIncidentsRuntime } from '../wiring/router';

/**
 * sweep-incidents Lambda (EventBridge schedule, every minute): resolves quiet incidents, drops
 * stale pending ones, notifies when a silence or maintenance window ended and the problem is
 * still there, flushes group waits, re-notifies open pages and retries unsent notifications
 * (including the resolved message of an incident a person resolved with the CLI, so its time to
 * detect / resolve is emitted here).
 * Throws when some incidents could not be handled, so the invocation counts as an error
 * (Errors alarm) — the next minute's sweep retries them anyway.
 */
export function makeHandler(getRuntime: () => RouterRuntime) {
  return async (_event?: unknown, context?: Partial<Context>): Promise<SweepResult> => {
    const rt = getRuntime();
    const { logger, metrics, ops, log } = rt.observability;
    if (context?.awsRequestId !== undefined && context.functionName !== undefined) {
      logger.addContext(context as Context);
    }
    metrics.captureColdStartMetric();
    try {
      const result = await sweepIncidents(rt.deps, { nowMs: rt.clock.now() });
      for (const [severity, n] of Object.entries(result.sentBySeverity))
        ops.count('notificationsSent', n, { Severity: severity });
      ops.count('notificationsFailed', result.notificationsFailed);
      for (const d of timingDatapoints(result.resolutions)) ops.count(d.metric, d.value, d.dimensions);
      log.info('sweep done', { ...result });
      if (result.failed > 0) {
        throw new Error(
          `sweep-incidents: ${result.failed} incident(s) could not be updated or notified; retried next run`,
        );
      }
      return result;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

export const handler = makeHandler(sweepIncidentsRuntime);
