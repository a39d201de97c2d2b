import { HOURS_PER_MONTH, PRICES_USD } from '../../contracts/prices';

/**
 * What GPU metric collection costs. GetMetricData is billed per metric requested per call, not per
 * datapoint, so the bill is (series) x (calls per month): the cadence sets it, the window and
 * period do not (a 5-minute window of 1-minute points costs the same as one point).
 */
export interface CollectionCostInput {
  /** Signals collected per GPU (series per GPU). */
  readonly signalsPerGpu: number;
  /** Collector cadence in minutes. */
  readonly cadenceMinutes: number;
  /** Series that are per host rather than per GPU divide by this (e.g. SageMaker's summed GPUUtilization). */
  readonly gpusPerSeries?: number;
  /** Bytes per GPU-minute record written to the sink; rounded up to 1 KiB write units. */
  readonly recordBytes?: number;
}

export interface CollectionCost {
  readonly runsPerMonth: number;
  readonly metricsRequestedPerGpuMonth: number;
  readonly getMetricDataUsdPerGpuMonth: number;
  readonly sinkWritesUsdPerGpuMonth: number;
  readonly totalUsdPerGpuMonth: number;
}

export function collectionCostPerGpuMonth(input: CollectionCostInput): CollectionCost {
  if (!(input.cadenceMinutes > 0)) throw new Error(`cadenceMinutes must be > 0, got ${input.cadenceMinutes}`);
  const runsPerMonth = (HOURS_PER_MONTH * 60) / input.cadenceMinutes;
  const seriesPerGpu = input.signalsPerGpu / (input.gpusPerSeries ?? 1);
  const metricsRequestedPerGpuMonth = seriesPerGpu * runsPerMonth;
  const getMetricDataUsdPerGpuMonth = metricsRequestedPerGpuMonth * PRICES_USD.getMetricDataPerMetric;
  // One record per GPU-minute whatever the cadence: writes do not depend on it.
  const writeUnits = Math.max(1, Math.ceil((input.recordBytes ?? 512) / 1024));
  const sinkWritesUsdPerGpuMonth =
    (HOURS_PER_MONTH * 60 * writeUnits * PRICES_USD.timestreamWritePerKiB) / (input.gpusPerSeries ?? 1);
  return {
    runsPerMonth,
    metricsRequestedPerGpuMonth,
    getMetricDataUsdPerGpuMonth,
    sinkWritesUsdPerGpuMonth,
    totalUsdPerGpuMonth: getMetricDataUsdPerGpuMonth + sinkWritesUsdPerGpuMonth,
  };
}
