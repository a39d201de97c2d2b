import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { NORTH_STAR_ALARM_NAME } from '../../infra/constructs/kpi-function';
import { ENV } from '../../lambdas/contracts/env';
import { decodeRouterSettings, routerConfigSchema } from '../../lambdas/wiring/router';
import { exampleConfig, synthFleetWatch } from './support/synth';

/** The incident router in the home stack: event source, schedule, environment, least privilege. */
const { stacks, home } = synthFleetWatch(exampleConfig());
const stack = stacks.home;
const routeId = stack.getLogicalId(stack.incidentRouter.route.function.node.defaultChild as never);
const sweepId = stack.getLogicalId(stack.incidentRouter.sweep.function.node.defaultChild as never);
const fnProps = (id: string) =>
  (home.toJSON().Resources[id] as { Properties: Record<string, unknown> }).Properties as {
    Environment: { Variables: Record<string, unknown> };
    ReservedConcurrentExecutions?: number;
    Role: unknown;
  };

/** Every statement of the policies attached to a function's role. */
function statementsOf(fnId: string): { Action: string | string[]; Resource: unknown }[] {
  const role = (fnProps(fnId).Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const policies = Object.values(
    home.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('IncidentRouter', () => {
  it('consumes the findings queue in batches gathered over a few seconds, with partial failures', () => {
    home.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: routeId },
      EventSourceArn: {
        'Fn::GetAtt': [stack.getLogicalId(stack.findingsQueue.node.defaultChild as never), 'Arn'],
      },
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    expect(fnProps(routeId).ReservedConcurrentExecutions).toBeUndefined();
    expect(fnProps(sweepId).ReservedConcurrentExecutions).toBe(1);
  });

  it('sweeps every minute', () => {
    home.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 minute)',
      Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [sweepId, 'Arn'] } }),
    });
  });

  it('passes router settings the wiring parses, and the topics, machines, table and DLQ', () => {
    const vars = fnProps(routeId).Environment.Variables;
    const settings = routerConfigSchema.parse(
      JSON.parse(decodeRouterSettings(String(vars[ENV.routerConfig]))),
    );
    expect(settings.stackName).toBe(stack.stackName);
    // The configured anomaly alarms + the north-star goodput alarm the stack adds (kpi-function.ts).
    expect(settings.anomalyAlarms.map((a) => a.name)).toEqual([
      ...exampleConfig().anomalyAlarms.map((a) => a.name),
      NORTH_STAR_ALARM_NAME,
    ]);
    for (const name of [
      ENV.incidentsTable,
      ENV.deadLetterQueueUrl,
      ENV.pageTopicArn,
      ENV.ticketTopicArn,
      ENV.infoTopicArn,
      ENV.stopJobStateMachineArn,
      ENV.quarantineNodeStateMachineArn,
    ]) {
      expect(vars, name).toHaveProperty(name);
    }
  });

  it('grants only the DynamoDB, SNS, Step Functions and SQS actions the router uses', () => {
    const actions = new Set(
      statementsOf(routeId).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])),
    );
    for (const a of [
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      'dynamodb:Query',
      'sns:Publish',
      'states:StartExecution',
      'sqs:SendMessage',
    ]) {
      expect(actions, a).toContain(a);
    }
    for (const a of [
      'dynamodb:Scan',
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'states:StopExecution',
    ]) {
      expect(actions, a).not.toContain(a);
    }
    const ddb = statementsOf(routeId).find((s) => [s.Action].flat().includes('dynamodb:Query'));
    expect(JSON.stringify(ddb?.Resource)).toContain('/index/status-index');
    expect(JSON.stringify(ddb?.Resource)).not.toContain('/index/*');
  });
});
