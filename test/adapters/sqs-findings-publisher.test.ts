import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_BATCH_BYTES, SqsFindingsPublisher } from '../../lambdas/adapters/sqs/findings-publisher';
import { finding } from '../support/findings';

const sqsMock = mockClient(SQSClient);
const URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/fleetwatch-findings';
const noSleep = async () => {};

function publisher(options = {}) {
  return new SqsFindingsPublisher(new SQSClient({ region: 'us-east-1' }), URL, {
    sleep: noSleep,
    ...options,
  });
}

/** Answers every entry as successful. */
function allSucceed() {
  sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => ({
    Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}`, MD5OfMessageBody: 'x' })),
    Failed: [],
  }));
}

describe('SqsFindingsPublisher', () => {
  beforeEach(() => sqsMock.reset());

  it('sends findings as JSON bodies with severity/kind/cause/cluster attributes, 10 per batch', async () => {
    allSucceed();
    const findings = Array.from({ length: 23 }, (_, i) => finding(i));
    const result = await publisher().publish(findings);
    expect(result).toEqual({ published: 23, failed: [] });
    const calls = sqsMock.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.Entries?.length)).toEqual([10, 10, 3]);
    const first = calls[0]?.Entries?.[0];
    expect(calls[0]?.QueueUrl).toBe(URL);
    expect(JSON.parse(first?.MessageBody ?? '')).toEqual(findings[0]);
    expect(first?.MessageAttributes).toEqual({
      severity: { DataType: 'String', StringValue: 'page' },
      kind: { DataType: 'String', StringValue: 'gpu.xid_fatal' },
      cause: { DataType: 'String', StringValue: 'hardware' },
      cluster: { DataType: 'String', StringValue: 'train-a' },
    });
  });

  it('leaves the cluster attribute out when the finding has no cluster label', async () => {
    allSucceed();
    await publisher().publish([finding(0, { labels: { region: 'us-east-1' } })]);
    const entry = sqsMock.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries?.[0];
    expect(Object.keys(entry?.MessageAttributes ?? {}).sort()).toEqual(['cause', 'kind', 'severity']);
  });

  it('rejects an invalid finding with the zod reason and sends the rest', async () => {
    allSucceed();
    const bad = finding(1, { runbook: '/etc/passwd' });
    const result = await publisher().publish([finding(0), bad, finding(2)]);
    expect(result.published).toBe(2);
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]?.index).toBe(1);
    expect(result.failed[0]?.reason).toMatch(/^invalid finding, not sent: runbook: an http\(s\) URL/);
    const sentIds = sqsMock.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries?.map((e) => e.Id);
    expect(sentIds).toEqual(['0', '2']);
  });

  it('cuts batches by size (256 KiB) before the 10-entry limit', async () => {
    allSucceed();
    // ~76 KB each: three fit in 256 KiB, so six make two batches although the count limit is 10.
    const values = Object.fromEntries(Array.from({ length: 6_000 }, (_, k) => [`v${k}`, k]));
    const huge = (i: number) => finding(i, { evidence: { values, window: { startMs: 0, endMs: 1 } } });
    expect(JSON.stringify(huge(0)).length).toBeGreaterThan(MAX_BATCH_BYTES / 4);
    const result = await publisher().publish([0, 1, 2, 3, 4, 5].map(huge));
    expect(result.failed).toEqual([]);
    const calls = sqsMock.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries ?? []);
    for (const entries of calls) {
      const bytes = entries.reduce((n, e) => n + Buffer.byteLength(e.MessageBody ?? ''), 0);
      expect(bytes).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    }
    expect(calls.map((c) => c.length)).toEqual([3, 3]);
    expect(calls.flat().map((e) => e.Id)).toEqual(['0', '1', '2', '3', '4', '5']);
  });

  it('reports a finding larger than one SQS message without sending it', async () => {
    allSucceed();
    const values = Object.fromEntries(Array.from({ length: 30_000 }, (_, k) => [`value_${k}`, k]));
    const result = await publisher().publish([
      finding(0, { evidence: { values, window: { startMs: 0, endMs: 1 } } }),
    ]);
    expect(result.published).toBe(0);
    expect(result.failed[0]?.reason).toMatch(/bytes as an SQS message; the limit is 262144/);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('retries entries that failed on the server side, reports sender faults at once, by input index', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [{ Id: '0', MessageId: 'a', MD5OfMessageBody: 'x' }],
        Failed: [
          { Id: '1', SenderFault: false, Code: 'InternalError', Message: 'try again' },
          { Id: '2', SenderFault: true, Code: 'InvalidMessageContents', Message: 'bad char' },
        ],
      })
      .resolvesOnce({ Successful: [{ Id: '1', MessageId: 'b', MD5OfMessageBody: 'x' }], Failed: [] });
    const retries: number[] = [];
    const result = await publisher({ onRetry: (r: { entries: number }) => retries.push(r.entries) }).publish([
      finding(0),
      finding(1),
      finding(2),
    ]);
    expect(result).toEqual({
      published: 2,
      failed: [{ index: 2, reason: 'InvalidMessageContents: bad char (sender fault)' }],
    });
    const calls = sqsMock
      .commandCalls(SendMessageBatchCommand)
      .map((c) => c.args[0].input.Entries?.map((e) => e.Id));
    expect(calls).toEqual([['0', '1', '2'], ['1']]);
    expect(retries).toEqual([1]);
  });

  it('retries a throttled call with backoff, then gives up with the reason', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'RequestThrottled',
      $metadata: { httpStatusCode: 403 },
    });
    sqsMock.on(SendMessageBatchCommand).rejects(throttled);
    const delays: number[] = [];
    const result = await new SqsFindingsPublisher(new SQSClient({ region: 'us-east-1' }), URL, {
      maxAttempts: 3,
      sleep: async (ms) => {
        delays.push(ms);
      },
      random: () => 0,
    }).publish([finding(0)]);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(3);
    expect(delays).toEqual([50, 100]);
    expect(result.published).toBe(0);
    expect(result.failed[0]?.reason).toBe('still failing after 3 attempts: RequestThrottled: Rate exceeded');
  });

  it('does not retry a sender fault on the whole call (e.g. access denied), and keeps later batches', async () => {
    const denied = Object.assign(new Error('not authorized'), {
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
    });
    sqsMock
      .on(SendMessageBatchCommand)
      .rejectsOnce(denied)
      .resolves({ Successful: [{ Id: '10', MessageId: 'z', MD5OfMessageBody: 'x' }], Failed: [] });
    const result = await publisher().publish(Array.from({ length: 11 }, (_, i) => finding(i)));
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
    expect(result.published).toBe(1);
    expect(result.failed.map((f) => f.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(result.failed[0]?.reason).toBe('SendMessageBatch failed: AccessDenied: not authorized');
  });
});
