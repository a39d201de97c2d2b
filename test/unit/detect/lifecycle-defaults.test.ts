import { describe, expect, it } from 'vitest';
import { incidentsConfigSchema } from '../../../lambdas/contracts/incidents-config';
import { groupWaitMsOf, policyFor } from '../../../lambdas/core/incidents/lifecycle';

/**
 * Default lifecycle rules for the detection kinds the latency benchmark showed late: a power-capped
 * node's GPUs are all reported by one run (no sibling arrives later, so the group wait only delays
 * the ticket by a run), and a cohort failure spike carries its own statistical gates.
 */

const cfg = incidentsConfigSchema.parse({ groupWaitSeconds: 60, openAfter: 2, ofRuns: 3 });

describe('default lifecycle of the detection kinds', () => {
  it.each(['gpu.throttle.power', 'gpu.throttle.hw_slowdown', 'gpu.throttle.thermal'])(
    '%s opens on its first sighting without a group wait',
    (kind) => {
      expect(policyFor(kind, cfg)).toMatchObject({ openAfter: 1, ofRuns: 1, resolve: 'explicit' });
      expect(groupWaitMsOf(cfg, kind)).toBe(0);
    },
  );

  it('other GPU rate findings still wait for siblings', () => {
    expect(groupWaitMsOf(cfg, 'gpu.nvlink.error_rate')).toBe(60_000);
    expect(groupWaitMsOf(cfg, 'gpu.ecc.correctable_rate')).toBe(60_000);
  });

  it('efficiency.busy_not_working opens on its first sighting without a group wait (already sustained)', () => {
    expect(policyFor('efficiency.busy_not_working', cfg)).toMatchObject({ openAfter: 1, ofRuns: 1 });
    expect(groupWaitMsOf(cfg, 'efficiency.busy_not_working')).toBe(0);
    // Other efficiency kinds keep the defaults.
    expect(policyFor('efficiency.idle_allocation', cfg)).toMatchObject({ openAfter: 2, ofRuns: 3 });
  });

  it('software.cohort_failure_spike opens on its first sighting (its own gates are statistical)', () => {
    expect(policyFor('software.cohort_failure_spike', cfg)).toMatchObject({
      openAfter: 1,
      ofRuns: 1,
      resolve: 'clean-runs',
    });
  });

  it('scheduling kinds keep the configured M of N (a single late job in a busy hour is common)', () => {
    expect(policyFor('scheduling.sla_miss', cfg)).toMatchObject({ openAfter: 2, ofRuns: 3 });
    expect(policyFor('scheduling.start_latency_growth', cfg)).toMatchObject({ openAfter: 2, ofRuns: 3 });
  });
});
