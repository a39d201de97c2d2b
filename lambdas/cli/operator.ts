import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type LabelMatcher, MATCHER_LABELS, type MatcherLabel } from '../contracts/calendar';
import { parseDurationMs } from '../sim/duration';
import type { OperatorDeps, OperatorTarget } from '../wiring/cli';
import type { CliIo } from './detect';

export type { OperatorDeps, OperatorTarget, PendingApproval, RemediationApprovals } from '../wiring/cli';

/**
 * What the operator commands (silence, maintenance, incidents, remediation) share: where the
 * table is, the stores over it, the clock, who is acting, and one way to report bad input
 * (UsageError → exit 2 with a message naming the flag and the problem).
 */

/** Everything a command needs from outside; tests replace parts (clock, deps). */
export interface OperatorContext {
  readonly io: CliIo;
  readonly nowMs: () => number;
  /** Defaults for --table, --region and the actor, read from the environment by wiring. */
  readonly env: { table?: string | undefined; region?: string | undefined; user?: string | undefined };
  readonly makeDeps: (target: OperatorTarget) => OperatorDeps;
}

/**
 * The real context: environment defaults and AWS-backed stores. Imported lazily so that `fleetwatch
 * detect` (and --help) do not load the AWS SDK.
 */
export async function defaultContext(io: CliIo): Promise<OperatorContext> {
  const { makeOperatorDeps, operatorEnv } = await import('../wiring/cli');
  return { io, nowMs: () => Date.now(), env: operatorEnv(), makeDeps: makeOperatorDeps };
}

/** Bad input: printed as `fleetwatch <command>: <message>`, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Options every operator command accepts. */
export const TARGET_OPTIONS = {
  table: { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

export const TARGET_HELP = `  --table <name>    incidents table (default: $FLEETWATCH_INCIDENTS_TABLE; the stack output IncidentsTableName)
  --region <region> AWS region of the table (default: $AWS_REGION)
  --json            machine-readable output`;

/** node:util parseArgs with its errors turned into UsageErrors. */
export function parseOptions<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function resolveTarget(
  values: { table?: string | undefined; region?: string | undefined },
  ctx: OperatorContext,
): OperatorTarget {
  const table = values.table ?? ctx.env.table;
  if (table === undefined || table === '') {
    throw new UsageError(
      '--table: missing; pass --table <name> or set FLEETWATCH_INCIDENTS_TABLE (the stack output IncidentsTableName)',
    );
  }
  const region = values.region ?? ctx.env.region;
  if (region === undefined || region === '') {
    throw new UsageError('--region: missing; pass --region <region> or set AWS_REGION');
  }
  return { table, region };
}

/** Who is acting (history entries, silence authors): --author, else $USER. */
export function actorOf(explicit: string | undefined, ctx: OperatorContext, flag = '--author'): string {
  const actor = explicit ?? ctx.env.user;
  if (actor === undefined || actor.trim() === '') {
    throw new UsageError(`${flag}: missing; pass ${flag} <name> (USER is not set)`);
  }
  return actor.trim();
}

/** Runs one subcommand: usage errors → exit 2 on stderr with the usage; anything else propagates (exit 1). */
export async function runOperator(
  command: string,
  io: CliIo,
  given: OperatorContext | undefined,
  body: (ctx: OperatorContext) => Promise<number>,
): Promise<number> {
  const ctx = given ?? (await defaultContext(io));
  try {
    return await body(ctx);
  } catch (e) {
    if (e instanceof UsageError) {
      ctx.io.stderr(`fleetwatch ${command}: ${e.message}\n\nRun "fleetwatch ${command} --help" for usage.\n`);
      return 2;
    }
    // An AWS service error (missing table, no permission, bad credentials) is the operator's to
    // fix, not a bug: one line naming it, not a stack trace. Exit 1: the input was fine.
    if (isAwsServiceError(e)) {
      ctx.io.stderr(`fleetwatch ${command}: AWS ${e.name}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

function isAwsServiceError(e: unknown): e is Error {
  return e instanceof Error && typeof (e as { $metadata?: unknown }).$metadata === 'object';
}

const MATCHER = /^([A-Za-z_][A-Za-z0-9_]*)(=~|!~|!=|=)(.*)$/s;

/**
 * `--match label=value`, `label!=value`, `label=~regex`, `label!~regex` (regexes anchored, as in
 * Alertmanager). The label must be one the router matches on.
 */
export function parseMatcher(text: string, flag = '--match'): LabelMatcher {
  const m = MATCHER.exec(text);
  if (!m) {
    throw new UsageError(
      `${flag} ${text}: expected <label>=<value>, <label>!=<value>, <label>=~<regex> or <label>!~<regex>`,
    );
  }
  const [, label = '', op = '=', raw = ''] = m;
  if (!(MATCHER_LABELS as readonly string[]).includes(label)) {
    throw new UsageError(`${flag} ${text}: unknown label '${label}'; allowed: ${MATCHER_LABELS.join(', ')}`);
  }
  const value = raw.replace(/^"(.*)"$/s, '$1');
  if (op === '=~' || op === '!~') {
    try {
      new RegExp(`^(?:${value})$`);
    } catch (e) {
      throw new UsageError(`${flag} ${text}: not a valid regular expression (${(e as Error).message})`);
    }
  }
  return { label: label as MatcherLabel, op: op as LabelMatcher['op'], value };
}

export function formatMatcher(m: LabelMatcher): string {
  return `${m.label}${m.op}${m.value}`;
}

/** `2h`, `30m`, `1h30m`, `1d` (ms); UsageError naming the flag otherwise. */
export function parseDurationFlag(text: string, flag = '--duration'): number {
  const ms = parseDurationMs(text);
  if (ms === undefined || ms <= 0) {
    throw new UsageError(`${flag} ${text}: not a positive duration; use e.g. 30m, 2h, 1h30m or 1d`);
  }
  return ms;
}

/** An ISO-8601 instant with an offset (Z or ±hh:mm); epoch ms. */
export function parseInstantFlag(text: string, flag: string): number {
  const ok = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(text);
  const ms = ok ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new UsageError(`${flag} ${text}: not an ISO-8601 instant with a zone, e.g. 2026-03-08T02:00:00Z`);
  }
  return ms;
}

/** ISO-8601 duration for the calendar schema (PT2H, PT1H30M, P1DT2H). */
export function isoDuration(ms: number): string {
  const totalSeconds = Math.round(ms / 1000);
  const d = Math.floor(totalSeconds / 86_400);
  const h = Math.floor((totalSeconds % 86_400) / 3_600);
  const m = Math.floor((totalSeconds % 3_600) / 60);
  const s = totalSeconds % 60;
  const time = `${h ? `${h}H` : ''}${m ? `${m}M` : ''}${s ? `${s}S` : ''}`;
  return `P${d ? `${d}D` : ''}${time ? `T${time}` : ''}` || 'PT0S';
}

export function isoInstant(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** A plain text table: columns padded to the widest cell; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
