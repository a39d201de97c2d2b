import { DAY_MS, HOUR_MS, MINUTE_MS } from '../time';
import { median } from './robust';

/**
 * A scope's utilisation by clock hour over the last eight days, for the fleet-drop detector
 * (regressions.ts) to judge a drop against what that scope's days and weeks ordinarily do:
 *
 *   hours = [[hourStartMs, mean utilisation, 1 if folded while a drop was open else 0], ...]
 *
 * Why. A cluster whose load is a handful of multi-node jobs (a 2- to 8-node job on a 27-node
 * cluster moves its utilisation by up to 30 % for hours) differs from yesterday by 20–50 % at
 * the same hour on an ordinary day, while its hour-to-hour residual stays near 5 %: the minute
 * points (25 h) can only measure the latter. Measured on a simulated 216-GPU cluster without
 * faults, the hour-to-hour gate let 116 of 564 hourly windows through as drops. Hourly means for
 * eight days are small (192 numbers per scope) and give both:
 *   - day-over-day noise: the relative change of each of the last 24 hours against the same
 *     hour a day earlier, sigma = 1.4826 × median |change| (hours folded while a drop was open,
 *     on either day, are left out: the drop itself is not ordinary variation);
 *   - the same hour a week earlier: weekly rhythms (quiet weekends, a Friday retrain) make
 *     "24 h earlier" the wrong yardstick on some days; a drop must also hold against last week.
 *     A drop that recurs at the same hour every week is then not reported after its first week.
 */

export type HourEntry = [hourStartMs: number, mean: number, duringDrop: 0 | 1];

/** Hours kept: eight days (a week back from the oldest hour judged). */
export const FLEET_HOURS_MS = 8 * DAY_MS;
/** Minutes an hour needs to be folded; fewer (collection gaps, maintenance) and it is skipped. */
const MIN_HOUR_MINUTES = 48;
/** Day-over-day changes needed before the day noise is trusted. */
const MIN_DAY_CHANGES = 8;

/**
 * Appends every clock hour that completed by `lastMinuteMs` and is not folded yet (the hours
 * after the newest folded one), from minute points; drops hours older than FLEET_HOURS_MS.
 */
export function foldHours(
  hours: readonly HourEntry[],
  points: ReadonlyMap<number, number>,
  lastMinuteMs: number,
  duringDrop: boolean,
): HourEntry[] {
  const out = hours.filter(([h]) => h > lastMinuteMs - FLEET_HOURS_MS);
  const newest = out[out.length - 1]?.[0];
  let h: number;
  if (newest !== undefined) h = newest + HOUR_MS;
  else {
    // First fold (or all hours aged out): start at the oldest point's hour.
    let first = Number.POSITIVE_INFINITY;
    for (const t of points.keys()) first = Math.min(first, t);
    if (!Number.isFinite(first)) return out;
    h = Math.floor(first / HOUR_MS) * HOUR_MS;
  }
  for (; h + HOUR_MS - MINUTE_MS <= lastMinuteMs; h += HOUR_MS) {
    let sum = 0;
    let n = 0;
    for (let t = h; t < h + HOUR_MS; t += MINUTE_MS) {
      const v = points.get(t);
      if (v !== undefined && Number.isFinite(v)) {
        sum += v;
        n++;
      }
    }
    if (n >= MIN_HOUR_MINUTES) out.push([h, sum / n, duringDrop ? 1 : 0]);
  }
  return out;
}

/**
 * Sigma of the day-over-day relative change of an hourly mean, from the last 24 folded hours
 * before `beforeMs`; undefined with fewer than MIN_DAY_CHANGES usable pairs.
 */
export function dayOverDayNoise(hours: readonly HourEntry[], beforeMs: number): number | undefined {
  const byStart = new Map(hours.map((e) => [e[0], e] as const));
  const changes: number[] = [];
  for (const [h, mean, drop] of hours) {
    if (h + HOUR_MS > beforeMs || h + HOUR_MS <= beforeMs - DAY_MS || drop === 1) continue;
    const y = byStart.get(h - DAY_MS);
    if (y === undefined || y[2] === 1 || !(y[1] > 0)) continue;
    changes.push(Math.abs(1 - mean / y[1]));
  }
  return changes.length < MIN_DAY_CHANGES ? undefined : 1.4826 * median(changes);
}

/**
 * The hourly mean a week before minute `t` (from the hour containing t − 7 d). Hours folded while
 * a drop was reported count too: last week's quiet weekend fired once (no week of history yet)
 * and is exactly the yardstick this weekend needs.
 */
export function weekAgo(hours: readonly HourEntry[]): (t: number) => number | undefined {
  const byStart = new Map(hours.map((e) => [e[0], e[1]] as const));
  return (t) => byStart.get(Math.floor((t - 7 * DAY_MS) / HOUR_MS) * HOUR_MS);
}
