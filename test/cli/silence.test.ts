import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbCalendarStore } from '../../lambdas/adapters/dynamodb/calendar-store';
import { runSilence } from '../../lambdas/cli/silence';
import { MATCHER_LABELS, type Silence } from '../../lambdas/contracts/calendar';
import { dynamoDocumentClient } from '../../lambdas/wiring/clients';
import { uniqueSuffix, useMoto } from '../support/aws-env';
import { capturedCli, createIncidentsTable } from '../support/operator-cli';

const { region, endpoint } = useMoto();
const NOW = Date.parse('2026-11-24T12:00:00Z');
const HOUR = 3_600_000;
const ROOT = resolve(import.meta.dirname, '../..');

describe('fleetwatch silence (moto)', () => {
  const table = `fw-incidents-silence-${uniqueSuffix()}`;
  const store = () => new DynamoDbCalendarStore(dynamoDocumentClient(region), table);
  const cli = (opts: { user?: string } = {}) => capturedCli({ table, region, nowMs: NOW, ...opts });

  beforeAll(async () => {
    await createIncidentsTable(region, table);
  });

  it('add writes a silence item with matchers, window, $USER as author and the reason', async () => {
    const c = cli({ user: 'alice' });
    const code = await runSilence(
      [
        'add',
        '--match',
        'node=i-0abc',
        '--match',
        'gpu=~[0-3]',
        '--duration',
        '2h',
        '--reason',
        'swapping GPUs',
        '--json',
      ],
      c.ctx.io,
      c.ctx,
    );
    expect(c.err()).toBe('');
    expect(code).toBe(0);
    const printed = JSON.parse(c.out()) as Silence;
    const stored = (await store().silences(NOW)).find((s) => s.id === printed.id);
    expect(stored).toEqual({
      id: printed.id,
      matchers: [
        { label: 'node', op: '=', value: 'i-0abc' },
        { label: 'gpu', op: '=~', value: '[0-3]' },
      ],
      start: '2026-11-24T12:00:00Z',
      end: '2026-11-24T14:00:00Z',
      author: 'alice',
      reason: 'swapping GPUs',
      createdAt: '2026-11-24T12:00:00Z',
    });
    // The item lives next to the incidents under its own prefix, with a TTL after its end.
    const item = await dynamoDocumentClient(region).send(
      new GetCommand({ TableName: table, Key: { id: `silence#${printed.id}` } }),
    );
    expect(item.Item?.expiresAt).toBeGreaterThan((NOW + 2 * HOUR) / 1000);
  });

  it('add with --start/--until and --author; list shows it pending, then expire ends it', async () => {
    const c = cli();
    expect(
      await runSilence(
        [
          'add',
          '--match',
          'cluster=train-b',
          '--start',
          '2026-11-25T00:00:00Z',
          '--until',
          '2026-11-25T03:00:00+01:00',
          '--reason',
          'network change',
          '--author',
          'bob',
        ],
        c.ctx.io,
        c.ctx,
      ),
    ).toBe(0);
    const id = /Silence ([0-9a-f]{12}) added/.exec(c.out())?.[1] ?? '';
    expect(id).not.toBe('');
    const added = (await store().silences(NOW)).find((s) => s.id === id);
    expect(added).toMatchObject({
      author: 'bob',
      start: '2026-11-25T00:00:00Z',
      end: '2026-11-25T02:00:00Z',
    });

    c.clear();
    expect(await runSilence(['list'], c.ctx.io, c.ctx)).toBe(0);
    const row = c
      .out()
      .split('\n')
      .find((l) => l.startsWith(id));
    expect(c.out().split('\n')[0]).toMatch(/^ID\s+STATE\s+START\s+END\s+AUTHOR\s+MATCHERS\s+REASON$/);
    expect(row).toMatch(
      new RegExp(
        `^${id}\\s+pending\\s+2026-11-25T00:00:00Z\\s+2026-11-25T02:00:00Z\\s+bob\\s+cluster=train-b\\s+network change$`,
      ),
    );

    // Expire (now is before its start: it ends 1 ms after its start) and check both lists.
    c.clear();
    c.setNow(Date.parse('2026-11-25T01:00:00Z'));
    expect(await runSilence(['expire', id], c.ctx.io, c.ctx)).toBe(0);
    expect(c.out()).toBe(`Silence ${id} expired.\n`);
    c.clear();
    expect(await runSilence(['list', '--json'], c.ctx.io, c.ctx)).toBe(0);
    expect((JSON.parse(c.out()) as { id: string }[]).map((s) => s.id)).not.toContain(id);
    c.clear();
    expect(await runSilence(['list', '--all', '--json'], c.ctx.io, c.ctx)).toBe(0);
    const all = JSON.parse(c.out()) as (Silence & { state: string })[];
    expect(all.find((s) => s.id === id)).toMatchObject({ state: 'expired', end: '2026-11-25T01:00:00.000Z' });
  });

  it('expire of an unknown id: exit 2 and the id in the message', async () => {
    const c = cli();
    expect(await runSilence(['expire', 'nope123'], c.ctx.io, c.ctx)).toBe(2);
    expect(c.err()).toContain(`expire nope123: no such silence in table ${table}`);
    expect(c.out()).toBe('');
  });

  const base = ['--duration', '2h', '--reason', 'r'];
  it.each([
    {
      args: ['add', '--match', 'nod=x', ...base],
      message: `--match nod=x: unknown label 'nod'; allowed: ${MATCHER_LABELS.join(', ')}`,
    },
    {
      args: ['add', '--match', 'node=x', '--start', '2020-01-01T00:00:00Z', ...base],
      message: '--start 2020-01-01T00:00:00Z: the window ends in the past (2020-01-01T02:00:00Z)',
    },
    {
      args: ['add', '--match', 'node=x', '--until', '2026-11-24T11:00:00Z', '--reason', 'r'],
      message: '--until 2026-11-24T11:00:00Z: before --start (now)',
    },
    {
      args: [
        'add',
        '--match',
        'node=x',
        '--start',
        '2026-11-24T13:00:00Z',
        '--until',
        '2026-11-24T12:30:00Z',
        '--reason',
        'r',
      ],
      message: '--until 2026-11-24T12:30:00Z: before --start 2026-11-24T13:00:00Z',
    },
    { args: ['add', '--duration', '2h', '--reason', 'r'], message: '--match: at least one is required' },
    { args: ['add', '--match', 'node=x', '--reason', 'r'], message: '--duration/--until: give exactly one' },
    {
      args: [
        'add',
        '--match',
        'node=x',
        '--duration',
        '2h',
        '--until',
        '2026-11-25T00:00:00Z',
        '--reason',
        'r',
      ],
      message: '--duration/--until: give exactly one',
    },
    { args: ['add', '--match', 'node=x', '--duration', '2h'], message: '--reason: required' },
    {
      args: ['add', '--match', 'node=x', '--duration', 'two hours', '--reason', 'r'],
      message: '--duration two hours: not a positive duration',
    },
    {
      args: ['add', '--match', 'node=x', '--start', 'tomorrow', ...base],
      message: '--start tomorrow: not an ISO-8601 instant with a zone',
    },
    {
      args: ['add', '--match', 'gpu=~[0-', ...base],
      message: '--match gpu=~[0-: not a valid regular expression',
    },
    { args: ['add', '--match', 'node', ...base], message: '--match node: expected <label>=<value>' },
    { args: ['add', '--match', 'node=x', '--bogus', ...base], message: "Unknown option '--bogus'" },
    { args: ['mute'], message: 'unknown subcommand "mute"; allowed: add, list, expire' },
  ])('bad input: $message (exit 2, nothing written)', async ({ args, message }) => {
    const before = (await store().silences(0)).length;
    const c = cli();
    expect(await runSilence(args, c.ctx.io, c.ctx)).toBe(2);
    expect(c.err()).toContain(`fleetwatch silence: ${message}`);
    expect(c.out()).toBe('');
    expect((await store().silences(0)).length).toBe(before);
  });

  it('no table: names --table and the environment variable', async () => {
    const c = capturedCli({ region, nowMs: NOW });
    expect(await runSilence(['list'], c.ctx.io, c.ctx)).toBe(2);
    expect(c.err()).toContain('--table: missing; pass --table <name> or set FLEETWATCH_INCIDENTS_TABLE');
  });

  it('no author: names --author when USER is not set', async () => {
    const c = capturedCli({ table, region, nowMs: NOW, user: '' });
    expect(await runSilence(['add', '--match', 'node=x', ...base], c.ctx.io, c.ctx)).toBe(2);
    expect(c.err()).toContain('--author: missing');
  });

  it('smoke: through bin/fleetwatch.mjs with the table from the environment', () => {
    const env = {
      ...process.env,
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region,
      FLEETWATCH_INCIDENTS_TABLE: table,
      USER: 'carol',
    };
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['bin/fleetwatch.mjs', ...args], { cwd: ROOT, encoding: 'utf8', env });
    const added = run(
      'silence',
      'add',
      '--match',
      'team=ml',
      '--duration',
      '30m',
      '--reason',
      'smoke',
      '--json',
    );
    // (stderr may carry the SDK's Node-version notice; no error of ours.)
    expect(added.stderr).not.toContain('fleetwatch');
    expect(added.status).toBe(0);
    const { id } = JSON.parse(added.stdout) as Silence;
    const listed = run('silence', 'list');
    expect(listed.status).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+active\\s.*\\scarol\\s+team=ml\\s+smoke$`, 'm'));
    const bad = run('silence', 'add', '--match', 'nod=x', '--duration', '1h', '--reason', 'r');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--match nod=x: unknown label 'nod'");
  });
});
