import { describe, expect, it } from 'vitest';
import {
  type CusumState,
  cusumStep,
  cusumStepRaw,
  DEFAULT_CUSUM,
  ewmaLimit,
  ewmaStep,
  initialCusum,
  initialEwma,
  relativeDrop,
  type ShiftDirection,
} from '../../../lambdas/core/detect/change-detection';
import { robustStats } from '../../../lambdas/core/detect/robust';
import { HOUR_MS } from '../../../lambdas/core/time';
import { normal, prng } from './synthetic';

/** Runs CUSUM over z-scores; returns the 0-based steps that alarmed and in which direction. */
function runCusum(zs: readonly number[], params = DEFAULT_CUSUM): { step: number; dir: ShiftDirection }[] {
  let state: CusumState = initialCusum();
  const alarms: { step: number; dir: ShiftDirection }[] = [];
  zs.forEach((z, step) => {
    const r = cusumStep(state, z, params);
    state = r.state;
    if (r.alarm) alarms.push({ step, dir: r.alarm });
  });
  return alarms;
}

describe('CUSUM', () => {
  it.each([
    // Each z of 3 adds 3 - 0.5 = 2.5; h = 10 is passed on the 5th (12.5 > 10).
    { name: 'a 3-sigma step', zs: [0, 0, 3, 3, 3, 3, 3, 3], alarms: [{ step: 6, dir: 'up' }] },
    { name: 'a -3-sigma step', zs: [0, -3, -3, -3, -3, -3], alarms: [{ step: 5, dir: 'down' }] },
    // Clipped to 4: a single 1000-sigma outlier adds only 3.5.
    { name: 'one huge outlier', zs: [0, 1000, 0, 0, 0], alarms: [] },
    // Below the allowance k = 0.5 nothing accumulates.
    { name: 'a persistent 0.4-sigma offset', zs: Array(500).fill(0.4), alarms: [] },
    // After an alarm the sums restart, so a long shift alarms every few points, not on every point.
    {
      name: 'a long 3-sigma shift',
      zs: Array(10).fill(3),
      alarms: [
        { step: 4, dir: 'up' },
        { step: 9, dir: 'up' },
      ],
    },
  ])('$name', ({ zs, alarms }) => {
    expect(runCusum(zs)).toEqual(alarms);
  });

  it('ignores NaN input', () => {
    const state = { pos: 3, neg: 0, n: 4 };
    expect(cusumStep(state, Number.NaN)).toEqual({ state });
  });

  const gauss = normal(prng(2024));
  /** 100 ± 5 % noise; a step of +/-10 % at point 600. */
  const stepped = (sign: 1 | -1) =>
    Array.from({ length: 1000 }, (_, i) => 100 + 5 * gauss() + (i >= 600 ? sign * 10 : 0));

  it.each([
    { sign: 1 as const, dir: 'up' },
    { sign: -1 as const, dir: 'down' },
  ])(
    'catches a 10 % step ($dir) in a noisy series within 15 points, robust-standardised',
    ({ sign, dir }) => {
      const series = stepped(sign);
      const reference = robustStats(series.slice(0, 500));
      let state = initialCusum();
      const alarms: number[] = [];
      series.slice(500).forEach((x, i) => {
        const r = cusumStepRaw(state, x, reference);
        state = r.state;
        if (r.alarm) {
          expect(r.alarm).toBe(dir);
          alarms.push(500 + i);
        }
      });
      expect(alarms[0]).toBeGreaterThanOrEqual(600);
      expect(alarms[0]).toBeLessThan(615);
    },
  );

  it('does not fire on 20,000 points of stationary noise (fixed seed)', () => {
    const noise = normal(prng(7));
    expect(runCusum(Array.from({ length: 20_000 }, () => noise()))).toEqual([]);
  });
});

describe('EWMA', () => {
  it.each([
    { n: 1, limit: 4 * 0.1 },
    { n: 1_000, limit: 4 * Math.sqrt(0.1 / 1.9) },
  ])('control limit after $n points is $limit', ({ n, limit }) => {
    expect(ewmaLimit(n)).toBeCloseTo(limit, 6);
  });

  it('catches a 1-sigma shift, which no single point reveals, within 40 points', () => {
    const gauss = normal(prng(11));
    let state = initialEwma();
    let alarmAt: number | undefined;
    for (let i = 0; i < 600 && alarmAt === undefined; i++) {
      const r = ewmaStep(state, gauss() + (i >= 400 ? 1 : 0));
      state = r.state;
      if (r.alarm) alarmAt = i;
    }
    expect(alarmAt).toBeGreaterThanOrEqual(400);
    expect(alarmAt).toBeLessThan(440);
  });

  it('raises fewer than 1 false alarm per 10,000 points of stationary noise (fixed seed)', () => {
    const gauss = normal(prng(12));
    let state = initialEwma();
    let alarms = 0;
    for (let i = 0; i < 200_000; i++) {
      const r = ewmaStep(state, gauss());
      state = r.state;
      if (r.alarm) alarms++;
    }
    // About 28,000 points per false alarm by simulation, so about 7 expected here.
    expect(alarms).toBeLessThan(20);
  });
});

describe('relativeDrop (fleet-level)', () => {
  // Hourly fleet utilisation for 24 h, expected 60 % every hour.
  const end = Date.UTC(2024, 0, 2);
  const hours = (util: (h: number) => number) =>
    Array.from({ length: 24 }, (_, h) => ({ t: end - (23 - h) * HOUR_MS, v: util(h) }));
  const expected = () => 60;

  it.each([
    { name: '8 % below all day', util: () => 60 * 0.92, fired: true, drop: 0.08 },
    { name: '5 % below all day', util: () => 57, fired: false, drop: 0.05 },
    { name: 'at baseline', util: () => 60, fired: false, drop: 0 },
    { name: 'above baseline', util: () => 66, fired: false, drop: -0.1 },
    // A 6-hour outage at 0 % is a 25 % drop over the day.
    { name: 'a 6-hour outage', util: (h: number) => (h < 6 ? 0 : 60), fired: true, drop: 0.25 },
  ])('$name → drop $drop, fired $fired', ({ util, fired, drop }) => {
    const r = relativeDrop(hours(util), expected, end, { cadenceMs: HOUR_MS });
    expect(r?.drop).toBeCloseTo(drop, 9);
    expect(r?.fired).toBe(fired);
    expect(r?.window).toEqual({ startMs: end - 24 * HOUR_MS, endMs: end });
  });

  it('does not fire on a window with too little data', () => {
    const sparse = hours(() => 30).slice(0, 12);
    const r = relativeDrop(sparse, expected, end, { cadenceMs: HOUR_MS });
    expect(r?.coverage).toBeCloseTo(0.5, 9);
    expect(r?.fired).toBe(false);
  });

  it('is undefined without any point that has a baseline', () => {
    expect(
      relativeDrop(
        hours(() => 30),
        () => undefined,
        end,
        { cadenceMs: HOUR_MS },
      ),
    ).toBeUndefined();
  });
});
