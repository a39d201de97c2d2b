import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { EncryptionKey } from '../../infra/constructs/encryption-key';
import { filterPolicyOf, NotificationTopics } from '../../infra/constructs/notification-topics';
import { NOTIFICATION_ATTRIBUTES } from '../../lambdas/contracts/notification-attributes';
import { notificationsSchema } from '../../lambdas/contracts/notifications-config';
import { logicalId } from './support/remediation-stack';

function build(notifications: unknown) {
  const stack = new Stack(new App(), 'TopicsTest', { env: { region: 'us-east-1', account: '123456789012' } });
  const key = new EncryptionKey(stack, 'EncryptionKey').key;
  const topics = new NotificationTopics(stack, 'Notifications', {
    encryptionKey: key,
    notifications: notificationsSchema.parse(notifications),
  });
  return { stack, key, topics };
}

const config = {
  page: { emails: ['oncall@example.com'] },
  info: { emails: ['digest@example.com'] },
  subscriptions: [
    {
      protocol: 'email',
      endpoint: 'vision-hw@example.com',
      severities: ['page', 'ticket'],
      filter: { team: ['vision'], category: ['hardware', 'network'] },
    },
    {
      protocol: 'https',
      endpoint: 'https://hooks.example.com/fleetwatch/train-a',
      severities: ['ticket'],
      filter: { cluster: ['train-a'], kind: ['gpu.xid_fatal'] },
    },
    { protocol: 'sqs', endpoint: 'arn:aws:sqs:us-east-1:123456789012:archive', severities: ['info'] },
  ],
};

describe('NotificationTopics', () => {
  const { stack, key, topics } = build(config);
  const role = new iam.Role(stack, 'Router', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  topics.grantPublish(role, ['page', 'ticket']);
  const template = Template.fromStack(stack);
  const keyArn = { 'Fn::GetAtt': [logicalId(stack, key), 'Arn'] };
  const topicRef = (s: 'page' | 'ticket' | 'info') => ({ Ref: logicalId(stack, topics.topic(s)) });

  it('creates three topics, encrypted with the stack key, with stable construct ids', () => {
    template.resourceCountIs('AWS::SNS::Topic', 3);
    template.allResourcesProperties('AWS::SNS::Topic', { KmsMasterKeyId: keyArn });
    expect(['page', 'ticket', 'info'].map((s) => topics.topic(s as 'page').node.path)).toEqual([
      'TopicsTest/Notifications/PageTopic',
      'TopicsTest/Notifications/TicketTopic',
      'TopicsTest/Notifications/InfoTopic',
    ]);
    template.hasResourceProperties('AWS::SNS::Topic', { DisplayName: 'TopicsTest page' });
  });

  it("denies publishing without TLS and lets only this account's CloudWatch alarms publish as a service", () => {
    template.resourceCountIs('AWS::SNS::TopicPolicy', 3);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [topicRef('page')],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Principal: '*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Sid: 'AllowCloudWatchAlarmsOfThisAccount',
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': '123456789012' },
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': [
                    '',
                    ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:us-east-1:123456789012:alarm:*'],
                  ],
                },
              },
            },
          }),
        ]),
      },
    });
  });

  it('lets CloudWatch alarms use the key to publish to the encrypted topics (key policy)', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Sid: 'AllowCloudWatchAlarmsToPublishToEncryptedTopics',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Resource: '*',
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          },
        ]),
      },
    });
  });

  it('subscribes every endpoint of config to the topics of its severities, with its filter policy', () => {
    const subs = Object.values(template.findResources('AWS::SNS::Subscription')).map(
      (r) =>
        r.Properties as {
          TopicArn: { Ref: string };
          Protocol: string;
          Endpoint: string;
          FilterPolicy?: unknown;
        },
    );
    const byTopic = (s: 'page' | 'ticket' | 'info') =>
      subs
        .filter((x) => x.TopicArn.Ref === topicRef(s).Ref)
        .map((x) => [x.Protocol, x.Endpoint, x.FilterPolicy])
        .sort();
    const vision = { team: ['vision'], category: ['hardware', 'network'] };
    expect(byTopic('page')).toEqual([
      ['email', 'oncall@example.com', undefined],
      ['email', 'vision-hw@example.com', vision],
    ]);
    expect(byTopic('ticket')).toEqual([
      ['email', 'vision-hw@example.com', vision],
      [
        'https',
        'https://hooks.example.com/fleetwatch/train-a',
        { cluster: ['train-a'], kind: ['gpu.xid_fatal'] },
      ],
    ]);
    expect(byTopic('info')).toEqual([
      ['email', 'digest@example.com', undefined],
      ['sqs', 'arn:aws:sqs:us-east-1:123456789012:archive', undefined],
    ]);
  });

  it('filter policies use the attribute names the router sets', () => {
    const policy = filterPolicyOf({ cluster: ['a'], team: ['t'], category: ['hardware'], kind: ['k'] });
    expect(Object.keys(policy).sort()).toEqual(
      [
        NOTIFICATION_ATTRIBUTES.cluster,
        NOTIFICATION_ATTRIBUTES.team,
        NOTIFICATION_ATTRIBUTES.category,
        NOTIFICATION_ATTRIBUTES.kind,
      ].sort(),
    );
  });

  it('grantPublish: sns:Publish on the chosen topics only, and use of the key', () => {
    const policy = Object.values(template.findResources('AWS::IAM::Policy'))[0]?.Properties as {
      PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] };
    };
    const statements = policy.PolicyDocument.Statement;
    const publish = statements.filter((s) => s.Action === 'sns:Publish').map((s) => s.Resource);
    expect(publish).toEqual(expect.arrayContaining([topicRef('page'), topicRef('ticket')]));
    expect(JSON.stringify(publish)).not.toContain(topicRef('info').Ref);
    expect(
      statements.some(
        (s) =>
          JSON.stringify(s.Action).includes('kms:GenerateDataKey') &&
          JSON.stringify(s.Resource) === JSON.stringify(keyArn),
      ),
    ).toBe(true);
  });

  it('rejects the same endpoint twice on one topic, saying where', () => {
    expect(() =>
      build({
        page: { emails: ['oncall@example.com'] },
        subscriptions: [{ protocol: 'email', endpoint: 'oncall@example.com', severities: ['page'] }],
      }),
    ).toThrow(/"oncall@example.com" is subscribed twice to the page topic/);
  });
});
