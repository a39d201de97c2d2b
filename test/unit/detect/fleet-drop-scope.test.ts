import { describe, expect, it } from 'vitest';
import { DEFAULT_CUSUM } from '../../../lambdas/core/detect/change-detection';
import { emptyDetectionState } from '../../../lambdas/core/detect/detection-state';
import { detectFleetDrop, FLEET_DROP_KIND } from '../../../lambdas/core/detect/regressions';
import type { GpuSample } from '../../../lambdas/core/model';

/**
 * Issue 5 (fleet_utilisation_drop): the drop is found per cluster too and reported at the
 * narrowest scope that explains it, once: a cluster's own drop is labelled with the cluster, a
 * drop of every cluster is one fleet-wide finding, never both.
 */
const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const T0 = Date.UTC(2026, 8, 15);
const WINDOW = 30 * MIN;
const settings = {
  cusum: DEFAULT_CUSUM,
  relativeMadFloor: 0.05,
  minGlobalSlices: 24,
  fleetDropThreshold: 0.2,
  fleetDropWindowMs: WINDOW,
};
const CLUSTERS = ['a', 'b', 'c'] as const;

/** One sample per GPU-minute: 2 GPUs per cluster at `util(cluster)` sm_active. */
function minutes(fromMs: number, toMs: number, util: (cluster: string) => number): GpuSample[] {
  const out: GpuSample[] = [];
  for (let t = fromMs; t < toMs; t += MIN)
    for (const cluster of CLUSTERS)
      for (const gpu of ['0', '1'])
        out.push({
          time: t,
          labels: { cluster, region: 'us-east-1', instanceType: 'p5.48xlarge', node: `${cluster}-n1`, gpu },
          values: { sm_active: util(cluster) },
        });
  return out;
}

/** Yesterday at 0.8 everywhere, then today's window with `util`; returns today's result. */
function runToday(util: (cluster: string) => number) {
  const yesterday = detectFleetDrop({
    samples: minutes(T0, T0 + WINDOW, () => 0.8),
    fleet: emptyDetectionState().fleet,
    nowMs: T0 + WINDOW,
    windowEndMs: T0 + WINDOW,
    settings,
  });
  return detectFleetDrop({
    samples: minutes(T0 + DAY, T0 + DAY + WINDOW, util),
    fleet: yesterday.fleet,
    nowMs: T0 + DAY + WINDOW,
    windowEndMs: T0 + DAY + WINDOW,
    settings,
  });
}

describe('fleet utilisation drop: per cluster, narrowest scope, once', () => {
  it('a drop in one cluster is one finding labelled with that cluster and region', () => {
    const r = runToday((c) => (c === 'b' ? 0.2 : 0.8));
    expect(r.findings.map((f) => [f.kind, f.labels])).toEqual([
      [FLEET_DROP_KIND, { cluster: 'b', region: 'us-east-1' }],
    ]);
    expect(r.findings[0]?.title).toContain('Cluster b');
    expect(r.fleet.scopes?.['us-east-1|b']?.dropOpen).toBe(true);
    expect(r.fleet.scopes?.['us-east-1|a']?.dropOpen).toBe(false);
  });

  it('a drop of every cluster is one fleet-wide finding with no labels, not one per cluster', () => {
    const r = runToday(() => 0.2);
    expect(r.findings.map((f) => [f.kind, f.labels])).toEqual([[FLEET_DROP_KIND, {}]]);
    // The clusters are explained by it: marked open, so none reports on the next run.
    expect(Object.values(r.fleet.scopes ?? {}).every((s) => s.dropOpen)).toBe(true);
  });

  it('no drop, no finding; and a reported drop is reported again on every run while it lasts', () => {
    expect(runToday(() => 0.78).findings).toEqual([]);
    const first = runToday((c) => (c === 'b' ? 0.2 : 0.8));
    const again = detectFleetDrop({
      samples: minutes(T0 + DAY + WINDOW, T0 + DAY + WINDOW + 5 * MIN, (c) => (c === 'b' ? 0.2 : 0.8)),
      fleet: first.fleet,
      nowMs: T0 + DAY + WINDOW + 5 * MIN,
      windowEndMs: T0 + DAY + WINDOW + 5 * MIN,
      settings,
    });
    // Same scope, same labels: the open incident is refreshed, its clean-runs count does not start.
    expect(again.findings.map((f) => [f.kind, f.labels])).toEqual([
      [FLEET_DROP_KIND, { cluster: 'b', region: 'us-east-1' }],
    ]);
  });
});
