import {
  type CollectionConfig,
  collectionSchema,
  jobsSchema,
  parseRuntimeConfig,
  type RuntimeConfig,
} from '../../../lambdas/contracts/config';
import type { SeriesRef } from '../../../lambdas/core/ports';

/** Realistic runtime configs and CloudWatch series for the collection tests. */
export const DCGM_NAMESPACE = 'CWAgent/DCGM';

export type FleetInput = {
  cluster: string;
  region?: string;
  instanceType?: string;
  gpusPerNode?: number;
  team?: string;
  profile: string;
  namespace?: string;
  match?: Record<string, string>;
  signals?: string[];
};

export function runtimeConfig(
  fleets: FleetInput[],
  collection: Partial<CollectionConfig> = {},
  profiles: unknown[] = [],
): RuntimeConfig {
  return parseRuntimeConfig({
    fleets: fleets.map((f) => ({
      cluster: f.cluster,
      region: f.region ?? 'us-east-1',
      instanceType: f.instanceType ?? 'p5.48xlarge',
      nodes: 2,
      gpusPerNode: f.gpusPerNode ?? 8,
      ...(f.team !== undefined ? { team: f.team } : {}),
      source: {
        profile: f.profile,
        ...(f.namespace !== undefined ? { namespace: f.namespace } : {}),
        match: f.match ?? {},
        ...(f.signals !== undefined ? { signals: f.signals } : {}),
      },
    })),
    profiles,
    collection: { ...collectionSchema.parse({}), ...collection },
    jobs: jobsSchema.parse({}),
  });
}

export function series(namespace: string, metricName: string, dimensions: Record<string, string>): SeriesRef {
  return { namespace, metricName, dimensions };
}

/** dcgm-exporter series as the CloudWatch agent publishes them: one per node and GPU index. */
export function dcgmSeries(metricName: string, nodes: readonly string[], gpus = 8): SeriesRef[] {
  return nodes.flatMap((Hostname) =>
    Array.from({ length: gpus }, (_, gpu) =>
      series(DCGM_NAMESPACE, metricName, { Hostname, gpu: String(gpu) }),
    ),
  );
}

export const MIN = 60_000;
export const T0 = Date.parse('2025-03-10T12:00:30Z');
