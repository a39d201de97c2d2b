import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import {
  MAX_ALARMS_PER_MUTE_RULE,
  MaintenanceMuteRules,
  type MuteTarget,
  muteSchedulesOf,
} from '../../infra/constructs/alarm-mute-rules';
import { SYNTH_TIME_CONTEXT_KEY } from '../../infra/constructs/anomaly-alarms';
import { pipelineAlarmNamePrefix } from '../../infra/constructs/pipeline-alarms';
import { buildFleetWatchApp } from '../../infra/fleetwatch-app';
import { anomalyAlarmNamePrefix } from '../../lambdas/contracts/alarm-event';
import { type MaintenanceWindowInput, maintenanceWindowSchema } from '../../lambdas/contracts/calendar';
import { CDK_JSON_CONTEXT, exampleConfig, tempDir } from './support/synth';

const NOW = Date.parse('2026-11-24T12:00:00Z');
const win = (w: MaintenanceWindowInput) => maintenanceWindowSchema.parse(w);

describe('calendar window → mute schedule', () => {
  it('one-off: at() in UTC, start rounded down and end rounded up to whole minutes', () => {
    const w = win({ name: 'drain', start: '2026-11-28T03:00:30+01:00', end: '2026-11-28T05:59:10+01:00' });
    expect(muteSchedulesOf(w, 0, NOW)).toEqual([
      { expression: 'at(2026-11-28T02:00)', timeZone: 'UTC', durationMinutes: 180 },
    ]);
  });

  it('one-off longer than 15 days: consecutive rules of at most 15 days', () => {
    const w = win({ start: '2026-12-01T00:00:00Z', duration: 'P20D' });
    expect(muteSchedulesOf(w, 0, NOW)).toEqual([
      { expression: 'at(2026-12-01T00:00)', timeZone: 'UTC', durationMinutes: 15 * 1440 },
      { expression: 'at(2026-12-16T00:00)', timeZone: 'UTC', durationMinutes: 5 * 1440 },
    ]);
  });

  it('one-off already under way: mutes from the next whole minute to its end', () => {
    const w = win({ start: '2026-11-24T11:00:00Z', end: '2026-11-24T14:00:00Z' });
    expect(muteSchedulesOf(w, 0, NOW + 20_000)).toEqual([
      { expression: 'at(2026-11-24T12:01)', timeZone: 'UTC', durationMinutes: 119 },
    ]);
  });

  it('one-off that ended before synth time: no rule', () => {
    expect(muteSchedulesOf(win({ start: '2026-11-01T00:00:00Z', duration: 'PT2H' }), 0, NOW)).toEqual([]);
  });

  it('cron in a DST zone keeps the wall clock and the zone; days of week become names', () => {
    const w = win({ cron: '30 2 * * 1-5', duration: 'PT90M', tz: 'Europe/Berlin' });
    expect(muteSchedulesOf(w, 0, NOW)).toEqual([
      { expression: 'cron(30 2 * * MON,TUE,WED,THU,FRI)', timeZone: 'Europe/Berlin', durationMinutes: 90 },
    ]);
    const sunday = win({ cron: '0 0 4 * * 0,7', duration: 'PT1H', tz: 'UTC' });
    expect(muteSchedulesOf(sunday, 0, NOW)[0]?.expression).toBe('cron(0 4 * * SUN)');
  });

  it('RRULE weekly/daily by hour and minute is translated to cron', () => {
    const weekly = win({
      rrule: 'FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=3;BYMINUTE=30',
      duration: 'PT2H',
      tz: 'America/New_York',
    });
    expect(muteSchedulesOf(weekly, 0, NOW)).toEqual([
      { expression: 'cron(30 3 * * MON,WED)', timeZone: 'America/New_York', durationMinutes: 120 },
    ]);
    const daily = win({ rrule: 'RRULE:FREQ=DAILY;BYHOUR=1,13', duration: 'PT1H', tz: 'UTC' });
    expect(muteSchedulesOf(daily, 0, NOW)[0]?.expression).toBe('cron(0 1,13 * * *)');
  });

  it.each([
    ['FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=2', 'FREQ=MONTHLY'],
    ['FREQ=WEEKLY;BYDAY=2SA;BYHOUR=2', 'BYDAY=2SA'],
    ['FREQ=WEEKLY;INTERVAL=2;BYDAY=SA', 'INTERVAL=2'],
    ['FREQ=DAILY;COUNT=3', 'COUNT'],
  ])(
    'untranslatable RRULE %s fails synth naming the window, the problem and what is allowed',
    (rrule, why) => {
      const w = win({ name: 'patch-night', rrule, duration: 'PT1H', tz: 'UTC' });
      expect(() => muteSchedulesOf(w, 3, NOW)).toThrow(
        new RegExp(`maintenance window "patch-night": RRULE .*${why}.*; allowed: FREQ=DAILY or FREQ=WEEKLY`),
      );
    },
  );

  it('unnamed windows are named by their index; a cron with both day fields fails', () => {
    const w = win({ cron: '0 2 1 * 6', duration: 'PT1H' });
    expect(() => muteSchedulesOf(w, 4, NOW)).toThrow(
      /maintenance window "maintenance\[4\]": cron "0 2 1 \* 6" .*both day of month and day of week/,
    );
  });
});

/** A stack with `n` alarms per cluster, and the rules a calendar makes for them. */
function muteStack(windows: MaintenanceWindowInput[], perCluster: Record<string, number>) {
  const stack = new Stack(new App(), 'MuteTest', { env: { region: 'us-east-1' } });
  const targets: MuteTarget[] = [];
  for (const [cluster, n] of Object.entries(perCluster)) {
    for (let i = 0; i < n; i++) {
      const alarm = new cloudwatch.CfnAlarm(stack, `${cluster}-${i}`, {
        alarmName: `${cluster}-${i}`,
        comparisonOperator: 'GreaterThanThreshold',
        evaluationPeriods: 1,
        threshold: 1,
        metricName: 'm',
        namespace: 'n',
        period: 60,
        statistic: 'Average',
      });
      targets.push({ alarm, labels: { region: 'us-east-1', cluster, kind: 'alarm.x', severity: 'ticket' } });
    }
  }
  const construct = new MaintenanceMuteRules(stack, 'Mute', {
    windows: windows.map(win),
    targets,
    nowMs: NOW,
  });
  const template = Template.fromStack(stack);
  const rules = Object.values(template.findResources('AWS::CloudWatch::AlarmMuteRule')) as {
    Properties: {
      MuteTargets: { AlarmNames: { Ref: string }[] };
      Rule: { Schedule: Record<string, string> };
    };
  }[];
  const fail = (): never => {
    throw new Error('mute rule missing');
  };
  const names = (r: (typeof rules)[number]) =>
    r.Properties.MuteTargets.AlarmNames.map((ref) => ref.Ref.replace(/[0-9A-F]{8}$/, ''));
  return { construct, rules, names, fail };
}

describe('MaintenanceMuteRules', () => {
  it('a window scoped to a cluster mutes only that cluster; a fleet-wide window mutes all', () => {
    const { rules, names, fail } = muteStack(
      [
        {
          name: 'a',
          start: '2026-11-28T02:00:00Z',
          duration: 'PT1H',
          scope: [{ label: 'cluster', op: '=', value: 'traina' }],
        },
        { name: 'all', cron: '0 2 * * 6', duration: 'PT1H', tz: 'Europe/Berlin' },
      ],
      { traina: 2, trainb: 1 },
    );
    expect(rules).toHaveLength(2);
    expect(names(rules[0] ?? rules[1] ?? fail()).sort()).toEqual(['traina0', 'traina1']);
    expect(rules[0]?.Properties.Rule.Schedule).toEqual({
      Duration: 'PT1H',
      Expression: 'at(2026-11-28T02:00)',
      Timezone: 'UTC',
    });
    expect(names(rules[1] ?? fail()).sort()).toEqual(['traina0', 'traina1', 'trainb0']);
    expect(rules[1]?.Properties.Rule.Schedule).toEqual({
      Duration: 'PT1H',
      Expression: 'cron(0 2 * * SAT)',
      Timezone: 'Europe/Berlin',
    });
  });

  it('a window whose scope covers no alarm (a node) makes no rule', () => {
    const { rules } = muteStack(
      [
        {
          start: '2026-11-28T02:00:00Z',
          duration: 'PT1H',
          scope: [{ label: 'node', op: '=', value: 'i-1' }],
        },
      ],
      { traina: 1 },
    );
    expect(rules).toHaveLength(0);
  });

  it(`splits more than ${MAX_ALARMS_PER_MUTE_RULE} alarms over several rules`, () => {
    const { rules } = muteStack([{ start: '2026-11-28T02:00:00Z', duration: 'PT1H' }], { c: 230 });
    expect(rules.map((r) => r.Properties.MuteTargets.AlarmNames.length)).toEqual([100, 100, 30]);
    const all = new Set(rules.flatMap((r) => r.Properties.MuteTargets.AlarmNames.map((a) => a.Ref)));
    expect(all.size).toBe(230);
  });
});

describe('the FleetWatch stack', () => {
  const outdir = tempDir('fleetwatch-mute');
  const app = new App({
    outdir,
    context: {
      ...CDK_JSON_CONTEXT,
      'aws:cdk:bundling-stacks': [],
      [SYNTH_TIME_CONTEXT_KEY]: '2026-11-24T12:00:00Z',
    },
  });
  const config = exampleConfig((c) => {
    c.maintenance = [
      { name: 'fleet', start: '2026-11-28T02:00:00Z', end: '2026-11-28T06:00:00Z' },
      { name: 'weekly', rrule: 'FREQ=WEEKLY;BYDAY=SA;BYHOUR=2', duration: 'PT2H', tz: 'America/New_York' },
      {
        name: 'a-only',
        cron: '0 4 * * 0',
        duration: 'PT1H',
        tz: 'UTC',
        scope: [{ label: 'cluster', op: '=', value: 'train-a' }],
      },
    ];
  });
  const { home } = buildFleetWatchApp(app, config);
  app.synth();
  const template = Template.fromStack(home);
  const resources = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties: Record<string, unknown> }
  >;
  const alarmName = (ref: unknown) => {
    const id = (ref as { Ref: string }).Ref;
    return (resources[id]?.Properties as { AlarmName?: string } | undefined)?.AlarmName;
  };
  const rules = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::AlarmMuteRule');
  const muted = rules.map((r) =>
    ((r.Properties.MuteTargets as { AlarmNames: unknown[] }).AlarmNames ?? []).map(alarmName),
  );

  it('mutes the anomaly alarms in scope of each window, and never a pipeline alarm', () => {
    expect(rules).toHaveLength(3);
    const prefix = anomalyAlarmNamePrefix(home.stackName);
    expect(muted.flat().every((n) => n?.startsWith(prefix))).toBe(true);
    expect(muted.flat().some((n) => n?.startsWith(pipelineAlarmNamePrefix(home.stackName)))).toBe(false);
    // The cluster-scoped window mutes the train-a alarm only; the others every anomaly alarm.
    expect(muted[2]).toEqual([`${prefix}train-a-gpu-util`]);
    expect(muted[0]?.length).toBe(home.anomalyAlarms.alarms.length);
    expect(muted[0]?.length).toBeGreaterThanOrEqual(config.anomalyAlarms.length);
    // Pipeline alarms exist in the stack: they are left out on purpose.
    expect(
      Object.values(resources).some(
        (r) =>
          r.Type === 'AWS::CloudWatch::Alarm' &&
          String(r.Properties.AlarmName).startsWith(pipelineAlarmNamePrefix(home.stackName)),
      ),
    ).toBe(true);
  });

  it('excludes the recurring window from the detectors in its time zone', () => {
    const detectors = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::AnomalyDetector');
    const config = detectors[0]?.Properties.Configuration as
      | { ExcludedTimeRanges: { StartTime: string }[] }
      | undefined;
    const ranges = config?.ExcludedTimeRanges ?? [];
    // Saturdays 02:00 EST = 07:00Z, from 14 days before synth time.
    expect(ranges.map((r) => r.StartTime)).toContain('2026-11-14T07:00:00');
    expect(ranges.map((r) => r.StartTime)).toContain('2026-11-28T02:00:00');
  });

  it('cfn-lint accepts the mute rules', () => {
    const templates = readdirSync(outdir)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => join(outdir, f));
    const r = spawnSync('cfn-lint', ['--format', 'json', '--', ...templates], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    const matches = JSON.parse(r.stdout || '[]') as {
      Level: string;
      Rule: { Id: string };
      Message: string;
    }[];
    const relevant = matches.filter((m) => m.Level === 'Error' || !['W3005', 'W3697'].includes(m.Rule.Id));
    expect(relevant.map((m) => `${m.Rule.Id}: ${m.Message}`)).toEqual([]);
  });

  it('cdk-nag reports nothing for the mute rules', () => {
    const report = readFileSync(join(outdir, 'validation-report.json'), 'utf8');
    expect(report).not.toMatch(/MaintenanceMuteRules/);
  });
});
