import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  expandWindows,
  type MaintenanceWindow,
  maintenanceWindowSchema,
  wallToInstant,
} from '../../../lambdas/contracts/calendar';
import { activeOccurrence, isActive, nextOccurrence } from '../../../lambdas/core/incidents/windows';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const win = (w: unknown): MaintenanceWindow => maintenanceWindowSchema.parse(w);

// Each case: a daily window on the wall clock, and the UTC start expected on a given day.
describe('recurring windows across DST (decided: gap → shifted forward; overlap → first occurrence)', () => {
  const cases = [
    // America/New_York, spring forward 2026-03-08 02:00 EST → 03:00 EDT: 02:30 does not exist.
    { tz: 'America/New_York', time: [2, 30], day: '2026-03-07', start: '2026-03-07T07:30:00.000Z' },
    { tz: 'America/New_York', time: [2, 30], day: '2026-03-08', start: '2026-03-08T07:30:00.000Z' },
    { tz: 'America/New_York', time: [2, 30], day: '2026-03-09', start: '2026-03-09T06:30:00.000Z' },
    // America/New_York, fall back 2026-11-01 02:00 EDT → 01:00 EST: 01:30 happens twice, we take the first.
    { tz: 'America/New_York', time: [1, 30], day: '2026-10-31', start: '2026-10-31T05:30:00.000Z' },
    { tz: 'America/New_York', time: [1, 30], day: '2026-11-01', start: '2026-11-01T05:30:00.000Z' },
    { tz: 'America/New_York', time: [1, 30], day: '2026-11-02', start: '2026-11-02T06:30:00.000Z' },
    // Europe/Berlin, spring forward 2026-03-29 02:00 CET → 03:00 CEST; fall back 2026-10-25 03:00 → 02:00.
    { tz: 'Europe/Berlin', time: [2, 30], day: '2026-03-28', start: '2026-03-28T01:30:00.000Z' },
    { tz: 'Europe/Berlin', time: [2, 30], day: '2026-03-29', start: '2026-03-29T01:30:00.000Z' },
    { tz: 'Europe/Berlin', time: [2, 30], day: '2026-03-30', start: '2026-03-30T00:30:00.000Z' },
    { tz: 'Europe/Berlin', time: [2, 30], day: '2026-10-25', start: '2026-10-25T00:30:00.000Z' },
    { tz: 'Europe/Berlin', time: [2, 30], day: '2026-10-26', start: '2026-10-26T01:30:00.000Z' },
  ] as const;

  for (const c of cases) {
    const [h, m] = c.time;
    for (const shape of ['cron', 'rrule'] as const) {
      it(`${c.tz} daily ${h}:${m} on ${c.day} (${shape}) starts at ${c.start}, exactly once`, () => {
        const w = win(
          shape === 'cron'
            ? { cron: `${m} ${h} * * *`, duration: 'PT1H', tz: c.tz }
            : { rrule: `FREQ=DAILY;BYHOUR=${h};BYMINUTE=${m};BYSECOND=0`, duration: 'PT1H', tz: c.tz },
        );
        const dayStart = at(`${c.day}T00:00:00Z`) - 12 * 3_600_000;
        const occ = expandWindows([w], dayStart, dayStart + 36 * 3_600_000).filter((o) =>
          iso(o.startMs).startsWith(c.day),
        );
        expect(occ.map((o) => iso(o.startMs))).toEqual([c.start]);
        expect(occ[0]?.endMs).toBe(at(c.start) + 3_600_000);
      });
    }
  }

  it('fall back: the window is not active during the second 01:30 (it ran once, at the first)', () => {
    const w = win({ cron: '30 1 * * *', duration: 'PT1H', tz: 'America/New_York' });
    expect(isActive(w, at('2026-11-01T06:00:00Z'))).toBe(true); // 01:00 EST, still inside 05:30Z–06:30Z
    expect(isActive(w, at('2026-11-01T06:45:00Z'))).toBe(false); // 01:45 EST, the repeated hour
  });

  it('half-open: active at start, not at end; untilMs is the end', () => {
    const w = win({ cron: '0 2 * * 6', duration: 'PT2H', tz: 'UTC' }); // Saturdays 02:00–04:00 UTC
    expect(isActive(w, at('2026-03-07T02:00:00Z'))).toBe(true);
    expect(activeOccurrence(w, at('2026-03-07T03:59:00Z'))?.endMs).toBe(at('2026-03-07T04:00:00Z'));
    expect(isActive(w, at('2026-03-07T04:00:00Z'))).toBe(false);
    expect(iso(nextOccurrence(w, at('2026-03-07T04:00:00Z'))?.startMs ?? 0)).toBe('2026-03-14T02:00:00.000Z');
  });

  it('one-off windows keep their original {start, end} shape, and accept a duration', () => {
    const old = win({ start: '2026-11-28T02:00:00Z', end: '2026-11-28T06:00:00Z' });
    expect(expandWindows([old], 0, at('2030-01-01T00:00:00Z'))).toEqual([
      { startMs: at('2026-11-28T02:00:00Z'), endMs: at('2026-11-28T06:00:00Z') },
    ]);
    const byDuration = win({ start: '2026-11-28T02:00:00-05:00', duration: 'PT90M', name: 'switch swap' });
    expect(expandWindows([byDuration], 0, at('2030-01-01T00:00:00Z'))).toEqual([
      { startMs: at('2026-11-28T07:00:00Z'), endMs: at('2026-11-28T08:30:00Z'), name: 'switch swap' },
    ]);
  });

  it('wallToInstant picks the first of two instants and shifts nonexistent times forward', () => {
    expect(iso(wallToInstant(at('2026-11-01T01:30:00Z'), 'America/New_York'))).toBe(
      '2026-11-01T05:30:00.000Z',
    );
    expect(iso(wallToInstant(at('2026-03-08T02:30:00Z'), 'America/New_York'))).toBe(
      '2026-03-08T07:30:00.000Z',
    );
  });

  it('RRULE INTERVAL keeps its phase from DTSTART (2000-01-01 by default) however far ahead we look', () => {
    const w = win({
      rrule: 'FREQ=WEEKLY;INTERVAL=2;BYDAY=SA;BYHOUR=3;BYMINUTE=0;BYSECOND=0',
      duration: 'PT1H',
      tz: 'UTC',
    });
    const occ = expandWindows([w], at('2026-03-01T00:00:00Z'), at('2026-05-01T00:00:00Z'));
    expect(occ.length).toBe(4);
    for (const o of occ) {
      const days = (o.startMs - at('2000-01-01T03:00:00Z')) / 86_400_000;
      expect(days % 14).toBe(0);
    }
  });

  it('property: expansion never yields end < start, stays sorted and overlaps the asked range', () => {
    const tzs = ['UTC', 'America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'Asia/Kolkata'];
    fc.assert(
      fc.property(
        fc.constantFrom(...tzs),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: at('2025-01-01T00:00:00Z'), max: at('2027-12-31T00:00:00Z') }),
        fc.integer({ min: 1, max: 10 * 86_400_000 }),
        fc.boolean(),
        (tz, h, m, minutes, from, span, useCron) => {
          const w = win(
            useCron
              ? { cron: `${m} ${h} * * *`, duration: `PT${minutes}M`, tz }
              : { rrule: `FREQ=DAILY;BYHOUR=${h};BYMINUTE=${m};BYSECOND=0`, duration: `PT${minutes}M`, tz },
          );
          const occ = expandWindows([w], from, from + span);
          for (let i = 0; i < occ.length; i++) {
            const o = occ[i];
            if (o === undefined) continue;
            expect(o.endMs).toBeGreaterThan(o.startMs);
            expect(o.endMs - o.startMs).toBe(minutes * 60_000);
            expect(o.startMs < from + span && o.endMs > from).toBe(true);
            if (i > 0) expect(o.startMs).toBeGreaterThanOrEqual(occ[i - 1]?.startMs ?? 0);
          }
          // A daily window is seen at least once in any span longer than a day plus its length.
          if (span > 26 * 3_600_000) expect(occ.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 60 },
    );
  });
});
