import { type GpuInstanceSpec, gpuInstanceSpec } from '../contracts/gpu-catalogue';
import type { Scenario, ScenarioFleet } from './scenario';

/**
 * The simulated fleet: concrete nodes and GPUs with stable names and dense indexes. Hostnames look
 * like EC2 private DNS names and never change for a seed-independent fleet definition, so a fault
 * target `{ cluster: train-a, node: 4 }` always resolves to the same host.
 */

export interface SimNode {
  /** Dense index over the whole fleet. */
  readonly index: number;
  readonly cluster: string;
  readonly region: string;
  readonly instanceType: string;
  /** 0-based index within its cluster (what scenario targets use). */
  readonly nodeInCluster: number;
  readonly hostname: string;
  readonly instanceId: string;
  readonly gpuCount: number;
  /** Dense index of GPU 0 of this node; GPU g is firstGpu + g. */
  readonly firstGpu: number;
  readonly spec: GpuInstanceSpec;
}

export interface SimCluster {
  readonly fleet: ScenarioFleet;
  readonly index: number;
  readonly nodes: readonly SimNode[];
}

export interface SimFleet {
  readonly clusters: ReadonlyMap<string, SimCluster>;
  readonly nodes: readonly SimNode[];
  readonly gpuCount: number;
  /** Node of each dense GPU index. */
  readonly nodeOfGpu: readonly SimNode[];
}

/** For instance types outside the catalogue: a generic data-centre GPU. */
const GENERIC_SPEC: GpuInstanceSpec = {
  gpus: 8,
  gpuModel: 'NVIDIA GPU',
  tdpWatts: 400,
  slowdownTempC: 85,
  memoryMiB: 40_960,
};

export function buildFleet(scenario: Pick<Scenario, 'fleet'>): SimFleet {
  const clusters = new Map<string, SimCluster>();
  const nodes: SimNode[] = [];
  const nodeOfGpu: SimNode[] = [];
  scenario.fleet.forEach((f, ci) => {
    const spec = gpuInstanceSpec(f.instanceType) ?? GENERIC_SPEC;
    const clusterNodes: SimNode[] = [];
    for (let n = 0; n < f.nodes; n++) {
      const node: SimNode = {
        index: nodes.length,
        cluster: f.cluster,
        region: f.region,
        instanceType: f.instanceType,
        nodeInCluster: n,
        hostname: hostnameFor(f.region, ci, n),
        instanceId: `i-0${(0x1a2b3c4d5e6f7 + ci * 0x10000 + n).toString(16).padStart(16, '0')}`,
        gpuCount: f.gpusPerNode,
        firstGpu: nodeOfGpu.length,
        spec,
      };
      for (let g = 0; g < f.gpusPerNode; g++) nodeOfGpu.push(node);
      nodes.push(node);
      clusterNodes.push(node);
    }
    clusters.set(f.cluster, { fleet: f, index: ci, nodes: clusterNodes });
  });
  return { clusters, nodes, gpuCount: nodeOfGpu.length, nodeOfGpu };
}

/** EC2 private DNS name: ip-10-<16+cluster>-<n/200>-<10+n%200>.ec2.internal (us-east-1) or .<region>.compute.internal. */
export function hostnameFor(region: string, clusterIndex: number, node: number): string {
  const suffix = region === 'us-east-1' ? 'ec2.internal' : `${region}.compute.internal`;
  return `ip-10-${16 + clusterIndex}-${Math.floor(node / 200)}-${10 + (node % 200)}.${suffix}`;
}

export function clusterOf(fleet: SimFleet, name: string): SimCluster {
  const c = fleet.clusters.get(name);
  if (c === undefined)
    throw new Error(`unknown cluster "${name}"; the fleet has ${[...fleet.clusters.keys()].join(', ')}`);
  return c;
}
