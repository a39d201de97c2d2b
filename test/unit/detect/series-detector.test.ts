import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { baselineFromPoints } from '../../../lambdas/core/detect/seasonal-baseline';
import {
  type AnomalyKind,
  chooseSeasonality,
  defaultProbation,
  detectSeriesAnomalies,
  inferCadence,
  SeriesDetector,
  type SeriesDetectorState,
  sensitivityFactor,
  tuningFor,
} from '../../../lambdas/core/detect/series-detector';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../../lambdas/core/time';
import {
  type Base,
  baseSeries,
  FIVE_MIN,
  type Injected,
  inject,
  normal,
  prng,
  T0,
  toPoints,
} from './synthetic';

const N = 4_000;
const ONSET = 2_500;

function series(base: Base, seed: number, injections: Parameters<typeof inject>[2] = []) {
  const { values, sigma } = baseSeries({ base, n: N, seed });
  inject(values, sigma, injections, seed);
  return toPoints(values);
}

describe('detectSeriesAnomalies on generated series with a known anomaly', () => {
  it.each<{
    kind: Injected;
    base: Base;
    size: number;
    length: number;
    maxDelay: number;
    kinds: AnomalyKind[];
  }>([
    { kind: 'spike', base: 'smooth', size: 10, length: 1, maxDelay: 0, kinds: ['spike'] },
    // Normal bursts reach about 27 sigma: the spike must clearly beat them.
    { kind: 'spike', base: 'bursty', size: 60, length: 2, maxDelay: 1, kinds: ['spike'] },
    { kind: 'dip', base: 'latency', size: 8, length: 6, maxDelay: 1, kinds: ['dip'] },
    { kind: 'level_shift_up', base: 'smooth', size: 4, length: N, maxDelay: 8, kinds: ['level_shift_up'] },
    { kind: 'level_shift_down', base: 'ar', size: 5, length: N, maxDelay: 15, kinds: ['level_shift_down'] },
    {
      kind: 'level_shift_down',
      base: 'flat-noisy',
      size: 3,
      length: N,
      maxDelay: 10,
      kinds: ['level_shift_down'],
    },
    // More variance shows first as points beyond the spike threshold or as a variability change.
    {
      kind: 'variance_change',
      base: 'smooth',
      size: 4,
      length: 300,
      maxDelay: 24,
      kinds: ['variance_change', 'spike', 'dip'],
    },
  ])('$kind of size $size on a $base series: found within $maxDelay points of the onset, once', (c) => {
    const points = series(c.base, 42, [{ kind: c.kind, index: ONSET, length: c.length, size: c.size }]);
    const anomalies = detectSeriesAnomalies(points);
    const hit = anomalies.find((a) => a.index >= ONSET && a.index <= ONSET + c.maxDelay);
    expect(hit, JSON.stringify(anomalies)).toBeDefined();
    expect(c.kinds).toContain(hit?.kind);
    expect(hit?.score).toBeGreaterThanOrEqual(0.5);
    expect(hit?.score).toBeLessThan(1);
    // One episode, one report: nothing else within half a day after the onset.
    expect(anomalies.filter((a) => a.index > ONSET && a.index < ONSET + 144 && a !== hit)).toEqual([]);
  });

  it('reports few anomalies on clean series (no anomaly injected): under one per 4,000 points on average', () => {
    const bases: Base[] = ['smooth', 'ar', 'bursty', 'cpu', 'latency', 'flat-noisy', 'smooth', 'ar'];
    const reports = bases.map((base, i) => detectSeriesAnomalies(series(base, 100 + i)).length);
    expect(
      reports.reduce((a, b) => a + b, 0),
      `per series: ${reports}`,
    ).toBeLessThanOrEqual(bases.length);
  });

  it('reports a persistent level shift once, not on every point after it', () => {
    const points = series('smooth', 5, [{ kind: 'level_shift_up', index: 1500, length: N, size: 8 }]);
    const after = detectSeriesAnomalies(points).filter((a) => a.index >= 1500);
    expect(after).toHaveLength(1);
    expect(after[0]?.index).toBe(1500);
    // Reported when it happened (a jump past the spike threshold), relabelled once it persisted.
    expect(after[0]?.kind).toBe('level_shift_up');
  });

  it('learns a recurring pattern: a nightly cron spike stops being reported after a few nights', () => {
    const { values } = baseSeries({ base: 'flat-noisy', n: N, seed: 9 });
    for (let i = 200; i < N; i += 288) values[i] = (values[i] as number) + 15;
    const reported = detectSeriesAnomalies(toPoints(values));
    expect(reported.length).toBeLessThanOrEqual(3);
    expect(reported.every((a) => a.index < 1_800)).toBe(true);
  });

  it('reports nothing during probation, however large', () => {
    const points = series('smooth', 3, [{ kind: 'spike', index: 300, length: 1, size: 50 }]);
    const probation = defaultProbation(points.length, FIVE_MIN);
    expect(probation).toBe(600);
    expect(detectSeriesAnomalies(points).filter((a) => a.index < probation)).toEqual([]);
    expect(detectSeriesAnomalies(points, { probationPoints: 288 }).map((a) => a.index)).toContain(300);
  });

  it('copes with a flat series (MAD 0) that suddenly moves', () => {
    const values = Array.from({ length: 1_000 }, (_, i) => (i < 800 ? 5 : 6));
    const anomalies = detectSeriesAnomalies(toPoints(values));
    expect(anomalies).toHaveLength(1);
    expect(anomalies[0]).toMatchObject({ index: 800 });
    expect(Number.isFinite(anomalies[0]?.score)).toBe(true);
  });

  it('handles gaps: a missing hour does not raise anomalies by itself', () => {
    const points = series('smooth', 21).filter((_, i) => i < 2000 || i >= 2012);
    expect(detectSeriesAnomalies(points).filter((a) => a.index >= 1995 && a.index <= 2010)).toEqual([]);
  });
});

describe('online: no look-ahead', () => {
  const points = series('latency', 77, [
    { kind: 'spike', index: 1200, length: 1, size: 12 },
    { kind: 'level_shift_down', index: 2600, length: 700, size: 5 },
  ]);
  const options = { cadenceMs: FIVE_MIN, probationPoints: 600 };
  const full = detectSeriesAnomalies(points, options);

  it('finds the same anomalies (time and score) in any prefix as in the whole series', () => {
    fc.assert(
      fc.property(fc.integer({ min: 700, max: N }), (cut) => {
        const prefix = detectSeriesAnomalies(points.slice(0, cut), options);
        const strip = (a: { index: number; score: number }) => ({ index: a.index, score: a.score });
        expect(prefix.map(strip)).toEqual(full.filter((a) => a.index < cut).map(strip));
      }),
      { numRuns: 8 },
    );
  });

  it('resumes from a JSON snapshot exactly where it stopped (a Lambda reads and writes it once per run)', () => {
    const straight = new SeriesDetector(FIVE_MIN, { probationPoints: 600 });
    const expected = points.map((p) => straight.push(p.t, p.v)?.index);
    let d = new SeriesDetector(FIVE_MIN, { probationPoints: 600 });
    const got: (number | undefined)[] = [];
    points.forEach((p, i) => {
      if (i % 500 === 499)
        d = SeriesDetector.restore(JSON.parse(JSON.stringify(d.snapshot())) as SeriesDetectorState);
      got.push(d.push(p.t, p.v)?.index);
    });
    expect(got).toEqual(expected);
    expect(got.filter((x) => x !== undefined).length).toBeGreaterThan(0);
  });

  it.each([
    { name: 'a repeated timestamp', t: T0, v: 1 },
    { name: 'an earlier timestamp', t: T0 - 1, v: 1 },
    { name: 'a NaN value', t: T0 + FIVE_MIN, v: Number.NaN },
  ])('rejects $name', ({ t, v }) => {
    const d = new SeriesDetector(FIVE_MIN);
    d.push(T0, 1);
    expect(() => d.push(t, v)).toThrow(RangeError);
  });
});

describe('seasonality', () => {
  /** Hourly points for `days` days: level 50, noise, and the given shape by hour of week. */
  const hourly = (days: number, shape: (hourOfWeek: number) => number, seed = 1) => {
    const gauss = normal(prng(seed));
    const monday = Date.UTC(2024, 0, 1);
    return Array.from({ length: days * 24 }, (_, h) => ({
      t: monday + h * HOUR_MS,
      v: 50 + shape(h % 168) + gauss(),
    }));
  };

  it.each([
    { name: 'white noise', days: 10, shape: () => 0, expected: 'none' },
    {
      name: 'a daily cycle',
      days: 4,
      shape: (h: number) => 10 * Math.sin((2 * Math.PI * h) / 24),
      expected: 'daily',
    },
    {
      name: 'a daily cycle, only 2 days seen',
      days: 2,
      shape: (h: number) => 10 * Math.sin((2 * Math.PI * h) / 24),
      expected: 'none',
    },
    {
      name: 'busy weekdays, quiet weekends',
      days: 28,
      shape: (h: number) => (h < 120 && h % 24 >= 8 && h % 24 < 20 ? 20 : 0),
      expected: 'weekly',
    },
    // A random walk correlates with itself at every lag; detrending keeps it from passing as daily.
    { name: 'a random walk', days: 10, shape: () => 0, walk: true, expected: 'none' },
  ])('auto picks $expected for $name', ({ days, shape, expected, walk }) => {
    let points = hourly(days, shape);
    if (walk) {
      let level = 0;
      const gauss = normal(prng(5));
      points = points.map((p) => {
        level += 2 * gauss();
        return { t: p.t, v: level };
      });
    }
    expect(chooseSeasonality(baselineFromPoints(points, { windowDays: 28 }))).toBe(expected);
  });

  it('a daily cycle on 5-minute data is removed before scoring: a midday-sized value at night is a spike', () => {
    const { values, sigma } = baseSeries({ base: 'smooth', n: N, seed: 8, dailyAmplitude: 6 });
    // At a daily trough (i % 288 = 0), put the value of the daily peak: normal level, wrong time.
    const trough = 2880;
    values[trough] = (values[trough] as number) + 2 * 6 * sigma;
    const points = toPoints(values);
    const detector = new SeriesDetector(FIVE_MIN, { probationPoints: 600 });
    const found = points.map((p) => detector.push(p.t, p.v)).filter((a) => a !== undefined);
    expect(detector.currentSeasonality).toBe('daily');
    expect(found.map((a) => a.index)).toContain(trough);
    expect(detectSeriesAnomalies(points, { seasonality: 'none' }).map((a) => a.index)).not.toContain(trough);
  });
});

describe('options and tuning', () => {
  it.each([
    { s: 'low' as const, f: 2 ** 0.375 },
    { s: 'medium' as const, f: 1 },
    { s: 'high' as const, f: 2 ** -0.375 },
    { s: 0.9, f: 2 ** -0.6 },
  ])('sensitivity $s scales thresholds by $f', ({ s, f }) => {
    expect(sensitivityFactor(s)).toBeCloseTo(f, 9);
  });

  it.each([0, 1, -0.2, 3, Number.NaN])('rejects sensitivity %s', (s) => {
    expect(() => sensitivityFactor(s)).toThrow(/sensitivity/);
  });

  it('reports more with higher sensitivity', () => {
    const points = series('latency', 31, [{ kind: 'level_shift_up', index: 2000, length: 400, size: 3 }]);
    const count = (sensitivity: 'low' | 'medium' | 'high') =>
      detectSeriesAnomalies(points, { sensitivity }).length;
    expect(count('low')).toBeLessThanOrEqual(count('medium'));
    expect(count('medium')).toBeLessThanOrEqual(count('high'));
    expect(count('high')).toBeGreaterThan(count('low'));
  });

  it.each([
    { cadence: FIVE_MIN, reference: 288, refractory: 144, short: 12 },
    { cadence: MINUTE_MS, reference: 1440, refractory: 720, short: 30 },
    { cadence: HOUR_MS, reference: 48, refractory: 24, short: 6 },
    { cadence: DAY_MS, reference: 48, refractory: 24, short: 6 },
  ])('windows at a $cadence ms cadence: reference $reference, refractory $refractory, short $short', (c) => {
    const t = tuningFor(c.cadence);
    expect(t).toMatchObject({
      referencePoints: c.reference,
      refractoryPoints: c.refractory,
      shortPoints: c.short,
    });
  });

  it.each([
    { n: 4032, probation: 605 },
    { n: 22_695, probation: 750 },
    { n: 1000, probation: 288 },
  ])('probation of $n 5-minute points is $probation', ({ n, probation }) => {
    expect(defaultProbation(n, FIVE_MIN)).toBe(probation);
  });

  it('infers the cadence from the median gap, ignoring gaps and duplicates', () => {
    const ts = [0, 300, 600, 600, 900, 5000, 5300].map((s) => ({ t: s * 1000, v: 0 }));
    expect(inferCadence(ts)).toBe(300_000);
    expect(() => inferCadence([{ t: 1, v: 1 }])).toThrow(/two distinct timestamps/);
  });
});
