import { describe, expect, it } from 'vitest';
import { TARGET_OPTIONS, UsageError } from '../../lambdas/cli/operator';
import { noPositionals, onePositional, runCommand } from '../../lambdas/cli/options';
import { capturedCli } from '../support/operator-cli';

/** The dispatcher every operator command runs through: help, unknown subcommands, positionals. */
const OPTIONS = { ...TARGET_OPTIONS, note: { type: 'string' } } as const;
const USAGE = 'Usage: fleetwatch demo get <id> | list';

function demo(args: string[]) {
  const cli = capturedCli({ region: 'us-east-1', nowMs: 0 });
  const calls: string[] = [];
  const run = runCommand(
    {
      name: 'demo',
      usage: USAGE,
      options: OPTIONS,
      subcommands: {
        get: async ({ sub, values, positionals }) => {
          calls.push(
            `${sub} ${onePositional(sub, positionals, '<id>', ' (see "demo list")')} ${values.note ?? '-'}`,
          );
          return 0;
        },
        list: async ({ sub, positionals }) => {
          noPositionals(sub, positionals);
          calls.push(sub);
          return 0;
        },
      },
    },
    args,
    cli.ctx.io,
    cli.ctx,
  );
  return run.then((code) => ({ code, out: cli.out(), err: cli.err(), calls }));
}

describe('runCommand', () => {
  it.each([
    { args: [], code: 2, stream: 'err' },
    { args: ['--help'], code: 0, stream: 'out' },
    { args: ['-h'], code: 0, stream: 'out' },
    { args: ['get', 'x', '--help'], code: 0, stream: 'out' },
  ] as const)('prints the usage for $args (exit $code)', async ({ args, code, stream }) => {
    const r = await demo([...args]);
    expect(r.code).toBe(code);
    expect(r[stream]).toContain(USAGE);
    expect(r.calls).toEqual([]);
  });

  it('runs the named subcommand with its parsed flags and positionals', async () => {
    const r = await demo(['get', 'abc', '--note', 'hi']);
    expect(r).toMatchObject({ code: 0, calls: ['get abc hi'], err: '' });
  });

  it.each([
    { args: ['frob'], message: 'unknown subcommand "frob"; allowed: get, list' },
    { args: ['get'], message: 'get: missing <id> (see "demo list")' },
    { args: ['get', 'a', 'b'], message: 'get: give exactly one <id>' },
    { args: ['list', 'extra'], message: 'list: unexpected argument "extra"' },
    { args: ['list', '--bogus'], message: "Unknown option '--bogus'" },
  ])('exits 2 naming the problem for $args', async ({ args, message }) => {
    const r = await demo(args);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`fleetwatch demo: ${message}`);
    expect(r.calls).toEqual([]);
  });

  it('does not treat an inherited property name as a subcommand', async () => {
    const r = await demo(['toString']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown subcommand "toString"');
  });
});

describe('onePositional / noPositionals', () => {
  it('returns the single positional', () => {
    expect(onePositional('expire', ['abc'], '<id>')).toBe('abc');
  });

  it('throws UsageErrors that name the subcommand', () => {
    expect(() => onePositional('expire', [], '<id>')).toThrow(new UsageError('expire: missing <id>'));
    expect(() => noPositionals('add', ['x'])).toThrow(UsageError);
    expect(() => noPositionals('add', [])).not.toThrow();
  });
});
