import type { CliIo } from './detect';
import { table } from './operator';

/**
 * How every operator `list` subcommand prints what it found: one JSON line with --json (scripts
 * get the same empty array a person gets a sentence for), a sentence when there is nothing, else
 * a padded table (operator.ts `table`). Returns the exit status, 0.
 */
export interface ListOutput<T> {
  /** --json was given. */
  readonly json: boolean;
  /** What --json prints for the items; default: the items themselves. */
  readonly toJson?: (items: readonly T[]) => unknown;
  /** The sentence for an empty list, e.g. "No silences." (a newline is added). */
  readonly empty: string;
  readonly header: readonly string[];
  readonly row: (item: T) => readonly string[];
}

export function printList<T>(io: CliIo, items: readonly T[], out: ListOutput<T>): number {
  if (out.json) io.stdout(`${JSON.stringify(out.toJson ? out.toJson(items) : items)}\n`);
  else if (items.length === 0) io.stdout(`${out.empty}\n`);
  else io.stdout(table(out.header, items.map(out.row)));
  return 0;
}
