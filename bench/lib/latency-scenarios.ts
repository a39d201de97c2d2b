import { Rng } from '../../lambdas/sim/rng';
import {
  FAULT_KINDS,
  type FaultKind,
  type Scenario,
  type ScenarioInput,
  validateScenario,
} from '../../lambdas/sim/scenario';

/**
 * One small scenario per fault kind for the detection-latency benchmark: a quiet fleet, a warm-up
 * long enough for the detectors that need a baseline, then ONE fault of the kind at a seeded
 * random minute within the hour after the warm-up, and enough run after it to see a late
 * notification (the score matches notifications up to 30 minutes after the fault ends).
 *
 * Shapes (chosen here, documented in docs/benchmarks.md):
 *   hardware  (xid, ecc_dbe, ecc_sbe_storm, thermal_throttle, power_cap, gpu_fell_off_bus,
 *             gaming_dummy_load): 4 × p5.48xlarge, 400 jobs/day, 60 min warm-up, 3 h run;
 *             the node and GPU are seeded; xid picks a fatal code among 79, 48 and 95.
 *   job       (job_stall, job_idle, checkpoint_stall, dataloader_bottleneck): 8 × p5.48xlarge,
 *             600 jobs/day (60 % batch, no distributed, so that a batch job that has trained
 *             15 minutes exists at onset), 90 min warm-up, 4 h run; 60 min on a running batch job.
 *   network   (network_degradation): 16 × p5.48xlarge, 600 jobs/day with 10 % distributed, on a
 *             running distributed job; when none runs within 30 minutes the fault is
 *             'unresolved' and shown apart (it cannot be detected).
 *   cohort    (driver_regression, scheduler_contention): 16 × p5.48xlarge, 2,000 jobs/day,
 *             120 min warm-up (the cohort and queue-time baselines need history and job
 *             outcomes), 5 h run.
 *   fleet     (fleet_utilisation_drop): the cohort workload on 24 nodes, with 24 h more warm-up
 *             and run (WARM_UP_EXTRA): its detector compares the last hour with the same minutes
 *             24 h earlier, so without a day of history it has nothing to compare with. The day
 *             includes the afternoon peak, where 2,000 jobs/day on 16 nodes saturate the fleet
 *             (interactive SLA attainment 43 % at the worst hour): real SLA misses no injected
 *             fault explains. A fleet sized for its peak keeps the drop the only story.
 *   model     (model_drift): the hardware fleet and an endpoint target. runSimulation runs the
 *             drift check (lambdas/wiring/simulation-drift.ts: check-drift hourly over a 2 h
 *             Data Capture window), so the run is 5 h to leave two checks after a late onset.
 */

export type KindShape = 'hardware' | 'job' | 'network' | 'cohort' | 'fleet' | 'model';

export const SHAPE_OF: Readonly<Record<FaultKind, KindShape>> = {
  xid: 'hardware',
  ecc_dbe: 'hardware',
  ecc_sbe_storm: 'hardware',
  thermal_throttle: 'hardware',
  power_cap: 'hardware',
  gpu_fell_off_bus: 'hardware',
  gaming_dummy_load: 'hardware',
  job_stall: 'job',
  job_idle: 'job',
  checkpoint_stall: 'job',
  dataloader_bottleneck: 'job',
  network_degradation: 'network',
  driver_regression: 'cohort',
  scheduler_contention: 'cohort',
  fleet_utilisation_drop: 'fleet',
  model_drift: 'model',
};

export interface ShapeSpec {
  readonly nodes: number;
  readonly jobsPerDay: number;
  readonly mix: { interactive: number; batch: number; distributed: number };
  readonly warmUpMinutes: number;
  readonly runMinutes: number;
}

export const SHAPES: Readonly<Record<KindShape, ShapeSpec>> = {
  hardware: {
    nodes: 4,
    jobsPerDay: 400,
    mix: { interactive: 0.6, batch: 0.39, distributed: 0.01 },
    warmUpMinutes: 60,
    runMinutes: 180,
  },
  job: {
    nodes: 8,
    jobsPerDay: 600,
    mix: { interactive: 0.4, batch: 0.6, distributed: 0 },
    warmUpMinutes: 90,
    runMinutes: 240,
  },
  network: {
    nodes: 16,
    jobsPerDay: 600,
    mix: { interactive: 0.4, batch: 0.5, distributed: 0.1 },
    warmUpMinutes: 90,
    runMinutes: 240,
  },
  cohort: {
    nodes: 16,
    jobsPerDay: 2000,
    mix: { interactive: 0.6, batch: 0.4, distributed: 0 },
    warmUpMinutes: 120,
    runMinutes: 300,
  },
  fleet: {
    nodes: 24,
    jobsPerDay: 2000,
    mix: { interactive: 0.6, batch: 0.4, distributed: 0 },
    warmUpMinutes: 120,
    runMinutes: 300,
  },
  model: {
    nodes: 4,
    jobsPerDay: 400,
    mix: { interactive: 0.6, batch: 0.39, distributed: 0.01 },
    warmUpMinutes: 60,
    runMinutes: 300,
  },
};

/** Warm-up (and run) added to a kind's shape: a day for the detector that compares with yesterday. */
const WARM_UP_EXTRA: Readonly<Partial<Record<FaultKind, number>>> = {
  fleet_utilisation_drop: 24 * 60,
};

/** The shape a kind's scenario uses, with that kind's extra warm-up (if any) added. */
export function shapeFor(kind: FaultKind): ShapeSpec {
  const shape = SHAPES[SHAPE_OF[kind]];
  const extra = WARM_UP_EXTRA[kind] ?? 0;
  return { ...shape, warmUpMinutes: shape.warmUpMinutes + extra, runMinutes: shape.runMinutes + extra };
}

const START_MS = Date.parse('2026-09-15T00:00:00Z'); // a Tuesday, no seasonal window
const GPUS_PER_NODE = 8;
const CLUSTER = 'bench';
const FATAL_XIDS = [79, 48, 95] as const;

type FaultInput = NonNullable<ScenarioInput['faults']>[number];

function faultFor(kind: FaultKind, at: string, rng: Rng, nodes: number): FaultInput {
  const node = rng.int(0, nodes - 1);
  const gpu = rng.int(0, GPUS_PER_NODE - 1);
  const base = { id: `bench-${kind}`, kind, at };
  switch (kind) {
    case 'xid':
      return {
        ...base,
        target: { cluster: CLUSTER, node, gpu },
        params: { code: FATAL_XIDS[rng.int(0, 2)] ?? 79 },
      };
    case 'ecc_dbe':
    case 'gpu_fell_off_bus':
      return { ...base, target: { cluster: CLUSTER, node, gpu } };
    case 'ecc_sbe_storm':
      return {
        ...base,
        target: { cluster: CLUSTER, node, gpu },
        params: { ratePerMinute: 120 },
        duration: '30m',
      };
    case 'thermal_throttle':
      return { ...base, target: { cluster: CLUSTER, node }, duration: '30m' };
    case 'power_cap':
      return { ...base, target: { cluster: CLUSTER, node }, params: { capWatts: 300 }, duration: '30m' };
    case 'gaming_dummy_load':
      return { ...base, target: { cluster: CLUSTER, node, gpu } };
    case 'job_stall':
    case 'job_idle':
    case 'checkpoint_stall':
      return { ...base, target: { cluster: CLUSTER, job: 'running-batch' }, duration: '60m' };
    case 'dataloader_bottleneck':
      return {
        ...base,
        target: { cluster: CLUSTER, job: 'running-batch' },
        params: { slowdown: 4 },
        duration: '60m',
      };
    case 'network_degradation':
      return { ...base, target: { cluster: CLUSTER, job: 'running-distributed' }, duration: '60m' };
    case 'driver_regression':
      return {
        ...base,
        target: { cluster: CLUSTER, fraction: 0.5 },
        params: { driverVersion: '560.35.03', failureRate: 0.6 },
      };
    case 'scheduler_contention':
      return { ...base, target: { cluster: CLUSTER }, params: { extraQueueMinutes: 30 }, duration: '90m' };
    case 'fleet_utilisation_drop':
      return { ...base, target: { cluster: CLUSTER }, params: { drop: 0.6 }, duration: '2h' };
    case 'model_drift':
      return { ...base, target: { endpoint: 'ranker-prod' }, params: { shift: 2 } };
  }
}

/**
 * The latency scenario of `kind` for run number `seedIndex` (deterministic). `shape` replaces the
 * kind's shape (tests shrink a fleet to run faster); the fault and its onset depend only on the
 * kind, the seed index and the shape's warm-up and node count.
 */
export function latencyScenario(
  kind: FaultKind,
  seedIndex: number,
  shape: ShapeSpec = shapeFor(kind),
): Scenario {
  const rng = new Rng(seedIndex + 1).fork(kind);
  const onsetMinute = shape.warmUpMinutes + rng.int(0, 59);
  const input: ScenarioInput = {
    name: `latency-${kind.replaceAll('_', '-')}-${seedIndex}`,
    seed: rng.int(1, 2_000_000_000),
    start: new Date(START_MS).toISOString(),
    duration: `${shape.runMinutes}m`,
    tick: '1m',
    fleet: [
      {
        cluster: CLUSTER,
        region: 'us-east-1',
        instanceType: 'p5.48xlarge',
        nodes: shape.nodes,
        gpusPerNode: GPUS_PER_NODE,
      },
    ],
    workload: { jobsPerDay: shape.jobsPerDay, mix: shape.mix, seasonal: [] },
    maintenance: [],
    faults: [faultFor(kind, new Date(START_MS + onsetMinute * 60_000).toISOString(), rng, shape.nodes)],
  };
  const result = validateScenario(input);
  if (!result.ok) throw new Error(`latency scenario for ${kind} is invalid:\n${result.errors.join('\n')}`);
  return result.scenario;
}

export { FAULT_KINDS };
