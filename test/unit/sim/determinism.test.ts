import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../lambdas/sim/rng';
import type { ScenarioInput } from '../../../lambdas/sim/scenario';
import { FleetSimulator } from '../../../lambdas/sim/simulator';
import { baseInput, HOUR, MIN, scenarioFrom } from './fixtures';

type Fault = NonNullable<ScenarioInput['faults']>[number];
const XID: Fault = {
  id: 'f1',
  kind: 'xid',
  at: '2026-09-14T01:00:00Z',
  target: { cluster: 'train-a', node: 3, gpu: 2 },
  params: { code: 79 },
};

/** Hash of every event and every GPU-minute of the last two hours of a 3-hour run. */
function fingerprint(input: ScenarioInput): { hash: string; jobNames: string[] } {
  const sim = new FleetSimulator(scenarioFrom(input));
  const h = createHash('sha256');
  const jobNames: string[] = [];
  while (!sim.done) {
    for (const e of sim.step().events) {
      h.update(JSON.stringify(e));
      if (e.detail.SecondaryStatus === 'Starting') jobNames.push(e.detail.TrainingJobName);
    }
  }
  for (let g = 0; g < sim.fleet.gpuCount; g++) {
    for (let t = sim.nowMs - 2 * HOUR; t < sim.nowMs; t += MIN)
      h.update(JSON.stringify(sim.gpuValues(g, t) ?? null));
  }
  return { hash: h.digest('hex'), jobNames };
}

describe('determinism', () => {
  const input = baseInput({ duration: '3h', faults: [XID] });

  it('the same seed gives identical telemetry and events', () => {
    expect(fingerprint(input).hash).toBe(fingerprint(input).hash);
  });

  it('a different seed gives different ones', () => {
    expect(fingerprint({ ...input, seed: 43 }).hash).not.toBe(fingerprint(input).hash);
  });

  it('adding a fault does not reshuffle the workload: the same jobs arrive', () => {
    const withFault = fingerprint(input);
    const withMore = fingerprint({
      ...input,
      faults: [
        XID,
        {
          id: 'f2',
          kind: 'thermal_throttle',
          at: '2026-09-14T00:30:00Z',
          target: { cluster: 'train-b', node: 1 },
        },
      ],
    });
    expect(withMore.jobNames.length).toBeGreaterThan(20);
    expect(withMore.jobNames).toEqual(withFault.jobNames);
    expect(withMore.hash).not.toBe(withFault.hash);
  });
});

describe('Rng', () => {
  it('forks independent streams by name, not by position', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    b.next();
    b.next();
    expect(a.fork('job:1').next()).toBe(b.fork('job:1').next());
    expect(a.fork('job:1').next()).not.toBe(a.fork('job:2').next());
  });

  it('draws uniform, normal and poisson values with the right moments', () => {
    const r = new Rng(1);
    const n = 20_000;
    let u = 0;
    let z = 0;
    let z2 = 0;
    let p = 0;
    for (let i = 0; i < n; i++) {
      u += r.next();
      const x = r.normal();
      z += x;
      z2 += x * x;
      p += r.poisson(4);
    }
    expect(u / n).toBeCloseTo(0.5, 1);
    expect(z / n).toBeCloseTo(0, 1);
    expect(z2 / n).toBeCloseTo(1, 1);
    expect(p / n).toBeCloseTo(4, 1);
  });
});
