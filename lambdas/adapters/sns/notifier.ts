import { type MessageAttributeValue, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Severity } from '../../contracts/finding';
import type { Notification } from '../../contracts/notification';
import {
  NOTIFICATION_ATTRIBUTE_DATA_TYPE,
  NOTIFICATION_ATTRIBUTES,
} from '../../contracts/notification-attributes';
import type { Notifier } from '../../core/ports';
import { backoffMs, errorMessage, isThrottling, type Sleep, sleepFor } from '../aws-retry';

/**
 * Notifier on SNS: one Publish per notification to the topic of its severity, with the message
 * attributes the subscription filter policies match (names from notification-attributes.ts).
 * Subject and body are already cut to SNS limits by core/incidents/message.ts.
 *
 * Throttling is retried here with backoff beyond the SDK's own attempts (a detection run can
 * page many incidents in one batch, and SNS Publish limits are per account and region); other
 * errors propagate, and the router keeps the notification pending in its outbox.
 */
export interface SnsNotifierOptions {
  /** Attempts including the first. @default 5 */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly sleep?: Sleep;
  readonly random?: () => number;
}

export class SnsNotifier implements Notifier {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArns: Readonly<Record<Severity, string>>,
    private readonly options: SnsNotifierOptions = {},
  ) {}

  async publish(notification: Notification): Promise<string> {
    const topicArn = this.topicArns[notification.attributes.severity];
    const command = new PublishCommand({
      TopicArn: topicArn,
      Subject: notification.subject,
      Message: notification.body,
      MessageAttributes: messageAttributes(notification),
    });
    const maxAttempts = this.options.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.sns.send(command);
        if (res.MessageId === undefined) throw new Error(`SNS Publish to ${topicArn} returned no MessageId`);
        return res.MessageId;
      } catch (err) {
        if (!isThrottling(err) || attempt >= maxAttempts) {
          throw new Error(
            `SNS Publish to ${topicArn} (incident ${notification.attributes.incidentId}) failed after ${attempt} attempt(s): ${errorMessage(err)}`,
            { cause: err },
          );
        }
        await (this.options.sleep ?? sleepFor)(
          backoffMs(
            attempt,
            this.options.baseDelayMs ?? 200,
            this.options.maxDelayMs ?? 5_000,
            this.options.random ?? Math.random,
          ),
        );
      }
    }
  }
}

/**
 * The filterable attributes (severity, category, cluster, team, kind) plus incidentId and event
 * for consumers; absent labels are left out (SNS rejects empty String values).
 */
export function messageAttributes(n: Notification): Record<string, MessageAttributeValue> {
  const a = n.attributes;
  const values: Record<string, string | undefined> = {
    [NOTIFICATION_ATTRIBUTES.severity]: a.severity,
    [NOTIFICATION_ATTRIBUTES.category]: a.category,
    [NOTIFICATION_ATTRIBUTES.cluster]: a.cluster,
    [NOTIFICATION_ATTRIBUTES.team]: a.team,
    [NOTIFICATION_ATTRIBUTES.kind]: a.kind,
    incidentId: a.incidentId,
    event: a.event,
  };
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || value === '') continue;
    out[name] = { DataType: NOTIFICATION_ATTRIBUTE_DATA_TYPE, StringValue: value };
  }
  return out;
}
