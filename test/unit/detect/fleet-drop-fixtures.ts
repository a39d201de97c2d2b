import { DEFAULT_CUSUM } from '../../../lambdas/core/detect/change-detection';
import type { RegressionSettings } from '../../../lambdas/core/detect/regressions';
import type { GpuSample } from '../../../lambdas/core/model';

/** Shared by the fleet-drop tests: time units, the detector settings, one GPU's minutes. */
export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

export const fleetDropSettings: RegressionSettings = {
  cusum: DEFAULT_CUSUM,
  relativeMadFloor: 0.05,
  minGlobalSlices: 24,
  fleetDropThreshold: 0.08,
  fleetDropWindowMs: HOUR,
};

/** One GPU sample per minute in cluster `a` at `util(t)`. */
export function gpuMinutes(fromMs: number, toMs: number, util: (t: number) => number): GpuSample[] {
  const out: GpuSample[] = [];
  for (let t = fromMs; t < toMs; t += MIN)
    out.push({
      time: t,
      labels: { cluster: 'a', region: 'us-east-1', instanceType: 'p5.48xlarge', node: 'a-n1', gpu: '0' },
      values: { sm_active: util(t) },
    });
  return out;
}
