import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { DriftCheck } from '../../infra/constructs/drift-check';
import { EncryptionKey } from '../../infra/constructs/encryption-key';
import { InvocationSchedules } from '../../infra/constructs/invocation-schedules';
import { driftSchema, resolveDriftConfig } from '../../lambdas/contracts/drift-config';
import { ENV } from '../../lambdas/contracts/env';
import { CDK_JSON_CONTEXT, exampleConfig, synthFleetWatch, tempDir } from './support/synth';

const drift = {
  scheduleMinutes: 30,
  endpoints: [
    {
      name: 'churn',
      team: 'ml-risk',
      modelMonitor: true,
      modelMonitorReportsS3Uri: 's3://mm-reports/monitor/',
      dataCapture: {
        s3Uri: 's3://capture-bucket/datacapture',
        baselineS3Uri: 's3://baselines/churn/baseline.csv',
      },
    },
    {
      name: 'fraud',
      region: 'us-west-2',
      modelMonitor: true,
      modelMonitorReportsS3Uri: 's3://mm-reports-west',
    },
  ],
};

// cdk-nag is checked on an isolated stack below, so this file does not depend on the nag status
// of constructs other helpers are building; test/infra/cdk-nag.test.ts covers the whole app.
const synthesized = synthFleetWatch(
  exampleConfig((c) => void Object.assign(c, { drift })),
  { nag: false },
);
const { home } = synthesized;
const stack = synthesized.stacks.home;
const check = stack.driftCheck;
const logicalId = (c: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(c.node.defaultChild as CfnElement);

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

function statementsOfRole(roleId: string): Statement[] {
  const policies = home.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: roleId }] },
  }) as Record<string, { Properties: { PolicyDocument: { Statement: Statement[] } } }>;
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

const partition = { Ref: 'AWS::Partition' };
const account = { Ref: 'AWS::AccountId' };
// The home stack has a concrete region, so CDK writes the partition of SageMaker ARNs literally.
const arn = (region: string, resource: string) => ({
  'Fn::Join': ['', [`arn:aws:sagemaker:${region}:`, account, `:${resource}/*`]],
});
const s3 = (path: string) => ({ 'Fn::Join': ['', ['arn:', partition, `:s3:::${path}`]] });

describe('DriftCheck', () => {
  it('exists only when drift.endpoints is non-empty', () => {
    expect(check).toBeDefined();
    const without = synthFleetWatch(exampleConfig(), { nag: false });
    expect(without.stacks.home.driftCheck).toBeUndefined();
    without.home.resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      { Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'check-drift' }) } },
      0,
    );
  });

  it('is a nodejs22.x arm64 single-writer function with only the drift settings in its environment', () => {
    const fn = check?.function.function;
    expect(fn).toBeDefined();
    home.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 300,
      MemorySize: 1024,
      ReservedConcurrentExecutions: 1,
      Environment: {
        Variables: {
          POWERTOOLS_SERVICE_NAME: 'check-drift',
          POWERTOOLS_METRICS_NAMESPACE: 'FleetWatch',
          NODE_OPTIONS: '--enable-source-maps',
          [ENV.driftConfig]: Match.anyValue(),
          [ENV.stateTable]: { Ref: logicalId(stack.stores.stateTable) },
          [ENV.findingsQueueUrl]: { Ref: logicalId(stack.findingsQueue) },
        },
      },
    });
    const [fnResource] = Object.values(
      home.findResources('AWS::Lambda::Function', {
        Properties: {
          Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'check-drift' }) },
        },
      }) as Record<string, { Properties: { Environment: { Variables: Record<string, string> } } }>,
    );
    const env = fnResource?.Properties.Environment.Variables;
    const passed = JSON.parse(env?.[ENV.driftConfig] ?? '{}');
    // Regions resolved at synth, so the Lambda never guesses.
    expect(passed.endpoints.map((e: { name: string; region: string }) => [e.name, e.region])).toEqual([
      ['churn', 'us-east-1'],
      ['fraud', 'us-west-2'],
    ]);
  });

  it('runs on an EventBridge Scheduler rate schedule of drift.scheduleMinutes', () => {
    home.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(30 minutes)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [logicalId(check?.function.function as never), 'Arn'] },
      }),
    });
  });

  it('has exactly the least-privilege statements the config calls for', () => {
    const roleId = logicalId(check?.function.role as never);
    const statements = statementsOfRole(roleId);
    const drift = statements.filter((s) => [s.Action].flat().some((a) => /^(sagemaker|s3):/.test(a)));
    expect(drift).toEqual([
      {
        Effect: 'Allow',
        Action: ['sagemaker:ListMonitoringExecutions', 'sagemaker:ListMonitoringSchedules'],
        Resource: '*',
      },
      {
        Effect: 'Allow',
        Action: 'sagemaker:DescribeMonitoringSchedule',
        Resource: [arn('us-east-1', 'monitoring-schedule'), arn('us-west-2', 'monitoring-schedule')],
      },
      {
        Effect: 'Allow',
        Action: 'sagemaker:DescribeProcessingJob',
        Resource: [arn('us-east-1', 'processing-job'), arn('us-west-2', 'processing-job')],
      },
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: [
          s3('baselines/churn/baseline.csv'),
          s3('capture-bucket/datacapture/churn/*'),
          s3('mm-reports-west/*'),
          s3('mm-reports/monitor/*'),
        ],
      },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: s3('capture-bucket'),
        Condition: { StringLike: { 's3:prefix': ['datacapture/churn/', 'datacapture/churn/*'] } },
      },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: s3('mm-reports'),
        Condition: { StringLike: { 's3:prefix': ['monitor/', 'monitor/*'] } },
      },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: s3('mm-reports-west'),
        Condition: { StringLike: { 's3:prefix': ['*'] } },
      },
    ]);
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions).toContain('sqs:SendMessage');
    expect(actions).toContain('dynamodb:PutItem');
    expect(actions).toContain('kms:Decrypt');
    expect(actions.filter((a) => a.startsWith('sqs:')).sort()).toEqual([
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
    ]);
  });

  it('synthesizes a template cfn-lint finds no error in', () => {
    const r = spawnSync(
      'cfn-lint',
      ['--format', 'json', '--', join(synthesized.outdir, 'FleetWatch.template.json')],
      {
        encoding: 'utf8',
      },
    );
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      throw new Error('cfn-lint not found: pip install cfn-lint==1.51.0');
    }
    const matches = JSON.parse(r.stdout || '[]') as {
      Level: string;
      Rule: { Id: string };
      Message: string;
    }[];
    expect(matches.filter((m) => m.Level === 'Error').map((m) => `${m.Rule.Id}: ${m.Message}`)).toEqual([]);
    expect(r.status === null ? 1 : r.status & 3).toBe(0);
  });

  it('passes cdk-nag with exactly these acknowledgements', () => {
    const app = new App({
      outdir: tempDir('drift-nag'),
      context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] },
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const isolated = new Stack(app, 'FleetWatch', { env: { region: 'us-east-1' } });
    const key = new EncryptionKey(isolated, 'EncryptionKey', { alias: 'fleetwatch/data' }).key;
    const driftCheck = new DriftCheck(isolated, 'DriftCheck', {
      drift: resolveDriftConfig(driftSchema.parse(drift), 'us-east-1'),
      stateTable: dynamodb.Table.fromTableName(isolated, 'State', 'fw-state'),
      findingsQueue: sqs.Queue.fromQueueArn(
        isolated,
        'Findings',
        'arn:aws:sqs:us-east-1:123456789012:fw-findings',
      ),
      schedules: new InvocationSchedules(isolated, 'Schedules', { encryptionKey: key }),
      encryptionKey: key,
      logRetention: logs.RetentionDays.ONE_MONTH,
    });
    // Throws on any unacknowledged error-level finding.
    const assembly = app.synth();
    const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as {
      pluginReports: { violations: unknown[] }[];
    };
    expect(report.pluginReports.flatMap((p) => p.violations)).toEqual([]);
    const acks = driftCheck.node
      .findAll()
      .flatMap((c) =>
        c.node.metadata
          .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          .flatMap((m) =>
            Object.keys(m.data as Record<string, string>).map(
              (id) => `${c.node.path}: ${id.replace(/^annotation::/i, '')}`,
            ),
          ),
      );
    const fn = 'FleetWatch/DriftCheck/CheckDrift';
    expect(acks.sort()).toEqual(
      [
        `${fn}: AwsSolutions-L1`,
        `${fn}: AwsSolutions-IAM5[Resource::*]`, // X-Ray (FleetWatchFunction)
        `${fn}: AwsSolutions-IAM5[Resource::*]`, // ListMonitoringSchedules / ListMonitoringExecutions
        `${fn}: AwsSolutions-IAM5[Action::kms:GenerateDataKey*]`,
        `${fn}: AwsSolutions-IAM5[Action::kms:ReEncrypt*]`,
        ...['us-east-1', 'us-west-2'].flatMap((r) =>
          ['monitoring-schedule', 'processing-job'].map(
            (t) => `${fn}: AwsSolutions-IAM5[Resource::arn:aws:sagemaker:${r}:<AWS::AccountId>:${t}/*]`,
          ),
        ),
        ...['capture-bucket/datacapture/churn/*', 'mm-reports-west/*', 'mm-reports/monitor/*'].map(
          (p) => `${fn}: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${p}]`,
        ),
      ].sort(),
    );
  });
});
