import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InMemoryCalendarStore } from '../../../lambdas/adapters/memory/calendar-store';
import { InMemoryIncidentStore } from '../../../lambdas/adapters/memory/incident-store';
import { RecordingNotifier } from '../../../lambdas/adapters/memory/notifier';
import { RecordingLog } from '../../../lambdas/adapters/memory/observability';
import { RecordingRemediationStarter } from '../../../lambdas/adapters/memory/remediation';
import {
  actOnIncident,
  type RouteDeps,
  routeFindings,
  sweepIncidents,
} from '../../../lambdas/app/route-findings';
import { type MaintenanceWindowInput, maintenanceWindowSchema } from '../../../lambdas/contracts/calendar';
import type { Finding } from '../../../lambdas/contracts/finding';
import { incidentSchema } from '../../../lambdas/contracts/incident';
import {
  DEFAULT_KIND_LIFECYCLE,
  type IncidentsConfigInput,
  type KindLifecycle,
} from '../../../lambdas/contracts/incidents-config';
import { resolve } from '../../../lambdas/core/incidents/lifecycle';
import { finding, incidentsConfig, isoAt, MIN, T0 } from './fixtures';

/** GPU kinds without the fatal-hardware override, so the group wait applies (tests of the wait itself). */
const HELD_GPU_KINDS: KindLifecycle = { match: ['gpu.**'], openAfter: 1, ofRuns: 1, resolve: 'explicit' };

function setup(cfg: IncidentsConfigInput = {}, maintenance: MaintenanceWindowInput[] = []) {
  const store = new InMemoryIncidentStore();
  const calendar = new InMemoryCalendarStore();
  const notifier = new RecordingNotifier();
  const remediation = new RecordingRemediationStarter();
  const log = new RecordingLog();
  const deps: RouteDeps = {
    store,
    calendar,
    notifier,
    remediation,
    log,
    config: incidentsConfig({
      groupWaitSeconds: 0,
      // A node-level kind for these tests: reported once per episode, like hardware.
      kinds: [
        ...DEFAULT_KIND_LIFECYCLE,
        { match: ['node.**'], openAfter: 1, ofRuns: 1, resolve: 'explicit' },
      ],
      ...cfg,
    }),
    maintenance: maintenance.map((m) => maintenanceWindowSchema.parse(m)),
  };
  const route = (fs: (Finding | unknown)[], nowMs = T0, ids?: string[]) =>
    routeFindings(deps, { findings: fs.map((f, i) => ({ id: ids?.[i] ?? `m${i}`, finding: f })), nowMs });
  const sweep = (nowMs: number) => sweepIncidents(deps, { nowMs });
  return { deps, store, calendar, notifier, remediation, log, route, sweep };
}

const nodeDown = (over: Partial<Finding> = {}) =>
  finding({
    kind: 'node.unreachable',
    title: 'Node i-1 stopped reporting',
    labels: { cluster: 'train-a', region: 'us-east-1', node: 'i-1' },
    evidence: { window: { startMs: T0 - 5 * MIN, endMs: T0 } },
    ...over,
  });

describe('routeFindings: open, dedup, notify', () => {
  it('opens an incident and pages once; the same batch delivered again sends nothing more', async () => {
    const t = setup();
    const first = await t.route([finding()]);
    expect(first.results).toEqual([
      {
        id: 'm0',
        status: 'ok',
        event: 'opened',
        incidentId: expect.stringMatching(/-1$/),
        severity: 'page',
      },
    ]);
    expect(first.sentBySeverity).toEqual({ page: 1 });
    expect(first.notificationsFailed).toBe(0);
    expect(t.notifier.published).toHaveLength(1);
    expect(t.notifier.published[0]?.attributes).toMatchObject({
      severity: 'page',
      event: 'open',
      kind: 'gpu.xid.fatal',
    });

    const again = await t.route([finding()], T0 + 30_000);
    expect(again.results[0]).toMatchObject({ status: 'ok', event: 'duplicate' });
    expect(t.notifier.published).toHaveLength(1);
    const [incident] = t.store.all();
    expect(incident?.notifications).toEqual([
      expect.objectContaining({ event: 'open', status: 'sent', messageId: 'msg-1' }),
    ]);
  });

  it('property: routing a batch twice equals routing it once (incidents and notifications)', async () => {
    const kinds = ['gpu.xid.fatal', 'job.hung', 'node.unreachable', 'stat.level_shift_down'];
    const findingArb = fc.record({
      kind: fc.constantFrom(...kinds),
      node: fc.constantFrom('i-1', 'i-2', 'i-3'),
      gpu: fc.option(fc.constantFrom('0', '1', '2'), { nil: undefined }),
      minute: fc.integer({ min: 0, max: 20 }),
      resolved: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(findingArb, { minLength: 1, maxLength: 12 }), async (specs) => {
        const batch = specs.map((s) =>
          finding({
            kind: s.kind,
            labels: { cluster: 'train-a', node: s.node, ...(s.gpu ? { gpu: s.gpu } : {}) },
            evidence: { values: s.resolved ? { resolved: 1 } : { v: 1 }, window: { startMs: T0, endMs: T0 } },
            detectedAt: T0 + s.minute * MIN,
          }),
        );
        const once = setup({ openAfter: 1, ofRuns: 1 });
        await once.route(batch, T0 + 30 * MIN);
        const twice = setup({ openAfter: 1, ofRuns: 1 });
        await twice.route(batch, T0 + 30 * MIN);
        await twice.route(batch, T0 + 30 * MIN);
        const strip = (s: typeof once) => s.store.all().map(({ history: _h, version: _v, ...rest }) => rest);
        expect(strip(twice)).toEqual(strip(once));
        // What the router writes is what the contract says (the DynamoDB adapter stores it as is).
        for (const i of twice.store.all()) incidentSchema.parse(i);
        expect(twice.notifier.published.map((p) => p.subject)).toEqual(
          once.notifier.published.map((p) => p.subject),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('invalid findings are reported (for the DLQ), the rest of the batch still routes', async () => {
    const t = setup();
    const r = await t.route([{ schemaVersion: 1, kind: 'Bad Kind' }, finding()]);
    expect(r.results[0]).toMatchObject({ id: 'm0', status: 'invalid' });
    expect(r.results[0]?.status === 'invalid' && r.results[0].problems.join('\n')).toContain('kind');
    expect(r.results[1]).toMatchObject({ id: 'm1', status: 'ok', event: 'opened' });
  });

  it('retries write conflicts a bounded number of times', async () => {
    const t = setup();
    t.store.injectConflicts = 2;
    expect((await t.route([finding()])).results[0]).toMatchObject({ status: 'ok', event: 'opened' });
    const u = setup();
    u.store.injectConflicts = 100;
    expect((await u.route([finding()])).results[0]).toMatchObject({
      status: 'failed',
      reason: 'write conflict after 4 attempts',
    });
    expect(u.notifier.published).toHaveLength(0);
  });

  it('a failed publish fails the message; the redelivery sends it, once', async () => {
    const t = setup();
    t.notifier.failNext = 1;
    expect((await t.route([finding()])).results[0]).toMatchObject({ status: 'failed' });
    expect(t.store.all()[0]?.notifications[0]?.status).toBe('pending');
    expect((await t.route([finding()], T0 + MIN)).results[0]).toMatchObject({
      status: 'ok',
      event: 'duplicate',
    });
    expect((await t.route([finding()], T0 + 2 * MIN)).results[0]).toMatchObject({
      status: 'ok',
      event: 'duplicate',
    });
    expect(t.notifier.published).toHaveLength(1);
  });
});

describe('lifecycle through the router', () => {
  const stat = (minute: number, over: Partial<Finding> = {}) =>
    finding({
      kind: 'stat.level_shift_down',
      severity: 'ticket',
      cause: 'efficiency',
      title: 'GPU utilisation dropped on i-1',
      labels: { cluster: 'train-a', node: 'i-1' },
      detectedAt: T0 + minute * MIN,
      ...over,
    });

  it('M of N: pending after one run, opened on the second within N runs (default 2 of 3)', async () => {
    const t = setup();
    expect((await t.route([stat(0)], T0)).results[0]).toMatchObject({ event: 'pending' });
    expect(t.notifier.published).toHaveLength(0);
    expect((await t.route([stat(10)], T0 + 10 * MIN)).results[0]).toMatchObject({ event: 'opened' });
    expect(t.notifier.published).toHaveLength(1);
  });

  it('M of N: observations further apart than N runs never open; the sweep drops the pending one', async () => {
    const t = setup();
    await t.route([stat(0)], T0);
    await t.route([stat(16)], T0 + 16 * MIN); // 3 runs of 5 min = 15 min: the first one fell out
    expect(t.store.all()[0]?.status).toBe('pending');
    const s = await t.sweep(T0 + 40 * MIN);
    expect(s.dropped).toBe(1);
    expect(t.store.all()[0]?.status).toBe('resolved');
    expect(t.notifier.published).toHaveLength(0);
  });

  it('K clean runs resolve a level-triggered incident, with a resolved notification', async () => {
    const t = setup({ openAfter: 1, ofRuns: 1, cleanRuns: 3 });
    await t.route([stat(0)], T0);
    expect((await t.sweep(T0 + 14 * MIN)).resolved).toBe(0);
    expect((await t.sweep(T0 + 15 * MIN)).resolved).toBe(1);
    expect(t.notifier.published.map((p) => p.attributes.event)).toEqual(['open', 'resolved']);
  });

  it('hardware (edge-triggered) does not resolve by silence, only explicitly', async () => {
    const t = setup({ renotifyMinutes: 0 });
    await t.route([finding()], T0);
    await t.sweep(T0 + 24 * 60 * MIN);
    expect(t.store.all()[0]?.status).toBe('open');
    const resolved = finding({
      severity: 'info',
      evidence: { values: { resolved: 1 }, window: { startMs: T0, endMs: T0 } },
      detectedAt: T0 + 30 * MIN,
    });
    expect((await t.route([resolved], T0 + 30 * MIN)).results[0]).toMatchObject({ event: 'resolved' });
    expect(t.notifier.published.map((p) => p.attributes.event)).toEqual(['open', 'resolved']);
    // Fires again: a new episode, a new id.
    await t.route([finding({ detectedAt: T0 + 60 * MIN })], T0 + 60 * MIN);
    expect(t.store.all()[0]?.id).toMatch(/-2$/);
    expect(t.notifier.published).toHaveLength(3);
  });

  it('a resolved outcome with nothing open is ignored', async () => {
    const t = setup();
    const r = await t.route([
      finding({ evidence: { values: { resolved: 1 }, window: { startMs: T0, endMs: T0 } } }),
    ]);
    expect(r.results[0]).toMatchObject({ status: 'ok', event: 'ignored' });
    expect(t.store.all()).toEqual([]);
  });

  it('re-notifies an open page every interval until acknowledged', async () => {
    const t = setup({ renotifyMinutes: 60 });
    await t.route([finding()], T0);
    expect((await t.sweep(T0 + 59 * MIN)).renotified).toBe(0);
    expect((await t.sweep(T0 + 60 * MIN)).renotified).toBe(1);
    expect((await t.sweep(T0 + 90 * MIN)).renotified).toBe(0);
    expect((await t.sweep(T0 + 120 * MIN)).renotified).toBe(1);
    expect(t.notifier.published.map((p) => p.attributes.event)).toEqual(['open', 'renotify', 'renotify']);
    expect(t.notifier.published[1]?.subject.startsWith('[STILL PAGE]')).toBe(true);
  });
});

describe('suppression through the router', () => {
  it('suppressed during maintenance (recorded with reason), notified when the window ends and it is still there', async () => {
    const t = setup({}, [{ name: 'rack 4 firmware', start: isoAt(T0 - MIN), end: isoAt(T0 + 30 * MIN) }]);
    const r = await t.route([finding()], T0);
    expect(r.results[0]).toMatchObject({
      event: 'opened',
      suppressed: expect.stringContaining('maintenance: maintenance window "rack 4 firmware"'),
      newlySuppressedBy: 'maintenance',
    });
    // The same finding again: still muted, but not newly (IncidentsSuppressed counts incidents).
    const again = await t.route([finding({ detectedAt: T0 + MIN })], T0 + MIN);
    expect(again.results[0]).toMatchObject({ suppressed: expect.stringContaining('maintenance') });
    expect(again.results[0]).not.toHaveProperty('newlySuppressedBy');
    expect(t.notifier.published).toHaveLength(0);
    expect(t.store.all()[0]?.suppression).toMatchObject({ stage: 'maintenance', untilMs: T0 + 30 * MIN });
    await t.sweep(T0 + 29 * MIN);
    expect(t.notifier.published).toHaveLength(0);
    await t.sweep(T0 + 30 * MIN);
    expect(t.notifier.published).toHaveLength(1);
    const inc = t.store.all()[0];
    expect(inc?.suppression).toBeUndefined();
    expect(inc?.history.map((h) => h.action)).toEqual(
      expect.arrayContaining(['suppressed', 'unsuppressed', 'notified']),
    );
  });

  it('a recurring 02:30 New York window on the spring-forward day mutes 07:30Z–08:30Z, then notifies', async () => {
    const t = setup({}, [{ name: 'nightly', cron: '30 2 * * *', duration: 'PT1H', tz: 'America/New_York' }]);
    const at = Date.parse('2026-03-08T07:45:00Z'); // 03:45 EDT: inside the shifted window
    const r = await t.route([finding({ detectedAt: at })], at);
    expect(r.results[0]).toMatchObject({ suppressed: expect.stringContaining('"nightly"') });
    expect(t.store.all()[0]?.suppression?.untilMs).toBe(Date.parse('2026-03-08T08:30:00Z'));
    await t.sweep(Date.parse('2026-03-08T08:29:00Z'));
    expect(t.notifier.published).toHaveLength(0);
    await t.sweep(Date.parse('2026-03-08T08:30:00Z'));
    expect(t.notifier.published).toHaveLength(1);
  });

  it('a level-triggered problem that went away during the window is resolved, never notified', async () => {
    const t = setup({ openAfter: 1, ofRuns: 1 }, [{ start: isoAt(T0 - MIN), end: isoAt(T0 + 60 * MIN) }]);
    await t.route(
      [finding({ kind: 'stat.level_shift_down', labels: { cluster: 'train-a', node: 'i-1' } })],
      T0,
    );
    await t.sweep(T0 + 61 * MIN);
    expect(t.store.all()[0]?.status).toBe('resolved');
    expect(t.notifier.published).toHaveLength(0);
  });

  it('a stored silence (CLI) mutes, and expires by itself', async () => {
    const t = setup();
    await t.calendar.putSilence({
      id: 's1',
      matchers: [{ label: 'node', op: '=', value: 'i-1' }],
      start: isoAt(T0 - MIN),
      end: isoAt(T0 + 10 * MIN),
      author: 'ana',
      reason: 'RMA',
      createdAt: isoAt(T0 - MIN),
    });
    const r = await t.route([finding()], T0);
    expect(r.results[0]).toMatchObject({ suppressed: expect.stringContaining('silence s1 by ana') });
    await t.sweep(T0 + 10 * MIN);
    expect(t.notifier.published).toHaveLength(1);
  });

  for (const order of ['source first', 'target first'] as const) {
    it(`inhibition in one batch is deterministic (${order})`, async () => {
      const t = setup();
      const batch = order === 'source first' ? [nodeDown(), finding()] : [finding(), nodeDown()];
      const r = await t.route(batch, T0);
      const gpuResult = r.results[order === 'source first' ? 1 : 0];
      expect(gpuResult).toMatchObject({
        status: 'ok',
        suppressed: expect.stringContaining('inhibition: inhibited by open incident'),
      });
      expect(t.notifier.published.map((p) => p.attributes.kind)).toEqual(['node.unreachable']);
      // The node incident resolves: the GPU problem is still there, so it notifies then.
      await t.route(
        [
          nodeDown({
            severity: 'info',
            evidence: { values: { resolved: 1 }, window: { startMs: T0, endMs: T0 } },
            detectedAt: T0 + MIN,
          }),
        ],
        T0 + MIN,
      );
      await t.sweep(T0 + 2 * MIN);
      expect(t.notifier.published.map((p) => `${p.attributes.kind}/${p.attributes.event}`)).toEqual([
        'node.unreachable/open',
        'node.unreachable/resolved',
        'gpu.xid.fatal/open',
      ]);
    });
  }

  it('group wait holds the first notification of node-level incidents until the sweep', async () => {
    const t = setup({ groupWaitSeconds: 60 });
    await t.route([nodeDown()], T0);
    expect(t.notifier.published).toHaveLength(0);
    await t.sweep(T0 + 30_000);
    expect(t.notifier.published).toHaveLength(0);
    await t.sweep(T0 + 60_000);
    expect(t.notifier.published).toHaveLength(1);
  });

  it('seasonal windows cap severity instead of muting', async () => {
    const t = setup({
      seasonal: [
        {
          name: 'retrains',
          cron: '0 12 * * 2',
          duration: 'PT2H',
          tz: 'UTC',
          relax: { kinds: ['gpu.**'], severityCap: 'ticket' },
        },
      ],
    });
    await t.route([finding()], T0);
    expect(t.notifier.published[0]?.attributes.severity).toBe('ticket');
    expect(t.notifier.published[0]?.body).toContain('relaxed from page');
  });
});

describe('grouping through the router', () => {
  const gpuXid = (gpu: string, node = 'i-1') =>
    finding({ labels: { cluster: 'train-a', region: 'us-east-1', node, gpu } });

  it('several GPUs of one node in one batch become one node incident', async () => {
    const t = setup();
    const r = await t.route([gpuXid('0'), gpuXid('1'), gpuXid('2')], T0);
    expect(r.results.every((x) => x.status === 'ok')).toBe(true);
    const incidents = t.store.all();
    expect(incidents).toHaveLength(1);
    expect(incidents[0]?.labels.gpu).toBeUndefined();
    expect(incidents[0]?.group).toEqual({ level: 'node', members: ['0', '1', '2'] });
    expect(t.notifier.published).toHaveLength(1);
    expect(t.notifier.published[0]?.body).toContain('Affected GPUs (3): 0, 1, 2');
  });

  it('a GPU arriving while its node incident is open joins it; an earlier lone GPU incident is folded', async () => {
    const t = setup({ groupWaitSeconds: 60, kinds: [HELD_GPU_KINDS] });
    await t.route([gpuXid('0')], T0); // alone: its own incident, held by group wait
    await t.route([gpuXid('1')], T0 + 10_000); // second GPU: node incident, the first folds in
    await t.sweep(T0 + 70_000);
    const all = t.store.all();
    const node = all.find((i) => i.group !== undefined);
    const lone = all.find((i) => i.labels.gpu === '0');
    expect(node?.group?.members).toEqual(['0', '1']);
    expect(lone?.suppression?.stage).toBe('grouped');
    expect(t.notifier.published).toHaveLength(1);
    await t.route([gpuXid('5')], T0 + 120_000);
    expect(t.store.all().find((i) => i.group !== undefined)?.group?.members).toEqual(['0', '1', '5']);
    expect(t.notifier.published).toHaveLength(1);
  });

  it('with the default lifecycle a fatal Xid pages on first sighting, not after the group wait', async () => {
    const t = setup({ groupWaitSeconds: 60, kinds: [...DEFAULT_KIND_LIFECYCLE] });
    const gpuXid = finding({ labels: { cluster: 'train-a', region: 'us-east-1', node: 'i-1', gpu: '3' } });
    await t.route([gpuXid], T0);
    expect(t.notifier.published).toHaveLength(1);
    expect(t.store.all()[0]?.notBeforeMs).toBeUndefined();
  });

  it('with the default lifecycle a non-fatal GPU kind still waits for its siblings', async () => {
    const t = setup({ groupWaitSeconds: 60, kinds: [...DEFAULT_KIND_LIFECYCLE] });
    const sbe = finding({
      kind: 'gpu.ecc.correctable_rate',
      severity: 'ticket',
      labels: { cluster: 'train-a', region: 'us-east-1', node: 'i-1', gpu: '3' },
    });
    await t.route([sbe], T0);
    expect(t.notifier.published).toHaveLength(0);
    await t.sweep(T0 + 61_000);
    expect(t.notifier.published).toHaveLength(1);
  });

  it('nodes of one cluster become one cluster incident past the threshold', async () => {
    const t = setup({ groupNodesPerCluster: 3 });
    await t.route(
      ['i-1', 'i-2', 'i-3'].map((node) =>
        nodeDown({ labels: { cluster: 'train-a', region: 'us-east-1', node } }),
      ),
      T0,
    );
    const all = t.store.all();
    expect(all).toHaveLength(1);
    expect(all[0]?.group).toEqual({ level: 'cluster', members: ['i-1', 'i-2', 'i-3'] });
  });
});

describe('remediation through the router', () => {
  const hung = (job = 'j-1') =>
    finding({
      kind: 'job.hung',
      cause: 'software',
      title: `Job ${job} hung`,
      labels: { cluster: 'train-a', job },
    });

  it('hung job → stop-job awaiting approval, audited on the incident', async () => {
    const t = setup();
    await t.route([hung()], T0);
    const [inc] = t.store.all();
    expect([...t.remediation.executions.values()]).toEqual([
      {
        workflow: 'stop-job',
        input: expect.objectContaining({ approvalRequired: true, incidentId: inc?.id }),
      },
    ]);
    expect(inc?.remediations).toEqual([
      expect.objectContaining({
        workflow: 'stop-job',
        policy: 'approval',
        decision: 'started',
        executionId: expect.stringContaining('stop-job'),
      }),
    ]);
  });

  it('fatal Xid 79 quarantines; at most N per hour; Xid 13 does not match', async () => {
    const t = setup({ remediation: { maxNodesQuarantinedPerHour: 1 } });
    await t.route([finding(), finding({ labels: { cluster: 'train-a', node: 'i-2', gpu: '0' } })], T0);
    const decisions = t.store
      .all()
      .map((i) => i.remediations[0]?.decision)
      .sort();
    expect(decisions).toEqual(['skipped', 'started']);
    expect(
      t.store
        .all()
        .flatMap((i) => i.remediations)
        .find((r) => r.decision === 'skipped')?.reason,
    ).toContain('rail: 1 node(s) quarantined');
    expect(t.remediation.executions.size).toBe(1);
    const u = setup();
    await u.route([finding({ evidence: { values: { xid: 13 }, window: { startMs: T0, endMs: T0 } } })], T0);
    expect(u.store.all()[0]?.remediations).toEqual([]);
  });

  it('nothing starts during a change freeze; notify-only policy is audited too', async () => {
    const t = setup({
      remediation: { changeFreeze: [{ name: 'year end', start: isoAt(T0 - MIN), end: isoAt(T0 + MIN) }] },
    });
    await t.route([hung()], T0);
    expect(t.remediation.executions.size).toBe(0);
    expect(t.store.all()[0]?.remediations[0]).toMatchObject({
      decision: 'skipped',
      reason: 'change freeze "year end" is active',
    });
    const u = setup({
      remediation: { rules: [{ kinds: ['job.hung'], workflow: 'stop-job', policy: 'notify' }] },
    });
    await u.route([hung()], T0);
    expect(u.store.all()[0]?.remediations[0]).toMatchObject({ decision: 'skipped', policy: 'notify' });
    const a = setup({
      remediation: { rules: [{ kinds: ['job.hung'], workflow: 'stop-job', policy: 'automatic' }] },
    });
    await a.route([hung()], T0);
    expect([...a.remediation.executions.values()][0]?.input).toMatchObject({ approvalRequired: false });
  });

  it('a suppressed incident starts nothing until it becomes audible', async () => {
    const t = setup({}, [{ start: isoAt(T0 - MIN), end: isoAt(T0 + 10 * MIN) }]);
    await t.route([hung()], T0);
    expect(t.remediation.executions.size).toBe(0);
    await t.route(
      [hung()].map((f) => ({ ...f, detectedAt: T0 + 5 * MIN })),
      T0 + 5 * MIN,
    );
    await t.sweep(T0 + 10 * MIN);
    expect(t.remediation.executions.size).toBe(1);
  });
});

describe('people: acknowledge and resolve by id', () => {
  it('ack stops re-notification; resolve sends the resolved message; errors say why', async () => {
    const t = setup({ renotifyMinutes: 30 });
    await t.route([finding()], T0);
    const id = t.store.all()[0]?.id ?? '';
    expect(
      await actOnIncident(t.deps, { id: 'nope', action: 'acknowledge', actor: 'ana', nowMs: T0 }),
    ).toMatchObject({ status: 'not_found' });
    expect(
      await actOnIncident(t.deps, {
        id: id.replace(/-1$/, '-7'),
        action: 'acknowledge',
        actor: 'ana',
        nowMs: T0,
      }),
    ).toMatchObject({
      status: 'not_found',
      detail: expect.stringContaining(`the current episode is ${id}`),
    });
    const acked = await actOnIncident(t.deps, {
      id,
      action: 'acknowledge',
      actor: 'ana',
      note: 'on it',
      nowMs: T0 + MIN,
    });
    expect(acked).toMatchObject({ status: 'done', incident: { status: 'acknowledged' } });
    expect((await t.sweep(T0 + 60 * MIN)).renotified).toBe(0);
    expect(
      await actOnIncident(t.deps, { id, action: 'acknowledge', actor: 'ana', nowMs: T0 + 61 * MIN }),
    ).toMatchObject({ status: 'not_open' });
    const resolved = await actOnIncident(t.deps, {
      id,
      action: 'resolve',
      actor: 'ana',
      note: 'GPU replaced',
      nowMs: T0 + 62 * MIN,
    });
    expect(resolved).toMatchObject({ status: 'done', incident: { status: 'resolved' } });
    expect(t.notifier.published.map((p) => p.attributes.event)).toEqual(['open', 'resolved']);
    expect(
      t.store
        .all()[0]
        ?.history.filter((h) => h.actor === 'ana')
        .map((h) => h.action),
    ).toEqual(['acknowledged', 'resolved']);
  });

  it('folded members end with their group incident', async () => {
    const t = setup({ groupWaitSeconds: 60, kinds: [HELD_GPU_KINDS] });
    const gpuXid = (gpu: string) =>
      finding({ labels: { cluster: 'train-a', region: 'us-east-1', node: 'i-1', gpu } });
    await t.route([gpuXid('0')], T0);
    await t.route([gpuXid('1')], T0 + 10_000);
    const group = t.store.all().find((i) => i.group !== undefined);
    await actOnIncident(t.deps, { id: group?.id ?? '', action: 'resolve', actor: 'ana', nowMs: T0 + 20_000 });
    await t.sweep(T0 + 30_000);
    expect(t.store.all().map((i) => i.status)).toEqual(['resolved', 'resolved']);
    expect(t.notifier.published).toHaveLength(0); // resolved inside the group wait: nothing was ever sent
  });
});

describe('time to detect and to resolve (run summaries)', () => {
  const resolvedXid = (minute: number) =>
    finding({
      severity: 'info',
      evidence: { values: { resolved: 1 }, window: { startMs: T0, endMs: T0 } },
      detectedAt: T0 + minute * MIN,
    });

  it('a resolved finding returns the timing once; redelivery and later sweeps return none', async () => {
    const t = setup();
    await t.route([finding({ detectedAt: T0 - 3 * MIN })], T0); // fatal Xid: pages on first sighting
    const r = await t.route([resolvedXid(30)], T0 + 30 * MIN);
    expect(r.resolutions).toEqual([
      expect.objectContaining({
        severity: 'page',
        cause: 'hardware',
        timeToDetectSeconds: 180,
        timeToResolveSeconds: 33 * 60,
      }),
    ]);
    expect((await t.route([resolvedXid(30)], T0 + 31 * MIN)).resolutions).toEqual([]);
    expect((await t.sweep(T0 + 32 * MIN)).resolutions).toEqual([]);
  });

  it('the sweep returns the timing of a quiet incident it resolves, once', async () => {
    const t = setup({ openAfter: 1, ofRuns: 1, cleanRuns: 3 });
    const stat = finding({
      kind: 'stat.level_shift_down',
      severity: 'ticket',
      cause: 'efficiency',
      labels: { cluster: 'train-a', node: 'i-1' },
      detectedAt: T0,
    });
    await t.route([stat], T0 + MIN);
    const s = await t.sweep(T0 + 15 * MIN);
    expect(s.resolved).toBe(1);
    expect(s.resolutions).toEqual([
      expect.objectContaining({
        severity: 'ticket',
        cause: 'efficiency',
        timeToDetectSeconds: 60,
        timeToResolveSeconds: 15 * 60,
      }),
    ]);
    expect((await t.sweep(T0 + 16 * MIN)).resolutions).toEqual([]);
  });

  it('a resolved message SNS refused is counted when the sweep sends it, not before', async () => {
    const t = setup();
    await t.route([finding()], T0);
    t.notifier.failNext = 1;
    expect((await t.route([resolvedXid(10)], T0 + 10 * MIN)).resolutions).toEqual([]);
    expect((await t.sweep(T0 + 11 * MIN)).resolutions).toEqual([
      expect.objectContaining({ timeToResolveSeconds: 600 }),
    ]);
    expect((await t.sweep(T0 + 12 * MIN)).resolutions).toEqual([]);
  });

  it('a person: the CLI writes the resolution, the next sweep sends the message and returns the timing', async () => {
    const t = setup();
    await t.route([finding()], T0);
    const [current] = t.store.all();
    if (current === undefined) throw new Error('no incident');
    // What `fleetwatch incidents resolve` does (lambdas/cli/incidents.ts): resolve and put, no send.
    expect(await t.store.put(resolve(current, T0 + 20 * MIN, 'ana', 'GPU replaced'))).not.toBe('conflict');
    expect((await t.sweep(T0 + 21 * MIN)).resolutions).toEqual([
      expect.objectContaining({ resolvedAtMs: T0 + 20 * MIN, timeToResolveSeconds: 1200 }),
    ]);
  });

  it('actOnIncident returns the timing of the incident it resolved', async () => {
    const t = setup();
    await t.route([finding()], T0);
    const id = t.store.all()[0]?.id ?? '';
    const done = await actOnIncident(t.deps, { id, action: 'resolve', actor: 'ana', nowMs: T0 + 5 * MIN });
    expect(done).toMatchObject({
      status: 'done',
      resolutions: [{ incidentId: id, timeToResolveSeconds: 300 }],
    });
  });

  it('never-notified incidents (dropped pending, muted all along) and grouped members return none', async () => {
    const dropped = setup();
    const stat = finding({ kind: 'stat.level_shift_down', labels: { cluster: 'train-a', node: 'i-1' } });
    await dropped.route([stat], T0);
    const s = await dropped.sweep(T0 + 40 * MIN);
    expect(s.dropped).toBe(1);
    expect(s.resolutions).toEqual([]);

    const maint = setup({ openAfter: 1, ofRuns: 1, cleanRuns: 3 }, [
      { name: 'patching', start: isoAt(T0 - MIN), end: isoAt(T0 + 60 * MIN) },
    ]);
    await maint.route([{ ...stat, detectedAt: T0 }], T0);
    const quiet = await maint.sweep(T0 + 20 * MIN);
    expect(quiet.resolved).toBe(1);
    expect(quiet.resolutions).toEqual([]);
    expect(maint.notifier.published).toHaveLength(0);

    const grouped = setup({ groupWaitSeconds: 60, kinds: [HELD_GPU_KINDS] });
    const gpuXid = (gpu: string) =>
      finding({ labels: { cluster: 'train-a', region: 'us-east-1', node: 'i-1', gpu } });
    await grouped.route([gpuXid('0')], T0);
    await grouped.route([gpuXid('1')], T0 + 10_000);
    await grouped.sweep(T0 + 2 * MIN); // group wait over: the node incident notifies
    const group = grouped.store.all().find((i) => i.group !== undefined);
    const done = await actOnIncident(grouped.deps, {
      id: group?.id ?? '',
      action: 'resolve',
      actor: 'ana',
      nowMs: T0 + 3 * MIN,
    });
    expect(done).toMatchObject({ status: 'done', resolutions: [{ incidentId: group?.id }] });
    const after = await grouped.sweep(T0 + 4 * MIN);
    expect(grouped.store.all().every((i) => i.status === 'resolved')).toBe(true);
    expect(after.resolutions).toEqual([]);
  });
});
