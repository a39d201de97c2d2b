import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { KPI_NAMESPACE, KPIS, type KpiUnit, type KpiValue } from '../../contracts/kpis';
import type { KpiSink, Log } from '../../core/ports';

/**
 * KpiSink over Powertools Metrics (CloudWatch EMF on stdout), namespace KPI_NAMESPACE, metric
 * names and units from the KPI catalogue.
 *
 * One EMF object carries one dimension set for all its metrics, so values are grouped by their
 * exact dimensions (cluster/region/team scope plus the KPI's extra dimension) and timestamp, and
 * each group is flushed on its own, at most 100 metrics per object (EMF's limit; Powertools would
 * auto-flush at 100 and drop the dimensions of the rest, so the sink splits first).
 *
 * KPI series carry no `service` dimension (the Powertools default is cleared): the dashboards and
 * the north-star alarm (infra/constructs/fleetwatch-metrics.ts kpiMetric) read them by scope
 * dimensions only, and the fleet scope is the series with no dimension at all (`Dimensions: [[]]`).
 * Values that are not finite are skipped and logged (EMF would reject the object).
 */
export interface PowertoolsKpiSinkOptions {
  /** @default KPI_NAMESPACE */
  readonly namespace?: string;
  readonly serviceName?: string;
  readonly log?: Log;
  /** EMF allows 100 metrics per object. @default 100 */
  readonly maxMetricsPerObject?: number;
}

const UNITS: Record<KpiUnit, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  None: MetricUnit.NoUnit,
  Percent: MetricUnit.Percent,
  Count: MetricUnit.Count,
  Seconds: MetricUnit.Seconds,
};

export const EMF_MAX_METRICS = 100;
/** EMF allows 30 dimensions per set. */
export const EMF_MAX_DIMENSIONS = 30;

export class PowertoolsKpiSink implements KpiSink {
  private readonly namespace: string;
  private readonly maxPerObject: number;
  /** Objects flushed so far (tests and the run summary). */
  flushes = 0;

  constructor(private readonly options: PowertoolsKpiSinkOptions = {}) {
    this.namespace = options.namespace ?? KPI_NAMESPACE;
    this.maxPerObject = Math.min(
      EMF_MAX_METRICS,
      Math.max(1, options.maxMetricsPerObject ?? EMF_MAX_METRICS),
    );
  }

  async emit(values: readonly KpiValue[]): Promise<void> {
    const groups = new Map<string, { dims: Record<string, string>; ts: number; values: KpiValue[] }>();
    let skipped = 0;
    for (const v of values) {
      if (!Number.isFinite(v.value)) {
        skipped++;
        continue;
      }
      const dims = Object.fromEntries(Object.entries(v.dimensions).sort(([a], [b]) => a.localeCompare(b)));
      if (Object.keys(dims).length > EMF_MAX_DIMENSIONS)
        throw new Error(
          `KPI ${v.key} has ${Object.keys(dims).length} dimensions; EMF allows ${EMF_MAX_DIMENSIONS}`,
        );
      const key = JSON.stringify([dims, v.timestampMs]);
      const g = groups.get(key) ?? { dims, ts: v.timestampMs, values: [] };
      g.values.push(v);
      groups.set(key, g);
    }
    if (skipped > 0) this.options.log?.warn('KPI values that are not finite were not emitted', { skipped });

    for (const g of groups.values()) {
      for (let i = 0; i < g.values.length; i += this.maxPerObject) {
        const metrics = new Metrics({
          namespace: this.namespace,
          ...(this.options.serviceName ? { serviceName: this.options.serviceName } : {}),
        });
        metrics.clearDefaultDimensions();
        metrics.addDimensions(g.dims);
        metrics.setTimestamp(g.ts);
        for (const v of g.values.slice(i, i + this.maxPerObject)) {
          const def = KPIS[v.key];
          metrics.addMetric(def.metricName, UNITS[def.unit], v.value);
        }
        metrics.publishStoredMetrics();
        this.flushes++;
      }
    }
  }
}
