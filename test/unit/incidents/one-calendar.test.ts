import { describe, expect, it } from 'vitest';
import { excludedTimeRangesOf, MAX_EXCLUDED_TIME_RANGES } from '../../../infra/constructs/anomaly-alarms';
import { maintenanceWindowSchema } from '../../../lambdas/contracts/calendar';

const parse = (ws: object[]) => ws.map((w) => maintenanceWindowSchema.parse(w));
// Synth time: Tuesday 2026-11-24 12:00 UTC.
const nowMs = Date.parse('2026-11-24T12:00:00Z');

describe('one calendar: config.maintenance feeds the anomaly detectors too', () => {
  it('one-off windows (end or duration) become excluded time ranges', () => {
    const windows = parse([
      { start: '2026-11-28T02:00:00Z', end: '2026-11-28T06:00:00Z' },
      { start: '2026-12-01T22:00:00-05:00', duration: 'PT3H' },
    ]);
    expect(excludedTimeRangesOf(windows, { nowMs, aheadDays: 7 })).toEqual({
      ranges: [
        { startTime: '2026-11-28T02:00:00', endTime: '2026-11-28T06:00:00' },
        { startTime: '2026-12-02T03:00:00', endTime: '2026-12-02T06:00:00' },
      ],
      dropped: 0,
    });
  });

  it('expands a recurring window in its time zone over the past 14 days and the next N days', () => {
    // Saturdays 02:00 Berlin (CET, UTC+1 in November) for 2 h: 14 days back and 7 ahead.
    const windows = parse([{ cron: '0 2 * * 6', duration: 'PT2H', tz: 'Europe/Berlin' }]);
    expect(excludedTimeRangesOf(windows, { nowMs, aheadDays: 7 }).ranges).toEqual([
      { startTime: '2026-11-14T01:00:00', endTime: '2026-11-14T03:00:00' },
      { startTime: '2026-11-21T01:00:00', endTime: '2026-11-21T03:00:00' },
      { startTime: '2026-11-28T01:00:00', endTime: '2026-11-28T03:00:00' },
    ]);
  });

  it('follows the DST change of the zone (RRULE, New York, across 2026-11-01)', () => {
    const windows = parse([
      { rrule: 'FREQ=WEEKLY;BYDAY=SA;BYHOUR=22;BYMINUTE=0', duration: 'PT1H', tz: 'America/New_York' },
    ]);
    const at = Date.parse('2026-11-05T00:00:00Z');
    // 2026-10-24 22:00 EDT = 02:00Z next day; 2026-10-31 EDT; 2026-11-07 22:00 EST = 03:00Z.
    expect(excludedTimeRangesOf(windows, { nowMs: at, aheadDays: 4 }).ranges).toEqual([
      { startTime: '2026-10-25T02:00:00', endTime: '2026-10-25T03:00:00' },
      { startTime: '2026-11-01T02:00:00', endTime: '2026-11-01T03:00:00' },
      { startTime: '2026-11-08T03:00:00', endTime: '2026-11-08T04:00:00' },
    ]);
  });

  it('keeps the 10 ranges nearest to synth time and counts the rest', () => {
    // Daily 03:00 UTC for 1 h: 14 past + 14 future days = 28 ranges.
    const windows = parse([{ cron: '0 3 * * *', duration: 'PT1H', tz: 'UTC' }]);
    const { ranges, dropped } = excludedTimeRangesOf(windows, { nowMs, aheadDays: 14 });
    expect(ranges).toHaveLength(MAX_EXCLUDED_TIME_RANGES);
    expect(dropped).toBe(28 - MAX_EXCLUDED_TIME_RANGES);
    expect(ranges[0]).toEqual({ startTime: '2026-11-20T03:00:00', endTime: '2026-11-20T04:00:00' });
    expect(ranges[9]).toEqual({ startTime: '2026-11-29T03:00:00', endTime: '2026-11-29T04:00:00' });
  });

  it('merges overlapping occurrences into one range', () => {
    const windows = parse([
      { start: '2026-11-20T01:00:00Z', end: '2026-11-20T04:00:00Z' },
      { cron: '0 3 20 11 *', duration: 'PT2H', tz: 'UTC' },
    ]);
    expect(excludedTimeRangesOf(windows, { nowMs, aheadDays: 1 }).ranges).toEqual([
      { startTime: '2026-11-20T01:00:00', endTime: '2026-11-20T05:00:00' },
    ]);
  });
});
