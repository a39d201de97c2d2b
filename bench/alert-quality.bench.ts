import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import type { Severity } from '../lambdas/contracts/finding';
import { validateScenario } from '../lambdas/sim/index';
import { type RunSummary, type ScoredNotification, scoreRun } from '../lambdas/sim/score';
import { runSimulation, summaryOf } from '../lambdas/wiring/simulation';
import { machine } from './lib/machine';
import { qualityTable } from './lib/quality-table';
import { NaiveDetector } from './naive-detector';

/**
 * Alert quality at reference scale (issue 5): FleetWatch and a naive static-threshold detector
 * (bench/naive-detector.ts) on the SAME simulated run. runSimulation's observer hands the naive
 * detector each window's committed samples and job states; both detectors' notifications are
 * scored by lambdas/sim/score.ts against the injected faults.
 *
 *   npm run bench:quality                       # 30 days, scenarios/reference-30d.yaml
 *   npx tsx bench/alert-quality.bench.ts --days 2 --json out/bench/alert-quality-2d.json
 *   npx tsx bench/alert-quality.bench.ts --from-day 7 --days 7 --json out/bench/aq-7-14.json
 *                    # a segment: days 7-14, after a warm-up day (6-7) that is simulated, not scored;
 *                    # bench/alert-quality-merge.ts adds segments up (they run in parallel)
 *
 * Definitions (per detector):
 *   page-worthy faults  faults whose ground truth severity is page and that took hold in the run
 *   recall              page-worthy faults with a matching notification / page-worthy faults
 *   paged               ... whose first matching notification was a page
 *   false pages / week  page notifications (open or repeat, not "resolved") that explain no fault
 *   false tickets / week  the same for tickets
 *   pages in maintenance  page notifications inside a maintenance window of their cluster / node
 *   duplicates          'open' notifications beyond the first for one fault, plus repeats
 */

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'scenarios/reference-30d.yaml' },
    days: { type: 'string' },
    'from-day': { type: 'string' },
    'warm-up-days': { type: 'string', default: '1' },
    json: { type: 'string', default: 'out/bench/alert-quality.json' },
  },
});

const text = readFileSync(values.scenario, 'utf8');
const doc = parseYaml(text) as Record<string, unknown>;
const DAY_MS = 86_400_000;
const daysArg = (name: string, raw: string | undefined, min: number): number | undefined => {
  if (raw === undefined) return undefined;
  const x = Number(raw);
  if (!Number.isFinite(x) || x < min)
    throw new Error(`--${name}: got ${JSON.stringify(raw)}; allowed a number of days >= ${min}`);
  return x;
};
const fromDay = daysArg('from-day', values['from-day'], 0) ?? 0;
const warmUpDays =
  fromDay > 0 ? Math.min(fromDay, daysArg('warm-up-days', values['warm-up-days'], 0) ?? 1) : 0;
const originalStartMs = Date.parse(String(doc.start));
const originalDays = parseDurationDays(String(doc.duration));
const days = daysArg('days', values.days, Number.MIN_VALUE) ?? originalDays - fromDay;
if (!(days > 0) || fromDay + days > originalDays + 1e-9)
  throw new Error(
    `--from-day ${fromDay} --days ${days}: outside the scenario's ${originalDays} days; allowed from-day + days <= ${originalDays}`,
  );
/** Scored from here (the warm-up before it is simulated, not scored). */
const toMinute = (ms: number) => Math.round(ms / 60_000) * 60_000;
const scoredStartMs = toMinute(originalStartMs + fromDay * DAY_MS);
if (fromDay > 0 || values.days !== undefined) {
  const runStartMs = toMinute(scoredStartMs - warmUpDays * DAY_MS);
  const endMs = scoredStartMs + days * DAY_MS;
  doc.start = new Date(runStartMs).toISOString();
  doc.duration = `${Math.round((warmUpDays + days) * 24 * 60)}m`;
  // A segment keeps the faults that start in its scored span (a fault is scored in exactly one
  // segment) and the one-off maintenance that starts inside the run.
  const faults = (doc.faults as { at?: unknown }[] | undefined) ?? [];
  doc.faults = faults.filter(
    (f) => typeof f.at === 'string' && Date.parse(f.at) >= scoredStartMs && Date.parse(f.at) < endMs,
  );
  const maintenance = (doc.maintenance as { start?: unknown; cron?: unknown }[] | undefined) ?? [];
  doc.maintenance = maintenance.filter(
    (m) =>
      m.cron !== undefined ||
      (typeof m.start === 'string' && Date.parse(m.start) >= runStartMs && Date.parse(m.start) < endMs),
  );
  process.stdout.write(
    `days ${fromDay}-${fromDay + days} scored (${warmUpDays} warm-up day(s) before): ${(doc.faults as unknown[]).length} of ${faults.length} faults, ` +
      `${(doc.maintenance as unknown[]).length} of ${maintenance.length} maintenance entries\n`,
  );
}

/** Days of a scenario duration such as 30d, 36h or 90m. */
function parseDurationDays(d: string): number {
  const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(d.trim());
  if (!m) throw new Error(`scenario duration ${JSON.stringify(d)}: expected a number and s, m, h or d`);
  const per = { s: 86_400, m: 1_440, h: 24, d: 1 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) / per;
}
const loaded = validateScenario(doc);
if (!loaded.ok) throw new Error(`invalid scenario ${values.scenario}:\n  ${loaded.errors.join('\n  ')}`);
const scenario = loaded.scenario;
const weeks = days / 7;

process.stdout.write(
  `alert-quality: ${scenario.name}, ${(scenario.durationMs / 86_400_000).toFixed(2)} days, memory backend, FleetWatch + naive\n`,
);
const naive = new NaiveDetector();
let windows = 0;
const started = performance.now();
const result = await runSimulation(scenario, {
  backend: 'memory',
  observers: [
    {
      onWindow: (w) => {
        naive.onWindow(w);
        windows++;
        if (windows % 288 === 0) {
          const day = windows / 288;
          const secs = (performance.now() - started) / 1000;
          process.stdout.write(`  day ${day} simulated, ${secs.toFixed(0)} s wall\n`);
        }
      },
    },
  ],
});
// Notifications of the warm-up are not scored (the faults of a segment all start after it).
const scored = <T extends { atMs: number }>(ns: readonly T[]): T[] =>
  ns.filter((n) => n.atMs >= scoredStartMs);
const fwNotifications = scored(result.notifications);
const fleetwatch = summaryOf({ ...result, notifications: fwNotifications });
const rawNaive = naive.forScoring();
const scoredNaive = { ...rawNaive, notifications: scored(rawNaive.notifications) };
const naiveSummary = scoreRun({
  scenario: scenario.name,
  truth: result.truth,
  notifications: scoredNaive.notifications,
  incidents: scoredNaive.incidents,
  maintenance: result.maintenance,
  apiCalls: {},
  runtimeSeconds: 0,
  endMs: scenario.endMs,
});

interface Quality {
  pageWorthyFaults: number;
  pageWorthyDetected: number;
  pageWorthyPaged: number;
  /** Every false page and ticket (when, what, and the cluster when the notification names one). */
  falseAlertList: {
    at: string;
    kind: string;
    severity: Severity;
    cluster?: string;
    incidentId: string;
    labels?: Readonly<Record<string, string | undefined>>;
  }[];
  /** Latencies of the detected page-worthy faults, sorted (the merge takes medians over segments). */
  pageWorthyLatencies: number[];
  recall: number;
  pagedRecall: number;
  falsePagesPerWeek: number;
  falseTicketsPerWeek: number;
  falsePages: number;
  falseTickets: number;
  falsePagesByKind: Record<string, number>;
  falseTicketsByKind: Record<string, number>;
  pagesDuringMaintenance: number;
  duplicates: number;
  notifications: number;
  pages: number;
  medianLatencySeconds: number | null;
  perFault: {
    id: string;
    kind: string;
    expected: Severity;
    detected: boolean;
    latencySeconds: number | null;
    severity: Severity | null;
  }[];
}

function quality(summary: RunSummary, notifications: readonly ScoredNotification[]): Quality {
  const incidentLabels = new Map(result.incidents.map((i) => [i.id, i.labels]));
  const labelsOf = (id: string) => {
    const labels = incidentLabels.get(id);
    return labels === undefined ? {} : { labels };
  };
  const tookHold = new Set(
    result.truth.filter((t) => t.status === 'active' || t.status === 'ended').map((t) => t.id),
  );
  const pageWorthy = summary.faults.filter((f) => f.expectedSeverity === 'page' && tookHold.has(f.id));
  const alerting = (n: { event: string }) => n.event !== 'resolved';
  // falseNotifications lists every unmatched notification; count the ones that alert someone.
  const unmatched = new Set(summary.falseNotifications.map((f) => `${f.at}|${f.kind}|${f.severity}`));
  const falseAlerts = notifications.filter(
    (n) => alerting(n) && unmatched.has(`${new Date(n.atMs).toISOString()}|${n.kind}|${n.severity}`),
  );
  const byKind = (sev: Severity) => {
    const out: Record<string, number> = {};
    for (const n of falseAlerts) if (n.severity === sev) out[n.kind] = (out[n.kind] ?? 0) + 1;
    return out;
  };
  const severityAt = new Map(
    notifications.map((n) => [`${new Date(n.atMs).toISOString()}|${n.incidentId}`, n.severity]),
  );
  const pagesDuringMaintenance = summary.notificationsDuringMaintenance.filter(
    (m) => severityAt.get(`${m.at}|${m.incidentId}`) === 'page',
  ).length;
  const latencies = pageWorthy
    .map((f) => f.latencySeconds)
    .filter((l): l is number => l !== null)
    .sort((a, b) => a - b);
  const falsePages = falseAlerts.filter((n) => n.severity === 'page').length;
  const falseTickets = falseAlerts.filter((n) => n.severity === 'ticket').length;
  return {
    pageWorthyFaults: pageWorthy.length,
    falseAlertList: falseAlerts
      .filter((n) => n.severity !== 'info')
      .map((n) => ({
        at: new Date(n.atMs).toISOString(),
        kind: n.kind,
        severity: n.severity,
        ...('cluster' in n && typeof n.cluster === 'string' ? { cluster: n.cluster } : {}),
        incidentId: n.incidentId,
        ...labelsOf(n.incidentId),
      })),
    pageWorthyDetected: pageWorthy.filter((f) => f.detected).length,
    pageWorthyPaged: pageWorthy.filter((f) => f.severity === 'page').length,
    pageWorthyLatencies: latencies,
    recall: ratio(pageWorthy.filter((f) => f.detected).length, pageWorthy.length),
    pagedRecall: ratio(pageWorthy.filter((f) => f.severity === 'page').length, pageWorthy.length),
    falsePagesPerWeek: round(falsePages / weeks),
    falseTicketsPerWeek: round(falseTickets / weeks),
    falsePages,
    falseTickets,
    falsePagesByKind: byKind('page'),
    falseTicketsByKind: byKind('ticket'),
    pagesDuringMaintenance,
    duplicates: summary.duplicateNotifications,
    notifications: notifications.filter(alerting).length,
    pages: notifications.filter((n) => alerting(n) && n.severity === 'page').length,
    medianLatencySeconds:
      latencies.length === 0 ? null : (latencies[Math.floor((latencies.length - 1) / 2)] as number),
    perFault: summary.faults.map((f) => ({
      id: f.id,
      kind: f.kind,
      expected: f.expectedSeverity,
      detected: f.detected,
      latencySeconds: f.latencySeconds,
      severity: f.severity,
    })),
  };
}

function ratio(a: number, b: number): number {
  return b === 0 ? 0 : round(a / b, 3);
}
function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const fw = quality(fleetwatch, fwNotifications);
const nv = quality(naiveSummary, scoredNaive.notifications);
const notTakenHold = result.truth.filter((t) => t.status === 'pending' || t.status === 'unresolved');

const lines = [
  ...qualityTable(fw, nv),
  '',
  '| fault | kind | expected | FleetWatch latency (s) | naive latency (s) |',
  '|---|---|---|---|---|',
  ...fw.perFault.map((f, i) => {
    const n = nv.perFault[i];
    const cell = (
      x: { detected: boolean; latencySeconds: number | null; severity: Severity | null } | undefined,
    ) => (x === undefined || !x.detected ? 'missed' : `${x.latencySeconds} (${x.severity})`);
    return `| ${f.id} | ${f.kind} | ${f.expected} | ${cell(f)} | ${cell(n)} |`;
  }),
];
process.stdout.write(`${lines.join('\n')}\n`);
process.stdout.write(`FleetWatch false pages by kind: ${JSON.stringify(fw.falsePagesByKind)}\n`);
process.stdout.write(`FleetWatch false tickets by kind: ${JSON.stringify(fw.falseTicketsByKind)}\n`);
process.stdout.write(`naive false pages by kind: ${JSON.stringify(nv.falsePagesByKind)}\n`);
process.stdout.write(`naive false tickets by kind: ${JSON.stringify(nv.falseTicketsByKind)}\n`);
if (notTakenHold.length > 0)
  process.stdout.write(
    `faults that did not take hold: ${notTakenHold.map((t) => `${t.id} (${t.status})`).join(', ')}\n`,
  );
process.stdout.write(`simulation wall time ${result.runtimeSeconds} s\n`);

const out = {
  scenario: scenario.name,
  days: round(days, 3),
  fromDay,
  warmUpDays,
  command: `tsx bench/alert-quality.bench.ts ${process.argv.slice(2).join(' ')}`.trim(),
  machine: machine(),
  runtimeSeconds: result.runtimeSeconds,
  peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  fleetwatch: fw,
  naive: { ...nv, skipped: Object.fromEntries(naive.skipped) },
  faultsNotTakenHold: notTakenHold.map((t) => ({ id: t.id, status: t.status, note: t.note })),
};
mkdirSync(dirname(values.json), { recursive: true });
writeFileSync(values.json, `${JSON.stringify(out, null, 2)}\n`);
process.stdout.write(`wrote ${values.json}\n`);
