import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  type MetricAlarm,
  PutAlarmMuteRuleCommand,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchAlarmMuteRules } from '../../lambdas/adapters/cloudwatch/alarm-mute-rules';
import { type MaintenanceWindowInput, maintenanceWindowSchema } from '../../lambdas/contracts/calendar';

/**
 * Wire shapes of PutAlarmMuteRule/DescribeAlarms. moto 5.2.1 does not implement PutAlarmMuteRule
 * (its server answers HTTP 500 with HTML), so this path is tested with aws-sdk-client-mock.
 */
const cw = mockClient(CloudWatchClient);
const NOW = Date.parse('2026-11-24T12:00:00Z');
const win = (w: MaintenanceWindowInput) => maintenanceWindowSchema.parse(w);

const anomaly = (name: string, cluster?: string): MetricAlarm => ({
  AlarmName: `FleetWatch-anomaly-${name}`,
  AlarmDescription: `FleetWatch anomaly alarm "${name}": ... Severity ticket, cause efficiency.`,
  Metrics: [
    {
      Id: 'm1',
      MetricStat: {
        Metric: {
          Namespace: 'CWAgent',
          MetricName: 'DCGM_FI_DEV_GPU_UTIL',
          ...(cluster ? { Dimensions: [{ Name: 'ClusterName', Value: cluster }] } : {}),
        },
        Period: 300,
        Stat: 'Average',
      },
    },
    { Id: 'ad1', Expression: 'ANOMALY_DETECTION_BAND(m1, 2)' },
  ],
});

beforeEach(() => cw.reset());

describe('CloudWatchAlarmMuteRules', () => {
  const muter = () =>
    new CloudWatchAlarmMuteRules(new CloudWatchClient({ region: 'us-east-1' }), 'FleetWatch', 'us-east-1');

  it('finds the anomaly alarms by name prefix (all pages) and mutes those in scope', async () => {
    cw.on(DescribeAlarmsCommand)
      .resolvesOnce({ MetricAlarms: [anomaly('train-a-util', 'train-a')], NextToken: 't1' })
      .resolvesOnce({ MetricAlarms: [anomaly('train-b-util', 'train-b'), anomaly('collector')] });
    cw.on(PutAlarmMuteRuleCommand).resolves({});
    const window = win({
      name: 'Rack 7',
      cron: '0 2 * * 6',
      duration: 'PT2H',
      tz: 'Europe/Berlin',
      scope: [{ label: 'cluster', op: '=', value: 'train-a' }],
    });
    const result = await muter().muteWindow('rack-7', window, NOW);

    const describes = cw.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input);
    expect(describes).toEqual([
      { AlarmNamePrefix: 'FleetWatch-anomaly-', AlarmTypes: ['MetricAlarm'] },
      { AlarmNamePrefix: 'FleetWatch-anomaly-', AlarmTypes: ['MetricAlarm'], NextToken: 't1' },
    ]);
    const puts = cw.commandCalls(PutAlarmMuteRuleCommand).map((c) => c.args[0].input);
    expect(puts).toEqual([
      {
        Name: 'FleetWatch-maintenance-rack-7-0',
        Description: expect.stringContaining('"Rack 7"'),
        Rule: {
          Schedule: { Expression: 'cron(0 2 * * SAT)', Duration: 'PT120M', Timezone: 'Europe/Berlin' },
        },
        MuteTargets: { AlarmNames: ['FleetWatch-anomaly-train-a-util'] },
        Tags: [{ Key: 'fleetwatch:maintenance-window', Value: 'rack-7' }],
      },
    ]);
    expect(result).toEqual({
      rules: ['FleetWatch-maintenance-rack-7-0'],
      alarms: ['FleetWatch-anomaly-train-a-util'],
    });
  });

  it('a fleet-wide one-off window mutes every anomaly alarm, split by 100, as at() in UTC', async () => {
    const alarms = Array.from({ length: 130 }, (_, i) => anomaly(`a${i}`, 'c'));
    cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: alarms });
    cw.on(PutAlarmMuteRuleCommand).resolves({});
    const result = await muter().muteWindow(
      'drain',
      win({ start: '2026-11-28T02:00:00Z', end: '2026-11-28T06:00:00Z' }),
      NOW,
    );
    const puts = cw.commandCalls(PutAlarmMuteRuleCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => p.MuteTargets?.AlarmNames?.length)).toEqual([100, 30]);
    expect(puts.map((p) => p.Rule?.Schedule)).toEqual([
      { Expression: 'at(2026-11-28T02:00)', Duration: 'PT240M', Timezone: 'UTC' },
      { Expression: 'at(2026-11-28T02:00)', Duration: 'PT240M', Timezone: 'UTC' },
    ]);
    expect(result.rules).toEqual(['FleetWatch-maintenance-drain-0', 'FleetWatch-maintenance-drain-1']);
  });

  it('a scope matching no anomaly alarm (a node) puts nothing and says why', async () => {
    cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [anomaly('x', 'train-a')] });
    const result = await muter().muteWindow(
      'node',
      win({
        start: '2026-11-28T02:00:00Z',
        duration: 'PT1H',
        scope: [{ label: 'node', op: '=', value: 'i-1' }],
      }),
      NOW,
    );
    expect(cw.commandCalls(PutAlarmMuteRuleCommand)).toHaveLength(0);
    expect(result.skipped).toMatch(/no anomaly alarm of stack FleetWatch is in the window's scope/);
  });

  it('a window a mute rule cannot express (monthly RRULE) is skipped with the reason, not put', async () => {
    cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [anomaly('x', 'train-a')] });
    const result = await muter().muteWindow(
      'monthly',
      win({ rrule: 'FREQ=MONTHLY;BYMONTHDAY=1', duration: 'PT1H', tz: 'UTC' }),
      NOW,
    );
    expect(cw.commandCalls(PutAlarmMuteRuleCommand)).toHaveLength(0);
    expect(result.skipped).toMatch(
      /maintenance window "monthly": RRULE .*: BYMONTHDAY is not expressible as cron; allowed:/,
    );
  });

  it('an AccessDenied from PutAlarmMuteRule reaches the caller', async () => {
    cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [anomaly('x')] });
    cw.on(PutAlarmMuteRuleCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    await expect(
      muter().muteWindow('w', win({ start: '2026-11-28T02:00:00Z', duration: 'PT1H' }), NOW),
    ).rejects.toThrow('denied');
  });
});
