import { describe, expect, it } from 'vitest';
import { mergeQuality, type Segment, type SegmentQuality, tile } from '../../bench/alert-quality-merge';

function quality(over: Partial<SegmentQuality> = {}): SegmentQuality {
  return {
    pageWorthyFaults: 2,
    pageWorthyDetected: 2,
    pageWorthyPaged: 1,
    pageWorthyLatencies: [300, 900],
    recall: 1,
    pagedRecall: 0.5,
    falsePages: 1,
    falseTickets: 3,
    falsePagesByKind: { 'gpu.xid.fatal': 1 },
    falseTicketsByKind: { 'scheduling.sla_miss': 2, 'job.progress_slow': 1 },
    pagesDuringMaintenance: 0,
    duplicates: 1,
    notifications: 10,
    pages: 4,
    perFault: [],
    ...over,
  };
}

const segment = (
  fromDay: number,
  days: number,
  q: SegmentQuality = quality(),
): Segment & { file: string } => ({
  file: `aq-${fromDay}.json`,
  fromDay,
  days,
  warmUpDays: fromDay > 0 ? 1 : 0,
  runtimeSeconds: 1,
  peakRssMiB: 1,
  fleetwatch: q,
  naive: q,
});

describe('alert-quality segments', () => {
  it('tile a span in order, and refuse gaps and overlaps', () => {
    expect(tile([segment(7, 7), segment(0, 7), segment(14, 16)])).toMatchObject({ fromDay: 0, days: 30 });
    expect(tile([segment(7, 7), segment(0, 7)]).ordered.map((s) => s.fromDay)).toEqual([0, 7]);
    expect(() => tile([segment(0, 7), segment(8, 7)])).toThrow(/aq-8.json: starts at day 8, expected day 7/);
    expect(() => tile([segment(0, 7), segment(6, 7)])).toThrow(/starts at day 6, expected day 7/);
    expect(() => tile([])).toThrow(/no segments/);
  });

  it('add counts, recompute rates over the scored days and take the median over every latency', () => {
    const m = mergeQuality(
      [
        quality(),
        quality({
          pageWorthyLatencies: [60],
          pageWorthyFaults: 1,
          pageWorthyDetected: 1,
          pageWorthyPaged: 1,
        }),
      ],
      14,
    );
    expect(m).toMatchObject({
      pageWorthyFaults: 3,
      pageWorthyDetected: 3,
      pageWorthyPaged: 2,
      recall: 1,
      pagedRecall: 0.667,
      falsePages: 2,
      falseTickets: 6,
      falsePagesPerWeek: 1,
      falseTicketsPerWeek: 3,
      falseTicketsByKind: { 'scheduling.sla_miss': 4, 'job.progress_slow': 2 },
      duplicates: 2,
      notifications: 20,
      pages: 8,
      medianLatencySeconds: 300,
    });
  });

  it('recover counts from the ratios and per-fault rows of segments written before the count fields', () => {
    const old = quality({
      pageWorthyDetected: undefined,
      pageWorthyPaged: undefined,
      pageWorthyLatencies: undefined,
      pageWorthyFaults: 4,
      recall: 0.75,
      pagedRecall: 0.5,
      perFault: [
        { id: 'a', kind: 'xid', expected: 'page', detected: true, latencySeconds: 480, severity: 'page' },
        { id: 'b', kind: 'xid', expected: 'page', detected: false, latencySeconds: null, severity: null },
        {
          id: 'c',
          kind: 'job_stall',
          expected: 'ticket',
          detected: true,
          latencySeconds: 60,
          severity: 'ticket',
        },
      ],
    });
    const m = mergeQuality([old], 7);
    expect(m).toMatchObject({ pageWorthyDetected: 3, pageWorthyPaged: 2, medianLatencySeconds: 480 });
  });
});
