import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  baselineFromPoints,
  bucketOf,
  bucketProfile,
  cohortBaselinesSchema,
  cohortKey,
  emptyBaseline,
  expectedAt,
  seasonalBaselineStateSchema,
  seasonalOffsets,
  seasonalZ,
  type TimedValue,
  updateBaseline,
  updateCohort,
} from '../../../lambdas/core/detect/seasonal-baseline';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../../lambdas/core/time';
import { normal, prng } from './synthetic';

/** Monday 2024-01-01 00:00 UTC. */
const MONDAY = Date.UTC(2024, 0, 1);

describe('bucketOf', () => {
  it.each([
    { at: '2024-01-01T00:00:00Z', week: 0, day: 0 },
    { at: '2024-01-01T03:59:59Z', week: 3, day: 3 },
    { at: '2024-01-02T03:00:00Z', week: 24 + 3, day: 3 },
    { at: '2024-01-07T23:30:00Z', week: 167, day: 23 },
    { at: '2024-01-08T00:00:00Z', week: 0, day: 0 },
    // 1970-01-01 was a Thursday.
    { at: '1970-01-01T00:00:00Z', week: 72, day: 0 },
  ])('$at is hour-of-week $week, hour-of-day $day', ({ at, week, day }) => {
    const t = Date.parse(at);
    expect(bucketOf(t, 'hour-of-week')).toBe(week);
    expect(bucketOf(t, 'hour-of-day')).toBe(day);
  });
});

/**
 * A week of 5-minute GPU utilisation: ~30 % with noise, and the weekday retrain peak (Mon-Fri
 * 02:00-04:30) at ~90 %.
 */
function retrainWeek(start: number, seed: number): TimedValue[] {
  const gauss = normal(prng(seed));
  const points: TimedValue[] = [];
  for (let t = start; t < start + 7 * DAY_MS; t += 5 * MINUTE_MS) {
    const weekday = Math.floor((t - MONDAY) / DAY_MS) % 7 < 5;
    const minuteOfDay = (t % DAY_MS) / MINUTE_MS;
    const peak = weekday && minuteOfDay >= 120 && minuteOfDay < 270;
    points.push({ t, v: (peak ? 90 : 30) + 3 * gauss() });
  }
  return points;
}

describe('seasonal baseline (hour of week, rolling 7 days)', () => {
  const baseline = baselineFromPoints(retrainWeek(MONDAY, 1));
  const nextWeek = MONDAY + 7 * DAY_MS;

  it.each([
    {
      name: 'the weekday peak on Tuesday 03:00',
      at: nextWeek + DAY_MS + 3 * HOUR_MS,
      value: 90,
      anomalous: false,
    },
    { name: 'a quiet Tuesday 12:00', at: nextWeek + DAY_MS + 12 * HOUR_MS, value: 31, anomalous: false },
    {
      name: 'the same peak on Sunday 03:00',
      at: nextWeek + 6 * DAY_MS + 3 * HOUR_MS,
      value: 90,
      anomalous: true,
    },
    {
      name: 'a missing peak on Wednesday 03:00',
      at: nextWeek + 2 * DAY_MS + 3 * HOUR_MS,
      value: 30,
      anomalous: true,
    },
  ])('$name is anomalous: $anomalous', ({ at, value, anomalous }) => {
    const scored = seasonalZ(baseline, at, value);
    expect(scored?.estimate.source).toBe('bucket');
    if (anomalous) expect(Math.abs(scored?.z ?? 0)).toBeGreaterThan(10);
    else expect(Math.abs(scored?.z ?? Number.POSITIVE_INFINITY)).toBeLessThan(3);
  });

  it('keeps at most 7 days of hourly slices (168 per series): small enough to store once per run', () => {
    const twoWeeks = updateBaseline(baseline, retrainWeek(nextWeek, 2));
    expect(twoWeeks.slices).toHaveLength(168);
    expect(twoWeeks.slices[0]?.hourStart).toBe(nextWeek);
    expect(JSON.stringify(twoWeeks).length).toBeLessThan(20_000);
  });

  it('falls back to the pooled hours when the bucket has no data yet', () => {
    const oneDay = baselineFromPoints(retrainWeek(MONDAY, 3).filter((p) => p.t < MONDAY + DAY_MS));
    const friday = expectedAt(oneDay, MONDAY + 4 * DAY_MS + 12 * HOUR_MS);
    expect(friday?.source).toBe('global');
    expect(friday?.median).toBeGreaterThan(25);
    expect(friday?.median).toBeLessThan(35);
    expect(expectedAt(emptyBaseline(), MONDAY)).toBeUndefined();
  });

  it('profiles a whole week at once, with no estimate for hours never seen', () => {
    const mondayOnly = baselineFromPoints(retrainWeek(MONDAY, 6).filter((p) => p.t < MONDAY + DAY_MS));
    const profile = bucketProfile(mondayOnly);
    expect(profile).toHaveLength(168);
    expect(profile[3]?.median).toBeGreaterThan(80);
    expect(profile[12]?.median).toBeLessThan(40);
    expect(profile[24 + 3]).toBeUndefined();
  });

  it('serialises to JSON and back through its schema', () => {
    const restored = seasonalBaselineStateSchema.parse(JSON.parse(JSON.stringify(baseline)));
    expect(restored).toEqual(baseline);
  });

  it('merges an hour that arrives in two runs into one slice', () => {
    const hour = retrainWeek(MONDAY, 4).filter(
      (p) => p.t >= MONDAY + 12 * HOUR_MS && p.t < MONDAY + 13 * HOUR_MS,
    );
    const whole = baselineFromPoints(hour);
    const split = updateBaseline(baselineFromPoints(hour.slice(0, 5)), hour.slice(5));
    expect(split.slices).toHaveLength(1);
    expect(split.slices[0]?.n).toBe(12);
    // The merge is approximate (n-weighted medians): within the noise sigma (3) of the exact one.
    expect(Math.abs((split.slices[0]?.median ?? 0) - (whole.slices[0]?.median ?? 0))).toBeLessThan(3);
    expect(split.slices[0]?.mad).toBeGreaterThan(1);
  });

  it('a single huge outlier moves no bucket estimate by more than the hour’s own spread', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 7 * 24 - 1 }),
        fc.integer({ min: 0, max: 11 }),
        fc.double({ min: 1e6, max: 1e12, noNaN: true }),
        (hour, minuteSlot, huge) => {
          const points = retrainWeek(MONDAY, 5);
          const clean = baselineFromPoints(points);
          const i = hour * 12 + minuteSlot;
          const dirty = baselineFromPoints(points.map((p, j) => (j === i ? { ...p, v: huge } : p)));
          const at = MONDAY + 7 * DAY_MS + hour * HOUR_MS;
          const a = expectedAt(clean, at);
          const b = expectedAt(dirty, at);
          const hourValues = points.slice(hour * 12, hour * 12 + 12).map((p) => p.v);
          const spread = Math.max(...hourValues) - Math.min(...hourValues);
          expect(Math.abs((b?.median ?? 0) - (a?.median ?? 0))).toBeLessThanOrEqual(spread);
          expect(b?.mad ?? 0).toBeLessThanOrEqual(spread * 1.4826);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('seasonalOffsets', () => {
  it('recovers the daily shape even with a level shift in the window', () => {
    // 6 days of a daily sine (amplitude 10); from day 3 everything is 50 higher.
    const points: TimedValue[] = [];
    for (let t = MONDAY; t < MONDAY + 6 * DAY_MS; t += 10 * MINUTE_MS) {
      const shape = 10 * Math.sin((2 * Math.PI * (t % DAY_MS)) / DAY_MS);
      points.push({ t, v: 100 + shape + (t >= MONDAY + 3 * DAY_MS ? 50 : 0) });
    }
    const state = baselineFromPoints(points, { granularity: 'hour-of-day', windowDays: 7 });
    const offsets = seasonalOffsets(state, { minSlices: 2 });
    offsets.forEach((o, hour) => {
      const truth = 10 * Math.sin((2 * Math.PI * (hour + 0.5)) / 24);
      expect(Math.abs(o - truth)).toBeLessThan(1.5);
    });
  });

  it('is all zeros without enough history', () => {
    const state = baselineFromPoints([{ t: MONDAY, v: 1 }], { granularity: 'hour-of-day' });
    expect(seasonalOffsets(state, { minSlices: 2 })).toEqual(Array(24).fill(0));
  });
});

describe('cohorts', () => {
  it('keys a cohort by instance type × workload class × signal', () => {
    expect(cohortKey({ instanceType: 'p5.48xlarge', workloadClass: 'pretrain', signal: 'gpu_util' })).toBe(
      'p5.48xlarge|pretrain|gpu_util',
    );
  });

  it.each([
    { instanceType: '', workloadClass: 'x', signal: 'gpu_util' },
    { instanceType: 'p5.48xlarge', workloadClass: 'a|b', signal: 'gpu_util' },
  ])('rejects an ambiguous key part %o', (c) => {
    expect(() => cohortKey(c)).toThrow(/non-empty and contain no "\|"/);
  });

  it('updates one cohort and leaves the others as they were', () => {
    const a = cohortKey({ instanceType: 'p5.48xlarge', workloadClass: 'pretrain', signal: 'gpu_util' });
    const b = cohortKey({ instanceType: 'p4d.24xlarge', workloadClass: 'finetune', signal: 'power' });
    const one = updateCohort({}, a, [{ t: MONDAY, v: 50 }]);
    const two = updateCohort(one, b, [{ t: MONDAY, v: 300 }], { granularity: 'hour-of-day' });
    expect(two[a]).toBe(one[a]);
    expect(two[b]?.granularity).toBe('hour-of-day');
    expect(cohortBaselinesSchema.parse(JSON.parse(JSON.stringify(two)))).toEqual(two);
  });
});
