import { describe, expect, it } from 'vitest';
import { emptyDetectionState, type FleetState } from '../../../lambdas/core/detect/detection-state';
import { dayOverDayNoise, foldHours, weekAgo } from '../../../lambdas/core/detect/fleet-hours';
import { detectFleetDrop } from '../../../lambdas/core/detect/regressions';
import { DAY, fleetDropSettings, gpuMinutes, HOUR, MIN } from './fleet-drop-fixtures';

/**
 * Fleet drop judged against the scope's hourly history (fleet-hours.ts): its ordinary
 * day-over-day variation, and the same hour a week earlier.
 */
const T0 = Date.UTC(2026, 8, 14); // a Monday

/**
 * Detection every `everyMin` minutes (5 as deployed; the tests use 15 or 60, the window, to stay quick)
 * from T0 to `untilMs`; the times (run ends) at which a drop fired, from `judgeFromMs` on.
 */
function fires(util: (t: number) => number, untilMs: number, judgeFromMs: number, everyMin = 5): number[] {
  let fleet: FleetState = emptyDetectionState().fleet;
  const fired: number[] = [];
  const step = everyMin * MIN;
  for (let t = T0; t < untilMs; t += step) {
    const r = detectFleetDrop({
      samples: gpuMinutes(t, t + step, util),
      fleet,
      nowMs: t + step,
      windowEndMs: t + step,
      settings: fleetDropSettings,
    });
    fleet = r.fleet;
    if (t + step > judgeFromMs && r.findings.length > 0) fired.push(t + step);
  }
  return fired;
}

/**
 * A cluster carried by a few multi-node jobs: 0.6, plus 0.15 while one of them runs, in an 8-hour
 * block that moves 8 hours from one day to the next. Hour to hour it is smooth; against the same
 * hour yesterday it is 20-25 % off for two thirds of the day.
 */
function blocky(t: number): number {
  const day = Math.floor((t - T0) / DAY);
  const hour = ((t - T0) % DAY) / HOUR;
  const start = [0, 8, 16, 4, 12][day % 5] as number;
  return 0.6 + (hour >= start && hour < start + 8 ? 0.15 : 0);
}

describe('fleet drop: ordinary day-over-day variation', () => {
  it('a cluster whose big jobs move from day to day does not fire once a day of hourly history exists', () => {
    // Day 1 is judged with 24 h of minutes only (hour-to-hour noise gate): the moved blocks fire.
    expect(fires(blocky, T0 + 2 * DAY, T0 + DAY, 15).length).toBeGreaterThan(0);
    // Days 3-4: the day-over-day noise of the hourly means (1.4826 × 20 % ≈ 30 %) says it is ordinary.
    expect(fires(blocky, T0 + 5 * DAY, T0 + 3 * DAY, 15)).toEqual([]);
  });

  it('still fires when the cluster empties beyond its ordinary variation', () => {
    const cut = (t: number) => (t >= T0 + 4 * DAY + 10 * HOUR ? 0.02 : blocky(t));
    const fired = fires(cut, T0 + 4 * DAY + 14 * HOUR, T0 + 3 * DAY, 15);
    expect(fired.length).toBeGreaterThan(0);
    expect(Math.min(...fired)).toBeLessThan(T0 + 4 * DAY + 12 * HOUR);
  });
});

describe('fleet drop: the same hour a week earlier', () => {
  /** Weekdays 0.8, weekends 0.5 (a smooth fleet otherwise). */
  const weekly = (t: number) => {
    const dow = new Date(t).getUTCDay();
    return dow === 0 || dow === 6 ? 0.5 : 0.8;
  };

  it('a quiet weekend fires the first week only: from the second, last Saturday is the yardstick', () => {
    const firstSaturday = T0 + 5 * DAY;
    const secondSaturday = T0 + 12 * DAY;
    const fired = fires(weekly, secondSaturday + 6 * HOUR, firstSaturday, 60);
    expect(fired.some((t) => t > firstSaturday && t <= firstSaturday + 2 * HOUR)).toBe(true);
    expect(fired.filter((t) => t > secondSaturday)).toEqual([]);
  });

  it('a drop below last week as well as yesterday still fires', () => {
    const secondSaturday = T0 + 12 * DAY;
    const cut = (t: number) => (t >= secondSaturday ? 0.25 : weekly(t));
    expect(fires(cut, secondSaturday + 3 * HOUR, secondSaturday, 60).length).toBeGreaterThan(0);
  });
});

describe('fleet-hours', () => {
  const minutePoints = (from: number, to: number, v: (t: number) => number) => {
    const m = new Map<number, number>();
    for (let t = from; t < to; t += MIN) m.set(t, v(t));
    return m;
  };

  it('folds each completed hour once, skips hours with too few minutes, keeps eight days', () => {
    const points = minutePoints(T0, T0 + 3 * HOUR + 30 * MIN, (t) => (t < T0 + HOUR ? 0.2 : 0.6));
    points.delete(T0 + HOUR + 5 * MIN); // 59 minutes: still folded
    for (let k = 0; k < 20; k++) points.delete(T0 + 2 * HOUR + k * MIN); // 40 minutes: skipped
    const hours = foldHours([], points, T0 + 3 * HOUR + 29 * MIN, false);
    expect(hours).toEqual([
      [T0, expect.closeTo(0.2, 9), 0],
      [T0 + HOUR, expect.closeTo(0.6, 9), 0],
    ]);
    // The next run folds the hour that completed since, marked as during a drop.
    const more = new Map(points);
    for (let t = T0 + 3 * HOUR + 30 * MIN; t < T0 + 4 * HOUR; t += MIN) more.set(t, 0.5);
    const next = foldHours(hours, more, T0 + 4 * HOUR - MIN, true);
    expect(next.slice(2)).toEqual([[T0 + 3 * HOUR, expect.closeTo(0.55, 9), 1]]);
    expect(foldHours(next, new Map(), T0 + 9 * DAY, false)).toEqual([]);
  });

  it('day-over-day noise: 1.4826 × median |change| of the last 24 hours, drop hours left out', () => {
    const hours: [number, number, 0 | 1][] = [];
    for (let h = 0; h < 48; h++) hours.push([T0 + h * HOUR, h < 24 ? 0.5 : h % 2 === 0 ? 0.6 : 0.45, 0]);
    // Changes of day 2 vs day 1: -20 % and +10 % alternately: median |change| 0.15.
    expect(dayOverDayNoise(hours, T0 + 48 * HOUR)).toBeCloseTo(1.4826 * 0.15, 9);
    const marked = hours.map(
      ([h, v]) => [h, v, h >= T0 + 24 * HOUR + 8 * HOUR ? 1 : 0] as [number, number, 0 | 1],
    );
    expect(dayOverDayNoise(marked, T0 + 48 * HOUR)).toBeCloseTo(1.4826 * 0.15, 9); // 8 pairs left
    marked[24 + 7] = [T0 + 31 * HOUR, 0.45, 1];
    expect(dayOverDayNoise(marked, T0 + 48 * HOUR)).toBeUndefined(); // 7 pairs: too few
  });

  it('week ago: the hour containing t − 7 d, whether or not a drop was reported then', () => {
    const at = weekAgo([
      [T0, 0.4, 0],
      [T0 + HOUR, 0.7, 1],
    ]);
    expect(at(T0 + 7 * DAY + 30 * MIN)).toBe(0.4);
    expect(at(T0 + 7 * DAY + HOUR + 5 * MIN)).toBe(0.7);
    expect(at(T0 + 7 * DAY + 2 * HOUR)).toBeUndefined();
  });
});
