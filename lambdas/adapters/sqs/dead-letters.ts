import { type MessageAttributeValue, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetters } from '../../core/ports';

/**
 * DeadLetters on an SQS queue. The body is the original message, untouched, so it can be
 * redriven as is once the cause is fixed; why it landed there travels in message attributes
 * (reason, source, detail) that the console and `receive-message --message-attribute-names All`
 * show.
 */
export interface SqsDeadLettersOptions {
  /** Characters of `detail` kept (SQS counts attributes towards the 256 KiB message limit). @default 1000 */
  readonly maxDetailChars?: number;
}

export class SqsDeadLetters implements DeadLetters {
  private readonly maxDetailChars: number;

  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    options: SqsDeadLettersOptions = {},
  ) {
    this.maxDetailChars = options.maxDetailChars ?? 1000;
  }

  async send(message: { body: string; reason: string; source: string; detail?: string }): Promise<void> {
    const attributes: Record<string, MessageAttributeValue> = {
      reason: text(message.reason || 'unspecified'),
      source: text(message.source || 'unspecified'),
    };
    if (message.detail) attributes.detail = text(truncate(message.detail, this.maxDetailChars));
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        // SQS refuses an empty body; say so rather than drop the message.
        MessageBody: message.body === '' ? '(empty message body)' : message.body,
        MessageAttributes: attributes,
      }),
    );
  }
}

function text(value: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: value };
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
