import type { ScenarioInput } from '../../../lambdas/sim/scenario';
import { FleetSimulator } from '../../../lambdas/sim/simulator';
import { baseInput, HOUR, MIN, scenarioFrom } from './fixtures';

/** A run with a fault of every kind on separate targets (fault-signatures.test.ts). */
export const START = Date.parse('2026-09-14T00:00:00Z');
export const at = (minutes: number) => new Date(START + minutes * MIN).toISOString();

export type Fault = NonNullable<ScenarioInput['faults']>[number];
export const FAULTS: Fault[] = [
  { id: 'xid79', kind: 'xid', at: at(120), target: { cluster: 'hw', node: 0, gpu: 6 }, params: { code: 79 } },
  {
    id: 'xid13',
    kind: 'xid',
    at: at(120),
    target: { cluster: 'hw', node: 0, gpu: 1 },
    params: { code: 13 },
    duration: '20m',
  },
  {
    id: 'offbus',
    kind: 'gpu_fell_off_bus',
    at: at(120),
    target: { cluster: 'hw', node: 1, gpu: 3 },
    params: {},
  },
  { id: 'dbe', kind: 'ecc_dbe', at: at(120), target: { cluster: 'hw', node: 2, gpu: 0 }, params: {} },
  {
    id: 'sbe',
    kind: 'ecc_sbe_storm',
    at: at(120),
    target: { cluster: 'hw', node: 2, gpu: 5 },
    params: { ratePerMinute: 100 },
    duration: '30m',
  },
  {
    id: 'hot',
    kind: 'thermal_throttle',
    at: at(120),
    target: { cluster: 'hw', node: 3 },
    params: {},
    duration: '30m',
  },
  {
    id: 'cap',
    kind: 'power_cap',
    at: at(120),
    target: { cluster: 'hw', node: 4 },
    params: { capWatts: 300 },
    duration: '30m',
  },
  {
    id: 'gaming',
    kind: 'gaming_dummy_load',
    at: at(60),
    target: { cluster: 'hw', node: 5, gpu: 2 },
    params: {},
  },
  {
    id: 'stall',
    kind: 'job_stall',
    at: at(150),
    target: { cluster: 'jobs', job: 'running-distributed' },
    duration: '40m',
  },
  {
    id: 'idle',
    kind: 'job_idle',
    at: at(150),
    target: { cluster: 'jobs', job: 'running-batch' },
    duration: '40m',
  },
  {
    id: 'ckpt',
    kind: 'checkpoint_stall',
    at: at(150),
    target: { cluster: 'jobs', job: 'running' },
    duration: '90m',
  },
  {
    id: 'loader',
    kind: 'dataloader_bottleneck',
    at: at(150),
    target: { cluster: 'jobs', job: 'running-batch' },
    params: { slowdown: 4 },
    duration: '40m',
  },
  {
    id: 'net',
    kind: 'network_degradation',
    at: at(150),
    target: { cluster: 'jobs', job: 'running-distributed' },
    duration: '40m',
  },
  {
    id: 'driver',
    kind: 'driver_regression',
    at: at(60),
    target: { cluster: 'cohort', fraction: 0.5 },
    params: { driverVersion: '560.35.03', failureRate: 0.9 },
  },
  {
    id: 'queue',
    kind: 'scheduler_contention',
    at: at(200),
    target: { cluster: 'cohort' },
    params: { extraQueueMinutes: 25 },
    duration: '40m',
  },
  {
    id: 'drop',
    kind: 'fleet_utilisation_drop',
    at: at(60),
    target: { cluster: 'hw' },
    params: { drop: 0.5 },
    duration: '3h',
  },
  {
    id: 'drift',
    kind: 'model_drift',
    at: at(180),
    target: { endpoint: 'ranker-prod' },
    params: { shift: 2 },
  },
];

export function runSignatureScenario(): FleetSimulator {
  const scenario = scenarioFrom(
    baseInput({
      duration: '5h',
      fleet: [
        { cluster: 'hw', region: 'us-east-1', instanceType: 'p5.48xlarge', nodes: 6, gpusPerNode: 8 },
        { cluster: 'jobs', region: 'us-east-1', instanceType: 'p5.48xlarge', nodes: 24, gpusPerNode: 8 },
        { cluster: 'cohort', region: 'us-west-2', instanceType: 'p4d.24xlarge', nodes: 8, gpusPerNode: 8 },
      ],
      workload: { jobsPerDay: 3000, mix: { interactive: 0.55, batch: 0.4, distributed: 0.05 } },
      faults: FAULTS,
    }),
  );
  const sim = new FleetSimulator(scenario, { retentionMs: 6 * HOUR, jobRetentionMs: 6 * HOUR });
  while (!sim.done) sim.step();
  return sim;
}
