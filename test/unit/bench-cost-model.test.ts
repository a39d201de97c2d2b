import { describe, expect, it } from 'vitest';
import {
  type CostMeasurement,
  estimateMonthlyCost,
  REFERENCE,
  serviceTotal,
} from '../../bench/lib/cost-model';
import { PRICES_USD } from '../../lambdas/contracts/prices';

/** A 6-hour run of 120 GPUs, 3,500 jobs/day, at cadence c: GPU series requested once a run. */
function measurement(cadenceMinutes: number, overrides: Partial<CostMeasurement> = {}): CostMeasurement {
  const runs = (6 * 60) / cadenceMinutes;
  return {
    cadenceMinutes,
    gpus: 120,
    jobsPerDay: 3500,
    simulatedHours: 6,
    runs,
    apiCalls: {
      'cloudwatch:GetMetricData:metrics': 120 * 15 * runs,
      'cloudwatch:GetMetricData': 4 * runs,
      'cloudwatch:ListMetrics': 48,
      'timestream:WriteRecords': 72 * 6,
    },
    storeOps: {
      'detectState:get': runs,
      'detectState:put': runs,
      'collectState:get': 2 * runs,
      'collectState:put': 2 * runs,
    },
    sinkRecords: { gpu: 120 * 360, jobs: 0 },
    jobEvents: 0,
    routeBatches: 0,
    collectDetectSecondsPerRun: 0.1,
    ...overrides,
  };
}

const line = (e: ReturnType<typeof estimateMonthlyCost>, item: string) =>
  e.lines.find((l) => l.item === item);

describe('estimateMonthlyCost', () => {
  it('prices GetMetricData per metric requested, scaled to the reference GPUs and 30 days', () => {
    const e = estimateMonthlyCost(measurement(5));
    // 1,200 GPUs × 15 series × 288 runs a day × 30 days.
    const metrics = 1200 * 15 * 288 * 30;
    expect(line(e, 'GetMetricData metrics requested')?.quantityPerMonth).toBeCloseTo(metrics, 3);
    expect(line(e, 'GetMetricData metrics requested')?.usdPerMonth).toBeCloseTo(
      metrics * PRICES_USD.getMetricDataPerMetric,
      6,
    );
    expect(line(e, 'collector invocations')?.quantityPerMonth).toBeCloseTo(288 * 30, 6);
  });

  it('GetMetricData cost falls with the cadence; GPU-minute writes do not', () => {
    const one = estimateMonthlyCost(measurement(1));
    const ten = estimateMonthlyCost(measurement(10));
    expect(serviceTotal(one, 'CloudWatch') / serviceTotal(ten, 'CloudWatch')).toBeGreaterThan(9);
    expect(serviceTotal(one, 'Timestream')).toBeCloseTo(serviceTotal(ten, 'Timestream'), 9);
    expect(one.usdPerMonth).toBeGreaterThan(ten.usdPerMonth);
    expect(one.usdPerGpuMonth).toBeCloseTo(one.usdPerMonth / REFERENCE.gpus, 12);
  });

  it('scales job-driven quantities by jobs, not GPUs', () => {
    const base = estimateMonthlyCost(measurement(5));
    const withJobs = estimateMonthlyCost(measurement(5, { jobEvents: 100 }));
    // 100 events in 6 h at 3,500 jobs/day → ×10 jobs, ×120 time = 120,000 messages and invocations.
    const sqs = (e: typeof base) =>
      line(e, 'requests (findings, job events, polling)')?.quantityPerMonth ?? 0;
    expect(sqs(withJobs) - sqs(base)).toBeCloseTo(120_000, 6);
  });

  it('rejects a measurement it cannot scale', () => {
    expect(() => estimateMonthlyCost(measurement(5, { runs: 0 }))).toThrow(/must be > 0/);
  });
});
