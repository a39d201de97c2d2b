import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbCalendarStore } from '../../lambdas/adapters/dynamodb/calendar-store';
import { nextOccurrence, runMaintenance } from '../../lambdas/cli/maintenance';
import { MATCHER_LABELS } from '../../lambdas/contracts/calendar';
import { dynamoDocumentClient } from '../../lambdas/wiring/clients';
import { uniqueSuffix, useMoto } from '../support/aws-env';
import { capturedCli, createIncidentsTable } from '../support/operator-cli';

const { region } = useMoto();
// A Tuesday; 2026-11-01 (the US fall-back change) is behind us, 2027-03-14 (spring forward) ahead.
const NOW = Date.parse('2026-11-24T12:00:00Z');

describe('fleetwatch maintenance (moto)', () => {
  const table = `fw-incidents-maint-${uniqueSuffix()}`;
  const store = () => new DynamoDbCalendarStore(dynamoDocumentClient(region), table);
  const cli = () => capturedCli({ table, region, nowMs: NOW });
  const windows = async () => store().maintenanceWindows();

  beforeAll(async () => {
    await createIncidentsTable(region, table);
  });

  it('add a one-off window with --duration: stored with its scope and an ISO duration', async () => {
    const c = cli();
    const code = await runMaintenance(
      [
        'add',
        '--name',
        'Rack 7 firmware',
        '--match',
        'cluster=train-a',
        '--match',
        'node=~i-07.*',
        '--start',
        '2026-11-26T22:00:00Z',
        '--duration',
        '1h30m',
      ],
      c.ctx.io,
      c.ctx,
    );
    expect(c.err()).toBe('');
    expect(code).toBe(0);
    expect(c.out()).toContain('Maintenance window rack-7-firmware added');
    expect((await windows()).find((w) => w.name === 'Rack 7 firmware')).toEqual({
      name: 'Rack 7 firmware',
      start: '2026-11-26T22:00:00Z',
      duration: 'PT1H30M',
      scope: [
        { label: 'cluster', op: '=', value: 'train-a' },
        { label: 'node', op: '=~', value: 'i-07.*' },
      ],
    });
  });

  it('add with --end, a cron and an RRULE window; re-adding a name replaces it; list shows the next occurrence', async () => {
    const c = cli();
    const ok = async (args: string[]) => {
      c.clear();
      const code = await runMaintenance(args, c.ctx.io, c.ctx);
      expect(c.err()).toBe('');
      expect(code).toBe(0);
    };
    await ok([
      'add',
      '--name',
      'switch',
      '--match',
      'region=us-east-1',
      '--start',
      '2026-11-24T11:00:00Z',
      '--end',
      '2026-11-24T13:00:00Z',
    ]);
    await ok([
      'add',
      '--name',
      'weekly',
      '--match',
      'team=ml',
      '--cron',
      '0 2 * * 6',
      '--duration',
      '1h',
      '--tz',
      'America/New_York',
    ]);
    await ok([
      'add',
      '--name',
      'weekly',
      '--match',
      'team=ml',
      '--cron',
      '0 3 * * 6',
      '--duration',
      '2h',
      '--tz',
      'America/New_York',
    ]);
    await ok([
      'add',
      '--name',
      'retrain',
      '--match',
      'kind=~job\\..*',
      '--rrule',
      'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=2;BYMINUTE=0',
      '--duration',
      'PT2H',
      '--tz',
      'Europe/Berlin',
    ]);
    const stored = await windows();
    expect(stored.filter((w) => w.name === 'weekly')).toEqual([
      {
        name: 'weekly',
        cron: '0 3 * * 6',
        duration: 'PT2H',
        tz: 'America/New_York',
        scope: [{ label: 'team', op: '=', value: 'ml' }],
      },
    ]);
    expect(stored.find((w) => w.name === 'switch')).toMatchObject({
      start: '2026-11-24T11:00:00Z',
      end: '2026-11-24T13:00:00Z',
    });
    expect(stored.find((w) => w.name === 'retrain')).toMatchObject({ duration: 'PT2H', tz: 'Europe/Berlin' });

    c.clear();
    expect(await runMaintenance(['list'], c.ctx.io, c.ctx)).toBe(0);
    const lines = c.out().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+SCHEDULE\s+SCOPE\s+NEXT$/);
    expect(lines.find((l) => l.startsWith('switch'))).toMatch(/now until 2026-11-24T13:00:00Z$/);
    // Saturday 2026-11-28 03:00 in New York (EST, UTC-5) is 08:00Z.
    expect(lines.find((l) => l.startsWith('weekly'))).toMatch(
      /cron "0 3 \* \* 6" America\/New_York for PT2H\s+team=ml\s+2026-11-28T08:00:00Z to 2026-11-28T10:00:00Z$/,
    );
    // Wednesday 2026-11-25 02:00 in Berlin (CET, UTC+1) is 01:00Z.
    expect(lines.find((l) => l.startsWith('retrain'))).toMatch(
      /2026-11-25T01:00:00Z to 2026-11-25T03:00:00Z$/,
    );

    c.clear();
    expect(await runMaintenance(['list', '--json'], c.ctx.io, c.ctx)).toBe(0);
    const json = JSON.parse(c.out()) as { name: string; next: string }[];
    expect(json.find((w) => w.name === 'weekly')?.next).toBe('2026-11-28T08:00:00Z to 2026-11-28T10:00:00Z');
  });

  it('next occurrence follows the zone across the spring-forward change', () => {
    // Saturday 2027-03-13 is EST (UTC-5), Saturday 2027-03-20 EDT (UTC-4).
    const w = { name: 'w', cron: '0 3 * * 6', duration: 'PT1H', tz: 'America/New_York', scope: [] };
    expect(nextOccurrence(w, Date.parse('2027-03-12T00:00:00Z'))).toBe(
      '2027-03-13T08:00:00Z to 2027-03-13T09:00:00Z',
    );
    expect(nextOccurrence(w, Date.parse('2027-03-14T00:00:00Z'))).toBe(
      '2027-03-20T07:00:00Z to 2027-03-20T08:00:00Z',
    );
  });

  const scope = ['--name', 'n', '--match', 'node=x'];
  it.each([
    {
      args: ['add', '--name', 'n', '--match', 'nod=x', '--start', '2026-12-01T00:00:00Z', '--duration', '1h'],
      message: `--match nod=x: unknown label 'nod'; allowed: ${MATCHER_LABELS.join(', ')}`,
    },
    {
      args: ['add', ...scope, '--start', '2020-01-01T00:00:00Z', '--duration', '2h'],
      message: '--start 2020-01-01T00:00:00Z: the window ends in the past (2020-01-01T02:00:00Z)',
    },
    {
      args: ['add', ...scope, '--start', '2026-12-01T04:00:00Z', '--end', '2026-12-01T02:00:00Z'],
      message: '--end 2026-12-01T02:00:00Z: before --start 2026-12-01T04:00:00Z',
    },
    {
      args: ['add', ...scope, '--cron', '0 2 * * 6', '--duration', '1h', '--tz', 'Mars/Base'],
      message: '--tz Mars/Base: not an IANA time zone',
    },
    {
      args: ['add', ...scope, '--cron', '61 * * * *', '--duration', '1h', '--tz', 'UTC'],
      message: '--cron "61 * * * *": invalid cron: ',
    },
    {
      args: ['add', ...scope, '--rrule', 'FREQ=SOMETIMES', '--duration', '1h', '--tz', 'UTC'],
      message: '--rrule "FREQ=SOMETIMES": invalid RRULE: ',
    },
    {
      args: ['add', ...scope, '--cron', '0 2 * * 6', '--duration', '1h'],
      message: '--tz: required for a recurring window',
    },
    {
      args: ['add', ...scope, '--cron', '0 2 * * 6', '--tz', 'UTC'],
      message: '--duration: required for a recurring window',
    },
    {
      args: [
        'add',
        ...scope,
        '--cron',
        '0 2 * * 6',
        '--duration',
        '1h',
        '--tz',
        'UTC',
        '--end',
        '2026-12-01T00:00:00Z',
      ],
      message: '--end: only for one-off (--start) windows',
    },
    {
      args: ['add', ...scope, '--start', '2026-12-01T00:00:00Z', '--cron', '0 2 * * 6', '--duration', '1h'],
      message: '--start/--cron/--rrule: give exactly one',
    },
    { args: ['add', ...scope, '--duration', '1h'], message: '--start/--cron/--rrule: give exactly one' },
    {
      args: ['add', ...scope, '--start', '2026-12-01T00:00:00Z'],
      message: '--duration/--end: give exactly one with --start',
    },
    {
      args: ['add', ...scope, '--start', '2026-12-01T00:00:00Z', '--duration', '1h', '--tz', 'UTC'],
      message: '--tz: only for recurring (--cron/--rrule) windows',
    },
    {
      args: ['add', ...scope, '--start', '2026-12-01T00:00:00Z', '--duration', 'PT0S'],
      message: '--duration PT0S: not a positive duration',
    },
    {
      args: ['add', '--match', 'node=x', '--start', '2026-12-01T00:00:00Z', '--duration', '1h'],
      message: '--name: required',
    },
    {
      args: ['add', '--name', 'n', '--start', '2026-12-01T00:00:00Z', '--duration', '1h'],
      message: '--match: at least one is required',
    },
  ])('bad input: $message (exit 2, nothing written)', async ({ args, message }) => {
    const before = (await windows()).length;
    const c = cli();
    expect(await runMaintenance(args, c.ctx.io, c.ctx)).toBe(2);
    expect(c.err()).toContain(`fleetwatch maintenance: ${message}`);
    expect(c.out()).toBe('');
    expect((await windows()).length).toBe(before);
  });
});
