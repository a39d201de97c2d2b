import { CloudWatchClient, DescribeAlarmsCommand, PutAlarmMuteRuleCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchAlarmMuteRules } from '../../lambdas/adapters/cloudwatch/alarm-mute-rules';
import { InMemoryCalendarStore } from '../../lambdas/adapters/memory/calendar-store';
import { InMemoryIncidentStore } from '../../lambdas/adapters/memory/incident-store';
import { runMaintenance } from '../../lambdas/cli/maintenance';
import type { OperatorDeps } from '../../lambdas/cli/operator';
import { capturedCli } from '../support/operator-cli';

/**
 * `maintenance add --stack`: the window is stored (the router's calendar) AND mute rules are put
 * for the stack's anomaly alarms in scope. CloudWatch is mocked: moto 5.2.1 has no PutAlarmMuteRule.
 */
const cw = mockClient(CloudWatchClient);
const NOW = Date.parse('2026-11-24T12:00:00Z');

beforeEach(() => cw.reset());

function cli() {
  const calendar = new InMemoryCalendarStore();
  const stacks: (string | undefined)[] = [];
  const deps: OperatorDeps = {
    incidents: new InMemoryIncidentStore(),
    calendar,
    approvals: {
      pending: async () => undefined,
      approve: async () => {},
      deny: async () => {},
    },
    alarmMutes: (stack) => {
      stacks.push(stack);
      return stack === undefined
        ? undefined
        : new CloudWatchAlarmMuteRules(new CloudWatchClient({ region: 'us-east-1' }), stack, 'us-east-1');
    },
  };
  const c = capturedCli({ table: 't', region: 'us-east-1', nowMs: NOW, makeDeps: () => deps });
  return { c, calendar, stacks };
}

const ADD = [
  'add',
  '--name',
  'Drain A',
  '--match',
  'cluster=train-a',
  '--start',
  '2026-11-28T02:00:00Z',
  '--duration',
  '2h',
];

describe('fleetwatch maintenance add: alarm mute rules', () => {
  it('with --stack: stores the window and mutes the anomaly alarms in scope', async () => {
    cw.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          AlarmName: 'FleetWatch-anomaly-train-a-util',
          Metrics: [
            {
              Id: 'm1',
              MetricStat: {
                Metric: { Dimensions: [{ Name: 'ClusterName', Value: 'train-a' }] },
                Period: 300,
                Stat: 'Average',
              },
            },
          ],
        },
        {
          AlarmName: 'FleetWatch-anomaly-train-b-util',
          Metrics: [
            {
              Id: 'm1',
              MetricStat: {
                Metric: { Dimensions: [{ Name: 'ClusterName', Value: 'train-b' }] },
                Period: 300,
                Stat: 'Average',
              },
            },
          ],
        },
      ],
    });
    cw.on(PutAlarmMuteRuleCommand).resolves({});
    const { c, calendar, stacks } = cli();
    const code = await runMaintenance([...ADD, '--stack', 'FleetWatch'], c.ctx.io, c.ctx);
    expect(c.err()).toBe('');
    expect(code).toBe(0);
    expect(stacks).toEqual(['FleetWatch']);
    expect((await calendar.maintenanceWindows()).map((w) => w.name)).toEqual(['Drain A']);
    const put = cw.commandCalls(PutAlarmMuteRuleCommand).map((x) => x.args[0].input);
    expect(put.map((p) => p.MuteTargets?.AlarmNames)).toEqual([['FleetWatch-anomaly-train-a-util']]);
    expect(c.out()).toContain('Alarm mute rules FleetWatch-maintenance-drain-a-0 mute 1 anomaly alarm(s).');
  });

  it('without a stack name: stores the window and says no mute rule was put', async () => {
    const { c, calendar } = cli();
    const code = await runMaintenance(ADD, c.ctx.io, c.ctx);
    expect(code).toBe(0);
    expect((await calendar.maintenanceWindows()).length).toBe(1);
    expect(cw.commandCalls(PutAlarmMuteRuleCommand)).toHaveLength(0);
    expect(c.out()).toContain(
      'No alarm mute rule put: name the stack with --stack or $FLEETWATCH_STACK_NAME.',
    );
  });

  it('a failing PutAlarmMuteRule: exit 1, the window is kept, the error is named', async () => {
    cw.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        { AlarmName: 'FleetWatch-anomaly-x', Dimensions: [{ Name: 'ClusterName', Value: 'train-a' }] },
      ],
    });
    cw.on(PutAlarmMuteRuleCommand).rejects(
      Object.assign(new Error('not authorized'), { name: 'AccessDenied' }),
    );
    const { c, calendar } = cli();
    const code = await runMaintenance([...ADD, '--stack', 'FleetWatch'], c.ctx.io, c.ctx);
    expect(code).toBe(1);
    expect((await calendar.maintenanceWindows()).length).toBe(1);
    expect(c.err()).toContain('window drain-a added, but its alarm mute rules failed: not authorized');
  });
});
