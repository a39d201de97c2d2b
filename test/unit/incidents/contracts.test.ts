import { describe, expect, it } from 'vitest';
import {
  calendarSchema,
  maintenanceWindowSchema,
  parseCalendarPart,
  silenceSchema,
} from '../../../lambdas/contracts/calendar';
import { parseConfig } from '../../../lambdas/contracts/config';
import { incidentsConfigSchema } from '../../../lambdas/contracts/incidents-config';

const okSilence = {
  id: 's1',
  matchers: [{ label: 'node', op: '=', value: 'i-1' }],
  start: '2026-03-10T12:00:00Z',
  end: '2026-03-10T14:00:00Z',
  author: 'ana',
  reason: 'RMA',
  createdAt: '2026-03-10T11:59:00Z',
};

describe('calendar contracts: errors name the field and the problem', () => {
  const cases: {
    name: string;
    schema: Parameters<typeof parseCalendarPart>[0];
    what: string;
    input: unknown;
    problem: string;
  }[] = [
    {
      name: 'unknown matcher label',
      schema: silenceSchema,
      what: 'silence',
      input: { ...okSilence, matchers: [{ label: 'nod', op: '=', value: 'x' }] },
      problem:
        'silence.matchers[0].label: unknown label "nod"; allowed: cluster, region, node, gpu, job, team, endpoint, feature, kind, severity, cause',
    },
    {
      name: 'silence end before start',
      schema: silenceSchema,
      what: 'silence',
      input: { ...okSilence, end: '2026-03-10T11:00:00Z' },
      problem: 'silence.end: before or at start (2026-03-10T12:00:00Z)',
    },
    {
      name: 'bad regular expression',
      schema: silenceSchema,
      what: 'silence',
      input: { ...okSilence, matchers: [{ label: 'kind', op: '=~', value: 'gpu.(' }] },
      problem: 'silence.matchers[0].value: not a valid regular expression',
    },
    {
      name: 'maintenance end before start',
      schema: calendarSchema,
      what: '',
      input: {
        maintenance: [{}, {}, { start: '2026-03-10T12:00:00Z', end: '2026-03-10T11:00:00Z' }].map((w, i) =>
          i < 2 ? { start: '2026-03-10T12:00:00Z', duration: 'PT1H' } : w,
        ),
      },
      problem: 'maintenance[2].end: must be after start (2026-03-10T12:00:00Z)',
    },
    {
      name: 'recurring without duration',
      schema: maintenanceWindowSchema,
      what: 'maintenance[0]',
      input: { cron: '0 2 * * 6', tz: 'Europe/Berlin' },
      problem: 'maintenance[0].duration: required for a recurring window',
    },
    {
      name: 'both cron and rrule',
      schema: maintenanceWindowSchema,
      what: 'maintenance[0]',
      input: { cron: '0 2 * * 6', rrule: 'FREQ=DAILY', duration: 'PT1H' },
      problem: 'maintenance[0].cron: give start (one-off window) or exactly one of cron and rrule',
    },
    {
      name: 'bad time zone',
      schema: maintenanceWindowSchema,
      what: 'maintenance[0]',
      input: { cron: '0 2 * * 6', duration: 'PT1H', tz: 'Mars/Olympus' },
      problem: 'maintenance[0].tz: an IANA time zone',
    },
    {
      name: 'bad cron',
      schema: maintenanceWindowSchema,
      what: 'maintenance[0]',
      input: { cron: '0 25 * * *', duration: 'PT1H' },
      problem: 'maintenance[0].cron: invalid cron pattern',
    },
    {
      name: 'bad rrule',
      schema: maintenanceWindowSchema,
      what: 'maintenance[0]',
      input: { rrule: 'FREQ=SOMETIMES', duration: 'PT1H' },
      problem: 'maintenance[0].rrule: invalid RRULE',
    },
    {
      name: 'bad duration',
      schema: maintenanceWindowSchema,
      what: 'maintenance[0]',
      input: { start: '2026-03-10T12:00:00Z', duration: '2 hours' },
      problem: 'maintenance[0].duration: a positive ISO-8601 duration',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = parseCalendarPart(c.schema, c.input, c.what);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.problems.some((p) => p.startsWith(c.problem))).toBe(true);
    });
  }

  it('a valid silence and both recurring shapes parse', () => {
    expect(parseCalendarPart(silenceSchema, okSilence, 'silence').ok).toBe(true);
    expect(
      maintenanceWindowSchema.parse({ cron: '0 2 * * 6', duration: 'PT2H', tz: 'Europe/Berlin' }).scope,
    ).toEqual([]);
    expect(
      maintenanceWindowSchema.safeParse({ rrule: 'FREQ=WEEKLY;BYDAY=SA;BYHOUR=2', duration: 'PT2H' }).success,
    ).toBe(true);
  });
});

describe('config.incidents and config.maintenance', () => {
  const base = {
    homeRegion: 'us-east-1',
    fleets: [
      {
        cluster: 'train-a',
        region: 'us-east-1',
        instanceType: 'p5.48xlarge',
        nodes: 2,
        source: { profile: 'dcgm-exporter' },
      },
    ],
  };
  it('defaults apply and existing one-off maintenance stays valid next to recurring entries', () => {
    const cfg = parseConfig({
      ...base,
      maintenance: [
        { start: '2026-11-28T02:00:00Z', end: '2026-11-28T06:00:00Z' },
        {
          cron: '0 2 * * 6',
          duration: 'PT2H',
          tz: 'America/New_York',
          scope: [{ label: 'cluster', op: '=', value: 'train-a' }],
        },
      ],
    });
    expect(cfg.maintenance).toHaveLength(2);
    expect(cfg.incidents.renotifyMinutes).toBe(60);
    expect(cfg.incidents.inhibition.map((r) => r.name)).toContain('node-mutes-gpus');
    expect(cfg.incidents.remediation.maxNodesQuarantinedPerHour).toBe(2);
  });
  it('config errors are reported by field', () => {
    expect(() => parseConfig({ ...base, incidents: { openAfter: 5, ofRuns: 3 } })).toThrow(
      /incidents\.openAfter/,
    );
    expect(() =>
      parseConfig({
        ...base,
        incidents: {
          remediation: { rules: [{ kinds: ['job.hung'], workflow: 'reboot', policy: 'notify' }] },
        },
      }),
    ).toThrow(/incidents\.remediation\.rules\[0\]\.workflow/);
  });
  it('incidents config defaults: hardware resolves explicitly, others after clean runs', () => {
    const c = incidentsConfigSchema.parse({});
    expect(c.kinds.find((k) => k.match.includes('gpu.**'))?.resolve).toBe('explicit');
  });
});
