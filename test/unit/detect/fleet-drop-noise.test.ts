import { describe, expect, it } from 'vitest';
import { emptyDetectionState, type FleetState } from '../../../lambdas/core/detect/detection-state';
import { detectFleetDrop, FLEET_DROP_KIND, fleetDropNoise } from '../../../lambdas/core/detect/regressions';
import { DAY, fleetDropSettings, gpuMinutes, HOUR, MIN } from './fleet-drop-fixtures';

/**
 * Issue 3/5 (fleet_utilisation_drop): a drop is judged against the scope's own day-to-day noise,
 * so a small fleet's ordinary hour-to-hour swings do not fire, while a sustained cut fires and is
 * reported on every run while it lasts (clean runs start only after it ends).
 */
const T0 = Date.UTC(2026, 8, 15);

function run(fleet: FleetState, fromMs: number, toMs: number, util: (t: number) => number) {
  return detectFleetDrop({
    samples: gpuMinutes(fromMs, toMs, util),
    fleet,
    nowMs: toMs,
    windowEndMs: toMs,
    settings: fleetDropSettings,
  });
}

/** A smooth diurnal curve (large fleet): 0.6 ± 0.2 over the day. */
const diurnal = (t: number) => 0.6 + 0.2 * Math.sin((2 * Math.PI * (t - T0)) / DAY);

/** Hourly levels of a 4-node fleet: each hour a fixed pseudo-random level between 0.1 and 0.55. */
const hourly = [
  0.3, 0.18, 0.45, 0.22, 0.5, 0.12, 0.35, 0.27, 0.52, 0.15, 0.4, 0.2, 0.33, 0.48, 0.14, 0.29, 0.55, 0.19,
  0.38, 0.24, 0.47, 0.11, 0.31, 0.43, 0.2, 0.36,
];
const choppy = (t: number) => hourly[Math.floor((t - T0) / HOUR) % hourly.length] ?? 0.3;

describe('fleet utilisation drop: judged against the scope’s own day-to-day noise', () => {
  it('a small fleet’s ordinary hour-to-hour swing is not a drop, though it is over the 8 % threshold', () => {
    // At 25 h the judged hour (hourly[24] = 0.2) sits 33 % below the same hour yesterday (0.3).
    const r = run(emptyDetectionState().fleet, T0, T0 + 25 * HOUR, choppy);
    expect(r.result?.drop).toBeGreaterThan(0.3);
    expect(r.result?.noise).toBeGreaterThan(0.15);
    expect(r.result?.fired).toBe(false);
    expect(r.findings).toEqual([]);
  });

  it('a smooth fleet’s noise is small, so a 10 % fleet-wide drop still fires at the 8 % threshold', () => {
    const r = run(emptyDetectionState().fleet, T0, T0 + 25 * HOUR, (t) =>
      t >= T0 + 24 * HOUR ? 0.9 * diurnal(t) : diurnal(t),
    );
    expect(r.result?.noise).toBeLessThan(0.02);
    expect(r.findings.map((f) => f.kind)).toEqual([FLEET_DROP_KIND]);
    expect(r.findings[0]?.evidence.values?.noiseSigma).toBeLessThan(0.02);
  });

  it('a sustained 60 % cut fires on every run while it lasts, and stops once it has cleared', () => {
    const cutFrom = T0 + 24 * HOUR;
    const cutUntil = T0 + 26 * HOUR;
    const util = (t: number) => (t >= cutFrom && t < cutUntil ? 0.4 * diurnal(t) : diurnal(t));
    let state = run(emptyDetectionState().fleet, T0, cutFrom + HOUR, util);
    const perRun = [state.findings.length];
    for (let t = cutFrom + HOUR; t < cutUntil; t += 5 * MIN) {
      state = run(state.fleet, t, t + 5 * MIN, util);
      perRun.push(state.findings.length);
    }
    // 1 h into the cut, then every 5 min until the cut ends: a finding each run.
    expect(perRun).toEqual(Array.from({ length: 13 }, () => 1));
    // Once the judged hour is past the cut, nothing fires and the scope is no longer open.
    const after = run(state.fleet, cutUntil, cutUntil + HOUR, util);
    expect(after.findings).toEqual([]);
    expect(after.fleet.scopes?.['us-east-1|a']?.dropOpen).toBe(false);
  });

  it('with too few windows of history there is no noise estimate (the threshold alone judges)', () => {
    const pts = Array.from({ length: 5 * 60 }, (_, i) => [T0 + i * MIN, 0.5] as const);
    expect(fleetDropNoise(pts, T0 + 5 * HOUR, HOUR)).toBeUndefined();
  });
});
