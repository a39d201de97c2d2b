import { describe, expect, it } from 'vitest';
import { FAULT_KINDS } from '../../lambdas/sim/scenario';
import { byKinds, expectDetectedAndRouted, PARTS } from './fault-kinds-cases';

/**
 * Every fault kind is detected and routed (issue 5), part "hardware": hardware faults on a 4-node fleet,
 * and model drift on an endpoint.
 * One seeded latency scenario per kind on the memory backend (fault-kinds-cases.ts says what is
 * asserted; PARTS splits FAULT_KINDS in three so that vitest runs the parts in parallel).
 */
describe('fault kinds: hardware faults on a 4-node fleet, and model drift on an endpoint', () => {
  it.each(byKinds(PARTS.hardware))(
    '$kind is detected and routed as $cause / $severity, with no false or duplicate notification',
    async (e) => expectDetectedAndRouted(e),
    180_000,
  );
});

describe('fault kinds: the parts', () => {
  it('cover every kind in FAULT_KINDS exactly once', () => {
    const all = [...PARTS.hardware, ...PARTS.jobs, ...PARTS.fleet];
    expect([...all].sort()).toEqual([...FAULT_KINDS].sort());
    expect(new Set(all).size).toBe(all.length);
  });
});
