import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { METRICS_NAMESPACE, OPS_METRICS, type OpsMetricKey } from '../../contracts/metrics';
import type { Log, OpsMetrics } from '../../core/ports';

/**
 * Powertools Logger, Metrics (EMF) and Tracer for one Lambda, plus the Log and OpsMetrics ports
 * the use cases see. Metric names and units come from the catalogue only.
 */
export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
  readonly log: Log;
  readonly ops: OpsMetrics;
}

const UNITS = {
  Count: MetricUnit.Count,
  Seconds: MetricUnit.Seconds,
  Milliseconds: MetricUnit.Milliseconds,
  None: MetricUnit.NoUnit,
} as const;

export function makeObservability(serviceName: string): Observability {
  const logger = new Logger({ serviceName });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
  const tracer = new Tracer({ serviceName });
  const log: Log = {
    debug: (m, a) => logger.debug(m, a ?? {}),
    info: (m, a) => logger.info(m, a ?? {}),
    warn: (m, a) => logger.warn(m, a ?? {}),
    error: (m, a) => logger.error(m, a ?? {}),
  };
  const ops: OpsMetrics = {
    count(key: OpsMetricKey, value: number, dimensions?: Readonly<Record<string, string>>) {
      const def = OPS_METRICS[key];
      if (dimensions === undefined || Object.keys(dimensions).length === 0) {
        metrics.addMetric(def.name, UNITS[def.unit], value);
        return;
      }
      // Dimensioned metrics go out as their own EMF blob so their dimensions do not leak onto others.
      const single = metrics.singleMetric();
      for (const [k, v] of Object.entries(dimensions)) single.addDimension(k, v);
      single.addMetric(def.name, UNITS[def.unit], value);
    },
  };
  return { logger, metrics, tracer, log, ops };
}
