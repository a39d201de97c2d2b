import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { qualityTable } from './lib/quality-table';

/**
 * Adds up alert-quality segments (bench/alert-quality.bench.ts --from-day D --days N) into one
 * month: counts are summed, rates recomputed over the scored days, medians taken over every
 * segment's page-worthy latencies. The segments must tile a span without gaps or overlaps.
 *
 *   npx tsx bench/alert-quality-merge.ts out/bench/aq-0.json out/bench/aq-7.json ... --json out/bench/alert-quality.json
 */

export interface SegmentQuality {
  readonly pageWorthyFaults: number;
  readonly pageWorthyDetected?: number;
  readonly pageWorthyPaged?: number;
  readonly pageWorthyLatencies?: readonly number[];
  readonly recall: number;
  readonly pagedRecall: number;
  readonly falsePages: number;
  readonly falseTickets: number;
  readonly falsePagesByKind: Readonly<Record<string, number>>;
  readonly falseTicketsByKind: Readonly<Record<string, number>>;
  readonly pagesDuringMaintenance: number;
  readonly duplicates: number;
  readonly notifications: number;
  readonly pages: number;
  readonly perFault: readonly {
    readonly id: string;
    readonly kind: string;
    readonly expected: string;
    readonly detected: boolean;
    readonly latencySeconds: number | null;
    readonly severity: string | null;
  }[];
}

export interface Segment {
  readonly days: number;
  readonly fromDay?: number;
  readonly warmUpDays?: number;
  readonly runtimeSeconds: number;
  readonly peakRssMiB: number;
  readonly fleetwatch: SegmentQuality;
  readonly naive: SegmentQuality;
}

export interface MergedQuality {
  readonly pageWorthyFaults: number;
  readonly pageWorthyDetected: number;
  readonly pageWorthyPaged: number;
  readonly recall: number;
  readonly pagedRecall: number;
  readonly falsePages: number;
  readonly falseTickets: number;
  readonly falsePagesPerWeek: number;
  readonly falseTicketsPerWeek: number;
  readonly falsePagesByKind: Record<string, number>;
  readonly falseTicketsByKind: Record<string, number>;
  readonly pagesDuringMaintenance: number;
  readonly duplicates: number;
  readonly notifications: number;
  readonly pages: number;
  readonly medianLatencySeconds: number | null;
  readonly perFault: SegmentQuality['perFault'];
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const ratio = (a: number, b: number) => (b === 0 ? 0 : round(a / b, 3));

function addCounts(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** Segments written before the count fields existed carry only the ratios: recover the counts. */
function countsOf(q: SegmentQuality): { detected: number; paged: number; latencies: number[] } {
  return {
    detected: q.pageWorthyDetected ?? Math.round(q.recall * q.pageWorthyFaults),
    paged: q.pageWorthyPaged ?? Math.round(q.pagedRecall * q.pageWorthyFaults),
    latencies: [
      ...(q.pageWorthyLatencies ??
        q.perFault
          .filter((f) => f.expected === 'page' && f.detected && f.latencySeconds !== null)
          .map((f) => f.latencySeconds as number)),
    ],
  };
}

export function mergeQuality(parts: readonly SegmentQuality[], days: number): MergedQuality {
  const weeks = days / 7;
  const falsePagesByKind: Record<string, number> = {};
  const falseTicketsByKind: Record<string, number> = {};
  let pageWorthyFaults = 0;
  let detected = 0;
  let paged = 0;
  const latencies: number[] = [];
  const sum = (f: (q: SegmentQuality) => number) => parts.reduce((a, q) => a + f(q), 0);
  for (const q of parts) {
    const c = countsOf(q);
    pageWorthyFaults += q.pageWorthyFaults;
    detected += c.detected;
    paged += c.paged;
    latencies.push(...c.latencies);
    addCounts(falsePagesByKind, q.falsePagesByKind);
    addCounts(falseTicketsByKind, q.falseTicketsByKind);
  }
  latencies.sort((a, b) => a - b);
  const falsePages = sum((q) => q.falsePages);
  const falseTickets = sum((q) => q.falseTickets);
  return {
    pageWorthyFaults,
    pageWorthyDetected: detected,
    pageWorthyPaged: paged,
    recall: ratio(detected, pageWorthyFaults),
    pagedRecall: ratio(paged, pageWorthyFaults),
    falsePages,
    falseTickets,
    falsePagesPerWeek: round(falsePages / weeks),
    falseTicketsPerWeek: round(falseTickets / weeks),
    falsePagesByKind,
    falseTicketsByKind,
    pagesDuringMaintenance: sum((q) => q.pagesDuringMaintenance),
    duplicates: sum((q) => q.duplicates),
    notifications: sum((q) => q.notifications),
    pages: sum((q) => q.pages),
    medianLatencySeconds:
      latencies.length === 0 ? null : (latencies[Math.floor((latencies.length - 1) / 2)] as number),
    perFault: parts.flatMap((q) => q.perFault),
  };
}

/** Checks that the segments tile [first fromDay, last fromDay + days) and returns them in order. */
export function tile(segments: readonly (Segment & { readonly file: string })[]): {
  ordered: (Segment & { readonly file: string })[];
  fromDay: number;
  days: number;
} {
  if (segments.length === 0)
    throw new Error('no segments given; allowed one or more alert-quality JSON files');
  const ordered = [...segments].sort((a, b) => (a.fromDay ?? 0) - (b.fromDay ?? 0));
  let at = ordered[0]?.fromDay ?? 0;
  for (const s of ordered) {
    const from = s.fromDay ?? 0;
    if (Math.abs(from - at) > 1e-6)
      throw new Error(
        `${s.file}: starts at day ${from}, expected day ${at} (segments must not leave gaps or overlap)`,
      );
    at = from + s.days;
  }
  const fromDay = ordered[0]?.fromDay ?? 0;
  return { ordered, fromDay, days: round(at - fromDay, 6) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { json: { type: 'string', default: 'out/bench/alert-quality.json' } },
  });
  const segments = positionals.map((file) => ({
    ...(JSON.parse(readFileSync(file, 'utf8')) as Segment),
    file,
  }));
  const { ordered, fromDay, days } = tile(segments);
  const merged = {
    days,
    fromDay,
    segments: ordered.map((s) => ({
      file: s.file,
      fromDay: s.fromDay ?? 0,
      days: s.days,
      warmUpDays: s.warmUpDays ?? 0,
      runtimeSeconds: s.runtimeSeconds,
      peakRssMiB: s.peakRssMiB,
    })),
    fleetwatch: mergeQuality(
      ordered.map((s) => s.fleetwatch),
      days,
    ),
    naive: mergeQuality(
      ordered.map((s) => s.naive),
      days,
    ),
  };
  writeFileSync(values.json, `${JSON.stringify(merged, null, 2)}\n`);
  process.stdout.write(
    [
      `days ${fromDay}-${fromDay + days}, ${ordered.length} segment(s)`,
      ...qualityTable(merged.fleetwatch, merged.naive),
      `FleetWatch false pages by kind: ${JSON.stringify(merged.fleetwatch.falsePagesByKind)}`,
      `FleetWatch false tickets by kind: ${JSON.stringify(merged.fleetwatch.falseTicketsByKind)}`,
      `naive false pages by kind: ${JSON.stringify(merged.naive.falsePagesByKind)}`,
      `naive false tickets by kind: ${JSON.stringify(merged.naive.falseTicketsByKind)}`,
      `wrote ${values.json}`,
    ].join('\n') + '\n',
  );
}
