import type { Log, OpsMetrics } from '../../core/ports';
import { backoffMs, errorMessage, errorName, isThrottling, isTransient, type Sleep } from '../aws-retry';

/**
 * Retries for SageMaker calls beyond the SDK's own attempts: the list/describe APIs have low,
 * non-adjustable rate limits, so throttling under load is expected and must not fail a run.
 */

export interface RetryPolicy {
  /** Attempts per call, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly sleep: Sleep;
  readonly random: () => number;
}

/** Where the call goes and where its retries are reported. */
export interface CallSite {
  readonly region: string;
  /** The SageMaker operation name, e.g. ListTrainingJobs: the `Api` dimension and log field. */
  readonly api: string;
  readonly log: Log;
  readonly ops: OpsMetrics;
}

/**
 * Runs `attempt` until it succeeds, fails with a non-transient error, or `maxAttempts` is used
 * up (then the last error propagates). Each retry counts `apiThrottled` when it was throttling and
 * logs a warning naming the API and the backoff.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  site: CallSite,
  attempt: () => Promise<T>,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isTransient(err) || n >= policy.maxAttempts) throw err;
      const delayMs = backoffMs(n, policy.baseDelayMs, policy.maxDelayMs, policy.random);
      if (isThrottling(err)) site.ops.count('apiThrottled', 1, { Api: site.api });
      site.log.warn(`SageMaker ${site.api} failed transiently; backing off`, {
        region: site.region,
        api: site.api,
        attempt: n,
        maxAttempts: policy.maxAttempts,
        delayMs,
        error: errorName(err),
        message: errorMessage(err),
      });
      await policy.sleep(delayMs);
    }
  }
}
