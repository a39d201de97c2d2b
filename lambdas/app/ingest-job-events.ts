import { parseSageMakerJobEvent } from '../contracts/events';
import type { OpsMetricKey } from '../contracts/metrics';
import { type JobTagKeys, jobStateFromEvent } from '../core/jobs/job-state';
import type { ApplyOutcome, DeadLetters, JobStore, Log, OpsMetrics, TelemetrySink } from '../core/ports';

/**
 * ingest-job-events: one SQS message carrying one EventBridge "SageMaker Training Job State
 * Change" event.
 *
 * - Not a usable job event (not JSON, another event type, a field missing or malformed): sent to
 *   the dead-letter queue with the precise reason, counted, logged, and treated as handled, since
 *   retrying a bad message would only loop.
 * - Valid: written to the telemetry sink, then applied to the job store (newest LastModifiedTime
 *   wins). Sink first, so a retry after a sink failure still writes; the sink's record version
 *   makes the rewrite a no-op, and the store's condition makes a re-apply a 'duplicate'.
 * - Anything transient (throttling, 5xx, timeouts) propagates: the handler reports the record as
 *   a batch item failure, SQS redelivers it, and after maxReceiveCount the queue's redrive policy
 *   moves it to the DLQ.
 */
export interface IngestJobEventsDeps {
  readonly sink: TelemetrySink;
  readonly jobStore: JobStore;
  readonly deadLetters: DeadLetters;
  readonly tagKeys: JobTagKeys;
  readonly log: Log;
  readonly ops: OpsMetrics;
}

export type IngestOutcome = ApplyOutcome | 'invalid';

/** The DLQ `source` attribute of messages this use case gives up on. */
export const INGEST_JOB_EVENTS_SOURCE = 'ingest-job-events';

const OUTCOME_METRIC: Record<ApplyOutcome, OpsMetricKey> = {
  applied: 'jobEventsApplied',
  duplicate: 'jobEventsDuplicate',
  stale: 'jobEventsStale',
};

export async function ingestJobEvent(
  deps: IngestJobEventsDeps,
  body: string,
  meta: { readonly messageId?: string } = {},
): Promise<IngestOutcome> {
  const parsed = parseSageMakerJobEvent(body);
  if (!parsed.ok) {
    const context = { messageId: meta.messageId, reason: parsed.problem, detail: parsed.detail };
    try {
      await deps.deadLetters.send({
        body,
        reason: parsed.problem,
        source: INGEST_JOB_EVENTS_SOURCE,
        detail: parsed.detail,
      });
    } catch (err) {
      deps.ops.count('jobEventsFailed', 1);
      deps.log.error('Invalid job event could not be sent to the DLQ; it will be retried', {
        ...context,
        error: (err as Error).message,
      });
      throw err;
    }
    deps.ops.count('jobEventsInvalid', 1);
    deps.log.error('Invalid job event sent to the DLQ', context);
    return 'invalid';
  }

  const state = jobStateFromEvent(parsed.event, deps.tagKeys);
  const context = {
    messageId: meta.messageId,
    eventId: parsed.event.id,
    region: state.region,
    jobName: state.jobName,
    status: state.status,
    secondaryStatus: state.secondaryStatus,
    lastModifiedTime: state.lastModifiedTime,
  };
  try {
    const written = await deps.sink.writeJobStates([state]);
    if (written.rejected.length > 0) {
      // The sink has counted and logged the rejection; the job store remains the record of truth.
      deps.log.warn('Job state rejected by the telemetry sink; applying it to the job store anyway', {
        ...context,
        sinkReason: written.rejected[0]?.reason,
      });
    }
    const outcome = await deps.jobStore.apply(state);
    deps.ops.count(OUTCOME_METRIC[outcome], 1);
    deps.log.info(`Job event ${outcome}`, { ...context, outcome });
    return outcome;
  } catch (err) {
    deps.ops.count('jobEventsFailed', 1);
    deps.log.error('Job event failed; it will be retried, then dead-lettered by the queue', {
      ...context,
      error: (err as Error).name,
      message: (err as Error).message,
    });
    throw err;
  }
}
