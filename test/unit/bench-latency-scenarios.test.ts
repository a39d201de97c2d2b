import { describe, expect, it } from 'vitest';
import { latencyScenario, SHAPE_OF, SHAPES } from '../../bench/lib/latency-scenarios';
import { FAULT_KINDS } from '../../lambdas/sim/scenario';

describe('latency scenarios', () => {
  it.each(FAULT_KINDS)('%s: one fault of the kind, after the warm-up, within the hour after it', (kind) => {
    const shape = SHAPES[SHAPE_OF[kind]];
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

  it('is deterministic per seed index and differs between seeds', () => {
    expect(latencyScenario('xid', 3)).toEqual(latencyScenario('xid', 3));
    const onsets = new Set(Array.from({ length: 10 }, (_, i) => latencyScenario('xid', i).faults[0]?.atMs));
    expect(onsets.size).toBeGreaterThan(3);
  });
});
