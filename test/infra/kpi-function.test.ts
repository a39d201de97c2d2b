import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  KPI_STATE_OBJECT,
  KPI_USAGE_PREFIX,
  NORTH_STAR_ALARM_NAME,
  northStarAlarm,
  withNorthStarAlarm,
} from '../../infra/constructs/kpi-function';
import { anomalyAlarmName } from '../../lambdas/contracts/alarm-event';
import { ENV } from '../../lambdas/contracts/env';
import { KPI_NAMESPACE, KPIS, NORTH_STAR } from '../../lambdas/contracts/kpis';
import { KPI_USAGE_PREFIX as WIRING_USAGE_PREFIX } from '../../lambdas/wiring/kpis';
import { decodeRouterSettings, routerConfigSchema } from '../../lambdas/wiring/router';
import { exampleConfig, synthFleetWatch } from './support/synth';

// cdk-nag for the whole app is in cdk-nag.test.ts.
const synthesized = synthFleetWatch(exampleConfig(), { nag: false });
const { home } = synthesized;
const stack = synthesized.stacks.home;
const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as CfnElement);
const kpiFn = id(stack.kpis.function.function);
const kpiRole = id(stack.kpis.function.role);
const collectorRole = id(stack.collectGpuMetrics.role);
const bucket = id(stack.detectionState.bucket);

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
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const objects = (path: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, `/${path}`]] });

describe('KpiFunction', () => {
  it('is the compute-kpis handler, a single writer, with the jobs table, bucket and findings queue', () => {
    const fn = home.findResources('AWS::Lambda::Function')[kpiFn] as {
      Properties: {
        ReservedConcurrentExecutions: number;
        Environment: { Variables: Record<string, unknown> };
      };
    };
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(1);
    const vars = fn.Properties.Environment.Variables;
    expect(vars[ENV.serviceName]).toBe('compute-kpis');
    expect(vars[ENV.detectionStateBucket]).toEqual({ Ref: bucket });
    for (const name of [ENV.jobsTable, ENV.findingsQueueUrl]) expect(vars, name).toHaveProperty(name);
  });

  it('runs hourly on the stack schedule group', () => {
    home.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 hour)',
      Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [kpiFn, 'Arn'] } }),
    });
  });

  it('reads only the usage records, reads and writes only the KPI state, lists only those prefixes', () => {
    expect(KPI_USAGE_PREFIX).toBe(WIRING_USAGE_PREFIX);
    const s3 = statementsOfRole(kpiRole).filter((s) => actions(s).some((a) => a.startsWith('s3:')));
    expect(s3).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: 's3:GetObject', Resource: objects(`${KPI_USAGE_PREFIX}*`) }),
        expect.objectContaining({
          Action: ['s3:GetObject', 's3:PutObject'],
          Resource: objects(KPI_STATE_OBJECT),
        }),
        expect.objectContaining({
          Action: 's3:ListBucket',
          Resource: { 'Fn::GetAtt': [bucket, 'Arn'] },
          Condition: { StringLike: { 's3:prefix': [`${KPI_USAGE_PREFIX}*`, 'kpi/state*'] } },
        }),
      ]),
    );
    expect(s3).toHaveLength(3);
    // Nothing under detect/ (the detector's state) and no PutObject on the records.
    expect(JSON.stringify(s3)).not.toContain('detect/');
    const dynamo = statementsOfRole(kpiRole).filter((s) => actions(s).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo.flatMap(actions)).toEqual(['dynamodb:Query']);
  });

  it('lets the collector put usage records (and nothing else new under kpi/)', () => {
    const kpi = statementsOfRole(collectorRole).filter((s) => JSON.stringify(s.Resource).includes('/kpi/'));
    expect(kpi).toEqual([
      expect.objectContaining({ Action: 's3:PutObject', Resource: objects(`${KPI_USAGE_PREFIX}*`) }),
    ]);
  });
});

describe('north-star anomaly alarm', () => {
  const def = KPIS[NORTH_STAR];

  it('watches the fleet goodput series of the catalogue, lower side of the band only', () => {
    home.hasResourceProperties('AWS::CloudWatch::AnomalyDetector', {
      SingleMetricAnomalyDetector: Match.objectEquals({
        Namespace: KPI_NAMESPACE,
        MetricName: def.metricName,
        Stat: 'Average',
      }),
    });
    home.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: anomalyAlarmName(stack.stackName, NORTH_STAR_ALARM_NAME),
      ComparisonOperator: 'LessThanLowerThreshold',
      ActionsEnabled: false,
      Metrics: Match.arrayWith([
        Match.objectLike({
          Id: 'm1',
          MetricStat: {
            Metric: Match.objectEquals({ Namespace: KPI_NAMESPACE, MetricName: def.metricName }),
            Period: 3600,
            Stat: 'Average',
          },
        }),
      ]),
    });
  });

  it('is known to the router (severity from the catalogue intent, cause, runbook)', () => {
    const route = id(stack.incidentRouter.route.function);
    const fn = home.findResources('AWS::Lambda::Function')[route] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    const settings = routerConfigSchema.parse(
      JSON.parse(decodeRouterSettings(String(fn.Properties.Environment.Variables[ENV.routerConfig]))),
    );
    const mine = settings.anomalyAlarms.find((a) => a.name === NORTH_STAR_ALARM_NAME);
    expect(mine).toMatchObject({
      severity: def.alertIntent,
      cause: 'efficiency',
      runbook: 'docs/runbooks/kpi.goodput_drop.md',
      direction: 'below',
    });
  });

  it('refuses a configured alarm that takes its name', () => {
    expect(() => withNorthStarAlarm([northStarAlarm()])).toThrow(/reserved for the north-star/);
    expect(withNorthStarAlarm([]).map((a) => a.name)).toEqual([NORTH_STAR_ALARM_NAME]);
  });
});
