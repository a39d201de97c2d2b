import { CAUSES } from '../contracts/finding';
import type { MaintenanceInterval } from './calendar';
import type { RunSummary, ScoredIncident, ScoredNotification } from './score';

/**
 * The HTML report of a simulated run (`fleetwatch simulate --report <dir>`): one self-contained
 * file, inline SVG charts and CSS, no scripts and no external assets, so it opens from a CI
 * artifact or an e-mail attachment. Pure: text in, text out.
 *
 * Sections: fleet utilisation over time (maintenance shaded, notifications marked), the north-star
 * goodput and its supporting KPIs on the same time axis (drops marked, then decomposed by cause),
 * one timeline row per injected fault from onset to first notification, the incidents, and what
 * was suppressed and why.
 */

/** One KPI sample of the run; values are fractions 0..1, null where the window had no data. */
export interface KpiPoint {
  readonly tMs: number;
  readonly goodput: number | null;
  readonly allocationRate?: number | null;
  readonly effectiveSmActivity?: number | null;
}

/** A goodput drop the decomposition explained: where the lost goodput went, by category. */
export interface GoodputDrop {
  readonly atMs: number;
  /** Where it dropped, e.g. `cluster=train-a`. */
  readonly scope: string;
  /** Relative drop, percent (8 = goodput fell by 8 %). */
  readonly dropPercent: number;
  /** The dominant category, as named on the incident. */
  readonly cause: string;
  /** Share of the lost goodput per category, fractions that sum to about 1. */
  readonly shares: Readonly<Record<string, number>>;
}

export interface ReportInput {
  readonly summary: RunSummary;
  readonly startMs: number;
  readonly endMs: number;
  readonly utilisation: readonly { readonly tMs: number; readonly utilPercent: number }[];
  readonly notifications: readonly (ScoredNotification & { readonly subject?: string })[];
  readonly incidents: readonly (ScoredIncident & { readonly title?: string })[];
  readonly maintenance: readonly MaintenanceInterval[];
  readonly backend: string;
  /** The KPI series, when the simulator computes it; absent or empty: a note replaces the chart. */
  readonly kpis?: readonly KpiPoint[];
  readonly goodputDrops?: readonly GoodputDrop[];
}

const W = 960;
const PAD_L = 150;
const PAD_R = 20;

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
const isoShort = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function xScale(startMs: number, endMs: number): (t: number) => number {
  const span = Math.max(1, endMs - startMs);
  return (t) => PAD_L + ((Math.min(endMs, Math.max(startMs, t)) - startMs) / span) * (W - PAD_L - PAD_R);
}

function timeAxis(startMs: number, endMs: number, y: number): string {
  const x = xScale(startMs, endMs);
  const hours = Math.max(1, (endMs - startMs) / 3_600_000);
  const stepMs = Math.ceil(hours / 12) * 3_600_000;
  const ticks: string[] = [];
  for (let t = startMs; t <= endMs; t += stepMs) {
    ticks.push(
      `<line x1="${x(t)}" y1="${y}" x2="${x(t)}" y2="${y + 4}" stroke="#555"/><text x="${x(t)}" y="${y + 16}" font-size="10" text-anchor="middle">${hhmm(t)}</text>`,
    );
  }
  return `<line x1="${PAD_L}" y1="${y}" x2="${W - PAD_R}" y2="${y}" stroke="#555"/>${ticks.join('')}`;
}

/** Maintenance intervals as shaded bands between `top` and `bottom` (every time chart has them). */
function maintenanceShades(input: ReportInput, top: number, bottom: number): string[] {
  const x = xScale(input.startMs, input.endMs);
  return input.maintenance
    .filter((m) => m.endMs > input.startMs && m.startMs < input.endMs)
    .map(
      (m) =>
        `<rect x="${x(m.startMs)}" y="${top}" width="${Math.max(1, x(m.endMs) - x(m.startMs))}" height="${bottom - top}" fill="#f6e7b4"><title>maintenance ${escapeHtml(m.cluster)}${m.hostname ? ` ${escapeHtml(m.hostname)}` : ''}</title></rect>`,
    );
}

function utilisationChart(input: ReportInput): string {
  const H = 220;
  const top = 10;
  const bottom = H - 30;
  const x = xScale(input.startMs, input.endMs);
  const y = (u: number) => bottom - (u / 100) * (bottom - top);
  const shades = maintenanceShades(input, top, bottom);
  // The first collection looks back a few minutes before the run starts: those samples are real
  // but outside the axis, and clamping them would stack them into a vertical line at the edge.
  const path = input.utilisation
    .filter((p) => p.tMs >= input.startMs && p.tMs <= input.endMs)
    .map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.tMs).toFixed(1)},${y(p.utilPercent).toFixed(1)}`)
    .join(' ');
  const marks = input.notifications
    .filter((n) => n.event === 'open')
    .map(
      (n) =>
        `<line x1="${x(n.atMs)}" y1="${top}" x2="${x(n.atMs)}" y2="${bottom}" stroke="${n.severity === 'page' ? '#c0392b' : '#e67e22'}" stroke-dasharray="3,3"><title>${escapeHtml(`${isoShort(n.atMs)} ${n.severity} ${n.kind}`)}</title></line>`,
    );
  const grid = [0, 25, 50, 75, 100].map(
    (u) =>
      `<line x1="${PAD_L}" y1="${y(u)}" x2="${W - PAD_R}" y2="${y(u)}" stroke="#eee"/><text x="${PAD_L - 6}" y="${y(u) + 3}" font-size="10" text-anchor="end">${u}%</text>`,
  );
  return `<svg id="utilisation" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="fleet GPU utilisation over time">
${grid.join('')}${shades.join('')}<path d="${path}" fill="none" stroke="#2c7fb8" stroke-width="1.5"/>${marks.join('')}
${timeAxis(input.startMs, input.endMs, bottom)}
<text x="10" y="${(top + bottom) / 2}" font-size="11">mean gpu_util</text>
</svg>`;
}

type KpiKey = 'goodput' | 'allocationRate' | 'effectiveSmActivity';

/** The lines of the north-star chart: goodput bold, the supporting KPIs thinner and dashed. */
const KPI_LINES: readonly { key: KpiKey; label: string; color: string; width: number; dash: string }[] = [
  { key: 'goodput', label: 'goodput', color: '#1a9850', width: 2.5, dash: '' },
  { key: 'allocationRate', label: 'allocation rate', color: '#2c7fb8', width: 1.5, dash: '6,3' },
  { key: 'effectiveSmActivity', label: 'effective SM activity', color: '#8856a7', width: 1.5, dash: '2,2' },
];

/** What the KPI chart could not draw as given: counted and shown under the chart, never hidden. */
export interface KpiIssues {
  /** Values that were not finite numbers (NaN, Infinity): left as gaps. */
  nonFinite: number;
  /** Values outside 0..1: drawn clamped to the nearest bound. */
  outOfRange: number;
  /** Samples outside the run's time range: not drawn. */
  outsideRun: number;
}

/**
 * One KPI as SVG path data: a null (no data) or a non-finite value ends the current segment, so
 * the line shows a gap instead of bridging over missing windows. A sample with no neighbour on
 * either side would be an invisible `M` alone, so it is returned as a dot instead.
 */
export function kpiPath(
  points: readonly KpiPoint[],
  key: KpiKey,
  x: (tMs: number) => number,
  y: (fraction: number) => number,
  issues: KpiIssues,
): { d: string; dots: { cx: number; cy: number }[] } {
  const segments: { cx: number; cy: number }[][] = [];
  let current: { cx: number; cy: number }[] = [];
  for (const p of points) {
    const v = p[key];
    if (v === null || v === undefined || !Number.isFinite(v)) {
      if (v !== null && v !== undefined) issues.nonFinite += 1;
      if (current.length > 0) segments.push(current);
      current = [];
      continue;
    }
    if (v < 0 || v > 1) issues.outOfRange += 1;
    current.push({ cx: x(p.tMs), cy: y(Math.min(1, Math.max(0, v))) });
  }
  if (current.length > 0) segments.push(current);
  const d = segments
    .filter((seg) => seg.length > 1)
    .map((seg) => seg.map((c, i) => `${i === 0 ? 'M' : 'L'}${c.cx.toFixed(1)},${c.cy.toFixed(1)}`).join(' '))
    .join(' ');
  const dots = segments.filter((seg) => seg.length === 1).flat();
  return { d, dots };
}

const pctText = (fraction: number) => `${(fraction * 100).toFixed(1)} %`;

function goodputChart(input: ReportInput, kpis: readonly KpiPoint[], drops: readonly GoodputDrop[]): string {
  const H = 240;
  const top = 24;
  const bottom = H - 30;
  const x = xScale(input.startMs, input.endMs);
  const y = (f: number) => bottom - f * (bottom - top);
  const issues: KpiIssues = { nonFinite: 0, outOfRange: 0, outsideRun: 0 };
  const inRun = kpis.filter((p) => p.tMs >= input.startMs && p.tMs <= input.endMs);
  issues.outsideRun = kpis.length - inRun.length;
  const sorted = [...inRun].sort((a, b) => a.tMs - b.tMs);
  const grid = [0, 0.25, 0.5, 0.75, 1].map(
    (f) =>
      `<line x1="${PAD_L}" y1="${y(f)}" x2="${W - PAD_R}" y2="${y(f)}" stroke="#eee"/><text x="${PAD_L - 6}" y="${y(f) + 3}" font-size="10" text-anchor="end">${f * 100}%</text>`,
  );
  const legend: string[] = [];
  const lines = KPI_LINES.map((line, i) => {
    const { d, dots } = kpiPath(sorted, line.key, x, y, issues);
    const drawn = d !== '' || dots.length > 0;
    const lx = PAD_L + i * 200;
    legend.push(
      `<line x1="${lx}" y1="10" x2="${lx + 24}" y2="10" stroke="${line.color}" stroke-width="${line.width}"${line.dash ? ` stroke-dasharray="${line.dash}"` : ''}/><text x="${lx + 30}" y="14" font-size="11">${escapeHtml(line.label)}${drawn ? '' : ' (no data)'}</text>`,
    );
    if (!drawn) return '';
    const path =
      d === ''
        ? ''
        : `<path class="kpi-line" data-kpi="${line.key}" d="${d}" fill="none" stroke="${line.color}" stroke-width="${line.width}"${line.dash ? ` stroke-dasharray="${line.dash}"` : ''}><title>${escapeHtml(line.label)}</title></path>`;
    const points = dots.map(
      (c) =>
        `<circle class="kpi-dot" data-kpi="${line.key}" cx="${c.cx.toFixed(1)}" cy="${c.cy.toFixed(1)}" r="2.5" fill="${line.color}"/>`,
    );
    return path + points.join('');
  });
  const marks = drops.map(
    (drop, i) =>
      `<g class="drop-mark"><line x1="${x(drop.atMs)}" y1="${top}" x2="${x(drop.atMs)}" y2="${bottom}" stroke="#c0392b" stroke-width="1.5"/><path d="M${x(drop.atMs) - 5},${top - 8} L${x(drop.atMs) + 5},${top - 8} L${x(drop.atMs)},${top} Z" fill="#c0392b"/><text x="${x(drop.atMs) + 7}" y="${top + 10}" font-size="10" fill="#c0392b">${i + 1}</text><title>${escapeHtml(`drop ${i + 1}: ${isoShort(drop.atMs)} ${drop.scope} -${drop.dropPercent.toFixed(1)} % (${drop.cause})`)}</title></g>`,
  );
  const notes: string[] = [];
  if (issues.nonFinite > 0) notes.push(`${issues.nonFinite} non-numeric KPI values left as gaps`);
  if (issues.outOfRange > 0) notes.push(`${issues.outOfRange} KPI values outside 0..1 drawn clamped`);
  if (issues.outsideRun > 0)
    notes.push(
      `${issues.outsideRun} KPI samples outside the run (before its start or after its end) not drawn`,
    );
  const note =
    notes.length === 0 ? '' : `\n<p id="kpi-issues" class="warn">${escapeHtml(notes.join('; '))}.</p>`;
  return `<svg id="goodput" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="goodput and supporting KPIs over time">
${grid.join('')}${maintenanceShades(input, top, bottom).join('')}${lines.join('')}${marks.join('')}
${legend.join('')}
${timeAxis(input.startMs, input.endMs, bottom)}
<text x="10" y="${y(0.625)}" font-size="11"><tspan x="10">share of</tspan><tspan x="10" dy="13">GPU-hours</tspan></text>
</svg>${note}`;
}

/** Columns of the decomposition: the finding causes first in their usual order, then the rest. */
function shareColumns(drops: readonly GoodputDrop[]): string[] {
  const keys = new Set(drops.flatMap((d) => Object.keys(d.shares)));
  const known = CAUSES.filter((c) => keys.has(c));
  const others = [...keys].filter((k) => !(CAUSES as readonly string[]).includes(k)).sort();
  return [...known, ...others];
}

function goodputSection(input: ReportInput): string {
  const kpis = input.kpis ?? [];
  const drops = [...(input.goodputDrops ?? [])].sort((a, b) => a.atMs - b.atMs);
  const intro =
    '<p>Goodput: the share of available GPU-hours that did useful, kept training work, weighted by SM activity (docs/metrics.md). Supporting lines: allocation rate and effective SM activity. Shaded: maintenance; red markers: goodput drops, numbered as in the table below.</p>';
  const chart =
    kpis.length === 0
      ? '<p id="goodput-none" class="empty">No KPI series in this run: the goodput chart needs the simulator to compute KPIs.</p>'
      : goodputChart(input, kpis, drops);
  const columns = shareColumns(drops);
  const rows = drops.map((d, i) => [
    String(i + 1),
    isoShort(d.atMs),
    d.scope,
    `-${d.dropPercent.toFixed(1)} %`,
    d.cause,
    ...columns.map((c) => {
      const v = d.shares[c];
      if (v === undefined) return '';
      return Number.isFinite(v) ? pctText(v) : 'invalid';
    }),
  ]);
  const table =
    rows.length === 0
      ? '<p id="goodput-drops" class="empty">No goodput drops in this run.</p>'
      : tableOf(
          ['#', 'at', 'scope', 'drop', 'dominant cause', ...columns.map((c) => `${c} share`)],
          rows,
          'goodput-drops',
        );
  return `<h2>North star: goodput</h2>
${intro}
${chart}
<h3>Goodput drops and where the lost goodput went</h3>
${table}`;
}

function faultTimeline(input: ReportInput): string {
  const rowH = 22;
  const faults = input.summary.faults;
  const H = faults.length * rowH + 40;
  const x = xScale(input.startMs, input.endMs);
  const rows = faults.map((f, i) => {
    const yy = 10 + i * rowH;
    const onset = Date.parse(f.at);
    const label = `<text x="4" y="${yy + 13}" font-size="11">${escapeHtml(f.id)}</text>`;
    const dot = `<circle cx="${x(onset)}" cy="${yy + 9}" r="4" fill="#555"><title>onset ${escapeHtml(f.at)} (${escapeHtml(f.kind)})</title></circle>`;
    if (f.firstNotificationAt === null) {
      return `${label}${dot}<text x="${x(onset) + 8}" y="${yy + 13}" font-size="11" fill="#c0392b">not detected</text>`;
    }
    const at = Date.parse(f.firstNotificationAt);
    const color = f.severity === 'page' ? '#c0392b' : f.severity === 'ticket' ? '#e67e22' : '#7f8c8d';
    return `${label}${dot}<rect x="${x(onset)}" y="${yy + 5}" width="${Math.max(2, x(at) - x(onset))}" height="8" fill="${color}" opacity="0.7"><title>${escapeHtml(`${f.id}: ${f.latencySeconds} s to ${f.severity}`)}</title></rect><text x="${x(at) + 6}" y="${yy + 13}" font-size="10">${f.latencySeconds} s, ${escapeHtml(f.severity ?? '')}</text>`;
  });
  return `<svg id="fault-timeline" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="time from fault onset to first notification">
${rows.map((r, i) => `<g class="fault-row" data-fault="${escapeHtml(faults[i]?.id ?? '')}">${r}</g>`).join('\n')}
${timeAxis(input.startMs, input.endMs, H - 28)}
</svg>`;
}

function tableOf(headers: readonly string[], rows: readonly (readonly string[])[], id: string): string {
  if (rows.length === 0) return `<p id="${id}" class="empty">none</p>`;
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table id="${id}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export function renderReport(input: ReportInput): string {
  const s = input.summary;
  const detected = s.faults.filter((f) => f.detected).length;
  const faultRows = s.faults.map((f) => [
    f.id,
    f.kind,
    f.at,
    f.detected ? 'yes' : 'no',
    f.latencySeconds === null ? '' : String(f.latencySeconds),
    f.severity ?? '',
    `${f.expectedSeverity} / ${f.expectedCause}`,
    f.cause ?? '',
    f.incidentId ?? '',
  ]);
  const incidentRows = [...input.incidents]
    .sort((a, b) => a.firstSeenMs - b.firstSeenMs)
    .map((i) => [
      i.id,
      isoShort(i.firstSeenMs),
      i.kind,
      i.severity,
      i.cause,
      i.status,
      Object.entries(i.labels)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
      i.title ?? '',
    ]);
  const suppressedRows = s.suppressedIncidents.map((x) => [x.incidentId, x.kind, x.stage, x.reason]);
  const falseRows = s.falseNotifications.map((n) => [n.at, n.kind, n.severity]);
  const maintRows = s.notificationsDuringMaintenance.map((n) => [n.at, n.incidentId]);
  const apiRows = Object.entries(s.apiCalls).map(([k, v]) => [k, String(v)]);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>FleetWatch simulation: ${escapeHtml(s.scenario)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}
table{border-collapse:collapse;margin:8px 0 20px;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left}
th{background:#f3f3f3}.kpi{display:inline-block;margin-right:24px;font-size:14px}
.kpi b{font-size:20px;display:block}.empty{color:#777}.warn{color:#a35a00}
</style></head>
<body>
<h1>FleetWatch simulation: ${escapeHtml(s.scenario)}</h1>
<p>${escapeHtml(isoShort(input.startMs))} to ${escapeHtml(isoShort(input.endMs))}, backend ${escapeHtml(input.backend)}, ran in ${s.runtimeSeconds} s.</p>
<div id="kpis">
<span class="kpi"><b>${detected}/${s.faults.length}</b>faults detected</span>
<span class="kpi"><b>${s.falseNotifications.length}</b>false notifications</span>
<span class="kpi"><b>${s.notificationsDuringMaintenance.length}</b>during maintenance</span>
<span class="kpi"><b>${s.duplicateNotifications}</b>duplicates</span>
<span class="kpi"><b>${s.notificationCount}</b>notifications</span>
</div>
<h2>Fleet utilisation</h2>
<p>Mean GPU utilisation of the collected samples per minute; shaded: maintenance; dashed: notifications (red page, orange ticket).</p>
${utilisationChart(input)}
${goodputSection(input)}
<h2>Faults: onset to first notification</h2>
${faultTimeline(input)}
${tableOf(['fault', 'kind', 'onset', 'detected', 'latency s', 'severity', 'expected', 'cause', 'incident'], faultRows, 'faults')}
<h2>Incidents</h2>
${tableOf(['incident', 'first seen', 'kind', 'severity', 'cause', 'status', 'labels', 'title'], incidentRows, 'incidents')}
<h2>Suppressed, and why</h2>
${tableOf(['incident', 'kind', 'stage', 'reason'], suppressedRows, 'suppressed')}
<h2>False notifications</h2>
${tableOf(['at', 'kind', 'severity'], falseRows, 'false-notifications')}
<h2>Notifications during maintenance</h2>
${tableOf(['at', 'incident'], maintRows, 'during-maintenance')}
<h2>API calls</h2>
${tableOf(['call', 'count'], apiRows, 'api-calls')}
</body></html>
`;
}
