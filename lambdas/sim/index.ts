/**
 * The fleet simulator (issue 5): scenario files, a deterministic virtual-clock simulation of GPU
 * telemetry, SageMaker job lifecycles and injected faults, and in-memory ports over it. Pure: no
 * AWS SDK, no environment, no wall clock.
 */
export { type MaintenanceInterval, resolveMaintenance } from './calendar';
export { DRIFT_FEATURES, type DriftFeature } from './drift';
export { formatDuration, parseDurationMs } from './duration';
export { expectationFor, type FaultTruth, type TruthLabels } from './faults';
export { buildFleet, type SimFleet, type SimNode } from './fleet';
export { SIMULATOR_PROFILE_NAME, simulatorFleets, simulatorProfile } from './profile';
export { Rng } from './rng';
export {
  FAULT_KIND_SPECS,
  FAULT_KINDS,
  type FaultKind,
  type FaultSpec,
  loadScenario,
  type Scenario,
  type ScenarioResult,
  validateScenario,
} from './scenario';
export { FleetSimulator, jobStateOf, type SimulatorOptions, type StepResult } from './simulator';
export {
  type ApiCallCounts,
  emptyApiCalls,
  SimulatedCheckpoints,
  SimulatedJobProgress,
  SimulatedMetricSource,
  SimulatedTrainingJobApi,
} from './sources';
export { CLASS_PROFILES, type JobClass, type SimJob } from './workload';
