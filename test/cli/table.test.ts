import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../lambdas/cli/detect';
import { printList } from '../../lambdas/cli/table';

function captured(): { io: CliIo; out: () => string } {
  let out = '';
  return {
    io: {
      stdout: (t) => {
        out += t;
      },
      stderr: () => {
        throw new Error('printList writes nothing to stderr');
      },
      readFile: async () => '',
    },
    out: () => out,
  };
}

const ROWS = [
  { id: 'a1', who: 'alice', why: 'GPU swap' },
  { id: 'b22', who: 'bob', why: 'driver upgrade' },
];
const how = {
  empty: 'Nothing here.',
  header: ['ID', 'AUTHOR', 'REASON'],
  row: (r: (typeof ROWS)[number]) => [r.id, r.who, r.why],
};

describe('printList', () => {
  it('prints a table padded to the widest cell, the last column unpadded', () => {
    const c = captured();
    expect(printList(c.io, ROWS, { json: false, ...how })).toBe(0);
    expect(c.out()).toBe('ID   AUTHOR  REASON\na1   alice   GPU swap\nb22  bob     driver upgrade\n');
  });

  it('prints the sentence for an empty list', () => {
    const c = captured();
    printList(c.io, [], { json: false, ...how });
    expect(c.out()).toBe('Nothing here.\n');
  });

  it('prints one JSON line with --json, through toJson when given, and [] when empty', () => {
    const plain = captured();
    printList(plain.io, ROWS, { json: true, ...how });
    expect(JSON.parse(plain.out())).toEqual(ROWS);

    const mapped = captured();
    printList(mapped.io, ROWS, { json: true, toJson: (all) => all.map((r) => r.id), ...how });
    expect(mapped.out()).toBe('["a1","b22"]\n');

    const empty = captured();
    printList(empty.io, [], { json: true, ...how });
    expect(empty.out()).toBe('[]\n');
  });
});
