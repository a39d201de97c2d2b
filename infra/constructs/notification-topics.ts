import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { SEVERITIES, type Severity } from '../../lambdas/contracts/finding';
import { NOTIFICATION_ATTRIBUTES } from '../../lambdas/contracts/notification-attributes';
import {
  type NotificationsConfig,
  type SubscriptionConfig,
  type SubscriptionFilter,
  subscriptionsFor,
} from '../../lambdas/contracts/notifications-config';

export interface NotificationTopicsProps {
  /** The stack CMK: encrypts the topics (SNS server-side encryption). */
  readonly encryptionKey: kms.IKey;
  /** Subscribers per severity (config `notifications`). */
  readonly notifications: NotificationsConfig;
  /**
   * Prefix of the topics' display names (the sender name of e-mail notifications).
   * @default the stack name
   */
  readonly displayNamePrefix?: string;
}

/** Construct ids of the topics; they are part of the contract (logical ids, outputs). */
export const TOPIC_IDS: Record<Severity, string> = {
  page: 'PageTopic',
  ticket: 'TicketTopic',
  info: 'InfoTopic',
};

/**
 * The three notification topics (page, ticket, info), KMS-encrypted with the stack key and
 * TLS-only, with the subscriptions from config. A subscription's filter becomes an SNS filter
 * policy on the message attributes the router sets (NOTIFICATION_ATTRIBUTES); without a filter
 * the subscriber gets every message of that severity.
 *
 * SQS and Lambda endpoints are subscribed as given: the owner of the queue or function grants
 * SNS access to it (queue policy / function permission), since it may live in another account.
 */
export class NotificationTopics extends Construct {
  readonly topics: Readonly<Record<Severity, sns.Topic>>;
  readonly subscriptions: readonly sns.Subscription[];

  constructor(scope: Construct, id: string, props: NotificationTopicsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const prefix = props.displayNamePrefix ?? stack.stackName;
    const topics = {} as Record<Severity, sns.Topic>;
    const subscriptions: sns.Subscription[] = [];
    for (const severity of SEVERITIES) {
      const topic = new sns.Topic(this, TOPIC_IDS[severity], {
        displayName: `${prefix} ${severity}`.slice(0, 100),
        masterKey: props.encryptionKey,
        enforceSSL: true,
      });
      // CloudWatch alarm actions may publish here (the stack's own alarms); bound to this account.
      topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowCloudWatchAlarmsOfThisAccount',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [topic.topicArn],
          conditions: {
            StringEquals: { 'aws:SourceAccount': stack.account },
            ArnLike: {
              'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*`,
            },
          },
        }),
      );
      topics[severity] = topic;
      const seen = new Set<string>();
      for (const sub of subscriptionsFor(props.notifications, severity)) {
        const subId = subscriptionId(sub);
        if (seen.has(subId)) {
          throw new Error(
            `notifications: ${sub.protocol} endpoint "${sub.endpoint}" is subscribed twice to the ${severity} topic; list it once (in ${severity}.emails or in subscriptions, not both)`,
          );
        }
        seen.add(subId);
        subscriptions.push(
          new sns.Subscription(topic, subId, {
            topic,
            protocol: PROTOCOLS[sub.protocol],
            endpoint: sub.endpoint,
            ...(sub.filter ? { filterPolicy: filterPolicyOf(sub.filter) } : {}),
          }),
        );
      }
    }
    this.topics = topics;
    this.subscriptions = subscriptions;

    // SNS encrypts with the key on behalf of publishers (their IAM policy grants the key use);
    // CloudWatch alarm actions publish as the cloudwatch service, which the key policy must name.
    props.encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublishToEncryptedTopics',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
  }

  /** The topic of a severity. */
  topic(severity: Severity): sns.Topic {
    return this.topics[severity];
  }

  /** ARNs of the topics, by severity (for env vars and outputs). */
  get topicArns(): Record<Severity, string> {
    return {
      page: this.topics.page.topicArn,
      ticket: this.topics.ticket.topicArn,
      info: this.topics.info.topicArn,
    };
  }

  /** Lets `grantee` publish to the given topics (default all), including use of the key. */
  grantPublish(grantee: iam.IGrantable, severities: readonly Severity[] = SEVERITIES): void {
    for (const severity of severities) this.topics[severity].grantPublish(grantee);
  }
}

const PROTOCOLS: Record<SubscriptionConfig['protocol'], sns.SubscriptionProtocol> = {
  email: sns.SubscriptionProtocol.EMAIL,
  https: sns.SubscriptionProtocol.HTTPS,
  sqs: sns.SubscriptionProtocol.SQS,
  lambda: sns.SubscriptionProtocol.LAMBDA,
};

/** A stable, readable construct id ("/" is not allowed in ids). */
function subscriptionId(sub: SubscriptionConfig): string {
  return `${sub.protocol}:${sub.endpoint}`.replace(/\//g, '|');
}

/**
 * The SNS filter policy of a subscription filter: every listed attribute must match one of its
 * values (SNS ANDs the keys and ORs the values of one key).
 */
export function filterPolicyOf(filter: SubscriptionFilter): Record<string, sns.SubscriptionFilter> {
  const policy: Record<string, sns.SubscriptionFilter> = {};
  const entries: [keyof SubscriptionFilter, string][] = [
    ['cluster', NOTIFICATION_ATTRIBUTES.cluster],
    ['team', NOTIFICATION_ATTRIBUTES.team],
    ['category', NOTIFICATION_ATTRIBUTES.category],
    ['kind', NOTIFICATION_ATTRIBUTES.kind],
  ];
  for (const [field, attribute] of entries) {
    const values = filter[field];
    if (values !== undefined)
      policy[attribute] = sns.SubscriptionFilter.stringFilter({ allowlist: [...values] });
  }
  return policy;
}
