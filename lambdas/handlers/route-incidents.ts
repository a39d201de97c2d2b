import type { Context, SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { routeFindings } from '../app/route-findings';
import { CLOUDWATCH_ALARM_STATE_CHANGE } from '../contracts/alarm-event';
import { findingFromAlarmEvent } from '../core/detect/alarm-events';
import { timingDatapoints } from '../core/incidents/resolution-timing';
import { type RouterRuntime, routeIncidentsRuntime } from '../wiring/router';

/**
 * route-incidents Lambda: SQS batches from the FindingsQueue (ReportBatchItemFailures). A record
 * is a finding (JSON, body of SqsFindingsPublisher) or a CloudWatch alarm state-change event
 * (EventBridge → the same queue), turned into a finding with findingFromAlarmEvent.
 *
 * The batch is routed as ONE call (routeFindings), not record by record as Powertools'
 * BatchProcessor would: grouping and inhibition look at every finding of the batch together,
 * so a node incident mutes its GPUs whichever order they arrived in. The response has the same
 * shape Powertools produces:
 *   malformed (not JSON, bad alarm event, invalid finding) → DLQ with the reason, NOT retried
 *   transient (store conflicts exhausted, SNS/Step Functions down, DLQ unreachable) → batchItemFailures
 */
export function makeHandler(getRuntime: () => RouterRuntime) {
  return async (event: SQSEvent, context?: Partial<Context>): Promise<SQSBatchResponse> => {
    const rt = getRuntime();
    const { logger, metrics, ops } = rt.observability;
    if (context?.awsRequestId !== undefined && context.functionName !== undefined) {
      logger.addContext(context as Context);
    }
    metrics.captureColdStartMetric();
    try {
      const nowMs = rt.clock.now();
      const failures: SQSBatchItemFailure[] = [];
      const findings: { id: string; finding: unknown }[] = [];
      const records = new Map<string, SQSRecord>();
      for (const record of event.Records) {
        records.set(record.messageId, record);
        const decoded = decode(rt, record, nowMs);
        if ('finding' in decoded) findings.push({ id: record.messageId, finding: decoded.finding });
        else if (!(await deadLetter(rt, record, decoded.problems))) {
          failures.push({ itemIdentifier: record.messageId });
        }
      }
      const result = await routeFindings(rt.deps, { findings, nowMs });
      const opened = new Map<string, number>();
      const suppressed = new Map<string, number>();
      const add = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
      for (const r of result.results) {
        if (r.status === 'ok' && r.event === 'opened' && r.severity !== undefined) add(opened, r.severity);
        if (r.status === 'ok' && r.newlySuppressedBy !== undefined) add(suppressed, r.newlySuppressedBy);
        if (r.status === 'failed') failures.push({ itemIdentifier: r.id });
        if (r.status === 'invalid') {
          const record = records.get(r.id);
          if (record === undefined || !(await deadLetter(rt, record, r.problems))) {
            failures.push({ itemIdentifier: r.id });
          }
        }
      }
      // By the dimensions the catalogue and the incidents dashboard use.
      for (const [severity, n] of opened) ops.count('incidentsOpened', n, { Severity: severity });
      for (const [stage, n] of suppressed) ops.count('incidentsSuppressed', n, { Stage: stage });
      for (const [severity, n] of Object.entries(result.sentBySeverity))
        ops.count('notificationsSent', n, { Severity: severity });
      ops.count('notificationsFailed', result.notificationsFailed);
      ops.count('routerMessagesRetried', failures.length);
      for (const d of timingDatapoints(result.resolutions)) ops.count(d.metric, d.value, d.dimensions);
      return { batchItemFailures: failures };
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

type Decoded = { finding: unknown } | { problems: string[] };

/** The finding a record carries: a finding JSON (validated by routeFindings) or an alarm event. */
function decode(rt: RouterRuntime, record: SQSRecord, nowMs: number): Decoded {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch (e) {
    return { problems: [`body: not JSON (${(e as Error).message})`] };
  }
  const detailType = (body as Record<string, unknown> | null)?.['detail-type'];
  if (detailType === undefined) return { finding: body };
  if (detailType !== CLOUDWATCH_ALARM_STATE_CHANGE) {
    return {
      problems: [
        `detail-type: got ${JSON.stringify(detailType)}; allowed: "${CLOUDWATCH_ALARM_STATE_CHANGE}" or a finding`,
      ],
    };
  }
  const alarm = findingFromAlarmEvent({
    event: body,
    alarms: rt.router.anomalyAlarms,
    stackName: rt.router.stackName,
    nowMs,
  });
  if (!alarm.ok) return { problems: alarm.problems.map((p) => `${p.field}: ${p.problem}`) };
  return { finding: alarm.finding };
}

/** Sends a never-processable record to the DLQ; false when that failed (then SQS retries it). */
async function deadLetter(
  rt: RouterRuntime,
  record: SQSRecord,
  problems: readonly string[],
): Promise<boolean> {
  const { log, ops } = rt.observability;
  ops.count('routerMessagesInvalid', 1);
  log.warn('findings-queue message sent to the DLQ', { messageId: record.messageId, problems });
  try {
    await rt.deadLetters.send({
      body: record.body,
      reason: `invalid finding or alarm event: ${problems[0] ?? 'unknown problem'}`,
      source: 'route-incidents',
      detail: problems.join('; '),
    });
    return true;
  } catch (e) {
    log.error('DLQ send failed; the message will be redelivered', {
      messageId: record.messageId,
      error: (e as Error).message,
    });
    return false;
  }
}

export const handler = makeHandler(routeIncidentsRuntime);
