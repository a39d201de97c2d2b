import { robustZ } from './robust';
import type { TimedValue } from './seasonal-baseline';

/**
 * Change detectors for sustained shifts (step time up, throughput down, fleet utilisation down).
 * Inputs are robust z-scores (value minus baseline median, over baseline MAD), so one set of
 * parameters works for any signal. States are plain objects: read, stepped, written back.
 */

// -------------------------------------------------------------------------------------------------
// CUSUM (Page's two-sided cumulative sum)
//
//   S+ = max(0, S+ + min(z, clip) - k)     alarm 'up'   when S+ > h
//   S- = max(0, S- - max(z, -clip) - k)    alarm 'down' when S- > h
//
// k is half the smallest shift worth catching (in sigmas); h trades detection delay for false
// alarms. Clipping z means one wild outlier adds at most clip - k, so spikes do not look like steps.

export interface CusumParams {
  /** Allowance (drift), in sigmas. @default 0.5 - tuned to catch shifts of about 1 sigma */
  readonly k: number;
  /** Decision threshold. @default 10 - about 65,000 points between false alarms on normal noise (simulated) */
  readonly h: number;
  /** Each z is clipped to ±clip before it is added. @default 4 */
  readonly clip: number;
}

export const DEFAULT_CUSUM: CusumParams = { k: 0.5, h: 10, clip: 4 };

export interface CusumState {
  readonly pos: number;
  readonly neg: number;
  /** Steps since the last reset. */
  readonly n: number;
}

export type ShiftDirection = 'up' | 'down';

export const initialCusum = (): CusumState => ({ pos: 0, neg: 0, n: 0 });

export function cusumStep(
  state: CusumState,
  z: number,
  params: CusumParams = DEFAULT_CUSUM,
): { state: CusumState; alarm?: ShiftDirection } {
  if (Number.isNaN(z)) return { state };
  const x = Math.max(-params.clip, Math.min(params.clip, z));
  const pos = Math.max(0, state.pos + x - params.k);
  const neg = Math.max(0, state.neg - x - params.k);
  // After an alarm the sums restart, so one shift raises one alarm.
  if (pos > params.h) return { state: initialCusum(), alarm: 'up' };
  if (neg > params.h) return { state: initialCusum(), alarm: 'down' };
  return { state: { pos, neg, n: state.n + 1 } };
}

/** CUSUM step on a raw value, standardised against a robust reference (median, scaled MAD). */
export function cusumStepRaw(
  state: CusumState,
  value: number,
  reference: { readonly median: number; readonly mad: number },
  params: CusumParams = DEFAULT_CUSUM,
): { state: CusumState; alarm?: ShiftDirection } {
  const floor = 1e-9 * Math.max(1, Math.abs(reference.median));
  return cusumStep(state, robustZ(value, reference.median, reference.mad, floor), params);
}

// -------------------------------------------------------------------------------------------------
// EWMA control chart
//
//   e_t = lambda * z_t + (1 - lambda) * e_{t-1}
//   alarm when |e_t| > L * sqrt(lambda / (2 - lambda) * (1 - (1 - lambda)^(2t)))
//
// Smoother than CUSUM for small persistent drifts; the exact (time-varying) limit avoids a burst
// of alarms at start-up.

export interface EwmaParams {
  /** Weight of the newest point. @default 0.1 */
  readonly lambda: number;
  /**
   * Width of the control limit in sigmas of the EWMA. @default 4 - with lambda 0.1: about 28,000
   * points between false alarms on normal noise, a 1-sigma shift caught in about 19 (simulated)
   */
  readonly L: number;
}

export const DEFAULT_EWMA: EwmaParams = { lambda: 0.1, L: 4 };

export interface EwmaState {
  readonly value: number;
  readonly n: number;
}

export const initialEwma = (): EwmaState => ({ value: 0, n: 0 });

export function ewmaLimit(n: number, params: EwmaParams = DEFAULT_EWMA): number {
  const { lambda, L } = params;
  return L * Math.sqrt((lambda / (2 - lambda)) * (1 - (1 - lambda) ** (2 * n)));
}

export function ewmaStep(
  state: EwmaState,
  z: number,
  params: EwmaParams = DEFAULT_EWMA,
): { state: EwmaState; alarm?: ShiftDirection } {
  if (Number.isNaN(z)) return { state };
  const value = params.lambda * z + (1 - params.lambda) * state.value;
  const n = state.n + 1;
  const limit = ewmaLimit(n, params);
  if (value > limit) return { state: initialEwma(), alarm: 'up' };
  if (value < -limit) return { state: initialEwma(), alarm: 'down' };
  return { state: { value, n } };
}

// -------------------------------------------------------------------------------------------------
// Fleet-level relative drop: "fleet utilisation is 8 % below its baseline over the last 24 h".
//
//   |<------------- windowMs ------------->|
//   start                                  endMs      drop = 1 - sum(actual) / sum(expected)
//
// Sums rather than a mean of ratios, so hours with a tiny expected value cannot dominate.

export interface RelativeDropParams {
  /** @default 24 h */
  readonly windowMs: number;
  /** Alarm when actual is at least this fraction below expected. @default 0.08 */
  readonly dropFraction: number;
  /** Share of the window's expected points that must be present (with a baseline). @default 0.8 */
  readonly minCoverage: number;
  /** Point spacing, to know how many points a full window has. */
  readonly cadenceMs: number;
}

export interface RelativeDropResult {
  /** 1 - actual/expected: 0.1 means 10 % below the baseline; negative means above it. */
  readonly drop: number;
  readonly actual: number;
  readonly expected: number;
  readonly coverage: number;
  readonly window: { readonly startMs: number; readonly endMs: number };
  readonly fired: boolean;
}

export function relativeDrop(
  points: readonly TimedValue[],
  expected: (t: number) => number | undefined,
  endMs: number,
  params: Partial<RelativeDropParams> & Pick<RelativeDropParams, 'cadenceMs'>,
): RelativeDropResult | undefined {
  const windowMs = params.windowMs ?? 86_400_000;
  const dropFraction = params.dropFraction ?? 0.08;
  const minCoverage = params.minCoverage ?? 0.8;
  const startMs = endMs - windowMs;
  let actual = 0;
  let base = 0;
  let used = 0;
  for (const p of points) {
    if (p.t <= startMs || p.t > endMs || !Number.isFinite(p.v)) continue;
    const e = expected(p.t);
    if (e === undefined || !Number.isFinite(e)) continue;
    actual += p.v;
    base += e;
    used++;
  }
  const coverage = used / Math.max(1, Math.round(windowMs / params.cadenceMs));
  if (used === 0 || !(base > 0)) return undefined;
  const drop = 1 - actual / base;
  return {
    drop,
    actual,
    expected: base,
    coverage,
    window: { startMs, endMs },
    // The tolerance keeps an exact 8.0 % drop from missing an 8 % threshold by float rounding.
    fired: coverage >= minCoverage && drop >= dropFraction - 1e-12,
  };
}
