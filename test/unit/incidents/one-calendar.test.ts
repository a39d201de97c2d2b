import { describe, expect, it } from 'vitest';
import { excludedTimeRangesOf } from '../../../infra/constructs/anomaly-alarms';
import { maintenanceWindowSchema } from '../../../lambdas/contracts/calendar';

describe('one calendar: config.maintenance feeds the anomaly detectors too', () => {
  it('one-off windows (end or duration) become excluded time ranges; recurring ones are left to the router', () => {
    const windows = [
      { start: '2026-11-28T02:00:00Z', end: '2026-11-28T06:00:00Z' },
      { start: '2026-12-01T22:00:00-05:00', duration: 'PT3H' },
      { cron: '0 2 * * 6', duration: 'PT2H', tz: 'Europe/Berlin' },
    ].map((w) => maintenanceWindowSchema.parse(w));
    expect(excludedTimeRangesOf(windows)).toEqual([
      { startTime: '2026-11-28T02:00:00', endTime: '2026-11-28T06:00:00' },
      { startTime: '2026-12-02T03:00:00', endTime: '2026-12-02T06:00:00' },
    ]);
  });
});
