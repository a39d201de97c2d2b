import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RecordingLog } from '../../lambdas/adapters/memory/observability';
import { PowertoolsKpiSink } from '../../lambdas/adapters/powertools/kpi-sink';
import { KPI_NAMESPACE, KPIS, type KpiValue } from '../../lambdas/contracts/kpis';

/** EMF objects written to stdout while `fn` runs. */
interface Emf {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [k: string]: unknown;
}

let lines: string[] = [];
const disabledBefore = process.env.POWERTOOLS_METRICS_DISABLED;
beforeEach(() => {
  lines = [];
  // vitest.config sets POWERTOOLS_DEV, which disables metrics and prints through the global console.
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  const keep = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(keep);
  vi.spyOn(console, 'log').mockImplementation(keep);
});
afterEach(() => {
  vi.restoreAllMocks();
  if (disabledBefore === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
  else process.env.POWERTOOLS_METRICS_DISABLED = disabledBefore;
});
const emitted = (): Emf[] =>
  lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.startsWith('{"_aws"'))
    .map((l) => JSON.parse(l) as Emf);

const TS = Date.UTC(2026, 10, 24, 9);
const v = (key: KpiValue['key'], value: number, dimensions: Record<string, string> = {}): KpiValue => ({
  key,
  value,
  dimensions,
  timestampMs: TS,
});

describe('PowertoolsKpiSink (EMF on stdout)', () => {
  it('writes one object per dimension set, names and units from the catalogue, no service dimension', async () => {
    await new PowertoolsKpiSink({ serviceName: 'compute-kpis' }).emit([
      v('goodput', 0.61),
      v('queueWaitP95', 540),
      v('goodput', 0.55, { Region: 'us-east-1', Cluster: 'train-a' }),
      v('wastedGpuHours', 12.5, { Team: 'llm', Waste: 'stalled' }),
    ]);
    const out = emitted();
    expect(out).toHaveLength(3);
    for (const o of out) {
      expect(o._aws.CloudWatchMetrics[0]?.Namespace).toBe(KPI_NAMESPACE);
      expect(o._aws.Timestamp).toBe(TS);
      expect(o.service).toBeUndefined();
    }
    const fleet = out.find((o) => o[KPIS.goodput.metricName] === 0.61);
    expect(fleet?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([[]]);
    expect(fleet?._aws.CloudWatchMetrics[0]?.Metrics).toEqual([
      { Name: KPIS.goodput.metricName, Unit: 'None' },
      { Name: KPIS.queueWaitP95.metricName, Unit: 'Seconds' },
    ]);
    expect(fleet?.[KPIS.queueWaitP95.metricName]).toBe(540);
    const cluster = out.find((o) => o.Cluster === 'train-a');
    expect(cluster?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['Cluster', 'Region']]);
    expect(cluster?.Region).toBe('us-east-1');
    expect(cluster?.[KPIS.goodput.metricName]).toBe(0.55);
    const team = out.find((o) => o.Team === 'llm');
    expect(team?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['Team', 'Waste']]);
    expect(team?.[KPIS.wastedGpuHours.metricName]).toBe(12.5);
  });

  it('splits a dimension set with more metrics than one object may carry', async () => {
    // 3 KPIs into objects of at most 2 metrics: 2 objects, both with the same dimensions.
    const sink = new PowertoolsKpiSink({ maxMetricsPerObject: 2 });
    await sink.emit([
      v('goodput', 0.5, { Team: 'a' }),
      v('allocationRate', 0.8, { Team: 'a' }),
      v('jobSuccessRate', 0.9, { Team: 'a' }),
    ]);
    const out = emitted();
    expect(out.map((o) => o._aws.CloudWatchMetrics[0]?.Metrics.length)).toEqual([2, 1]);
    expect(out.every((o) => o.Team === 'a')).toBe(true);
    expect(out[1]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['Team']]);
    expect(sink.flushes).toBe(2);
  });

  it('never exceeds 100 metrics per object by default', async () => {
    // 150 values with the same dimensions and distinct timestamps would be 150 groups; use one
    // timestamp and many teams instead, plus one group of 11 KPIs: count metrics per object.
    const many: KpiValue[] = Object.keys(KPIS).flatMap((k) =>
      Array.from({ length: 12 }, (_, i) => v(k as KpiValue['key'], i, { Team: `t${i}` })),
    );
    await new PowertoolsKpiSink().emit(many);
    const out = emitted();
    expect(out.length).toBe(12);
    expect(Math.max(...out.map((o) => o._aws.CloudWatchMetrics[0]?.Metrics.length ?? 0))).toBeLessThanOrEqual(
      100,
    );
  });

  it('skips values that are not finite and says so', async () => {
    const log = new RecordingLog();
    await new PowertoolsKpiSink({ log }).emit([v('goodput', Number.NaN), v('allocationRate', 0.4)]);
    const out = emitted();
    expect(out).toHaveLength(1);
    expect(out[0]?.[KPIS.goodput.metricName]).toBeUndefined();
    expect(log.lines.find((l) => l.level === 'warn')?.attributes).toEqual({ skipped: 1 });
  });
});
