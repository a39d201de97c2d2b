import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { APPROVAL_DENIED_ERROR, QUARANTINE_TAG_KEY } from '../../lambdas/contracts/notifications-config';
import { logicalId, remediationStack, synthesizedDefinition } from './support/remediation-stack';

type State = Record<string, unknown> & {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
};
type Definition = { StartAt: string; States: Record<string, State> };

const full = remediationStack({
  reboot: true,
  verifyAfterSeconds: 120,
  approvalTimeoutSeconds: 7200,
  approvalHeartbeatSeconds: 900,
  retrainPipelineName: 'Vision-Retrain',
});
const minimal = remediationStack();
const definition = (src: typeof full, machine: 'stopTrainingJob' | 'quarantineNode' | 'retrainOnDrift') => {
  const m = src.remediation[machine];
  if (!m) throw new Error(`${machine} was not created`);
  return JSON.parse(synthesizedDefinition(src, m)) as Definition;
};

/** The statements of a state machine's role, without CDK's log-delivery and X-Ray statements. */
function roleStatements(src: typeof full, machine: 'stopTrainingJob' | 'quarantineNode' | 'retrainOnDrift') {
  const m = src.remediation[machine];
  if (!m) throw new Error(`${machine} was not created`);
  const roleId = logicalId(src.stack, m.role as never);
  const policies = Object.values(src.template.findResources('AWS::IAM::Policy')).filter((p) =>
    JSON.stringify(p.Properties.Roles).includes(roleId),
  );
  expect(policies).toHaveLength(1);
  const statements = policies[0]?.Properties.PolicyDocument.Statement as { Action: string | string[] }[];
  const logsAndXray = statements.filter((s) => [s.Action].flat().every((a) => /^(logs|xray):/.test(a)));
  expect(logsAndXray).toHaveLength(2);
  return statements.filter((s) => !logsAndXray.includes(s));
}

describe('Remediation state machines', () => {
  const { stack, template } = full;
  const tableArn = { 'Fn::GetAtt': [logicalId(stack, full.incidents.table), 'Arn'] };
  const topicRef = { Ref: logicalId(stack, full.topics.topic('page')) };
  const keyArn = {
    'Fn::GetAtt': [
      logicalId(stack, full.stack.node.findChild('EncryptionKey').node.findChild('Key') as never),
      'Arn',
    ],
  };
  const common = [
    { Action: 'dynamodb:UpdateItem', Effect: 'Allow', Resource: tableArn },
    { Action: 'sns:Publish', Effect: 'Allow', Resource: topicRef },
    { Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], Effect: 'Allow', Resource: keyArn },
  ];
  const arn = (resource: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, resource]] });

  it('are STANDARD, traced, and log ALL events without execution data to an encrypted log group', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 3);
    template.allResourcesProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: Match.anyValue() } }],
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: keyArn, RetentionInDays: 30 });
  });

  it('stop-training-job: least-privilege role', () => {
    expect(roleStatements(full, 'stopTrainingJob')).toEqual([
      ...common,
      {
        Action: 'sagemaker:StopTrainingJob',
        Effect: 'Allow',
        Resource: arn(':sagemaker:us-east-1:123456789012:training-job/*'),
      },
    ]);
  });

  it('quarantine-node: CreateTags only for the quarantine key, reboot only of quarantined instances', () => {
    expect(roleStatements(full, 'quarantineNode')).toEqual([
      ...common,
      {
        Action: 'ec2:CreateTags',
        Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': [QUARANTINE_TAG_KEY] } },
        Effect: 'Allow',
        Resource: arn(':ec2:us-east-1:123456789012:instance/*'),
      },
      {
        Action: 'ec2:RebootInstances',
        Condition: { StringLike: { [`ec2:ResourceTag/${QUARANTINE_TAG_KEY}`]: '?*' } },
        Effect: 'Allow',
        Resource: arn(':ec2:us-east-1:123456789012:instance/*'),
      },
      { Action: 'ec2:DescribeInstanceStatus', Effect: 'Allow', Resource: '*' },
    ]);
    // Without reboot: no reboot or describe permission at all.
    expect(roleStatements(minimal, 'quarantineNode').map((s) => s.Action)).toEqual([
      'dynamodb:UpdateItem',
      'sns:Publish',
      ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
      'ec2:CreateTags',
    ]);
  });

  it('retrain-on-drift: StartPipelineExecution on the configured pipeline only; absent without one', () => {
    expect(roleStatements(full, 'retrainOnDrift')).toEqual([
      ...common,
      {
        Action: 'sagemaker:StartPipelineExecution',
        Effect: 'Allow',
        Resource: arn(':sagemaker:us-east-1:123456789012:pipeline/vision-retrain'),
      },
    ]);
    expect(minimal.remediation.retrainOnDrift).toBeUndefined();
    minimal.template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
  });

  it('approval: token stored by updateItem.waitForTaskToken, timeout and heartbeat from config, denial and timeout caught', () => {
    for (const machine of ['stopTrainingJob', 'quarantineNode', 'retrainOnDrift'] as const) {
      const d = definition(full, machine);
      const choice = d.States.PolicyChoice as unknown as {
        Choices: { Variable: string; StringEquals: string; Next: string }[];
        Default: string;
      };
      expect(choice.Choices.map((c) => [c.Variable, c.StringEquals])).toEqual([
        ['$.policy', 'automatic'],
        ['$.policy', 'notify'],
      ]);
      expect(choice.Default).toBe('RequestApproval');
      const approval = d.States.RequestApproval as State & {
        Catch: { ErrorEquals: string[]; Next: string }[];
      };
      expect(approval.Resource).toBe('arn:aws:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken');
      expect(approval.TimeoutSeconds).toBe(7200);
      expect(approval.HeartbeatSeconds).toBe(900);
      expect(JSON.stringify(approval.Parameters)).toContain('"S.$":"$$.Task.Token"');
      expect(approval.Parameters).toMatchObject({ 'TableName.$': '$.table', 'Key.$': '$.key' });
      expect(approval.Catch.map((c) => [c.ErrorEquals, c.Next])).toEqual([
        [['States.Timeout', 'States.HeartbeatTimeout'], 'RecordApprovalTimedOut'],
        [[APPROVAL_DENIED_ERROR], 'RecordDenied'],
        [['States.ALL'], 'RecordFailed'],
      ]);
    }
    const noHeartbeat = definition(minimal, 'stopTrainingJob').States.RequestApproval;
    expect(noHeartbeat?.TimeoutSeconds).toBe(3600);
    expect(noHeartbeat).not.toHaveProperty('HeartbeatSeconds');
  });

  it('actions go through the AWS SDK integrations with the input fields, every failure is caught', () => {
    const stop = definition(full, 'stopTrainingJob').States.StopTrainingJob as State & { Catch: unknown[] };
    expect(stop.Resource).toBe('arn:aws:states:::aws-sdk:sagemaker:stopTrainingJob');
    expect(stop.Parameters).toEqual({ 'TrainingJobName.$': '$.trainingJobName' });
    expect(stop.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailed' },
    ]);

    const q = definition(full, 'quarantineNode').States;
    expect(q.TagInstance?.Resource).toBe('arn:aws:states:::aws-sdk:ec2:createTags');
    expect(q.TagInstance?.Parameters).toEqual({
      'Resources.$': 'States.Array($.instanceId)',
      Tags: [{ Key: QUARANTINE_TAG_KEY, 'Value.$': '$.incidentId' }],
    });
    expect(q.RebootInstance?.Resource).toBe('arn:aws:states:::aws-sdk:ec2:rebootInstances');
    expect(q.WaitForBoot).toEqual({ Type: 'Wait', Seconds: 120, Next: 'CheckHealth' });
    expect(q.CheckHealth?.Resource).toBe('arn:aws:states:::aws-sdk:ec2:describeInstanceStatus');

    const r = definition(full, 'retrainOnDrift').States.StartPipeline;
    expect(r?.Resource).toBe('arn:aws:states:::aws-sdk:sagemaker:startPipelineExecution');
    expect(r?.Parameters).toMatchObject({ PipelineName: 'Vision-Retrain' });
  });

  it('without reboot, quarantine-node tags, notifies and ends: no approval, reboot or health states', () => {
    const states = Object.keys(definition(minimal, 'quarantineNode').States).sort();
    expect(states).toEqual([
      'Failed',
      'Notify',
      'RecordDone',
      'RecordQuarantined',
      'RecordStarted',
      'RecordTagFailed',
      'TagInstance',
    ]);
  });

  it('every audit step is an UpdateItem on the item named by the input, appending to the audit list', () => {
    for (const machine of ['stopTrainingJob', 'quarantineNode', 'retrainOnDrift'] as const) {
      const records = Object.entries(definition(full, machine).States).filter(([name]) =>
        name.startsWith('Record'),
      );
      expect(records.length).toBeGreaterThan(4);
      for (const [name, s] of records) {
        expect(s.Resource, name).toBe('arn:aws:states:::aws-sdk:dynamodb:updateItem');
        expect(s.ResultPath, name).toBeNull();
        expect(s.Parameters?.UpdateExpression, name).toContain(
          '#audit = list_append(if_not_exists(#audit, :none), :entry)',
        );
      }
    }
  });

  it('notifies the page topic with severity and kind attributes', () => {
    const notify = definition(full, 'stopTrainingJob').States.Notify;
    expect(notify?.Resource).toBe('arn:aws:states:::sns:publish');
    expect(notify?.Parameters).toMatchObject({
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:page',
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'page' },
        kind: { DataType: 'String', StringValue: 'remediation.stop_training_job' },
      },
    });
    expect(notify?.Parameters?.['Message.$']).toContain('npx fleetwatch remediation approve');
  });

  it('rejects a heartbeat that is not shorter than the timeout', () => {
    expect(() => remediationStack({ approvalTimeoutSeconds: 600, approvalHeartbeatSeconds: 600 })).toThrow(
      /approvalHeartbeat \(600 s\) must be shorter than approvalTimeout \(600 s\)/,
    );
  });
});

describe('IncidentsTable', () => {
  it('is keyed by id, encrypted with the key, with PITR, TTL on expiresAt and the status-index GSI', () => {
    full.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      GlobalSecondaryIndexes: [
        {
          IndexName: 'status-index',
          KeySchema: [
            { AttributeName: 'status', KeyType: 'HASH' },
            { AttributeName: 'lastSeenMs', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });
});
