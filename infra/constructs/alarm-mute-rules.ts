import { Annotations, Duration, TimeZone, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import {
  type LabelMatcher,
  type MaintenanceWindow,
  type MatcherLabel,
  valueMatches,
} from '../../lambdas/contracts/calendar';
import {
  MAX_ALARMS_PER_MUTE_RULE,
  MuteScheduleError,
  muteSchedulesOf,
  windowLabel,
} from '../../lambdas/contracts/mute-schedule';

export {
  MAX_ALARMS_PER_MUTE_RULE,
  MAX_MUTE_DURATION_MINUTES,
  MUTE_RRULE_SUBSET,
  type MuteSchedule,
  MuteScheduleError,
  muteSchedulesOf,
  windowLabel,
} from '../../lambdas/contracts/mute-schedule';

/**
 * The maintenance calendar as CloudWatch alarm mute rules (AWS::CloudWatch::AlarmMuteRule): the
 * same config.maintenance windows the router mutes alerts with also mute the ACTIONS of the
 * fleet-facing alarms this stack creates (the anomaly alarms). A muted alarm keeps evaluating
 * and changing state; only its actions are held back.
 *
 * FleetWatch's own pipeline alarms (pipeline-alarms.ts) are never a target, on purpose: fleet
 * maintenance is exactly when the monitor must keep watching itself (a collector that stops
 * during a cluster drain is still a broken monitor, and nobody would notice the window ending
 * without it). Only alarms passed as `targets` can be muted, and only the AnomalyAlarms
 * construct passes any.
 *
 * Schedules come from lambdas/contracts/mute-schedule.ts (re-exported here; the CLI's
 * `maintenance add` uses the same mapping): one-off → at() UTC, cron → cron() in the window's
 * zone, RRULE → cron() when expressible, otherwise synth fails naming the window.
 */

/** An alarm a window may mute, with the labels its alerts carry (what scope matchers see). */
export interface MuteTarget {
  readonly alarm: cloudwatch.IAlarmRef;
  /** Label values of the alarm's alerts; a missing label reads as "" (router semantics). */
  readonly labels: Readonly<Partial<Record<MatcherLabel, string>>>;
}

/** Router semantics (contracts/calendar.ts valueMatches): anchored regexes, a missing label reads as "". */
export function scopeCovers(
  scope: readonly LabelMatcher[],
  labels: Readonly<Partial<Record<MatcherLabel, string>>>,
): boolean {
  return scope.every((m) => valueMatches(m, labels[m.label] ?? ''));
}

/** Splits a list into chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export interface MaintenanceMuteRulesProps {
  /** config.maintenance: the one calendar. */
  readonly windows: readonly MaintenanceWindow[];
  /** The fleet-facing alarms a window may mute (never the pipeline alarms). */
  readonly targets: readonly MuteTarget[];
  /** Synth time (epoch ms): one-off windows that already ended get no rule. */
  readonly nowMs: number;
}

/**
 * One AlarmMuteRule per window schedule and group of at most 100 in-scope alarms. A window that
 * covers none of the targets, or a one-off window that already ended, gets no rule (an info
 * annotation says so at synth).
 */
export class MaintenanceMuteRules extends Construct {
  readonly rules: cloudwatch.AlarmMuteRule[] = [];

  constructor(scope: Construct, id: string, props: MaintenanceMuteRulesProps) {
    super(scope, id);
    props.windows.forEach((w, i) => {
      const label = windowLabel(w, i);
      const scopedLabels = new Set(w.scope.map((m) => m.label));
      const unresolved = props.targets.find((t) =>
        [...scopedLabels].some((l) => t.labels[l] !== undefined && Token.isUnresolved(t.labels[l])),
      );
      if (unresolved !== undefined) {
        throw new MuteScheduleError(
          `maintenance window "${label}": its scope names a label whose value is only known at deploy time (the stack region?); allowed: give the stack an explicit env.region`,
        );
      }
      const inScope = props.targets.filter((t) => scopeCovers(w.scope, t.labels));
      const schedules = muteSchedulesOf(w, i, props.nowMs);
      if (inScope.length === 0 || schedules.length === 0) {
        Annotations.of(this).addInfo(
          `maintenance window "${label}" makes no alarm mute rule: ${inScope.length === 0 ? 'its scope covers none of the anomaly alarms' : 'it ended before synth time'}`,
        );
        return;
      }
      schedules.forEach((s, si) => {
        chunk(inScope, MAX_ALARMS_PER_MUTE_RULE).forEach((group, gi) => {
          this.rules.push(
            new cloudwatch.AlarmMuteRule(this, `Window${i}Schedule${si}Alarms${gi}`, {
              description:
                `FleetWatch maintenance window "${label}" (config.maintenance[${i}]): mutes the actions of the anomaly alarms in its scope`.slice(
                  0,
                  1024,
                ),
              schedule: cloudwatch.ScheduleExpression.expression(s.expression, TimeZone.of(s.timeZone)),
              duration: Duration.minutes(s.durationMinutes),
              alarms: group.map((t) => t.alarm),
            }),
          );
        });
      });
    });
  }
}
