import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collectionSchema } from '../../../lambdas/contracts/config';
import {
  backfillMinutesIn,
  chunkMinutesForBudget,
  planWindow,
  type WindowSettings,
} from '../../../lambdas/core/collection/window-plan';
import { MIN } from './fixtures';

const DEFAULTS: WindowSettings = collectionSchema.parse({}); // cadence 5, period 60, settle 3, 24 h, 60-min chunks
const at = (iso: string) => Date.parse(iso);
const NOW = at('2025-03-10T12:00:30Z');

describe('planWindow', () => {
  it.each([
    {
      name: 'first run: the cadence window ending settle minutes ago',
      watermark: undefined,
      cfg: {},
      chunks: [['11:52', '11:57']],
      backfilled: 0,
      beyond: 0,
    },
    {
      name: 'on-time run continues at the watermark',
      watermark: '11:52',
      cfg: {},
      chunks: [['11:52', '11:57']],
      backfilled: 0,
      beyond: 0,
    },
    {
      name: 'a late run fetches the extra minutes as backfill',
      watermark: '11:50',
      cfg: {},
      chunks: [['11:50', '11:57']],
      backfilled: 2,
      beyond: 0,
    },
    {
      name: 'after a 3 h outage: chunks of at most 60 minutes, oldest first',
      watermark: '08:57',
      cfg: {},
      chunks: [
        ['08:57', '09:57'],
        ['09:57', '10:57'],
        ['10:57', '11:57'],
      ],
      backfilled: 175,
      beyond: 0,
    },
    {
      name: 'an outage longer than the horizon: start at the horizon, report the rest',
      watermark: '08:27',
      cfg: { backfillHorizonHours: 2 },
      chunks: [
        ['09:57', '10:57'],
        ['10:57', '11:57'],
      ],
      backfilled: 115,
      beyond: 90,
    },
    {
      name: 'nothing settled since the watermark (second run in the same minute)',
      watermark: '11:57',
      cfg: {},
      chunks: [],
      backfilled: 0,
      beyond: 0,
    },
    {
      name: 'watermark ahead of the end (settle was raised): nothing, never re-read',
      watermark: '11:59',
      cfg: {},
      chunks: [],
      backfilled: 0,
      beyond: 0,
    },
    {
      name: '5-minute period: the end is aligned to the period',
      watermark: undefined,
      cfg: { periodSeconds: 300 as const },
      chunks: [['11:50', '11:55']],
      backfilled: 0,
      beyond: 0,
    },
    {
      name: '5-minute period: an off-grid watermark is rounded up, never re-reading written minutes',
      watermark: '11:47',
      cfg: { periodSeconds: 300 as const },
      chunks: [['11:50', '11:55']],
      backfilled: 0,
      beyond: 0,
    },
    {
      name: 'cadence shorter than the period: at least one period',
      watermark: undefined,
      cfg: { periodSeconds: 300 as const, cadenceMinutes: 1 },
      chunks: [['11:50', '11:55']],
      backfilled: 0,
      beyond: 0,
    },
    {
      name: 'chunk size rounded down to the period',
      watermark: '11:35',
      cfg: { periodSeconds: 300 as const, maxChunkMinutes: 7 },
      chunks: [
        ['11:35', '11:40'],
        ['11:40', '11:45'],
        ['11:45', '11:50'],
        ['11:50', '11:55'],
      ],
      backfilled: 15,
      beyond: 0,
    },
    {
      name: 'no settle time: up to the current minute',
      watermark: '11:55',
      cfg: { settleMinutes: 0 },
      chunks: [['11:55', '12:00']],
      backfilled: 0,
      beyond: 0,
    },
  ])('$name', ({ watermark, cfg, chunks, backfilled, beyond }) => {
    const hm = (t: string) => at(`2025-03-10T${t}:00Z`);
    const plan = planWindow(NOW, watermark === undefined ? undefined : hm(watermark), {
      ...DEFAULTS,
      ...cfg,
    });
    expect(plan.chunks).toEqual(chunks.map(([s, e]) => ({ startMs: hm(s ?? ''), endMs: hm(e ?? '') })));
    expect(plan.backfilledMinutes).toBe(backfilled);
    expect(plan.minutesBeyondHorizon).toBe(beyond);
  });

  it('backfillMinutesIn counts only minutes before the cadence window', () => {
    const c = at('2025-03-10T11:52:00Z');
    expect(backfillMinutesIn({ startMs: c - 10 * MIN, endMs: c - 5 * MIN }, c)).toBe(5);
    expect(backfillMinutesIn({ startMs: c - 3 * MIN, endMs: c + 2 * MIN }, c)).toBe(3);
    expect(backfillMinutesIn({ startMs: c, endMs: c + 5 * MIN }, c)).toBe(0);
  });
});

/**
 * The no-gaps promise, checked over arbitrary schedules: runs at arbitrary times, some failing
 * before they commit anything, some after committing only part of their chunks. The simulation
 * commits exactly as the use case does: chunk by chunk, advancing the watermark, reporting the
 * skipped minutes with the first committed chunk.
 */
describe('planWindow over a sequence of runs (property)', () => {
  const settings = fc.record({
    cadenceMinutes: fc.integer({ min: 1, max: 15 }),
    periodSeconds: fc.constantFrom(60 as const, 300 as const),
    settleMinutes: fc.integer({ min: 0, max: 5 }),
    backfillHorizonHours: fc.integer({ min: 1, max: 3 }),
    maxChunkMinutes: fc.integer({ min: 1, max: 90 }),
  });
  const run = fc.record({
    gapMs: fc.integer({ min: 1_000, max: 5 * 60 * MIN }),
    // 'all' commits every chunk; a number commits that many chunks and then fails (0: fails at once)
    outcome: fc.oneof(fc.constant('all' as const), fc.integer({ min: 0, max: 3 })),
  });

  it('collects every minute within the horizon exactly once and reports older ones as skipped', () => {
    fc.assert(
      fc.property(settings, fc.array(run, { minLength: 1, maxLength: 25 }), (cfg, runs) => {
        const periodMs = cfg.periodSeconds * 1_000;
        const collected: number[] = [];
        const skipped = new Set<number>();
        let reportedSkipped = 0;
        let watermark: number | undefined;
        let firstStart: number | undefined;
        let now = NOW;
        const schedule = [...runs, { gapMs: cfg.cadenceMinutes * MIN, outcome: 'all' as const }];

        for (const r of schedule) {
          now += r.gapMs;
          const plan = planWindow(now, watermark, cfg);
          const horizonStart = plan.endMs - cfg.backfillHorizonHours * 3_600_000;
          const commit = r.outcome === 'all' ? plan.chunks.length : Math.min(r.outcome, plan.chunks.length);
          for (let i = 0; i < commit; i++) {
            const chunk = plan.chunks[i];
            if (chunk === undefined) throw new Error('missing chunk');
            expect(chunk.startMs).toBeGreaterThanOrEqual(horizonStart); // nothing older than the horizon is fetched
            if (i === 0) {
              firstStart ??= chunk.startMs;
              reportedSkipped += plan.minutesBeyondHorizon;
              for (let m = watermark ?? chunk.startMs; m < chunk.startMs; m += MIN) {
                expect(m).toBeLessThan(horizonStart); // only minutes older than the horizon are skipped
                skipped.add(m);
              }
            }
            for (let t = chunk.startMs; t < chunk.endMs; t += periodMs) collected.push(t);
            watermark = chunk.endMs;
          }
        }

        // Exactly once: no period collected twice.
        expect(new Set(collected).size).toBe(collected.length);
        expect(reportedSkipped).toBe(skipped.size);
        // Nothing lost: from the first collected minute to the last watermark, every minute is
        // either collected (in some period) or reported skipped, never both.
        if (firstStart === undefined || watermark === undefined) return;
        const covered = new Set<number>();
        for (const t of collected) for (let m = t; m < t + periodMs; m += MIN) covered.add(m);
        for (let m = firstStart; m < watermark; m += MIN) {
          expect(covered.has(m) !== skipped.has(m)).toBe(true);
        }
        // The final (successful) run left nothing behind within its window.
        expect(watermark).toBe(planWindow(now, undefined, cfg).endMs);
      }),
      { numRuns: 300 },
    );
  });
});

describe('chunkMinutesForBudget', () => {
  const cfg = { periodSeconds: 60 as const, maxChunkMinutes: 60 };
  it.each([
    { series: 0, budget: 1_200_000, minutes: 60 },
    { series: 18_000, budget: 1_200_000, minutes: 60 }, // reference fleet: 1,200 GPUs x 15 signals
    { series: 180_000, budget: 1_200_000, minutes: 6 }, // 12,000 GPUs x 15 signals
    { series: 2_000_000, budget: 1_200_000, minutes: 1 }, // never below one period
  ])(
    '$series series with a budget of $budget datapoints → $minutes-minute chunks',
    ({ series, budget, minutes }) => {
      expect(chunkMinutesForBudget(series, cfg, budget)).toBe(minutes);
    },
  );

  it('keeps whole 5-minute periods', () => {
    expect(chunkMinutesForBudget(100_000, { periodSeconds: 300, maxChunkMinutes: 60 }, 1_200_000)).toBe(60);
    expect(chunkMinutesForBudget(500_000, { periodSeconds: 300, maxChunkMinutes: 60 }, 1_200_000)).toBe(10);
  });
});
