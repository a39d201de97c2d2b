import type { ProfileSignal } from '../../contracts/profiles';
import type { GpuLabels } from '../model';
import type { SeriesRef } from '../ports';
import type { CollectionSource } from './sources';

/**
 * Turns CloudWatch series (namespace, metric name, dimensions) into labelled GPU signals. A series
 * that cannot be placed on a node and GPU is reported with its reason, never dropped quietly.
 */
export const UNMAPPED_REASONS = [
  /** None of the profile's nodeDimensions is present (e.g. a cluster-level rollup). */
  'no-node-dimension',
  /** The profile is per GPU but the series has no GPU dimension (e.g. a per-node rollup). */
  'no-gpu-dimension',
  /** The profile reads the job from a dimension and the value does not match its pattern. */
  'job-pattern-mismatch',
  /** The metric name is not one the source collects (an emulator or filter returned extra series). */
  'unknown-metric',
  /** Another series already maps to the same node, GPU and signal (a rollup with extra dimensions). */
  'duplicate-series',
] as const;
export type UnmappedReason = (typeof UNMAPPED_REASONS)[number];

export interface MappedSeries {
  readonly series: SeriesRef;
  readonly labels: GpuLabels;
  readonly signal: ProfileSignal;
}

export interface UnmappedSeries {
  readonly series: SeriesRef;
  readonly reason: UnmappedReason;
  readonly detail: string;
}

export interface InventoryMapping {
  readonly mapped: MappedSeries[];
  readonly unmapped: UnmappedSeries[];
}

/** Label value for series that are per host rather than per GPU. */
export const ALL_GPUS = 'all';

/** Maps one series to every profile signal read from its metric name (a metric may feed several stats). */
export function mapSeries(
  source: CollectionSource,
  series: SeriesRef,
): { mapped: MappedSeries[] } | { unmapped: UnmappedSeries } {
  const { profile, fleet } = source;
  const signals = source.signals.filter((s) => s.metricName === series.metricName);
  if (signals.length === 0) {
    return unmapped(
      series,
      'unknown-metric',
      `metric ${series.metricName} is not collected by source ${source.id}`,
    );
  }

  const nodeDimension = profile.nodeDimensions.find((d) => series.dimensions[d] !== undefined);
  const node = nodeDimension === undefined ? undefined : series.dimensions[nodeDimension];
  if (node === undefined) {
    return unmapped(
      series,
      'no-node-dimension',
      `none of the node dimensions ${profile.nodeDimensions.join(', ')} is present`,
    );
  }

  let gpu = ALL_GPUS;
  if (profile.gpuDimension !== undefined) {
    const value = series.dimensions[profile.gpuDimension];
    if (value === undefined) {
      return unmapped(series, 'no-gpu-dimension', `GPU dimension ${profile.gpuDimension} is not present`);
    }
    gpu = value;
  }

  let job: string | undefined;
  if (profile.job !== undefined && source.jobPattern !== undefined) {
    const raw = series.dimensions[profile.job.dimension];
    job = raw === undefined ? undefined : source.jobPattern.exec(raw)?.groups?.job;
    if (job === undefined || job === '') {
      return unmapped(
        series,
        'job-pattern-mismatch',
        raw === undefined
          ? `job dimension ${profile.job.dimension} is not present`
          : `${profile.job.dimension}=${JSON.stringify(raw)} does not match ${profile.job.pattern}`,
      );
    }
  }

  const labels: GpuLabels = {
    cluster: fleet.cluster,
    region: fleet.region,
    instanceType: fleet.instanceType,
    node,
    gpu,
    ...(job !== undefined ? { job } : {}),
    ...(fleet.team !== undefined ? { team: fleet.team } : {}),
  };
  return { mapped: signals.map((signal) => ({ series, labels, signal })) };
}

/**
 * Maps a whole inventory. When several series land on the same node, GPU and signal (dcgm-exporter
 * labels such as UUID or modelName published as extra dimensions, or per-pod rollups), the one
 * with the fewest dimensions wins, ties broken by name, so the choice is stable from run to run
 * and a minute is never written twice from two series with different values.
 */
export function mapInventory(source: CollectionSource, series: readonly SeriesRef[]): InventoryMapping {
  // The collector maps the same (cached) inventory every run; a month-long simulation runs it
  // thousands of times over ~10,000 series. Same fleet, profile and series objects: same answer.
  const hit = lastMapping.get(source.fleet);
  if (
    hit !== undefined &&
    hit.profile === source.profile &&
    hit.signals === source.signals &&
    hit.id === source.id &&
    sameElements(hit.series, series)
  ) {
    return { mapped: [...hit.result.mapped], unmapped: [...hit.result.unmapped] };
  }
  const result = mapInventoryUncached(source, series);
  lastMapping.set(source.fleet, {
    profile: source.profile,
    signals: source.signals,
    id: source.id,
    series: [...series],
    result: { mapped: [...result.mapped], unmapped: [...result.unmapped] },
  });
  return result;
}

/** Last mapping per fleet object (config objects live as long as the runtime config). */
const lastMapping = new WeakMap<
  object,
  {
    profile: CollectionSource['profile'];
    signals: CollectionSource['signals'];
    id: string;
    series: readonly SeriesRef[];
    result: InventoryMapping;
  }
>();

function sameElements<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function mapInventoryUncached(source: CollectionSource, series: readonly SeriesRef[]): InventoryMapping {
  const unmappedSeries: UnmappedSeries[] = [];
  const candidates: MappedSeries[] = [];
  for (const s of series) {
    const result = mapSeries(source, s);
    if ('unmapped' in result) unmappedSeries.push(result.unmapped);
    else candidates.push(...result.mapped);
  }

  // Sort keys built once per candidate, not once per comparison.
  const keyed = candidates.map((c) => ({ c, pref: preference(c.series), key: seriesSortKey(c.series) }));
  keyed.sort((a, b) => a.pref - b.pref || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const byTarget = new Map<string, MappedSeries>();
  for (const { c } of keyed) {
    const key = targetKey(c);
    const winner = byTarget.get(key);
    if (winner === undefined) {
      byTarget.set(key, c);
      continue;
    }
    unmappedSeries.push({
      series: c.series,
      reason: 'duplicate-series',
      detail: `node ${c.labels.node} GPU ${c.labels.gpu} ${c.signal.signal} is already read from ${dimensionKey(winner.series)}`,
    });
  }
  return { mapped: [...byTarget.values()], unmapped: unmappedSeries };
}

/** Stable text form of a series' dimensions, sorted by name: `Hostname=a,gpu=0`. */
export function dimensionKey(series: SeriesRef): string {
  return Object.entries(series.dimensions)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function unmapped(series: SeriesRef, reason: UnmappedReason, detail: string): { unmapped: UnmappedSeries } {
  return { unmapped: { series, reason, detail } };
}

function targetKey(m: MappedSeries): string {
  return JSON.stringify([m.labels.node, m.labels.gpu, m.signal.signal]);
}

function preference(s: SeriesRef): number {
  return Object.keys(s.dimensions).length;
}

/** Tie-break order of two series with as many dimensions: metric name, then dimensionKey. */
function seriesSortKey(s: SeriesRef): string {
  return `${s.metricName}|${dimensionKey(s)}`;
}
