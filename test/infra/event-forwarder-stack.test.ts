import { type CfnElement, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { exampleConfig, synthFleetWatch } from './support/synth';

// The example has fleets in us-east-1 (home) and us-west-2: one forwarder stack, in us-west-2.
const { stacks, forwarders } = synthFleetWatch(exampleConfig());
const stack = stacks.forwarders.get('us-west-2');
const template = forwarders.get('us-west-2');
if (!stack || !template) throw new Error('expected a forwarder stack for us-west-2');
const ref = (element: CfnElement) => stack.getLogicalId(element);
const forwarder = stack.forwarder;
const homeBus = {
  'Fn::Join': ['', ['arn:aws:events:us-east-1:', { Ref: 'AWS::AccountId' }, ':event-bus/default']],
};

describe('event forwarder stacks', () => {
  it('one per fleet region other than the home region, named after it', () => {
    expect([...stacks.forwarders.keys()]).toEqual(['us-west-2']);
    expect(stack.stackName).toBe('FleetWatch-Forwarder-us-west-2');
    expect(stack.region).toBe('us-west-2');
    expect(Stack.of(stack).resolve(stack.account)).toEqual({ Ref: 'AWS::AccountId' });
  });

  it('none when every fleet is in the home region', () => {
    const single = exampleConfig((c) => {
      c.fleets = c.fleets.filter((f) => f.region === c.homeRegion);
    });
    expect(synthFleetWatch(single).stacks.forwarders.size).toBe(0);
  });

  it('contains only the rule, its role and policy, and the DLQ', () => {
    const counts: Record<string, number> = {};
    for (const r of Object.values(template.toJSON().Resources as Record<string, { Type: string }>)) {
      counts[r.Type] = (counts[r.Type] ?? 0) + 1;
    }
    expect(counts).toEqual({
      'AWS::Events::Rule': 1,
      'AWS::IAM::Role': 1,
      'AWS::IAM::Policy': 1,
      'AWS::SQS::Queue': 1,
      'AWS::SQS::QueuePolicy': 1,
    });
  });

  it('forwards SageMaker training job state changes to the home default bus, with a role and a DLQ', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.sagemaker'], 'detail-type': ['SageMaker Training Job State Change'] },
      State: 'ENABLED',
      Targets: [
        {
          Id: 'Target0',
          Arn: homeBus,
          RoleArn: { 'Fn::GetAtt': [ref(forwarder.role.node.defaultChild as CfnElement), 'Arn'] },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [ref(forwarder.deadLetterQueue.node.defaultChild as CfnElement), 'Arn'] },
          },
        },
      ],
    });
  });

  it('role: trusted by EventBridge of this account, may only PutEvents to the home bus', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: homeBus }] },
    });
  });

  it('DLQ: encrypted (SSE-SQS), 14 days, TLS only, writable by this rule only', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    const ruleArn = { 'Fn::GetAtt': [ref(forwarder.rule.node.defaultChild as CfnElement), 'Arn'] };
    const [policy] = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    expect(policy?.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
      }),
    ]);
  });
});
