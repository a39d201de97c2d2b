import { describe, expect, it } from 'vitest';
import {
  type GoodputDrop,
  type KpiIssues,
  type KpiPoint,
  kpiPath,
  type ReportInput,
  renderReport,
} from '../../../lambdas/sim/report';
import type { RunSummary } from '../../../lambdas/sim/score';

/** The report's north-star section and its self-containment, on hand-made inputs. */
const START = Date.parse('2026-09-15T00:00:00Z');
const HOUR = 3_600_000;
const END = START + 4 * HOUR;

const summary: RunSummary = {
  scenario: 'unit <report>',
  faults: [
    {
      id: 'f1',
      kind: 'xid',
      at: '2026-09-15T01:00:00Z',
      detected: true,
      firstNotificationAt: '2026-09-15T01:05:00Z',
      latencySeconds: 300,
      severity: 'page',
      incidentId: 'i1',
      cause: 'hardware',
      expectedSeverity: 'page',
      expectedCause: 'hardware',
      status: 'active',
      incidents: ['i1'],
    },
    {
      id: 'f2',
      kind: 'job_stall',
      at: '2026-09-15T02:00:00Z',
      detected: false,
      firstNotificationAt: null,
      latencySeconds: null,
      severity: null,
      incidentId: null,
      cause: null,
      expectedSeverity: 'ticket',
      expectedCause: 'software',
      status: 'active',
      incidents: [],
    },
  ],
  falseNotifications: [],
  notificationsDuringMaintenance: [],
  duplicateNotifications: 0,
  apiCalls: { 'cloudwatch:GetMetricData': 3 },
  runtimeSeconds: 1,
  suppressedIncidents: [
    { incidentId: 'i2', kind: 'gpu.xid_fatal', stage: 'maintenance', reason: 'window "w" & co' },
  ],
  duplicates: [],
  notificationCount: 1,
};

function input(extra: Partial<ReportInput> = {}): ReportInput {
  return {
    summary,
    startMs: START,
    endMs: END,
    utilisation: [
      { tMs: START, utilPercent: 40 },
      { tMs: END, utilPercent: 60 },
    ],
    notifications: [],
    incidents: [],
    maintenance: [
      { index: 0, recurring: false, cluster: 'train-a', startMs: START + HOUR, endMs: START + 2 * HOUR },
    ],
    backend: 'memory',
    ...extra,
  };
}

const at = (hours: number) => START + hours * HOUR;
const kpis: KpiPoint[] = [
  { tMs: at(0), goodput: 0.5, allocationRate: 0.8, effectiveSmActivity: 0.6 },
  { tMs: at(1), goodput: 0.6, allocationRate: 0.8, effectiveSmActivity: 0.6 },
  { tMs: at(2), goodput: null, allocationRate: 0.8, effectiveSmActivity: null },
  { tMs: at(3), goodput: 0.4, allocationRate: 0.9, effectiveSmActivity: 0.5 },
  { tMs: at(4), goodput: 0.45, allocationRate: 0.9, effectiveSmActivity: 0.5 },
];
const drop: GoodputDrop = {
  atMs: at(3),
  scope: 'cluster=<train-a>',
  dropPercent: 8,
  cause: 'data-io & more',
  shares: { 'data-io': 0.55, hardware: 0.25, 'idle-capacity': 0.2 },
};

/** The `d` attribute of the KPI line `key` in the goodput chart, or undefined when not drawn. */
function pathOf(html: string, key: string): string | undefined {
  return new RegExp(`<path class="kpi-line" data-kpi="${key}" d="([^"]*)"`).exec(html)?.[1];
}

const section = (html: string) => html.slice(html.indexOf('<h2>North star'), html.indexOf('<h2>Faults'));

describe('renderReport: the north star', () => {
  it.each([
    ['absent', undefined],
    ['empty', []],
  ])('shows a one-line note instead of an empty chart when the KPI series is %s', (_, series) => {
    const html = renderReport(input(series === undefined ? {} : { kpis: series }));
    expect(html).toContain('<h2>North star: goodput</h2>');
    expect(html).toContain('id="goodput-none"');
    expect(html).not.toContain('<svg id="goodput"');
    expect(section(html)).toContain('No goodput drops in this run.');
  });

  it('draws goodput and both supporting lines, with a gap where a value is null', () => {
    const html = renderReport(input({ kpis }));
    expect(html).toContain('<svg id="goodput"');
    expect(html).not.toContain('id="goodput-none"');
    const goodput = pathOf(html, 'goodput') ?? '';
    const alloc = pathOf(html, 'allocationRate') ?? '';
    const sm = pathOf(html, 'effectiveSmActivity') ?? '';
    // Two segments around the null for goodput and SM activity; allocation is continuous.
    expect(goodput.match(/M/g)).toHaveLength(2);
    expect(goodput.match(/L/g)).toHaveLength(2);
    expect(sm.match(/M/g)).toHaveLength(2);
    expect(alloc.match(/M/g)).toHaveLength(1);
    expect(alloc.match(/L/g)).toHaveLength(4);
  });

  it('places points on the shared time axis and the 0..1 scale', () => {
    const html = renderReport(input({ kpis }));
    const points = (pathOf(html, 'goodput') ?? '').split(/[ML ]+/).filter(Boolean);
    const [x0, y0] = (points[0] ?? '').split(',').map(Number);
    const [x1, y1] = (points[1] ?? '').split(',').map(Number);
    const [xEnd] = (points.at(-1) ?? '').split(',').map(Number);
    // Same horizontal extent as the utilisation chart: its first and last points.
    const util = /<path d="M([\d.]+),[\d.]+ L([\d.]+),/.exec(html);
    expect(x0).toBe(Number(util?.[1]));
    expect(xEnd).toBe(Number(util?.[2]));
    // Higher goodput is higher on the page (smaller y); one hour is a quarter of the width.
    expect(y1).toBeLessThan(y0 ?? 0);
    expect(((x1 ?? 0) - (x0 ?? 0)) * 4).toBeCloseTo((xEnd ?? 0) - (x0 ?? 0), 0);
  });

  it('marks a missing supporting series as "no data" in the legend instead of drawing it', () => {
    const html = renderReport(input({ kpis: kpis.map((k) => ({ tMs: k.tMs, goodput: k.goodput })) }));
    expect(pathOf(html, 'goodput')).toBeDefined();
    expect(pathOf(html, 'allocationRate')).toBeUndefined();
    expect(html).toContain('allocation rate (no data)');
    expect(html).toContain('effective SM activity (no data)');
    expect(html).not.toContain('>goodput (no data)');
  });

  it('shades maintenance and marks each drop on the chart', () => {
    const html = section(renderReport(input({ kpis, goodputDrops: [drop] })));
    expect(html).toContain('fill="#f6e7b4"><title>maintenance train-a</title>');
    expect(html.match(/class="drop-mark"/g)).toHaveLength(1);
  });

  it('tabulates each drop with the shares per category, causes first in their usual order', () => {
    const html = section(renderReport(input({ kpis, goodputDrops: [drop] })));
    const head = /<table id="goodput-drops"><thead><tr>(.*?)<\/tr>/.exec(html)?.[1] ?? '';
    expect(head.match(/<th>(.*?)<\/th>/g)?.map((h) => h.slice(4, -5))).toEqual([
      '#',
      'at',
      'scope',
      'drop',
      'dominant cause',
      'hardware share',
      'data-io share',
      'idle-capacity share',
    ]);
    const row = /<tbody>\n<tr>(.*?)<\/tr>/.exec(html)?.[1] ?? '';
    expect(row.match(/<td>(.*?)<\/td>/g)?.map((c) => c.slice(4, -5))).toEqual([
      '1',
      '2026-09-15T03:00:00Z',
      'cluster=&lt;train-a&gt;',
      '-8.0 %',
      'data-io &amp; more',
      '25.0 %',
      '55.0 %',
      '20.0 %',
    ]);
  });

  it('escapes drop labels everywhere they appear, the chart tooltip included', () => {
    const evil: GoodputDrop = {
      ...drop,
      scope: '<script>alert(1)</script>',
      cause: '"x" & y',
      shares: { '<u onclick=x>': 1 },
    };
    const html = renderReport(input({ kpis, goodputDrops: [evil] }));
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<u onclick');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&quot;x&quot; &amp; y');
    expect(html).toContain('<th>&lt;u onclick=x&gt; share</th>');
  });

  it('counts values it could not draw as given, and says so under the chart', () => {
    const bad: KpiPoint[] = [
      ...kpis,
      { tMs: at(3.5), goodput: Number.NaN, allocationRate: 1.4, effectiveSmActivity: -0.1 },
      { tMs: at(9), goodput: 0.5 },
    ];
    const html = renderReport(input({ kpis: bad }));
    expect(html).toContain(
      '<p id="kpi-issues" class="warn">1 non-numeric KPI values left as gaps; 2 KPI values outside 0..1 drawn clamped; 1 KPI samples outside the run (before its start or after its end) not drawn.</p>',
    );
    expect(renderReport(input({ kpis }))).not.toContain('kpi-issues');
  });
});

describe('kpiPath', () => {
  const x = (t: number) => (t - START) / HOUR;
  const y = (f: number) => 100 - f * 100;
  const fresh = (): KpiIssues => ({ nonFinite: 0, outOfRange: 0, outsideRun: 0 });

  it('returns a lone sample between gaps as a dot, since a path of one point draws nothing', () => {
    const points: KpiPoint[] = [
      { tMs: at(0), goodput: null },
      { tMs: at(1), goodput: 0.25 },
      { tMs: at(2), goodput: null },
      { tMs: at(3), goodput: 0.5 },
      { tMs: at(4), goodput: 1 },
    ];
    const issues = fresh();
    expect(kpiPath(points, 'goodput', x, y, issues)).toEqual({
      d: 'M3.0,50.0 L4.0,0.0',
      dots: [{ cx: 1, cy: 75 }],
    });
    expect(issues).toEqual(fresh());
  });

  it('clamps out-of-range values and breaks the line at non-finite ones, counting both', () => {
    const points: KpiPoint[] = [
      { tMs: at(0), goodput: 1.5 },
      { tMs: at(1), goodput: -1 },
      { tMs: at(2), goodput: Number.POSITIVE_INFINITY },
      { tMs: at(3), goodput: 0.5 },
      { tMs: at(4), goodput: 0.5 },
    ];
    const issues = fresh();
    expect(kpiPath(points, 'goodput', x, y, issues).d).toBe('M0.0,0.0 L1.0,100.0 M3.0,50.0 L4.0,50.0');
    expect(issues).toEqual({ nonFinite: 1, outOfRange: 2, outsideRun: 0 });
  });
});

describe('renderReport: utilisation', () => {
  it('leaves out samples the collector took before the run started instead of stacking them at the edge', () => {
    const html = renderReport(
      input({
        utilisation: [
          { tMs: START - 3 * 60_000, utilPercent: 0 },
          { tMs: START, utilPercent: 40 },
          { tMs: END, utilPercent: 60 },
        ],
      }),
    );
    const d = /<path d="([^"]*)" fill="none" stroke="#2c7fb8"/.exec(html)?.[1] ?? '';
    expect(d.match(/[ML]/g)).toEqual(['M', 'L']);
  });
});

describe('renderReport: one self-contained file', () => {
  it('has no scripts and refers to nothing outside itself', () => {
    const html = renderReport(input({ kpis, goodputDrops: [drop] }));
    expect(html).not.toMatch(/<script|<link|<img|<iframe|src=|href=|url\(/i);
    // The only URL is the SVG namespace, which is an identifier, never fetched.
    const urls = html.match(/https?:\/\/[^"\s]+/g) ?? [];
    expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/2000/svg']));
    expect(html).toContain("content=\"default-src 'none'; style-src 'unsafe-inline'\"");
  });

  it('draws one fault-timeline row per fault, detected or not', () => {
    const html = renderReport(input());
    expect(html.match(/<g class="fault-row" data-fault="f\d">/g)).toEqual([
      '<g class="fault-row" data-fault="f1">',
      '<g class="fault-row" data-fault="f2">',
    ]);
    expect(html).toContain('not detected');
    expect(html).toContain('<h1>FleetWatch simulation: unit &lt;report&gt;</h1>');
  });
});
