import { describe, expect, it } from 'vitest';
import { latencyScenario } from '../../../bench/lib/latency-scenarios';
import { FleetSimulator } from '../../../lambdas/sim/simulator';
import type { SimJob } from '../../../lambdas/sim/workload';

/**
 * driver_regression as a real rollout behaves: a driver cannot change under running CUDA
 * processes, so the cohort's nodes are drained (their jobs stopped and resubmitted) and fill with
 * work on the new driver at once; a job the driver breaks fails at CUDA init or within its first
 * minutes of training, whatever its length.
 */

const MIN = 60_000;
const scenario = latencyScenario('driver_regression', 0);
const onset = scenario.faults[0]?.atMs ?? 0;
const NEW_DRIVER = '560.35.03';

function runTo(minutesAfterOnset: number): { sim: FleetSimulator; jobs: SimJob[] } {
  const sim = new FleetSimulator(scenario);
  sim.runUntil(onset + minutesAfterOnset * MIN);
  return { sim, jobs: [...sim.retainedJobs()] };
}

describe('driver_regression rollout', () => {
  it('drains the cohort nodes at onset: their running jobs are stopped and resubmitted', () => {
    const { sim, jobs } = runTo(1);
    const cohortNodes = new Set(sim.groundTruth()[0]?.labels.nodes ?? []);
    expect(cohortNodes.size).toBe(8);
    const drained = jobs.filter((j) =>
      j.transitions.some((t) => t.message?.includes('drained for a GPU driver')),
    );
    expect(drained.length).toBeGreaterThan(0);
    for (const j of drained) {
      expect(j.status).toBe('Stopped');
      expect(j.endMs).toBe(onset);
    }
    // As many jobs were submitted at onset as were drained (the resubmissions), besides arrivals.
    const submittedAtOnset = jobs.filter((j) => j.createdMs === onset);
    expect(submittedAtOnset.length).toBeGreaterThanOrEqual(drained.length);
    // Nothing still runs on a cohort node with the old driver.
    const hostOf = (n: number) => sim.fleet.nodes[n]?.hostname ?? '';
    const oldOnCohort = sim
      .activeJobs()
      .filter((j) => j.endMs === undefined && j.nodes.some((n) => cohortNodes.has(hostOf(n))))
      .filter((j) => j.placedMs !== undefined && j.driverVersion !== NEW_DRIVER);
    expect(oldOnCohort).toEqual([]);
  });

  it('fails broken jobs at CUDA init or within 8 minutes of training, not at a share of their length', () => {
    const { jobs } = runTo(60);
    const failed = jobs.filter((j) => j.driverVersion === NEW_DRIVER && j.status === 'Failed');
    expect(failed.length).toBeGreaterThan(5);
    for (const j of failed) {
      expect(j.trainingStartMs).toBeDefined();
      const after = (j.endMs ?? 0) - (j.trainingStartMs ?? 0);
      expect(after).toBeGreaterThanOrEqual(0);
      expect(after).toBeLessThanOrEqual(9 * MIN);
      expect(j.failureReason).toMatch(/CUDA error: (initialization error|an illegal memory access)/);
    }
    // Both modes occur: at init (the first training minute) and a few minutes in.
    const atInit = failed.filter((j) => (j.endMs ?? 0) - (j.trainingStartMs ?? 0) <= MIN);
    expect(atInit.length).toBeGreaterThan(0);
    expect(atInit.length).toBeLessThan(failed.length);
  });
});
