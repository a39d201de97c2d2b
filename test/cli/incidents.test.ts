import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbIncidentStore } from '../../lambdas/adapters/dynamodb/incident-store';
import { InMemoryCalendarStore } from '../../lambdas/adapters/memory/calendar-store';
import { InMemoryIncidentStore } from '../../lambdas/adapters/memory/incident-store';
import { runIncidents } from '../../lambdas/cli/incidents';
import type { RemediationApprovals } from '../../lambdas/cli/operator';
import type { Incident } from '../../lambdas/contracts/incident';
import { dynamoDocumentClient } from '../../lambdas/wiring/clients';
import { uniqueSuffix, useMoto } from '../support/aws-env';
import { capturedCli, createIncidentsTable, openIncident } from '../support/operator-cli';

const { region } = useMoto();
const NOW = Date.parse('2026-11-24T12:00:00Z');
const MIN = 60_000;

const OPEN = 'aaaaaaaaaaaaaaa1';
const ACKED = 'aaaaaaaaaaaaaaa2';
const RESOLVED = 'aaaaaaaaaaaaaaa3';
const PENDING = 'aaaaaaaaaaaaaaa4';
const EPISODE2 = 'aaaaaaaaaaaaaaa5';

describe('fleetwatch incidents (moto)', () => {
  const table = `fw-incidents-cli-${uniqueSuffix()}`;
  const store = () => new DynamoDbIncidentStore(dynamoDocumentClient(region), table);
  const cli = () => capturedCli({ table, region, nowMs: NOW, user: 'alice' });
  const get = async (fp: string) => (await store().get(fp)) as Incident;

  beforeAll(async () => {
    await createIncidentsTable(region, table);
    const put = async (i: Incident) => expect(await store().put(i)).not.toBe('conflict');
    await put(openIncident(NOW, { fingerprint: OPEN, id: `${OPEN}-1`, lastSeenMs: NOW - MIN }));
    await put(
      openIncident(NOW, {
        fingerprint: ACKED,
        id: `${ACKED}-1`,
        status: 'acknowledged',
        kind: 'job.hung',
        cause: 'software',
        severity: 'ticket',
        originalSeverity: 'ticket',
        title: 'Training job hung',
        labels: { cluster: 'train-a', job: 'llm-7b' },
        runbook: 'docs/runbooks/job.hung.md',
        lastSeenMs: NOW - 2 * MIN,
      }),
    );
    await put(
      openIncident(NOW, {
        fingerprint: RESOLVED,
        id: `${RESOLVED}-1`,
        status: 'resolved',
        resolvedAtMs: NOW - 30 * MIN,
        lastSeenMs: NOW - 40 * MIN,
      }),
    );
    await put(
      openIncident(NOW, {
        fingerprint: PENDING,
        id: `${PENDING}-1`,
        status: 'pending',
        openedAtMs: undefined,
      }),
    );
    await put(openIncident(NOW, { fingerprint: EPISODE2, id: `${EPISODE2}-2`, episode: 2 }));
  });

  it('list: open incidents by default, as a table with where and last seen', async () => {
    const c = cli();
    expect(await runIncidents(['list'], c.ctx.io, c.ctx)).toBe(0);
    const lines = c.out().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+SEVERITY\s+KIND\s+WHERE\s+LAST SEEN\s+TITLE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual([`${OPEN}-1`, `${EPISODE2}-2`]);
    expect(lines[1]).toMatch(
      new RegExp(
        `^${OPEN}-1\\s+open\\s+page\\s+gpu\\.xid\\.fatal\\s+cluster=train-a,node=i-1,gpu=3\\s+2026-11-24T11:59:00Z\\s+Xid 79: GPU has fallen off the bus$`,
      ),
    );
  });

  it.each([
    { status: 'acknowledged', ids: [`${ACKED}-1`] },
    { status: 'resolved', ids: [`${RESOLVED}-1`] },
    { status: 'pending', ids: [`${PENDING}-1`] },
    { status: 'active', ids: [`${OPEN}-1`, `${ACKED}-1`, `${PENDING}-1`, `${EPISODE2}-2`] },
    { status: 'all', ids: [`${OPEN}-1`, `${ACKED}-1`, `${RESOLVED}-1`, `${PENDING}-1`, `${EPISODE2}-2`] },
  ])('list --status $status --json', async ({ status, ids }) => {
    const c = cli();
    expect(await runIncidents(['list', '--status', status, '--json'], c.ctx.io, c.ctx)).toBe(0);
    expect((JSON.parse(c.out()) as Incident[]).map((i) => i.id).sort()).toEqual([...ids].sort());
  });

  it('ack: status acknowledged, a history entry with the actor and the note; a second ack changes nothing', async () => {
    const c = cli();
    const before = await get(OPEN);
    expect(await runIncidents(['ack', `${OPEN}-1`, '--note', 'looking at it'], c.ctx.io, c.ctx)).toBe(0);
    expect(c.out()).toBe(`Incident ${OPEN}-1 acknowledged by alice.\n`);
    const after = await get(OPEN);
    expect(after.status).toBe('acknowledged');
    expect(after.version).toBe(before.version + 1);
    expect(after.history.slice(before.history.length)).toEqual([
      { at: NOW, action: 'acknowledged', actor: 'alice', detail: 'looking at it' },
    ]);

    c.clear();
    expect(await runIncidents(['ack', `${OPEN}-1`], c.ctx.io, c.ctx)).toBe(0);
    expect(c.out()).toContain('already acknowledged; nothing changed');
    expect((await get(OPEN)).version).toBe(after.version);
  });

  it('resolve: status resolved with the person in the history, and the resolved message queued', async () => {
    const c = cli();
    c.setNow(NOW + 5 * MIN);
    expect(
      await runIncidents(['resolve', `${ACKED}-1`, '--actor', 'bob', '--note', 'restarted'], c.ctx.io, c.ctx),
    ).toBe(0);
    const after = await get(ACKED);
    expect(after).toMatchObject({ status: 'resolved', resolvedAtMs: NOW + 5 * MIN });
    expect(after.history.at(-1)).toEqual({
      at: NOW + 5 * MIN,
      action: 'resolved',
      actor: 'bob',
      detail: 'restarted',
    });
    // It had been notified (sent 'open'), so the sweep owes a 'resolved' message.
    expect(after.notifications.at(-1)).toMatchObject({ event: 'resolved', status: 'pending' });
  });

  it.each([
    {
      args: ['ack', `${RESOLVED}-1`],
      message: `ack ${RESOLVED}-1: already resolved at 2026-11-24T11:30:00Z`,
    },
    { args: ['resolve', `${RESOLVED}-1`], message: `resolve ${RESOLVED}-1: already resolved` },
    {
      args: ['ack', `${PENDING}-1`],
      message: `ack ${PENDING}-1: status is pending; only open incidents can be acknowledged`,
    },
    {
      args: ['ack', 'bbbbbbbbbbbbbbbb-1'],
      message: `bbbbbbbbbbbbbbbb-1: no such incident in table ${table}`,
    },
    {
      args: ['ack', `${EPISODE2}-1`],
      message: `${EPISODE2}-1: that episode is over; the current incident of this fingerprint is ${EPISODE2}-2`,
    },
    { args: ['ack', 'INC-42'], message: 'INC-42: not an incident id' },
    { args: ['ack'], message: 'ack: missing <id>' },
    {
      args: ['list', '--status', 'closed'],
      message: '--status closed: allowed: pending, open, acknowledged, resolved, active, all',
    },
    { args: ['list', '--since', 'forever'], message: '--since forever: not a positive duration' },
  ])('bad input: $message (exit 2)', async ({ args, message }) => {
    const c = cli();
    expect(await runIncidents(args, c.ctx.io, c.ctx)).toBe(2);
    expect(c.err()).toContain(`fleetwatch incidents: ${message}`);
    expect(c.out()).toBe('');
  });

  it('ack retries when the router wrote the item in between (optimistic version conflict)', async () => {
    const memory = new InMemoryIncidentStore();
    await memory.put(openIncident(NOW));
    memory.injectConflicts = 2;
    const unused = {} as RemediationApprovals;
    const c = capturedCli({
      region,
      table: 't',
      nowMs: NOW,
      makeDeps: () => ({ incidents: memory, calendar: new InMemoryCalendarStore(), approvals: unused }),
    });
    expect(await runIncidents(['ack', '0123456789abcdef-1'], c.ctx.io, c.ctx)).toBe(0);
    expect(memory.conflicts).toBe(2);
    const [stored] = memory.all();
    expect(stored?.status).toBe('acknowledged');
    expect(stored?.history.filter((h) => h.action === 'acknowledged')).toHaveLength(1);
  });
});

describe('fleetwatch incidents against a table that does not exist (moto)', () => {
  it('exit 1 with the AWS error named on one line, no stack trace', async () => {
    const c = capturedCli({ table: `fw-missing-${uniqueSuffix()}`, region, nowMs: NOW });
    expect(await runIncidents(['list'], c.ctx.io, c.ctx)).toBe(1);
    expect(c.err()).toMatch(/^fleetwatch incidents: AWS ResourceNotFoundException: .+\n$/);
  });
});
