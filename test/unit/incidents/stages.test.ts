import { describe, expect, it } from 'vitest';
import type { CalendarInput } from '../../../lambdas/contracts/calendar';
import { evaluate } from '../../../lambdas/core/incidents/pipeline';
import { inhibitionStage } from '../../../lambdas/core/incidents/stages/inhibition';
import { maintenanceStage } from '../../../lambdas/core/incidents/stages/maintenance';
import { postChangeStage } from '../../../lambdas/core/incidents/stages/post-change';
import { seasonalStage } from '../../../lambdas/core/incidents/stages/seasonal';
import { silenceStage } from '../../../lambdas/core/incidents/stages/silences';
import type { ActiveIncident } from '../../../lambdas/core/incidents/stages/stage';
import { alert, ctx, eq, isoAt, MIN, T0 } from './fixtures';

const silence = (over: Record<string, unknown> = {}) => ({
  id: 's1',
  matchers: [eq('node', 'i-1')],
  start: isoAt(T0 - 10 * MIN),
  end: isoAt(T0 + 50 * MIN),
  author: 'ana',
  reason: 'RMA in progress',
  createdAt: isoAt(T0 - 10 * MIN),
  ...over,
});

describe('silence stage', () => {
  const cases: { name: string; cal: CalendarInput; muted: boolean; until?: number }[] = [
    {
      name: 'active silence matching node',
      cal: { silences: [silence()] },
      muted: true,
      until: T0 + 50 * MIN,
    },
    { name: 'other node', cal: { silences: [silence({ matchers: [eq('node', 'i-2')] })] }, muted: false },
    { name: 'expired', cal: { silences: [silence({ end: isoAt(T0) })] }, muted: false },
    { name: 'future', cal: { silences: [silence({ start: isoAt(T0 + MIN) })] }, muted: false },
    {
      name: 'regex on kind and != on team',
      cal: {
        silences: [
          silence({
            matchers: [
              { label: 'kind', op: '=~', value: 'gpu\\.xid\\..*' },
              { label: 'team', op: '!=', value: 'infra' },
            ],
          }),
        ],
      },
      muted: true,
    },
    {
      name: 'regex is anchored',
      cal: { silences: [silence({ matchers: [{ label: 'kind', op: '=~', value: 'xid' }] })] },
      muted: false,
    },
    {
      name: '!~ excludes',
      cal: { silences: [silence({ matchers: [{ label: 'severity', op: '!~', value: 'page|ticket' }] })] },
      muted: false,
    },
    {
      name: 'two silences: reports the later end',
      cal: { silences: [silence(), silence({ id: 's2', end: isoAt(T0 + 90 * MIN) })] },
      muted: true,
      until: T0 + 90 * MIN,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const v = silenceStage(alert(), ctx(c.cal));
      expect(v.muted).toBe(c.muted);
      if (v.muted) {
        expect(v.stage).toBe('silence');
        expect(v.reason).toContain('by ana');
        if (c.until !== undefined) expect(v.untilMs).toBe(c.until);
      }
    });
  }
});

describe('maintenance stage', () => {
  const cases: { name: string; cal: CalendarInput; muted: boolean; until?: number }[] = [
    {
      name: 'one-off window covering now, unscoped',
      cal: { maintenance: [{ start: isoAt(T0 - MIN), end: isoAt(T0 + 30 * MIN), name: 'rack 4' }] },
      muted: true,
      until: T0 + 30 * MIN,
    },
    {
      name: 'scoped to another cluster',
      cal: {
        maintenance: [{ start: isoAt(T0 - MIN), end: isoAt(T0 + MIN), scope: [eq('cluster', 'train-b')] }],
      },
      muted: false,
    },
    {
      // T0 is Tuesday 2026-03-10 12:00 UTC = 08:00 EDT.
      name: 'recurring weekday 08:00 New York window',
      cal: { maintenance: [{ cron: '0 8 * * 1-5', duration: 'PT1H', tz: 'America/New_York' }] },
      muted: true,
      until: T0 + 60 * MIN,
    },
    {
      name: 'recurring window not now',
      cal: {
        maintenance: [{ rrule: 'FREQ=WEEKLY;BYDAY=SA;BYHOUR=2;BYMINUTE=0', duration: 'PT2H', tz: 'UTC' }],
      },
      muted: false,
    },
    {
      name: 'ended exactly now (half-open)',
      cal: { maintenance: [{ start: isoAt(T0 - MIN), end: isoAt(T0) }] },
      muted: false,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const v = maintenanceStage(alert(), ctx(c.cal));
      expect(v.muted).toBe(c.muted);
      if (v.muted && c.until !== undefined) expect(v.untilMs).toBe(c.until);
    });
  }
});

describe('seasonal stage (relaxes, never mutes)', () => {
  const window = (relax: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    seasonal: [
      { name: 'weekday retrains', cron: '0 12 * * 2', duration: 'PT2H', tz: 'UTC', relax, ...extra },
    ],
  });
  const cases = [
    {
      name: 'caps severity of named kinds',
      cal: window({ kinds: ['gpu.**'], severityCap: 'ticket' }),
      sev: 'ticket',
      factor: undefined,
    },
    {
      name: 'requires more runs',
      cal: window({ kinds: ['gpu.xid.*'], minRunsFactor: 2 }),
      sev: undefined,
      factor: 2,
    },
    {
      name: 'other kinds untouched',
      cal: window({ kinds: ['stat.*'], severityCap: 'info' }),
      sev: undefined,
      factor: undefined,
    },
    {
      // 09:00-11:00 ended an hour before now (12:00): relaxed while its backlog drains (2 h).
      name: 'after the window, within its drain',
      cal: {
        seasonal: [
          {
            cron: '0 9 * * 2',
            duration: 'PT2H',
            relax: { kinds: ['gpu.**'], severityCap: 'info', drainMinutes: 120 },
          },
        ],
      },
      sev: 'info',
      factor: undefined,
    },
    {
      name: 'after the window and its drain',
      cal: {
        seasonal: [
          {
            cron: '0 9 * * 2',
            duration: 'PT2H',
            relax: { kinds: ['gpu.**'], severityCap: 'info', drainMinutes: 60 },
          },
        ],
      },
      sev: undefined,
      factor: undefined,
    },
    {
      name: 'outside the window',
      cal: {
        seasonal: [
          { cron: '0 2 * * 2', duration: 'PT1H', relax: { kinds: ['gpu.**'], severityCap: 'info' } },
        ],
      },
      sev: undefined,
      factor: undefined,
    },
  ] as const;
  for (const c of cases) {
    it(c.name, () => {
      const v = seasonalStage(alert(), ctx(c.cal as CalendarInput));
      expect(v.muted).toBe(false);
      if (v.muted) return;
      expect(v.relax?.severity).toBe(c.sev);
      expect(v.relax?.minRunsFactor).toBe(c.factor);
    });
  }
  it('a cap never raises severity', () => {
    const v = seasonalStage(
      alert({ severity: 'info' }),
      ctx(window({ kinds: ['gpu.**'], severityCap: 'ticket' }) as CalendarInput),
    );
    expect(v).toEqual({ muted: false });
  });
});

describe('inhibition stage (default rules)', () => {
  const nodeIncident: ActiveIncident = {
    ...alert({ kind: 'node.unreachable', labels: { cluster: 'train-a', region: 'us-east-1', node: 'i-1' } }),
    status: 'open',
  };
  const clusterIncident: ActiveIncident = {
    ...alert({ kind: 'fleet.util_drop', labels: { cluster: 'train-a', region: 'us-east-1' } }),
    status: 'open',
  };
  const gpu = alert();
  const job = alert({ kind: 'job.hung', labels: { cluster: 'train-a', node: 'i-1', job: 'j1' } });
  const jobNoNode = alert({ kind: 'job.hung', labels: { cluster: 'train-a', job: 'j1' } });
  const cases: { name: string; target: typeof gpu; active: ActiveIncident[]; muted: boolean }[] = [
    { name: 'node incident mutes its GPU alert', target: gpu, active: [nodeIncident], muted: true },
    { name: 'node incident mutes a job on that node', target: job, active: [nodeIncident], muted: true },
    {
      name: 'equal labels must be present: job without node is not muted by node',
      target: jobNoNode,
      active: [nodeIncident],
      muted: false,
    },
    {
      name: 'other node: not muted',
      target: alert({ labels: { cluster: 'train-a', node: 'i-2', gpu: '0' } }),
      active: [nodeIncident],
      muted: false,
    },
    {
      name: 'pending source does not inhibit',
      target: gpu,
      active: [{ ...nodeIncident, status: 'pending' }],
      muted: false,
    },
    {
      name: 'ticket-level source does not inhibit',
      target: gpu,
      active: [{ ...nodeIncident, severity: 'ticket' }],
      muted: false,
    },
    { name: 'cluster incident mutes GPU alerts', target: gpu, active: [clusterIncident], muted: true },
    {
      name: 'cluster incident mutes jobs without node',
      target: jobNoNode,
      active: [clusterIncident],
      muted: true,
    },
    { name: 'no sources', target: gpu, active: [], muted: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const v = inhibitionStage(c.target, ctx({}, T0, c.active));
      expect(v.muted).toBe(c.muted);
      if (v.muted) expect(v.reason).toMatch(/inhibited by open incident [0-9a-f]{16}/);
    });
  }
  it('a node incident does not inhibit itself', () => {
    expect(inhibitionStage(nodeIncident, ctx({}, T0, [nodeIncident])).muted).toBe(false);
  });
});

describe('post-change grace stage', () => {
  const cal = (graceMinutes: number, changeKinds?: string[]): CalendarInput => ({
    postChange: {
      changes: [{ at: isoAt(T0 - 10 * MIN), kind: 'driver-upgrade', scope: [eq('cluster', 'train-a')] }],
      rules: [{ kinds: ['gpu.xid.*'], graceMinutes, ...(changeKinds ? { changeKinds } : {}) }],
    },
  });
  const cases = [
    { name: 'inside the grace', cal: cal(30), muted: true, until: T0 + 20 * MIN },
    { name: 'grace over', cal: cal(10), muted: false },
    { name: 'rule for other change kinds', cal: cal(30, ['deploy']), muted: false },
    {
      name: 'rule for this change kind',
      cal: cal(30, ['driver-upgrade']),
      muted: true,
      until: T0 + 20 * MIN,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const v = postChangeStage(alert(), ctx(c.cal));
      expect(v.muted).toBe(c.muted);
      if (v.muted) expect(v.untilMs).toBe(c.until);
    });
  }
  it('kinds not named are not delayed', () => {
    expect(postChangeStage(alert({ kind: 'job.hung' }), ctx(cal(30))).muted).toBe(false);
  });
});

describe('pipeline order', () => {
  it('silence wins over maintenance (first stage decides)', () => {
    const v = evaluate(
      alert(),
      ctx({ silences: [silence()], maintenance: [{ start: isoAt(T0 - MIN), end: isoAt(T0 + MIN) }] }),
    );
    expect(v.muted && v.stage).toBe('silence');
  });
  it('seasonal relaxation is carried into later stages and the result', () => {
    const v = evaluate(
      alert(),
      ctx({
        seasonal: [
          { cron: '0 12 * * 2', duration: 'PT1H', relax: { kinds: ['gpu.**'], severityCap: 'ticket' } },
        ],
      }),
    );
    expect(v).toMatchObject({ muted: false, severity: 'ticket', relax: { severity: 'ticket' } });
  });
  it('nothing applies: audible with its own severity', () => {
    expect(evaluate(alert(), ctx())).toEqual({ muted: false, severity: 'page' });
  });
});
