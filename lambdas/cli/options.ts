import type { CliIo } from './detect';
import { type OperatorContext, parseOptions, runOperator, UsageError } from './operator';

/**
 * The shape every operator command (silence, maintenance, incidents, remediation) shares:
 * `fleetwatch <command> <subcommand> [positionals] [--flags]`. One dispatcher owns the help and
 * unknown-subcommand handling and the positional checks, so their messages read the same in every
 * command and a new subcommand is one row in its command's table.
 */

/** The `options` argument of node:util parseArgs, as the operator commands declare it. */
type Options = Parameters<typeof parseOptions>[1];

/** Parsed flag values of an options table (what parseArgs returns for it). */
export type OptionValues<O extends Options> = ReturnType<typeof parseOptions<O>>['values'];

/** What one subcommand gets: its name, parsed flags, positional arguments and the context. */
export interface SubcommandInput<O extends Options> {
  readonly sub: string;
  readonly values: OptionValues<O>;
  readonly positionals: string[];
  readonly ctx: OperatorContext;
}

export interface CommandSpec<O extends Options> {
  /** The command word, used in messages: `fleetwatch <name>: ...`. */
  readonly name: string;
  readonly usage: string;
  /** Flags of all subcommands (spread TARGET_OPTIONS in: it carries --help). */
  readonly options: O;
  /** One entry per subcommand, in the order the unknown-subcommand message lists them. */
  readonly subcommands: Readonly<Record<string, (input: SubcommandInput<O>) => Promise<number>>>;
}

/**
 * Runs `args` (what follows the command word) against a command's table. No subcommand prints
 * the usage on stderr (exit 2); `--help`/`-h` prints it on stdout (exit 0); an unknown one is a
 * UsageError listing the allowed ones.
 */
export function runCommand<O extends Options>(
  spec: CommandSpec<O>,
  args: string[],
  io: CliIo,
  given?: OperatorContext,
): Promise<number> {
  return runOperator(spec.name, io, given, async (ctx) => {
    const [sub, ...rest] = args;
    const { values, positionals } = parseOptions(rest, spec.options);
    if (sub === undefined || sub === '--help' || sub === '-h' || (values as { help?: boolean }).help) {
      (sub === undefined ? io.stderr : io.stdout)(`${spec.usage}\n`);
      return sub === undefined ? 2 : 0;
    }
    const run = Object.hasOwn(spec.subcommands, sub) ? spec.subcommands[sub] : undefined;
    if (run === undefined) {
      throw new UsageError(
        `unknown subcommand "${sub}"; allowed: ${Object.keys(spec.subcommands).join(', ')}`,
      );
    }
    return run({ sub, values, positionals, ctx });
  });
}

/** For subcommands that take no positional argument: a stray one is a typo, not something to ignore. */
export function noPositionals(sub: string, positionals: readonly string[]): void {
  if (positionals.length > 0) throw new UsageError(`${sub}: unexpected argument "${positionals[0]}"`);
}

/**
 * A subcommand that takes flags only (`add`, `list`): rejects stray positionals, then runs
 * `run` with the parsed flags.
 */
export function flagsOnly<O extends Options>(
  run: (values: OptionValues<O>, ctx: OperatorContext) => Promise<number>,
): (input: SubcommandInput<O>) => Promise<number> {
  return ({ sub, values, positionals, ctx }) => {
    noPositionals(sub, positionals);
    return run(values, ctx);
  };
}

/**
 * The single positional argument a subcommand requires, e.g. `<id>`; `hint` is appended to the
 * "missing" message to say where to find one (` (see "silence list")`).
 */
export function onePositional(sub: string, positionals: readonly string[], what: string, hint = ''): string {
  const [only] = positionals;
  if (only === undefined) throw new UsageError(`${sub}: missing ${what}${hint}`);
  if (positionals.length > 1) throw new UsageError(`${sub}: give exactly one ${what}`);
  return only;
}
