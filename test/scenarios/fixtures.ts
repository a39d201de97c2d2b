import type { ScenarioInput } from '../../lambdas/sim/scenario';

/** Short scenarios for the runner tests: a small fleet, a few hours, faults after a warm-up hour. */
export const START = '2026-09-15T00:00:00Z';
export const at = (minutes: number): string =>
  new Date(Date.parse(START) + minutes * 60_000).toISOString().replace('.000Z', 'Z');

export function shortScenario(overrides: Partial<ScenarioInput> = {}): ScenarioInput {
  return {
    name: 'runner-test',
    seed: 7,
    start: START,
    duration: '3h',
    tick: '1m',
    fleet: [
      { cluster: 'train-a', region: 'us-east-1', instanceType: 'p5.48xlarge', nodes: 4, gpusPerNode: 8 },
      { cluster: 'train-b', region: 'us-west-2', instanceType: 'p4d.24xlarge', nodes: 2, gpusPerNode: 8 },
    ],
    workload: { jobsPerDay: 400, mix: { interactive: 0.5, batch: 0.49, distributed: 0.01 }, seasonal: [] },
    maintenance: [],
    faults: [],
    ...overrides,
  };
}

/** Three fault kinds on separate targets, and an Xid inside a maintenance window. */
export const FAULTS_SCENARIO = shortScenario({
  maintenance: [{ scope: { cluster: 'train-a', node: 3 }, start: at(120), duration: '45m' }],
  faults: [
    {
      id: 'xid79',
      kind: 'xid',
      at: at(60),
      target: { cluster: 'train-a', node: 1, gpu: 3 },
      params: { code: 79 },
    },
    {
      id: 'hot',
      kind: 'thermal_throttle',
      at: at(70),
      target: { cluster: 'train-b', node: 0 },
      duration: '40m',
    },
    {
      id: 'stall',
      kind: 'job_stall',
      at: at(80),
      target: { cluster: 'train-a', job: 'running-batch' },
      duration: '60m',
    },
    {
      id: 'xid-in-maintenance',
      kind: 'xid',
      at: at(130),
      target: { cluster: 'train-a', node: 3, gpu: 0 },
      params: { code: 79 },
      duration: '10m',
    },
  ],
});
