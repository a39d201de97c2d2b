import { describe, it } from 'vitest';
import { byKinds, expectDetectedAndRouted, PARTS } from './fault-kinds-cases';

/**
 * Every fault kind is detected and routed (issue 5), part "fleet": cohort, scheduler and fleet-wide faults
 * (the fleet drop runs 26 h of warm-up).
 * One seeded latency scenario per kind on the memory backend (fault-kinds-cases.ts says what is
 * asserted; PARTS splits FAULT_KINDS in three so that vitest runs the parts in parallel).
 */
describe('fault kinds: cohort, scheduler and fleet-wide faults (the fleet drop runs 26 h of warm-up)', () => {
  it.each(byKinds(PARTS.fleet))(
    '$kind is detected and routed as $cause / $severity, with no false or duplicate notification',
    async (e) => expectDetectedAndRouted(e),
    180_000,
  );
});
