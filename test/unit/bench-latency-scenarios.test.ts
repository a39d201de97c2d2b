import { describe, expect, it } from 'vitest';
import { latencyScenario, SHAPE_OF, SHAPES, shapeFor } from '../../bench/lib/latency-scenarios';
import { FAULT_KINDS } from '../../lambdas/sim/scenario';

describe('latency scenarios', () => {
  it.each(FAULT_KINDS)('%s: one fault of the kind, after the warm-up, within the hour after it', (kind) => {
    const shape = shapeFor(kind);
    for (const seedIndex of [0, 1, 7]) {
      const s = latencyScenario(kind, seedIndex);
      expect(s.faults).toHaveLength(1);
      const f = s.faults[0];
      expect(f?.kind).toBe(kind);
      const onsetMin = ((f?.atMs ?? 0) - s.startMs) / 60_000;
      expect(onsetMin).toBeGreaterThanOrEqual(shape.warmUpMinutes);
      expect(onsetMin).toBeLessThan(shape.warmUpMinutes + 60);
      expect(s.durationMs).toBe(shape.runMinutes * 60_000);
    }
  });

  it('gives only fleet_utilisation_drop a day more of warm-up: it compares with 24 h earlier', () => {
    for (const kind of FAULT_KINDS) {
      const base = SHAPES[SHAPE_OF[kind]];
      const shape = shapeFor(kind);
      const extra = kind === 'fleet_utilisation_drop' ? 24 * 60 : 0;
      expect(shape.warmUpMinutes - base.warmUpMinutes).toBe(extra);
      expect(shape.runMinutes - base.runMinutes).toBe(extra);
    }
    // Every onset has the same minutes a day earlier behind it, plus the detector's hour window.
    const drop = latencyScenario('fleet_utilisation_drop', 0);
    expect((drop.faults[0]?.atMs ?? 0) - drop.startMs).toBeGreaterThanOrEqual((24 + 1) * 3_600_000);
  });

  it('takes a replacement shape (tests shrink fleets) without moving the fault', () => {
    const base = latencyScenario('fleet_utilisation_drop', 2);
    const small = latencyScenario('fleet_utilisation_drop', 2, {
      ...shapeFor('fleet_utilisation_drop'),
      jobsPerDay: 400,
    });
    expect(small.workload.jobsPerDay).toBe(400);
    expect(small.faults).toEqual(base.faults);
  });

  it('is deterministic per seed index and differs between seeds', () => {
    expect(latencyScenario('xid', 3)).toEqual(latencyScenario('xid', 3));
    const onsets = new Set(Array.from({ length: 10 }, (_, i) => latencyScenario('xid', i).faults[0]?.atMs));
    expect(onsets.size).toBeGreaterThan(3);
  });
});
