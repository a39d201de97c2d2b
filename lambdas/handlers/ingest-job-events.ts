import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type IngestJobEventsDeps, ingestJobEvent } from '../app/ingest-job-events';
import { ingestJobEventsRuntime, type JobsRuntime } from '../wiring/jobs';

/**
 * ingest-job-events Lambda: SQS (fed by the EventBridge rule for "SageMaker Training Job State
 * Change") with ReportBatchItemFailures. Each record is handled on its own. Invalid events go to
 * the DLQ and count as handled; a record whose processing throws (sink, store or DLQ unavailable)
 * is returned in batchItemFailures, so SQS redelivers just that one, and after maxReceiveCount the
 * queue's redrive policy dead-letters it.
 */
export function makeHandler(getRuntime: () => JobsRuntime<IngestJobEventsDeps>) {
  return async (event: SQSEvent, context?: Partial<Context>): Promise<SQSBatchResponse> => {
    const { deps, observability } = getRuntime();
    const { logger, metrics } = observability;
    if (context?.awsRequestId !== undefined && context.functionName !== undefined) {
      logger.addContext(context as Context);
    }
    metrics.captureColdStartMetric();
    try {
      const processor = new BatchProcessor(EventType.SQS);
      return await processPartialResponse(
        event,
        async (record: SQSRecord) => ingestJobEvent(deps, record.body, { messageId: record.messageId }),
        processor,
        // A batch where every record failed is still a partial response, not an invocation error:
        // SQS then retries each record individually, and the Errors metric stays for real crashes.
        {
          ...(context?.getRemainingTimeInMillis ? { context: context as Context } : {}),
          throwOnFullBatchFailure: false,
        },
      );
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

export const handler = makeHandler(ingestJobEventsRuntime);
