import { Cron } from 'croner';
import {
  type MaintenanceWindow,
  maintenanceWindowSchema,
  occurrencesOf,
  parseCalendarPart,
} from '../contracts/calendar';
import type { CliIo } from './detect';
import {
  formatMatcher,
  isoDuration,
  isoInstant,
  type OperatorContext,
  parseDurationFlag,
  parseInstantFlag,
  parseMatcher,
  resolveTarget,
  TARGET_HELP,
  TARGET_OPTIONS,
  UsageError,
} from './operator';
import { flagsOnly, type OptionValues, runCommand } from './options';
import { printList } from './table';

/**
 * `fleetwatch maintenance add|list`: run-time maintenance windows in the incidents table. The
 * router merges them with config.maintenance (the one calendar) and mutes matching alerts while a
 * window is open; an alert still firing when the window closes notifies then.
 */

export const MAINTENANCE_USAGE = `Usage:
  fleetwatch maintenance add --name <n> --match <label>=<value> [--match ...]
      (--start <ISO> (--duration 2h | --end <ISO>)
       | --cron "<expr>" --duration 1h --tz <IANA>
       | --rrule "<RRULE>" --duration 1h --tz <IANA>)
  fleetwatch maintenance list

One-off windows run from --start for --duration or until --end. Recurring windows start on the
wall clock of --tz (cron: "0 2 * * 6" is Saturdays 02:00; rrule: "FREQ=WEEKLY;BYDAY=SA;BYHOUR=2")
and last --duration of real time, also across DST changes. Adding a window with the name of an
existing one replaces it.

  --match      scope: label=value, label!=value, label=~regex, label!~regex (all must fit)
  --duration   30m, 2h, 1h30m, 1d (or ISO 8601, PT2H)
  --stack      home stack name (default: $FLEETWATCH_STACK_NAME): add also puts CloudWatch alarm
               mute rules for the stack's anomaly alarms in scope (never its pipeline alarms)
${TARGET_HELP}

Exit status: 0 ok, 2 bad input (the message names the flag), 1 unexpected failure.`;

const OPTIONS = {
  ...TARGET_OPTIONS,
  name: { type: 'string' },
  match: { type: 'string', multiple: true },
  start: { type: 'string' },
  end: { type: 'string' },
  duration: { type: 'string' },
  cron: { type: 'string' },
  rrule: { type: 'string' },
  tz: { type: 'string' },
  stack: { type: 'string' },
} as const;

type Values = OptionValues<typeof OPTIONS>;

/** How far ahead `list` looks for the next occurrence. */
const LOOKAHEAD_MS = 400 * 86_400_000;

export function runMaintenance(args: string[], io: CliIo, given?: OperatorContext): Promise<number> {
  return runCommand(
    {
      name: 'maintenance',
      usage: MAINTENANCE_USAGE,
      options: OPTIONS,
      subcommands: {
        add: flagsOnly(add),
        list: flagsOnly(list),
      },
    },
    args,
    io,
    given,
  );
}

function durationFlag(text: string): string {
  if (/^P/i.test(text)) {
    const parsed = parseCalendarPart(
      maintenanceWindowSchema,
      { start: '2000-01-01T00:00:00Z', duration: text },
      '',
    );
    if (!parsed.ok)
      throw new UsageError(`--duration ${text}: not a positive duration; use e.g. 30m, 2h or PT2H`);
    return text.toUpperCase();
  }
  return isoDuration(parseDurationFlag(text));
}

function checkTimeZone(tz: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    throw new UsageError(`--tz ${tz}: not an IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)`);
  }
}

/** The window `maintenance add` would write, or a UsageError naming the flag at fault. */
export function windowFromFlags(values: Values, nowMs: number): MaintenanceWindow {
  const name = values.name?.trim() ?? '';
  if (name === '') throw new UsageError('--name: required (it names the window in messages and lists)');
  const scope = (values.match ?? []).map((m) => parseMatcher(m));
  if (scope.length === 0)
    throw new UsageError('--match: at least one is required (which alerts the window mutes)');
  const shapes = [values.start, values.cron, values.rrule].filter((v) => v !== undefined).length;
  if (shapes !== 1) {
    throw new UsageError(
      '--start/--cron/--rrule: give exactly one (--start for a one-off window, --cron or --rrule for a recurring one)',
    );
  }
  let input: Record<string, unknown>;
  if (values.start !== undefined) {
    if (values.tz !== undefined) throw new UsageError('--tz: only for recurring (--cron/--rrule) windows');
    const startMs = parseInstantFlag(values.start, '--start');
    if ((values.duration === undefined) === (values.end === undefined)) {
      throw new UsageError('--duration/--end: give exactly one with --start');
    }
    let end: { end: string } | { duration: string };
    if (values.end !== undefined) {
      const endMs = parseInstantFlag(values.end, '--end');
      if (endMs <= startMs) throw new UsageError(`--end ${values.end}: before --start ${values.start}`);
      end = { end: isoInstant(endMs) };
    } else {
      end = { duration: durationFlag(values.duration ?? '') };
    }
    const window = { name, start: isoInstant(startMs), ...end, scope };
    // The end of an ISO-duration window is computed the way the router does (occurrencesOf).
    const occ = occurrencesOf(finalWindow(window), 0, Number.MAX_SAFE_INTEGER)[0];
    if (occ === undefined || occ.endMs <= nowMs) {
      throw new UsageError(
        `--start ${values.start}: the window ends in the past (${occ ? isoInstant(occ.endMs) : 'never starts'})`,
      );
    }
    input = window;
  } else {
    if (values.end !== undefined)
      throw new UsageError('--end: only for one-off (--start) windows; use --duration');
    if (values.duration === undefined)
      throw new UsageError('--duration: required for a recurring window, e.g. 1h');
    if (values.tz === undefined) {
      throw new UsageError(
        '--tz: required for a recurring window (its wall clock), e.g. UTC or Europe/Berlin',
      );
    }
    checkTimeZone(values.tz);
    if (values.cron !== undefined) {
      try {
        new Cron(values.cron, { timezone: 'Etc/UTC', paused: true });
      } catch (e) {
        throw new UsageError(`--cron "${values.cron}": invalid cron: ${(e as Error).message}`);
      }
    }
    input = {
      name,
      ...(values.cron !== undefined ? { cron: values.cron } : { rrule: values.rrule }),
      duration: durationFlag(values.duration),
      tz: values.tz,
      scope,
    };
  }
  return finalWindow(input);
}

/** Schema check; a problem on field `f` is reported as the flag `--f` with the value given. */
function finalWindow(input: Record<string, unknown>): MaintenanceWindow {
  const parsed = parseCalendarPart(maintenanceWindowSchema, input, '');
  if (parsed.ok) return parsed.value;
  throw new UsageError(
    parsed.problems
      .map((p) => {
        const m = /^([a-z]+)(.*?): (.*)$/s.exec(p);
        if (!m) return p;
        const [, field = '', rest = '', problem = ''] = m;
        const given = input[field];
        const shown = typeof given === 'string' ? ` "${given}"` : '';
        return `--${field === 'scope' ? 'match' : field}${shown}${rest}: ${problem}`;
      })
      .join('; '),
  );
}

/** Stable item id from the name, so adding the same name again replaces the window. */
export function windowId(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 100) || 'window'
  );
}

async function add(values: Values, ctx: OperatorContext): Promise<number> {
  const target = resolveTarget(values, ctx);
  const window = windowFromFlags(values, ctx.nowMs());
  const id = windowId(window.name ?? '');
  const deps = ctx.makeDeps(target);
  await deps.calendar.putMaintenanceWindow(id, window);
  // The router mutes the window's alerts from the table alone; the mute rules hold back the
  // anomaly alarms' own actions too (the same calendar, docs/configuration.md).
  const muter = deps.alarmMutes?.(values.stack);
  let mutes: Awaited<ReturnType<NonNullable<typeof muter>['muteWindow']>> | undefined;
  try {
    mutes = await muter?.muteWindow(id, window, ctx.nowMs());
  } catch (e) {
    ctx.io.stderr(
      `fleetwatch maintenance: window ${id} added, but its alarm mute rules failed: ${(e as Error).message}\n`,
    );
    return 1;
  }
  if (values.json) {
    ctx.io.stdout(`${JSON.stringify({ id, ...window, ...(mutes ? { muteRules: mutes } : {}) })}\n`);
    return 0;
  }
  ctx.io.stdout(`Maintenance window ${id} added: ${schedule(window)}, scope ${scopeText(window)}\n`);
  if (muter === undefined)
    ctx.io.stdout('No alarm mute rule put: name the stack with --stack or $FLEETWATCH_STACK_NAME.\n');
  else if (mutes !== undefined)
    ctx.io.stdout(
      mutes.rules.length > 0
        ? `Alarm mute rules ${mutes.rules.join(', ')} mute ${mutes.alarms.length} anomaly alarm(s).\n`
        : `No alarm mute rule put: ${mutes.skipped ?? 'nothing in scope'}.\n`,
    );
  return 0;
}

function schedule(w: MaintenanceWindow): string {
  if (w.start !== undefined)
    return w.end !== undefined ? `${w.start} to ${w.end}` : `${w.start} for ${w.duration}`;
  const rule = w.cron !== undefined ? `cron "${w.cron}"` : `rrule "${w.rrule}"`;
  return `${rule} ${w.tz ?? 'UTC'} for ${w.duration}`;
}

function scopeText(w: MaintenanceWindow): string {
  return w.scope.length === 0 ? '(everything)' : w.scope.map(formatMatcher).join(',');
}

/** Current or next occurrence, for people: "now until …", "… to …", or "none within 400 days". */
export function nextOccurrence(w: MaintenanceWindow, nowMs: number): string {
  const occ = occurrencesOf(w, nowMs, nowMs + LOOKAHEAD_MS)[0];
  if (occ === undefined) return w.start !== undefined ? 'ended' : 'none within 400 days';
  if (occ.startMs <= nowMs) return `now until ${isoInstant(occ.endMs)}`;
  return `${isoInstant(occ.startMs)} to ${isoInstant(occ.endMs)}`;
}

async function list(values: Values, ctx: OperatorContext): Promise<number> {
  const target = resolveTarget(values, ctx);
  const nowMs = ctx.nowMs();
  const windows = (await ctx.makeDeps(target).calendar.maintenanceWindows()).sort((a, b) =>
    (a.name ?? '').localeCompare(b.name ?? ''),
  );
  return printList(ctx.io, windows, {
    json: values.json,
    toJson: (all) => all.map((w) => ({ ...w, next: nextOccurrence(w, nowMs) })),
    empty: 'No maintenance windows added with the CLI (config.maintenance is not listed here).',
    header: ['NAME', 'SCHEDULE', 'SCOPE', 'NEXT'],
    row: (w) => [w.name ?? '-', schedule(w), scopeText(w), nextOccurrence(w, nowMs)],
  });
}
