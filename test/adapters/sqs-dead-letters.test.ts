import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SqsDeadLetters } from '../../lambdas/adapters/sqs/dead-letters';

const sqsMock = mockClient(SQSClient);
const URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/fleetwatch-job-events-invalid';

describe('SqsDeadLetters', () => {
  beforeEach(() => {
    sqsMock.reset();
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
  });

  it('sends the original body untouched, with reason, source and detail as attributes', async () => {
    const body = '{"source":"aws.sagemaker","detail-type":"SageMaker Training Job State Change","detail":{}}';
    await new SqsDeadLetters(new SQSClient({ region: 'us-east-1' }), URL).send({
      body,
      reason: 'invalid-event',
      source: 'ingest-job-events',
      detail: 'detail.TrainingJobName: missing',
    });
    expect(sqsMock.commandCalls(SendMessageCommand)[0]?.args[0].input).toEqual({
      QueueUrl: URL,
      MessageBody: body,
      MessageAttributes: {
        reason: { DataType: 'String', StringValue: 'invalid-event' },
        source: { DataType: 'String', StringValue: 'ingest-job-events' },
        detail: { DataType: 'String', StringValue: 'detail.TrainingJobName: missing' },
      },
    });
  });

  it('truncates a long detail and leaves out an empty one', async () => {
    const dlq = new SqsDeadLetters(new SQSClient({ region: 'us-east-1' }), URL, { maxDetailChars: 20 });
    await dlq.send({ body: 'b', reason: 'r', source: 's', detail: 'x'.repeat(100) });
    await dlq.send({ body: 'b', reason: 'r', source: 's', detail: '' });
    const [long, empty] = sqsMock
      .commandCalls(SendMessageCommand)
      .map((c) => c.args[0].input.MessageAttributes);
    expect(long?.detail?.StringValue).toBe(`${'x'.repeat(19)}…`);
    expect(empty?.detail).toBeUndefined();
  });

  it('says so instead of sending an empty body, which SQS refuses', async () => {
    await new SqsDeadLetters(new SQSClient({ region: 'us-east-1' }), URL).send({
      body: '',
      reason: 'malformed-json',
      source: 's',
    });
    expect(sqsMock.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageBody).toBe(
      '(empty message body)',
    );
  });

  it('lets a failed send propagate (the message is retried, never dropped)', async () => {
    sqsMock.on(SendMessageCommand).rejects(new Error('Service Unavailable'));
    await expect(
      new SqsDeadLetters(new SQSClient({ region: 'us-east-1' }), URL).send({
        body: 'b',
        reason: 'r',
        source: 's',
      }),
    ).rejects.toThrow('Service Unavailable');
  });
});
