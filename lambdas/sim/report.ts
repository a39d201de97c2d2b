import type { MaintenanceInterval } from './calendar';
import type { RunSummary, ScoredIncident, ScoredNotification } from './score';

/**
 * The HTML report of a simulated run (`fleetwatch simulate --report <dir>`): one self-contained
 * file, inline SVG charts and CSS, no scripts and no external assets, so it opens from a CI
 * artifact or an e-mail attachment. Pure: text in, text out.
 *
 * Sections: fleet utilisation over time (maintenance shaded, notifications marked), one timeline
 * row per injected fault from onset to first notification, the incidents, and what was suppressed
 * and why.
 */

export interface ReportInput {
  readonly summary: RunSummary;
  readonly startMs: number;
  readonly endMs: number;
  readonly utilisation: readonly { readonly tMs: number; readonly utilPercent: number }[];
  readonly notifications: readonly (ScoredNotification & { readonly subject?: string })[];
  readonly incidents: readonly (ScoredIncident & { readonly title?: string })[];
  readonly maintenance: readonly MaintenanceInterval[];
  readonly backend: string;
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

function utilisationChart(input: ReportInput): string {
  const H = 220;
  const top = 10;
  const bottom = H - 30;
  const x = xScale(input.startMs, input.endMs);
  const y = (u: number) => bottom - (u / 100) * (bottom - top);
  const shades = input.maintenance
    .filter((m) => m.endMs > input.startMs && m.startMs < input.endMs)
    .map(
      (m) =>
        `<rect x="${x(m.startMs)}" y="${top}" width="${Math.max(1, x(m.endMs) - x(m.startMs))}" height="${bottom - top}" fill="#f6e7b4"><title>maintenance ${escapeHtml(m.cluster)}${m.hostname ? ` ${escapeHtml(m.hostname)}` : ''}</title></rect>`,
    );
  const path = input.utilisation
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
${rows.join('\n')}
${timeAxis(input.startMs, input.endMs, H - 28)}
</svg>`;
}

function table(headers: readonly string[], rows: readonly (readonly string[])[], id: string): string {
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
<html lang="en"><head><meta charset="utf-8"><title>FleetWatch simulation: ${escapeHtml(s.scenario)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}
table{border-collapse:collapse;margin:8px 0 20px;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left}
th{background:#f3f3f3}.kpi{display:inline-block;margin-right:24px;font-size:14px}
.kpi b{font-size:20px;display:block}.empty{color:#777}
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
<h2>Faults: onset to first notification</h2>
${faultTimeline(input)}
${table(['fault', 'kind', 'onset', 'detected', 'latency s', 'severity', 'expected', 'cause', 'incident'], faultRows, 'faults')}
<h2>Incidents</h2>
${table(['incident', 'first seen', 'kind', 'severity', 'cause', 'status', 'labels', 'title'], incidentRows, 'incidents')}
<h2>Suppressed, and why</h2>
${table(['incident', 'kind', 'stage', 'reason'], suppressedRows, 'suppressed')}
<h2>False notifications</h2>
${table(['at', 'kind', 'severity'], falseRows, 'false-notifications')}
<h2>Notifications during maintenance</h2>
${table(['at', 'incident'], maintRows, 'during-maintenance')}
<h2>API calls</h2>
${table(['call', 'count'], apiRows, 'api-calls')}
</body></html>
`;
}
