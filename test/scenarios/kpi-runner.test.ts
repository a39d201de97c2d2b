import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../lambdas/contracts/finding';
import type { KpiValue } from '../../lambdas/contracts/kpis';
import { HOUR_MS, MINUTE_MS } from '../../lambdas/core/time';
import { type ScenarioInput, validateScenario } from '../../lambdas/sim/scenario';
import {
  configForScenario,
  runSimulation,
  SEASONAL_MIN_RUNS_FACTOR,
  type SimulationResult,
  type SimulationSummary,
  type StepTiming,
  summaryOf,
} from '../../lambdas/wiring/simulation';
import { dropOf, fleetPoint, SimulationUsageRecords } from '../../lambdas/wiring/simulation-kpis';
import { shortScenario } from './fixtures';

/**
 * The KPI pipeline inside runSimulation (lambdas/wiring/simulation-kpis.ts): the detection run
 * records usage, computeKpis runs on the virtual clock, its fleet values and drop findings reach
 * the result, the JSON summary and the incident router. Plus the runner options the benchmarks use
 * (cadence, step timings, store-operation counts) and the seasonal relaxation the runner builds.
 */

function scenarioOf(input: ScenarioInput) {
  const v = validateScenario(input);
  if (!v.ok) throw new Error(v.errors.join('\n'));
  return v.scenario;
}

const KPI_SCENARIO = scenarioOf(shortScenario({ name: 'kpi-runner', duration: '4h' }));

let result: SimulationResult;
let summary: SimulationSummary;
const steps: StepTiming[] = [];
beforeAll(async () => {
  result = await runSimulation(KPI_SCENARIO, {
    kpis: { everyMs: HOUR_MS, windowMs: HOUR_MS, decomposition: { minRelativeDrop: 0.01 } },
    onStep: (s) => steps.push(s),
  });
  summary = summaryOf(result);
}, 120_000);

describe('runSimulation: KPIs', () => {
  it('runs computeKpis once per KPI cadence and keeps a fleet point per run, inside the run', () => {
    // 3 h at 1 h: runs at 1 h, 2 h and 3 h of virtual time.
    expect(result.kpis).toHaveLength(4);
    for (const p of result.kpis) {
      expect(p.tMs).toBeGreaterThan(KPI_SCENARIO.startMs);
      expect(p.tMs).toBeLessThanOrEqual(KPI_SCENARIO.endMs);
      expect(p.goodput).not.toBeNull();
      expect(p.goodput ?? -1).toBeGreaterThanOrEqual(0);
      expect(p.goodput ?? 2).toBeLessThanOrEqual(1);
      // The capacity partition the goodput is one part of.
      expect(Object.keys(p.capacityGpuHours)).toContain('useful');
    }
    // The window ends where detection has recorded usage: behind `now` by the publishing delay.
    const first = result.kpis[0];
    expect(first && KPI_SCENARIO.startMs + HOUR_MS - first.tMs).toBeGreaterThan(0);
    expect(first && KPI_SCENARIO.startMs + HOUR_MS - first.tMs).toBeLessThanOrEqual(15 * MINUTE_MS);
  });

  it('routes every goodput drop as a kpi.goodput_drop incident whose cause is the drop cause', () => {
    // A 1 % threshold on a warming-up fleet: the test needs drops, whatever their cause.
    expect(result.goodputDrops.length).toBeGreaterThan(0);
    const incidents = result.incidents.filter((i) => i.kind === 'kpi.goodput_drop');
    expect(incidents.length).toBeGreaterThan(0);
    const causes = new Set(result.goodputDrops.map((d) => d.cause));
    for (const i of incidents) expect(causes).toContain(i.cause);
    for (const d of result.goodputDrops) {
      const total = Object.values(d.shares).reduce((a, b) => a + b, 0);
      expect(total).toBeGreaterThan(0.98);
      expect(total).toBeLessThan(1.02);
    }
  });

  it('puts the KPI series and the drops in the JSON summary with ISO times', () => {
    expect(summary.kpis).toHaveLength(result.kpis.length);
    expect(summary.kpis[0]?.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(summary.kpis[0]?.goodput).toBe(result.kpis[0]?.goodput);
    expect(summary.goodputDrops.map((d) => d.scope)).toEqual(result.goodputDrops.map((d) => d.scope));
    expect(JSON.parse(JSON.stringify(summary)).kpis).toHaveLength(4);
  });

  it('records each collection step with timings, and counts store operations and sink records', () => {
    expect(steps).toHaveLength(result.runs);
    expect(result.runs).toBe(4 * 12); // 4 h at the config's 5-minute cadence
    expect(steps.every((s) => s.collectMs >= 0 && s.detectMs >= 0)).toBe(true);
    expect(result.storeOps['collectState:get']).toBeGreaterThan(0);
    expect(result.storeOps['detectState:put']).toBeGreaterThan(0);
    expect(result.sinkRecords.gpu).toBeGreaterThan(0);
    expect(result.jobEvents).toBeGreaterThan(0);
  });
});

describe('runSimulation options', () => {
  it('honours cadenceMinutes over the config default, and false turns the KPIs off', async () => {
    const short = scenarioOf(shortScenario({ name: 'cadence', duration: '1h' }));
    const r = await runSimulation(short, { cadenceMinutes: 10, kpis: false });
    expect(r.runs).toBe(6);
    expect(r.kpis).toEqual([]);
    await expect(runSimulation(short, { cadenceMinutes: 0 })).rejects.toThrow(/cadenceMinutes got 0/);
  }, 60_000);
});

describe('configForScenario seasonal windows', () => {
  it('relax the scheduling and fleet-utilisation rules by the largest run factor the calendar allows', () => {
    const s = scenarioOf(
      shortScenario({
        workload: {
          jobsPerDay: 400,
          mix: { interactive: 0.5, batch: 0.49, distributed: 0.01 },
          seasonal: [{ days: ['tue'], from: '01:00', to: '02:30', tz: 'UTC', loadFactor: 2 }],
        },
      }),
    );
    const { incidents } = configForScenario(s, []);
    const w = incidents.seasonal[0];
    expect(w?.relax.kinds).toEqual([
      'scheduling.sla_miss',
      'scheduling.start_latency_growth',
      'fleet.utilisation_drop',
    ]);
    expect(w?.relax.minRunsFactor).toBe(SEASONAL_MIN_RUNS_FACTOR);
    expect(w?.relax.drainMinutes).toBe(90);
    expect(w?.duration).toBe('PT90M');
    expect(w?.cron).toBe('0 1 * * tue');
  });
});

describe('simulation-kpis helpers', () => {
  it('fleetPoint takes the dimensionless values only, null when missing', () => {
    const v = (key: KpiValue['key'], value: number, dimensions: Record<string, string> = {}): KpiValue => ({
      key,
      value,
      dimensions,
      timestampMs: 0,
    });
    const p = fleetPoint(
      [
        v('goodput', 0.4),
        v('goodput', 0.9, { Region: 'us-east-1' }),
        v('capacityGpuHours', 12, { Category: 'useful' }),
        v('capacityGpuHours', 99, { Category: 'useful', Region: 'us-east-1' }),
      ],
      5,
    );
    expect(p.tMs).toBe(5);
    expect(p.goodput).toBe(0.4);
    expect(p.allocationRate).toBeNull();
    expect(p.capacityGpuHours).toEqual({ useful: 12 });
  });

  it('dropOf names the scope from the labels and reads the shares from the values', () => {
    const finding = {
      kind: 'kpi.goodput_drop',
      cause: 'network',
      labels: { region: 'us-east-1', cluster: 'train-a' },
      evidence: {
        values: {
          relativeDrop: 0.1234,
          goodputPrev: 0.5,
          goodputCur: 0.44,
          lostGpuHours: 3,
          networkShare: 0.75,
          dataIoShare: 0.25,
        },
      },
    } as unknown as Finding;
    const d = dropOf(finding, 7);
    expect(d.scope).toBe('cluster=us-east-1/train-a');
    expect(d.dropPercent).toBe(12.3);
    expect(d.cause).toBe('network');
    expect(d.shares.network).toBe(0.75);
    expect(d.shares['data-io']).toBe(0.25);
    expect(d.shares.hardware).toBe(0);
  });

  it('SimulationUsageRecords forgets windows that ended before the prune time', async () => {
    const records = new SimulationUsageRecords();
    const rec = (startMs: number) => ({
      version: 1 as const,
      window: { startMs, endMs: startMs + 5 * MINUTE_MS },
      jobs: [],
      nodes: [],
      unattributedSamples: 0,
      issues: [],
    });
    await records.record(rec(0));
    await records.record(rec(HOUR_MS));
    records.prune(30 * MINUTE_MS);
    expect(records.size).toBe(1);
    expect(records.recordedUntilMs).toBe(HOUR_MS + 5 * MINUTE_MS);
  });
});
