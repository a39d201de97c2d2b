import { describe, expect, it } from 'vitest';
import { ConfigError, type FleetWatchConfigInput, parseConfig } from '../../../lambdas/contracts/config';
import { notificationsSchema, subscriptionsFor } from '../../../lambdas/contracts/notifications-config';

const minimal: FleetWatchConfigInput = {
  homeRegion: 'us-east-1',
  fleets: [
    {
      cluster: 'train-a',
      region: 'us-east-1',
      instanceType: 'p5.48xlarge',
      nodes: 4,
      source: { profile: 'dcgm-exporter' },
    },
  ],
};

function problemsOf(notifications: unknown): string {
  try {
    parseConfig({ ...minimal, notifications }, 'test.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems.join('\n');
  }
  throw new Error('expected the configuration to be rejected');
}

const sub = (patch: Record<string, unknown>) => ({
  subscriptions: [{ protocol: 'email', endpoint: 'oncall@example.com', severities: ['page'], ...patch }],
});

describe('config.notifications', () => {
  it('defaults: no subscribers, 4 h approval timeout, no reboot, no retrain pipeline', () => {
    const n = parseConfig(minimal).notifications;
    expect(n.subscriptions).toEqual([]);
    expect(n.remediation).toEqual({
      approvalTimeoutSeconds: 14_400,
      quarantine: { reboot: false, verifyAfterSeconds: 300 },
    });
  });

  it.each([
    [
      sub({ endpoint: 'oncall' }),
      'notifications.subscriptions[0].endpoint: got "oncall"; expected an e-mail address for protocol "email"',
    ],
    [
      sub({ severities: ['urgent'] }),
      'notifications.subscriptions[0].severities[0]: got "urgent"; allowed: "page", "ticket", "info"',
    ],
    [
      sub({ severities: [] }),
      'notifications.subscriptions[0].severities: got []; must be at least 1 item(s)',
    ],
    [
      sub({ severities: ['page', 'page'] }),
      'notifications.subscriptions[0].severities: got ["page","page"]; lists a severity twice',
    ],
    [
      sub({ protocol: 'sms' }),
      'notifications.subscriptions[0].protocol: got "sms"; allowed: "email", "https", "sqs", "lambda"',
    ],
    [
      sub({ protocol: 'https', endpoint: 'http://hooks.example.com/x' }),
      'expected an https:// URL for protocol "https"',
    ],
    [sub({ protocol: 'sqs', endpoint: 'my-queue' }), 'expected an SQS queue ARN'],
    [
      sub({ protocol: 'lambda', endpoint: 'arn:aws:sqs:us-east-1:123456789012:q' }),
      'expected a Lambda function ARN',
    ],
    [
      sub({ filter: {} }),
      'notifications.subscriptions[0].filter: got {}; give at least one of cluster, team, category, kind',
    ],
    [
      sub({ filter: { category: ['disk'] } }),
      'notifications.subscriptions[0].filter.category[0]: got "disk"; allowed: "hardware"',
    ],
    [sub({ filter: { region: ['x'] } }), 'notifications.subscriptions[0].filter: unknown field(s) "region"'],
    [
      { page: { emails: ['oncall'] } },
      'notifications.page.emails[0]: got "oncall"; expected an e-mail address',
    ],
    [
      { remediation: { approvalTimeoutSeconds: 10 } },
      'notifications.remediation.approvalTimeoutSeconds: got 10; must be at least 60',
    ],
    [
      { remediation: { approvalTimeoutSeconds: 600, approvalHeartbeatSeconds: 600 } },
      'notifications.remediation.approvalHeartbeatSeconds: got 600; must be less than approvalTimeoutSeconds (600)',
    ],
    [
      { remediation: { retrainPipelineName: 'has spaces' } },
      'notifications.remediation.retrainPipelineName: got "has spaces"; expected a SageMaker Pipeline name',
    ],
  ])('names the field, the value and what is allowed (%#)', (notifications, expected) => {
    expect(problemsOf(notifications)).toContain(expected);
  });

  it('accepts every protocol with a well-formed endpoint', () => {
    const n = notificationsSchema.parse({
      subscriptions: [
        { protocol: 'email', endpoint: 'a@example.com', severities: ['page'] },
        { protocol: 'https', endpoint: 'https://hooks.example.com/fleetwatch', severities: ['ticket'] },
        { protocol: 'sqs', endpoint: 'arn:aws:sqs:us-east-1:123456789012:oncall', severities: ['info'] },
        {
          protocol: 'lambda',
          endpoint: 'arn:aws:lambda:us-east-1:123456789012:function:chat-relay',
          severities: ['page'],
        },
      ],
    });
    expect(n.subscriptions.map((s) => s.protocol)).toEqual(['email', 'https', 'sqs', 'lambda']);
  });

  it('subscriptionsFor: the e-mail shorthand first, then the subscriptions of that severity', () => {
    const n = notificationsSchema.parse({
      page: { emails: ['oncall@example.com'] },
      subscriptions: [
        {
          protocol: 'email',
          endpoint: 'hw@example.com',
          severities: ['page', 'ticket'],
          filter: { category: ['hardware'] },
        },
        { protocol: 'email', endpoint: 'digest@example.com', severities: ['info'] },
      ],
    });
    expect(subscriptionsFor(n, 'page').map((s) => [s.endpoint, s.filter?.category])).toEqual([
      ['oncall@example.com', undefined],
      ['hw@example.com', ['hardware']],
    ]);
    expect(subscriptionsFor(n, 'ticket').map((s) => s.endpoint)).toEqual(['hw@example.com']);
    expect(subscriptionsFor(n, 'info').map((s) => s.endpoint)).toEqual(['digest@example.com']);
  });
});
