import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SWEEP_WINDOW_MS,
  needsRepair,
  planSweep,
  sweepStart,
} from '../../../lambdas/core/jobs/reconcile-plan';
import { HOUR_MS, MINUTE_MS } from '../../../lambdas/core/time';

const NOW = Date.UTC(2024, 4, 14, 12, 0, 0);
const base = { now: NOW, overlapMs: 10 * MINUTE_MS, initialLookbackMs: 24 * HOUR_MS };

describe('sweepStart', () => {
  it.each([
    ['first sweep: now − initial lookback', undefined, NOW - 24 * HOUR_MS],
    ['later sweeps: watermark − overlap', NOW - 15 * MINUTE_MS, NOW - 25 * MINUTE_MS],
    ['a watermark ahead of the clock still re-reads the overlap', NOW + HOUR_MS, NOW - 10 * MINUTE_MS],
  ])('%s', (_label, watermark, expected) => {
    expect(sweepStart({ ...base, watermark })).toBe(expected);
  });
});

describe('planSweep', () => {
  it('reads a normal sweep in one window ending now', () => {
    expect(planSweep({ ...base, watermark: NOW - 15 * MINUTE_MS })).toEqual([
      { afterMs: NOW - 25 * MINUTE_MS, beforeMs: NOW },
    ]);
  });

  it('cuts the first 24 h into 6 h windows that share 1 ms (both bounds are exclusive)', () => {
    const windows = planSweep({ ...base, watermark: undefined });
    expect(DEFAULT_SWEEP_WINDOW_MS).toBe(6 * HOUR_MS);
    expect(windows).toHaveLength(5);
    expect(windows[0]).toEqual({ afterMs: NOW - 24 * HOUR_MS, beforeMs: NOW - 18 * HOUR_MS });
    expect(windows[1]).toEqual({ afterMs: NOW - 18 * HOUR_MS - 1, beforeMs: NOW - 12 * HOUR_MS - 1 });
    expect(windows.at(-1)?.beforeMs).toBe(NOW);
  });

  it('rejects a window too small to make progress', () => {
    expect(() => planSweep({ ...base, watermark: undefined, windowMs: 1 })).toThrow(/more than 1 ms/);
  });

  it('covers every instant from the start to now with no gap, in order', () => {
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: NOW - 30 * 24 * HOUR_MS, max: NOW + HOUR_MS }), { nil: undefined }),
        fc.integer({ min: 30 * MINUTE_MS, max: 12 * HOUR_MS }),
        (watermark, windowMs) => {
          const windows = planSweep({ ...base, watermark, windowMs });
          expect(windows[0]?.afterMs).toBe(sweepStart({ ...base, watermark }));
          expect(windows.at(-1)?.beforeMs).toBe(NOW);
          windows.forEach((w, i) => {
            expect(w.beforeMs).toBeGreaterThan(w.afterMs);
            const next = windows[i + 1];
            // An instant t is listed by a window when after < t < before: the next window must
            // start strictly before this one's end.
            if (next !== undefined) expect(next.afterMs).toBe(w.beforeMs - 1);
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('needsRepair', () => {
  it.each([
    ['unknown to the store', undefined, 10, true],
    ['store older than the listing', 9, 10, true],
    ['store at the listed version', 10, 10, false],
    ['store newer (an event arrived meanwhile)', 11, 10, false],
  ])('%s → %s', (_label, stored, listed, expected) => {
    expect(needsRepair(stored, listed)).toBe(expected);
  });
});
