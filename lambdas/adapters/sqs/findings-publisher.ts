import {
  type BatchResultErrorEntry,
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type Finding, findingSchema } from '../../contracts/finding';
import type { FindingsPublisher, PublishFailure } from '../../core/ports';
import { backoffMs, errorMessage, errorName, isTransient, type Sleep, sleepFor } from '../aws-retry';

/**
 * FindingsPublisher on the SQS incident queue.
 *
 * - Each finding is validated with findingSchema before it is sent: an invalid one is reported as
 *   a failure (with the zod message) and never reaches the queue, so the router only ever reads
 *   the versioned shape.
 * - SendMessageBatch takes at most 10 entries and 256 KiB (bodies + attributes) per call; batches
 *   are cut on both limits. A single finding over the limit is a failure, not a send.
 * - Message attributes severity, kind, cause and cluster (when labelled) let consumers and
 *   filter policies route without parsing the body.
 * - Per-entry `Failed` results: sender's faults (SenderFault=true, e.g. invalid characters) are
 *   reported at once; the others, and whole-call throttling / 5xx / network errors (../aws-retry),
 *   are retried with backoff. A non-transient call error fails the whole batch (reported, not
 *   thrown), so one bad call does not lose the other batches.
 */
export const MAX_BATCH_ENTRIES = 10;
/** SQS's limit for a whole SendMessageBatch request and for one message. */
export const MAX_BATCH_BYTES = 256 * 1024;

export interface SqsFindingsPublisherOptions {
  /** Attempts per batch, including the first. @default 4 */
  readonly maxAttempts?: number;
  /** @default 100 */
  readonly baseDelayMs?: number;
  /** @default 5_000 */
  readonly maxDelayMs?: number;
  /** @default setTimeout */
  readonly sleep?: Sleep;
  /** Uniform [0, 1) for jitter. @default Math.random */
  readonly random?: () => number;
  /** Told about every retry (the wiring counts throttles). */
  readonly onRetry?: (retry: { attempt: number; delayMs: number; entries: number; error: string }) => void;
}

interface Prepared {
  readonly index: number;
  readonly body: string;
  readonly attributes: Record<string, MessageAttributeValue>;
  readonly bytes: number;
}

export class SqsFindingsPublisher implements FindingsPublisher {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly sleep: Sleep;
  private readonly random: () => number;

  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly options: SqsFindingsPublisherOptions = {},
  ) {
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 5_000;
    this.sleep = options.sleep ?? sleepFor;
    this.random = options.random ?? Math.random;
  }

  async publish(findings: readonly Finding[]): Promise<{ published: number; failed: PublishFailure[] }> {
    const failed: PublishFailure[] = [];
    const ready: Prepared[] = [];
    findings.forEach((finding, index) => {
      const parsed = findingSchema.safeParse(finding);
      if (!parsed.success) {
        const why = parsed.error.issues
          .map((i) => `${i.path.join('.') || '(finding)'}: ${i.message}`)
          .join('; ');
        failed.push({ index, reason: `invalid finding, not sent: ${why}` });
        return;
      }
      const prepared = prepare(index, parsed.data);
      if (prepared.bytes > MAX_BATCH_BYTES) {
        failed.push({
          index,
          reason: `finding is ${prepared.bytes} bytes as an SQS message; the limit is ${MAX_BATCH_BYTES}`,
        });
        return;
      }
      ready.push(prepared);
    });

    let published = 0;
    for (const batch of batches(ready)) {
      const result = await this.sendBatch(batch);
      published += result.sent;
      failed.push(...result.failed);
    }
    failed.sort((a, b) => a.index - b.index);
    return { published, failed };
  }

  private async sendBatch(batch: readonly Prepared[]): Promise<{ sent: number; failed: PublishFailure[] }> {
    const failed: PublishFailure[] = [];
    let pending = batch;
    let sent = 0;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const byId = new Map(pending.map((p) => [String(p.index), p]));
      let retry: { prepared: Prepared; reason: string }[] = [];
      try {
        const res = await this.client.send(
          new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending.map(toEntry) }),
        );
        sent += res.Successful?.length ?? 0;
        for (const f of res.Failed ?? []) {
          const prepared = byId.get(f.Id ?? '');
          if (prepared === undefined) continue;
          if (f.SenderFault === true) failed.push({ index: prepared.index, reason: entryReason(f) });
          else retry.push({ prepared, reason: entryReason(f) });
        }
        // An entry neither successful nor failed would be an SQS bug; never count it as sent.
        const answered = new Set([...(res.Successful ?? []), ...(res.Failed ?? [])].map((e) => e.Id));
        for (const p of pending) {
          if (!answered.has(String(p.index)))
            failed.push({ index: p.index, reason: 'SQS gave no result for this entry' });
        }
      } catch (err) {
        const reason = `${errorName(err)}: ${errorMessage(err)}`;
        if (!isTransient(err)) {
          for (const p of pending)
            failed.push({ index: p.index, reason: `SendMessageBatch failed: ${reason}` });
          return { sent, failed };
        }
        retry = pending.map((prepared) => ({ prepared, reason }));
      }
      if (retry.length === 0) break;
      if (attempt >= this.maxAttempts) {
        for (const r of retry) {
          failed.push({
            index: r.prepared.index,
            reason: `still failing after ${attempt} attempts: ${r.reason}`,
          });
        }
        break;
      }
      const delayMs = backoffMs(attempt, this.baseDelayMs, this.maxDelayMs, this.random);
      this.options.onRetry?.({ attempt, delayMs, entries: retry.length, error: retry[0]?.reason ?? '' });
      await this.sleep(delayMs);
      pending = retry.map((r) => r.prepared);
    }
    return { sent, failed };
  }
}

function prepare(index: number, finding: Finding): Prepared {
  const body = JSON.stringify(finding);
  const attributes: Record<string, MessageAttributeValue> = {
    severity: text(finding.severity),
    kind: text(finding.kind),
    cause: text(finding.cause),
  };
  if (finding.labels.cluster !== undefined) attributes.cluster = text(finding.labels.cluster);
  // SQS counts each attribute's name, type and value towards the message size.
  let bytes = Buffer.byteLength(body, 'utf8');
  for (const [name, v] of Object.entries(attributes)) {
    bytes +=
      Buffer.byteLength(name) + Buffer.byteLength(v.DataType ?? '') + Buffer.byteLength(v.StringValue ?? '');
  }
  return { index, body, attributes, bytes };
}

/** Cuts batches of at most 10 entries and 256 KiB, keeping input order. */
function* batches(items: readonly Prepared[]): Generator<Prepared[]> {
  let current: Prepared[] = [];
  let bytes = 0;
  for (const item of items) {
    if (
      current.length === MAX_BATCH_ENTRIES ||
      (current.length > 0 && bytes + item.bytes > MAX_BATCH_BYTES)
    ) {
      yield current;
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.bytes;
  }
  if (current.length > 0) yield current;
}

function toEntry(p: Prepared): SendMessageBatchRequestEntry {
  // Entry ids must be unique per call and match [A-Za-z0-9_-]{1,80}: the input index is both.
  return { Id: String(p.index), MessageBody: p.body, MessageAttributes: p.attributes };
}

function entryReason(f: BatchResultErrorEntry): string {
  return `${f.Code ?? 'UnknownError'}${f.Message ? `: ${f.Message}` : ''}${f.SenderFault ? ' (sender fault)' : ''}`;
}

function text(value: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: value };
}
