import { MINUTE_MS } from '../../time';
import type { CounterReading, Episode } from './state';

export interface CounterChange {
  /** Errors counted between the first and the last reading. */
  readonly increase: number;
  readonly spanMs: number;
  readonly first: CounterReading;
  readonly last: CounterReading;
}

/**
 * Increase of a volatile counter over time-ordered readings (the previous run's last reading
 * first, if any). A drop is a reset (driver reload, GPU reset), not an error: as in Prometheus'
 * increase(), the count restarts from zero, so the reading after the drop is what accrued since.
 */
export function counterChange(readings: readonly CounterReading[]): CounterChange | undefined {
  const first = readings[0];
  const last = readings[readings.length - 1];
  if (first === undefined || last === undefined) return undefined;
  let increase = 0;
  for (let i = 1; i < readings.length; i++) {
    const a = (readings[i - 1] as CounterReading).v;
    const b = (readings[i] as CounterReading).v;
    increase += b >= a ? b - a : b;
  }
  return { increase, spanMs: last.t - first.t, first, last };
}

/**
 * Advances a run of consecutive affected minutes by one sample minute. A missing minute (up to
 * maxGapMs) does not break the run; an unaffected minute ends it.
 *
 *   minute   t0  t1  t2  (gap)  t4  t5  ok
 *   episode  s ─────────────────── l    ─ (ended)
 */
export function advanceEpisode(
  ep: Episode | undefined,
  time: number,
  affected: boolean,
  maxGapMs: number,
): Episode | undefined {
  if (!affected) return undefined;
  if (ep !== undefined && time - ep.l <= maxGapMs) return { ...ep, l: Math.max(ep.l, time) };
  return { s: time, l: time, r: false };
}

/** Each sample covers its whole minute, so a run from s to l lasts l − s + 1 minute. */
export function episodeDurationMs(ep: Episode): number {
  return ep.l - ep.s + MINUTE_MS;
}
