import { randomBytes } from 'node:crypto';
import { parseCalendarPart, type Silence, silenceSchema } from '../contracts/calendar';
import type { CliIo } from './detect';
import {
  actorOf,
  formatMatcher,
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
import { flagsOnly, type OptionValues, onePositional, runCommand } from './options';
import { printList } from './table';

/**
 * `fleetwatch silence add|list|expire`: ad-hoc silences in the incidents table. The router's
 * silence stage reads them (with the config's silences) and mutes matching alerts, recording the
 * silence id and reason on the incident; a silence ends by itself at its end time.
 */

export const SILENCE_USAGE = `Usage:
  fleetwatch silence add --match <label>=<value> [--match <label>=~<regex> ...]
                         (--duration 2h | --until <ISO>) [--start <ISO>] --reason "..." [--author <name>]
  fleetwatch silence list [--all]
  fleetwatch silence expire <id>

Matchers: label=value, label!=value, label=~regex, label!~regex (regexes are anchored); an alert
is silenced when every matcher fits. Labels: cluster, region, node, gpu, job, team, endpoint,
feature, kind, severity, cause.

  --duration   how long from --start (30m, 2h, 1h30m, 1d)
  --until      end instant, ISO 8601 with a zone (2026-03-08T06:00:00Z)
  --start      start instant (default: now)
  --author     who is silencing (default: $USER)
  --all        list: also silences that have ended (until the table's TTL removes them)
${TARGET_HELP}

Exit status: 0 ok, 2 bad input (the message names the flag), 1 unexpected failure.`;

const OPTIONS = {
  ...TARGET_OPTIONS,
  match: { type: 'string', multiple: true },
  duration: { type: 'string' },
  until: { type: 'string' },
  start: { type: 'string' },
  reason: { type: 'string' },
  author: { type: 'string' },
  all: { type: 'boolean', default: false },
} as const;

type Values = OptionValues<typeof OPTIONS>;

export function runSilence(args: string[], io: CliIo, given?: OperatorContext): Promise<number> {
  return runCommand(
    {
      name: 'silence',
      usage: SILENCE_USAGE,
      options: OPTIONS,
      subcommands: {
        add: flagsOnly(add),
        list: flagsOnly(list),
        expire: ({ sub, values, positionals, ctx }) =>
          expire(values, onePositional(sub, positionals, '<id>', ' (see "silence list")'), ctx),
      },
    },
    args,
    io,
    given,
  );
}

/** The silence `silence add` would write, or a UsageError naming the flag at fault. */
export function silenceFromFlags(values: Values, nowMs: number, author: string, id: string): Silence {
  const matchers = (values.match ?? []).map((m) => parseMatcher(m));
  if (matchers.length === 0) {
    throw new UsageError('--match: at least one is required (a silence of everything is a mistake)');
  }
  if ((values.duration === undefined) === (values.until === undefined)) {
    throw new UsageError('--duration/--until: give exactly one (how long, or until when)');
  }
  const reason = values.reason?.trim() ?? '';
  if (reason === '') throw new UsageError('--reason: required; say why, for whoever is paged next');
  const startMs = values.start === undefined ? nowMs : parseInstantFlag(values.start, '--start');
  const endMs =
    values.until !== undefined
      ? parseInstantFlag(values.until, '--until')
      : startMs + parseDurationFlag(values.duration ?? '');
  if (values.until !== undefined && endMs <= startMs) {
    throw new UsageError(
      `--until ${values.until}: before --start${values.start === undefined ? ' (now)' : ` ${values.start}`}`,
    );
  }
  if (endMs <= nowMs) {
    const flag = values.start !== undefined ? `--start ${values.start}` : `--until ${values.until}`;
    throw new UsageError(`${flag}: the window ends in the past (${isoInstant(endMs)})`);
  }
  const parsed = parseCalendarPart(
    silenceSchema,
    {
      id,
      matchers,
      start: isoInstant(startMs),
      end: isoInstant(endMs),
      author,
      reason,
      createdAt: isoInstant(nowMs),
    },
    'silence',
  );
  if (!parsed.ok) throw new UsageError(parsed.problems.join('; '));
  return parsed.value;
}

async function add(values: Values, ctx: OperatorContext): Promise<number> {
  const target = resolveTarget(values, ctx);
  const nowMs = ctx.nowMs();
  const silence = silenceFromFlags(values, nowMs, actorOf(values.author, ctx), newSilenceId());
  await ctx.makeDeps(target).calendar.putSilence(silence);
  if (values.json) ctx.io.stdout(`${JSON.stringify(silence)}\n`);
  else {
    ctx.io.stdout(
      `Silence ${silence.id} added: ${silence.matchers.map(formatMatcher).join(', ')} from ${silence.start} until ${silence.end}\n`,
    );
  }
  return 0;
}

/** 12 hex characters: short enough to type into `silence expire`, random enough not to collide. */
function newSilenceId(): string {
  return randomBytes(6).toString('hex');
}

export function silenceState(s: Silence, nowMs: number): 'pending' | 'active' | 'expired' {
  if (Date.parse(s.end) <= nowMs) return 'expired';
  return Date.parse(s.start) > nowMs ? 'pending' : 'active';
}

async function list(values: Values, ctx: OperatorContext): Promise<number> {
  const target = resolveTarget(values, ctx);
  const nowMs = ctx.nowMs();
  // silences(t) returns those ending after t: 0 reads every stored silence (TTL removes old ones).
  const silences = (await ctx.makeDeps(target).calendar.silences(values.all ? 0 : nowMs)).sort(
    (a, b) => Date.parse(a.start) - Date.parse(b.start) || a.id.localeCompare(b.id),
  );
  return printList(ctx.io, silences, {
    json: values.json,
    toJson: (all) => all.map((s) => ({ ...s, state: silenceState(s, nowMs) })),
    empty: values.all ? 'No silences.' : 'No active or pending silences.',
    header: ['ID', 'STATE', 'START', 'END', 'AUTHOR', 'MATCHERS', 'REASON'],
    row: (s) => [
      s.id,
      silenceState(s, nowMs),
      s.start,
      s.end,
      s.author,
      s.matchers.map(formatMatcher).join(','),
      s.reason,
    ],
  });
}

async function expire(values: Values, id: string, ctx: OperatorContext): Promise<number> {
  const target = resolveTarget(values, ctx);
  const found = await ctx.makeDeps(target).calendar.expireSilence(id, ctx.nowMs());
  if (!found)
    throw new UsageError(`expire ${id}: no such silence in table ${target.table} (see "silence list --all")`);
  if (values.json) ctx.io.stdout(`${JSON.stringify({ id, expired: true })}\n`);
  else ctx.io.stdout(`Silence ${id} expired.\n`);
  return 0;
}
