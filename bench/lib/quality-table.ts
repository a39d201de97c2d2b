/** The alert-quality figures both the bench and the segment merge print, side by side. */
export interface QualityFigures {
  readonly pageWorthyFaults: number;
  readonly recall: number;
  readonly pagedRecall: number;
  readonly falsePagesPerWeek: number;
  readonly falsePages: number;
  readonly falseTicketsPerWeek: number;
  readonly falseTickets: number;
  readonly pagesDuringMaintenance: number;
  readonly duplicates: number;
  readonly notifications: number;
  readonly pages: number;
  readonly medianLatencySeconds: number | null;
}

const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;

const ROWS: readonly [string, (q: QualityFigures) => string][] = [
  ['page-worthy faults (took hold)', (q) => String(q.pageWorthyFaults)],
  ['recall (any notification)', (q) => pct(q.recall)],
  ['recall (paged)', (q) => pct(q.pagedRecall)],
  ['false pages / week', (q) => `${q.falsePagesPerWeek} (${q.falsePages})`],
  ['false tickets / week', (q) => `${q.falseTicketsPerWeek} (${q.falseTickets})`],
  ['pages during maintenance', (q) => String(q.pagesDuringMaintenance)],
  ['duplicates', (q) => String(q.duplicates)],
  ['notifications (pages)', (q) => `${q.notifications} (${q.pages})`],
  ['median latency, page-worthy (s)', (q) => String(q.medianLatencySeconds ?? '-')],
];

/** Markdown table lines: FleetWatch against the naive detector. */
export function qualityTable(fleetwatch: QualityFigures, naive: QualityFigures): string[] {
  return [
    '| metric | FleetWatch | naive thresholds |',
    '|---|---|---|',
    ...ROWS.map(([name, f]) => `| ${name} | ${f(fleetwatch)} | ${f(naive)} |`),
  ];
}
