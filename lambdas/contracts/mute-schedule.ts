import { durationMs, type MaintenanceWindow, occurrencesOf } from './calendar';

/**
 * The maintenance calendar → CloudWatch alarm mute rule schedules (pure). One implementation for
 * both paths that create mute rules: infra at synth (infra/constructs/alarm-mute-rules.ts, for
 * config.maintenance) and the CLI at run time (`fleetwatch maintenance add`, through
 * lambdas/adapters/cloudwatch/alarm-mute-rules.ts). It lives in contracts because infra may
 * import contracts only.
 *
 *   one-off  {start, end|duration}     → at(yyyy-MM-ddThh:mm) UTC, duration in whole minutes
 *                                         (start rounded down, end rounded up; a window under
 *                                         way from the next minute; an ended one: none);
 *                                         longer than 15 days: consecutive 15-day rules
 *   cron     "m h dom mon dow"          → cron(m h dom mon DOW) in the window's time zone
 *   rrule    DAILY/WEEKLY by hour/min.  → the same cron, otherwise an error naming the window
 */

/** CloudWatch: a mute rule names at most this many alarms (the CDK L2 enforces it too). */
export const MAX_ALARMS_PER_MUTE_RULE = 100;
/** CloudWatch: a mute lasts at least 1 minute and at most 15 days. */
export const MAX_MUTE_DURATION_MINUTES = 15 * 24 * 60;

const MINUTE_MS = 60_000;
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;
const RRULE_DAYS: Record<string, (typeof DAY_NAMES)[number]> = {
  SU: 'SUN',
  MO: 'MON',
  TU: 'TUE',
  WE: 'WED',
  TH: 'THU',
  FR: 'FRI',
  SA: 'SAT',
};

/** What the RRULE → cron translation accepts, quoted in its errors. */
export const MUTE_RRULE_SUBSET =
  'FREQ=DAILY or FREQ=WEEKLY with INTERVAL=1 (or none), BYDAY (plain days such as MO,WE), BYHOUR, BYMINUTE, BYSECOND=0, BYMONTH and WKST; no COUNT, UNTIL, DTSTART, BYSETPOS, BYMONTHDAY or ordinal days (2SA)';

/** A mute schedule: the CloudWatch expression, its time zone and how long each mute lasts. */
export interface MuteSchedule {
  /** `at(2026-11-28T02:00)` or `cron(0 2 * * SAT)`. */
  readonly expression: string;
  /** IANA zone the expression is read in. */
  readonly timeZone: string;
  readonly durationMinutes: number;
}

/** Thrown at synth for a window that has no mute-rule schedule. */
export class MuteScheduleError extends Error {}

/** Display name of a window in messages: its name, else `maintenance[i]` (as the router says). */
export function windowLabel(w: MaintenanceWindow, index: number): string {
  return w.name ?? `maintenance[${index}]`;
}

/**
 * The mute schedules of one window. One-off windows that ended at or before `nowMs` give none
 * (a mute in the past mutes nothing); a recurring window gives exactly one.
 */
export function muteSchedulesOf(w: MaintenanceWindow, index: number, nowMs: number): MuteSchedule[] {
  const label = windowLabel(w, index);
  if (w.start !== undefined) {
    const occ = occurrencesOf(w, 0, Number.MAX_SAFE_INTEGER)[0];
    if (occ === undefined || occ.endMs <= nowMs) return [];
    // A window already under way starts muting at the next whole minute: an at() in the past
    // would mute nothing.
    const startMs =
      occ.startMs < nowMs
        ? Math.ceil(nowMs / MINUTE_MS) * MINUTE_MS
        : Math.floor(occ.startMs / MINUTE_MS) * MINUTE_MS;
    if (startMs >= occ.endMs) return [];
    const totalMinutes = Math.max(1, Math.ceil((occ.endMs - startMs) / MINUTE_MS));
    const out: MuteSchedule[] = [];
    for (let done = 0; done < totalMinutes; done += MAX_MUTE_DURATION_MINUTES) {
      const at = new Date(startMs + done * MINUTE_MS).toISOString().slice(0, 16);
      out.push({
        expression: `at(${at})`,
        timeZone: 'UTC',
        durationMinutes: Math.min(MAX_MUTE_DURATION_MINUTES, totalMinutes - done),
      });
    }
    return out;
  }
  const durationMinutes = Math.max(1, Math.ceil(durationMs(w.duration ?? 'PT0S') / MINUTE_MS));
  if (durationMinutes > MAX_MUTE_DURATION_MINUTES) {
    throw new MuteScheduleError(
      `maintenance window "${label}": duration ${w.duration} is longer than a CloudWatch alarm mute rule allows; allowed: at most 15 days (P15D) for a recurring window`,
    );
  }
  const fields = w.cron !== undefined ? cronFields(w.cron, label) : rruleFields(w.rrule ?? '', label);
  return [{ expression: `cron(${fields.join(' ')})`, timeZone: w.tz ?? 'UTC', durationMinutes }];
}

const PLAIN_FIELD = /^(\*|\d{1,2}(-\d{1,2})?)(\/\d{1,2})?(,(\*|\d{1,2}(-\d{1,2})?)(\/\d{1,2})?)*$/;

/**
 * A croner pattern as five CloudWatch cron fields. Only the portable subset: numbers, `*`,
 * ranges, lists and steps; a seconds field only if it is 0; day of week as names (SUN..SAT), so
 * 0-or-1-based numbering cannot be misread; not both day of month and day of week (cron ORs
 * them, CloudWatch's CDK schedule refuses both).
 */
function cronFields(pattern: string, label: string): string[] {
  const fail = (why: string) =>
    new MuteScheduleError(
      `maintenance window "${label}": cron "${pattern}" cannot become an alarm mute rule: ${why}; allowed: "minute hour day-of-month month day-of-week" with numbers, *, ranges (1-5), lists (1,3) and steps (*/15), day of week 0-7 or SUN-SAT, not both day fields`,
    );
  let parts = pattern.trim().split(/\s+/);
  if (parts.length === 6) {
    if (parts[0] !== '0') throw fail('a seconds field other than 0');
    parts = parts.slice(1);
  }
  if (parts.length !== 5) throw fail(`${parts.length} fields`);
  const [minute = '', hour = '', dom = '', month = '', dowText = ''] = parts;
  for (const [name, f] of [
    ['minute', minute],
    ['hour', hour],
    ['day of month', dom],
    ['month', month],
  ] as const) {
    if (!PLAIN_FIELD.test(f)) throw fail(`${name} field "${f}"`);
  }
  const dow = dowText === '*' ? '*' : dayOfWeekNames(dowText);
  if (dow === undefined) throw fail(`day-of-week field "${dowText}"`);
  if (dom !== '*' && dow !== '*') throw fail('both day of month and day of week are restricted');
  return [minute, hour, dom, month, dow];
}

/**
 * Day-of-week field as a list of names: "1-5" → "MON,TUE,WED,THU,FRI", "0,7" → "SUN", "sat" →
 * "SAT". Ranges are spelt out, so no dialect can read them 0- or 1-based; a range that wraps
 * around the week (5-1) is refused. Undefined for anything else.
 */
function dayOfWeekNames(field: string): string | undefined {
  const index = (t: string): number | undefined => {
    if (/^[0-7]$/.test(t)) return Number(t);
    const i = (DAY_NAMES as readonly string[]).indexOf(t.toUpperCase());
    return i < 0 ? undefined : i;
  };
  const names = new Set<string>();
  for (const item of field.split(',')) {
    const [a = '', b, ...rest] = item.split('-');
    const from = index(a);
    const to = b === undefined ? from : index(b);
    if (rest.length > 0 || from === undefined || to === undefined || to < from) return undefined;
    for (let d = from; d <= to; d++) names.add(DAY_NAMES[d % 7] ?? 'SUN');
  }
  return DAY_NAMES.filter((d) => names.has(d)).join(',');
}

/**
 * An RRULE (the subset in MUTE_RRULE_SUBSET) as five cron fields. A missing BYHOUR/BYMINUTE is
 * 0 and a WEEKLY rule without BYDAY is a Saturday: the calendar's default DTSTART is
 * 2000-01-01T00:00, a Saturday at midnight (calendar.ts buildRrule).
 */
function rruleFields(text: string, label: string): string[] {
  const fail = (why: string) =>
    new MuteScheduleError(
      `maintenance window "${label}": RRULE "${text}" cannot become an alarm mute rule: ${why}; allowed: ${MUTE_RRULE_SUBSET}`,
    );
  const body = text.trim().replace(/^RRULE:/i, '');
  if (/DTSTART|\n/i.test(body)) throw fail('DTSTART or several lines');
  const parts = new Map<string, string>();
  for (const p of body.split(';').filter((s) => s !== '')) {
    const [k = '', v = ''] = p.split('=');
    parts.set(k.toUpperCase(), v.toUpperCase());
  }
  const allowed = new Set(['FREQ', 'INTERVAL', 'BYDAY', 'BYHOUR', 'BYMINUTE', 'BYSECOND', 'BYMONTH', 'WKST']);
  for (const k of parts.keys()) if (!allowed.has(k)) throw fail(`${k} is not expressible as cron`);
  const freq = parts.get('FREQ');
  if (freq !== 'DAILY' && freq !== 'WEEKLY') throw fail(`FREQ=${freq ?? '(none)'}`);
  if ((parts.get('INTERVAL') ?? '1') !== '1') throw fail(`INTERVAL=${parts.get('INTERVAL')}`);
  if ((parts.get('BYSECOND') ?? '0') !== '0') throw fail(`BYSECOND=${parts.get('BYSECOND')}`);
  const numbers = (key: string, max: number, fallback: string): string => {
    const v = parts.get(key);
    if (v === undefined) return fallback;
    const list = v.split(',');
    if (!list.every((n) => /^\d{1,2}$/.test(n) && Number(n) <= max)) throw fail(`${key}=${v}`);
    return list.map(Number).join(',');
  };
  const minute = numbers('BYMINUTE', 59, '0');
  const hour = numbers('BYHOUR', 23, '0');
  const month = numbers('BYMONTH', 12, '*');
  if (month.split(',').includes('0')) throw fail(`BYMONTH=${parts.get('BYMONTH')}`);
  const byDay = parts.get('BYDAY');
  let dow: string;
  if (byDay === undefined) dow = freq === 'WEEKLY' ? 'SAT' : '*';
  else {
    const days = byDay.split(',').map((d) => RRULE_DAYS[d]);
    if (!days.every((d) => d !== undefined)) throw fail(`BYDAY=${byDay} (ordinal or unknown days)`);
    dow = days.join(',');
  }
  return [minute, hour, '*', month, dow];
}

/** ISO-8601 duration of a schedule, as CloudWatch takes it (PT90M). */
export function muteDurationIso(s: MuteSchedule): string {
  return `PT${s.durationMinutes}M`;
}
