import { describe, it } from 'vitest';
import { byKinds, expectDetectedAndRouted, PARTS } from './fault-kinds-cases';

/**
 * Every fault kind is detected and routed (issue 5), part "jobs": faults of one running training job.
 * One seeded latency scenario per kind on the memory backend (fault-kinds-cases.ts says what is
 * asserted; PARTS splits FAULT_KINDS in three so that vitest runs the parts in parallel).
 */
describe('fault kinds: faults of one running training job', () => {
  it.each(byKinds(PARTS.jobs))(
    '$kind is detected and routed as $cause / $severity, with no false or duplicate notification',
    async (e) => expectDetectedAndRouted(e),
    180_000,
  );
});
