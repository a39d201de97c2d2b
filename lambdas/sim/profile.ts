import type { FleetWatchConfigInput } from '../contracts/config';
import { builtinProfiles, type MetricSourceProfile, profileSchema } from '../contracts/profiles';
import type { Scenario } from './scenario';

/**
 * How the simulated telemetry reaches "CloudWatch": dcgm-exporter fields scraped by the CloudWatch
 * agent into CWAgent/DCGM with dimensions ClusterName, Hostname and gpu, the agent configured to
 * keep those dimensions only (a metric_declaration with [[ClusterName, Hostname, gpu]]).
 *
 * Why not the pod / namespace labels dcgm-exporter adds on Kubernetes: they make a new series for
 * every job a GPU runs, and the collector's series mapping (core/collection/series-mapping.ts)
 * keys series by node, GPU and signal, so per-pod series of one GPU would collide as duplicates.
 * Job attribution comes from placement instead (FleetSimulator.placement(), the detectors'
 * JobPlacement), which is what the stack does for node-level profiles too.
 */
export const SIMULATOR_PROFILE_NAME = 'fleetwatch-simulator';
export const SIMULATOR_NAMESPACE = 'CWAgent/DCGM';
export const CLUSTER_DIMENSION = 'ClusterName';
export const HOST_DIMENSION = 'Hostname';
export const GPU_DIMENSION = 'gpu';

/** The metric source profile for simulated fleets (a config `profiles[]` entry). */
export function simulatorProfile(): MetricSourceProfile {
  const dcgm = builtinProfiles().find((p) => p.name === 'dcgm-exporter');
  if (dcgm === undefined)
    throw new Error('built-in profile dcgm-exporter is missing from lambdas/contracts/profiles.ts');
  return profileSchema.parse({
    name: SIMULATOR_PROFILE_NAME,
    description:
      'FleetWatch simulator: dcgm-exporter fields in CWAgent/DCGM by ClusterName, Hostname and gpu',
    namespace: SIMULATOR_NAMESPACE,
    nodeDimensions: [HOST_DIMENSION],
    gpuDimension: GPU_DIMENSION,
    signals: dcgm.signals,
  });
}

/** DCGM metric names the simulator publishes, by canonical signal. */
export function simulatorMetricNames(): ReadonlyMap<
  string,
  MetricSourceProfile['signals'][number]['signal']
> {
  return new Map(simulatorProfile().signals.map((s) => [s.metricName, s.signal]));
}

/** Config `fleets[]` entries for a scenario's fleet, reading it through the simulator profile. */
export function simulatorFleets(scenario: Pick<Scenario, 'fleet'>): FleetWatchConfigInput['fleets'] {
  return scenario.fleet.map((f) => ({
    cluster: f.cluster,
    region: f.region,
    instanceType: f.instanceType,
    nodes: f.nodes,
    gpusPerNode: f.gpusPerNode,
    source: { profile: SIMULATOR_PROFILE_NAME, match: { [CLUSTER_DIMENSION]: f.cluster } },
  }));
}
