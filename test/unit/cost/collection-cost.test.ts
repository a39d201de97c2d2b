import { describe, expect, it } from 'vitest';
import { builtinProfiles } from '../../../lambdas/contracts/profiles';
import { collectionCostPerGpuMonth } from '../../../lambdas/core/cost/collection-cost';

describe('collectionCostPerGpuMonth', () => {
  it.each([
    // signals, cadence, expected GetMetricData $/GPU-month: signals x (730 h x 60 / cadence) x $0.00001
    { signals: 15, cadence: 5, usd: 1.314 },
    { signals: 15, cadence: 1, usd: 6.57 },
    { signals: 15, cadence: 15, usd: 0.438 },
    { signals: 5, cadence: 5, usd: 0.438 },
    { signals: 1, cadence: 1, usd: 0.438 },
  ])(
    '$signals signals every $cadence min cost $usd per GPU-month in GetMetricData',
    ({ signals, cadence, usd }) => {
      const cost = collectionCostPerGpuMonth({ signalsPerGpu: signals, cadenceMinutes: cadence });
      expect(cost.getMetricDataUsdPerGpuMonth).toBeCloseTo(usd, 6);
    },
  );

  it('matches the architecture note: about $0.43 per metric-month per-minute and $0.09 every 5 minutes', () => {
    expect(
      collectionCostPerGpuMonth({ signalsPerGpu: 1, cadenceMinutes: 1 }).getMetricDataUsdPerGpuMonth,
    ).toBeCloseTo(0.438, 3);
    expect(
      collectionCostPerGpuMonth({ signalsPerGpu: 1, cadenceMinutes: 5 }).getMetricDataUsdPerGpuMonth,
    ).toBeCloseTo(0.0876, 4);
  });

  it('divides per-host series by the GPUs they cover', () => {
    const perHost = collectionCostPerGpuMonth({ signalsPerGpu: 1, cadenceMinutes: 5, gpusPerSeries: 8 });
    expect(perHost.getMetricDataUsdPerGpuMonth).toBeCloseTo(0.0876 / 8, 6);
  });

  it('charges one 1 KiB Timestream write per GPU-minute regardless of cadence', () => {
    const a = collectionCostPerGpuMonth({ signalsPerGpu: 15, cadenceMinutes: 1, recordBytes: 400 });
    const b = collectionCostPerGpuMonth({ signalsPerGpu: 15, cadenceMinutes: 15, recordBytes: 400 });
    expect(a.sinkWritesUsdPerGpuMonth).toBeCloseTo(43_800 * 0.0000005, 9);
    expect(b.sinkWritesUsdPerGpuMonth).toBe(a.sinkWritesUsdPerGpuMonth);
  });

  it('rejects a non-positive cadence', () => {
    expect(() => collectionCostPerGpuMonth({ signalsPerGpu: 1, cadenceMinutes: 0 })).toThrow(
      /cadenceMinutes must be > 0/,
    );
  });

  it('the default dcgm-exporter profile collects 15 signals per GPU (the README figure assumes it)', () => {
    const dcgm = builtinProfiles().find((p) => p.name === 'dcgm-exporter');
    expect(dcgm?.signals).toHaveLength(15);
  });
});
