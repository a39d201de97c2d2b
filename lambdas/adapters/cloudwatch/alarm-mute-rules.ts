import {
  type CloudWatchClient,
  DescribeAlarmsCommand,
  type MetricAlarm,
  PutAlarmMuteRuleCommand,
} from '@aws-sdk/client-cloudwatch';
import { anomalyAlarmNamePrefix } from '../../contracts/alarm-event';
import type { MaintenanceWindow } from '../../contracts/calendar';
import type { Cause, Severity } from '../../contracts/finding';
import {
  MAX_ALARMS_PER_MUTE_RULE,
  type MuteSchedule,
  MuteScheduleError,
  muteDurationIso,
  muteSchedulesOf,
} from '../../contracts/mute-schedule';
import { type Alert, allMatch } from '../../core/incidents/alert';

/** What `maintenance add` reports about the mute rules it put. */
export interface MuteRulesResult {
  /** Names of the rules put (one per schedule and group of at most 100 alarms). */
  readonly rules: readonly string[];
  /** Anomaly alarms of the stack in the window's scope. */
  readonly alarms: readonly string[];
  /** Why no rule was put, when none was. */
  readonly skipped?: string;
}

/**
 * Run-time maintenance windows (`fleetwatch maintenance add`) as CloudWatch alarm mute rules,
 * like the ones infra makes from config.maintenance at synth (infra/constructs/alarm-mute-rules.ts,
 * same schedule mapping: contracts/mute-schedule.ts).
 *
 * Targets are the stack's anomaly alarms, found by their name prefix `<stack>-anomaly-`
 * (DescribeAlarms), matched against the window's scope with the router's own matcher on the
 * labels their alerts carry: region, cluster (ClusterName/cluster dimension), kind
 * `alarm.<name>`, and severity/cause from the description infra writes ("Severity ticket, cause
 * efficiency."). Pipeline alarms (`<stack>-pipeline-`) are never targets: the monitor keeps
 * watching itself during fleet maintenance.
 *
 * Rule names are `<stack>-maintenance-<window id>-<n>`, so adding a window with the same id again
 * replaces its rules (PutAlarmMuteRule overwrites). moto 5.2.1 does not implement
 * PutAlarmMuteRule (HTTP 500): tested with aws-sdk-client-mock.
 */
export class CloudWatchAlarmMuteRules {
  constructor(
    private readonly cloudwatch: CloudWatchClient,
    private readonly stackName: string,
    private readonly region: string,
  ) {}

  async muteWindow(windowId: string, window: MaintenanceWindow, nowMs: number): Promise<MuteRulesResult> {
    let schedules: MuteSchedule[];
    try {
      schedules = muteSchedulesOf({ ...window, name: window.name ?? windowId }, 0, nowMs);
    } catch (e) {
      // A window the router handles but a mute rule cannot express (e.g. a monthly RRULE).
      if (e instanceof MuteScheduleError) return { rules: [], alarms: [], skipped: e.message };
      throw e;
    }
    const alarms = (await this.anomalyAlarms()).filter((a) => allMatch(window.scope, this.alertOf(a)));
    const names = alarms.map((a) => a.AlarmName ?? '');
    if (alarms.length === 0) {
      return {
        rules: [],
        alarms: [],
        skipped: `no anomaly alarm of stack ${this.stackName} is in the window's scope`,
      };
    }
    if (schedules.length === 0) return { rules: [], alarms: names, skipped: 'the window has ended' };
    const rules: string[] = [];
    for (const s of schedules) {
      for (let i = 0; i < names.length; i += MAX_ALARMS_PER_MUTE_RULE) {
        const name = `${this.stackName}-maintenance-${windowId}-${rules.length}`.slice(0, 255);
        await this.cloudwatch.send(
          new PutAlarmMuteRuleCommand({
            Name: name,
            Description:
              `FleetWatch maintenance window "${window.name ?? windowId}" (fleetwatch maintenance add): mutes the actions of the anomaly alarms in its scope`.slice(
                0,
                1024,
              ),
            Rule: {
              Schedule: { Expression: s.expression, Duration: muteDurationIso(s), Timezone: s.timeZone },
            },
            MuteTargets: { AlarmNames: names.slice(i, i + MAX_ALARMS_PER_MUTE_RULE) },
            Tags: [{ Key: 'fleetwatch:maintenance-window', Value: windowId }],
          }),
        );
        rules.push(name);
      }
    }
    return { rules, alarms: names };
  }

  /** Every metric alarm named `<stack>-anomaly-*`, all pages. */
  private async anomalyAlarms(): Promise<MetricAlarm[]> {
    const out: MetricAlarm[] = [];
    let token: string | undefined;
    do {
      const res = await this.cloudwatch.send(
        new DescribeAlarmsCommand({
          AlarmNamePrefix: anomalyAlarmNamePrefix(this.stackName),
          AlarmTypes: ['MetricAlarm'],
          ...(token !== undefined ? { NextToken: token } : {}),
        }),
      );
      out.push(...(res.MetricAlarms ?? []));
      token = res.NextToken;
    } while (token !== undefined);
    return out;
  }

  /** The alert an anomaly alarm raises, as the router's matchers see it (core/detect/alarm-events.ts). */
  private alertOf(a: MetricAlarm): Alert {
    const name = (a.AlarmName ?? '').slice(anomalyAlarmNamePrefix(this.stackName).length);
    const dims = [
      ...(a.Dimensions ?? []),
      ...(a.Metrics ?? []).flatMap((m) => m.MetricStat?.Metric?.Dimensions ?? []),
    ];
    const cluster = dims.find((d) => d.Name === 'ClusterName' || d.Name === 'cluster')?.Value;
    const described = /Severity (\w+), cause ([\w-]+)\./.exec(a.AlarmDescription ?? '');
    return {
      fingerprint: a.AlarmName ?? '',
      kind: `alarm.${name.replace(/-/g, '_')}`,
      // Read back from our own description; "" when absent (a matcher on them then fails to match).
      severity: (described?.[1] ?? '') as Severity,
      cause: (described?.[2] ?? '') as Cause,
      labels: { region: this.region, ...(cluster !== undefined ? { cluster } : {}) },
    };
  }
}
