import { beforeAll, describe, expect, it } from 'vitest';
import { parseDataCapture } from '../../../lambdas/core/detect/drift/data-capture';
import { DRIFT_FEATURES } from '../../../lambdas/sim/drift';
import type { FaultTruth } from '../../../lambdas/sim/faults';
import type { FleetSimulator } from '../../../lambdas/sim/simulator';
import { CLOCK_EVENT } from '../../../lambdas/sim/telemetry';
import { HOUR, MIN } from './fixtures';
import { at, runSignatureScenario, START } from './signature-scenario';

/**
 * One run with a fault of every kind on separate targets, then each fault's signature checked
 * in the telemetry, job lifecycle, progress and checkpoints it should show up in.
 */
let sim: FleetSimulator;
let truth: Map<string, FaultTruth>;

beforeAll(() => {
  sim = runSignatureScenario();
  truth = new Map(sim.groundTruth().map((t) => [t.id, t]));
});

const gpuIndex = (cluster: string, node: number, gpu: number) =>
  (sim.fleet.clusters.get(cluster)?.nodes[node]?.firstGpu ?? Number.NaN) + gpu;
const value = (gpu: number, minute: number, signal: string) =>
  (sim.gpuValues(gpu, START + minute * MIN) as Record<string, number> | undefined)?.[signal];

describe('hardware fault signatures', () => {
  it('xid 79: the GPU reports Xid 79 once, then its series stops while the others continue', () => {
    const g = gpuIndex('hw', 0, 6);
    expect(value(g, 119, 'xid')).toBe(0);
    expect(value(g, 120, 'xid')).toBe(79);
    expect(sim.gpuValues(g, START + 125 * MIN)).toBeUndefined();
    expect(sim.gpuValues(g, START + 140 * MIN)).toBeUndefined();
    expect(sim.gpuValues(gpuIndex('hw', 0, 5), START + 125 * MIN)).toBeDefined();
    expect(truth.get('xid79')?.expected).toEqual({ cause: 'hardware', severity: 'page' });
    expect(truth.get('xid79')?.labels).toMatchObject({
      cluster: 'hw',
      gpu: '6',
      node: sim.fleet.nodes[0]?.hostname,
    });
  });

  it('a non-fatal xid sets the gauge for its duration and is an application (software) problem', () => {
    const g = gpuIndex('hw', 0, 1);
    expect(value(g, 125, 'xid')).toBe(13);
    expect(value(g, 141, 'xid')).toBe(0);
    expect(truth.get('xid13')?.expected).toEqual({ cause: 'software', severity: 'info' });
  });

  it('gpu_fell_off_bus: one GPU stops reporting, the rest of the node does not', () => {
    const g = gpuIndex('hw', 1, 3);
    expect(sim.gpuValues(g, START + 119 * MIN)).toBeDefined();
    expect(sim.gpuValues(g, START + 120 * MIN)).toBeUndefined();
    expect(sim.gpuValues(g + 1, START + 120 * MIN)).toBeDefined();
    expect(sim.gpuReportedBetween(g, START + 130 * MIN, START + 200 * MIN)).toBe(false);
  });

  it('ecc_dbe bumps the DBE counter once and for good, with Xid 48', () => {
    const g = gpuIndex('hw', 2, 0);
    expect(value(g, 119, 'ecc_dbe')).toBe(0);
    expect(value(g, 120, 'ecc_dbe')).toBe(1);
    expect(value(g, 120, 'xid')).toBe(48);
    expect(value(g, 250, 'ecc_dbe')).toBe(1);
  });

  it('ecc_sbe_storm raises the SBE counter at its rate, monotonically, and it stays up', () => {
    const g = gpuIndex('hw', 2, 5);
    const before = value(g, 119, 'ecc_sbe') as number;
    const series = Array.from({ length: 60 }, (_, i) => value(g, 110 + i, 'ecc_sbe') as number);
    for (let i = 1; i < series.length; i++) expect(series[i]).toBeGreaterThanOrEqual(series[i - 1] as number);
    expect((value(g, 149, 'ecc_sbe') as number) - before).toBe(3000);
    expect(value(g, 200, 'ecc_sbe')).toBe(value(g, 149, 'ecc_sbe'));
  });

  it('thermal_throttle: temperature above slowdown and the thermal clock-event bits', () => {
    const g = gpuIndex('hw', 3, 4);
    const slowdown = sim.fleet.nodes[0]?.spec.slowdownTempC as number;
    expect(value(g, 130, 'temperature')).toBeGreaterThanOrEqual(slowdown);
    expect((value(g, 130, 'clock_events') as number) & CLOCK_EVENT.hwThermal).toBeTruthy();
    expect((value(g, 155, 'clock_events') as number) & CLOCK_EVENT.hwThermal).toBe(0);
  });

  it('power_cap: power held at the cap with the power-brake bit', () => {
    for (let gpu = 0; gpu < 8; gpu++) {
      const g = gpuIndex('hw', 4, gpu);
      expect(value(g, 130, 'power')).toBeLessThanOrEqual(306);
      expect((value(g, 130, 'clock_events') as number) & CLOCK_EVENT.hwPowerBrake).toBeTruthy();
    }
  });

  it('gaming_dummy_load: flat ~100 % utilisation with almost no SM or tensor activity, no job', () => {
    const g = gpuIndex('hw', 5, 2);
    const minutes = Array.from({ length: 30 }, (_, i) => 240 + i);
    for (const m of minutes) {
      expect(value(g, m, 'gpu_util')).toBeGreaterThanOrEqual(99);
      expect(value(g, m, 'sm_active')).toBeLessThan(0.1);
      expect(value(g, m, 'tensor_active')).toBe(0);
      expect(sim.jobOnGpu(g, START + m * MIN)).toBeUndefined();
    }
  });
});

describe('job fault signatures', () => {
  const jobOf = (id: string) => {
    const name = truth.get(id)?.labels.job;
    expect(name, `fault ${id} resolved to a job`).toBeDefined();
    const job = sim.job(name as string);
    expect(job).toBeDefined();
    return job as NonNullable<ReturnType<FleetSimulator['job']>>;
  };
  const window = (id: string) => {
    const t = truth.get(id) as FaultTruth;
    return { from: t.startedMs as number, to: (t.endedMs ?? sim.nowMs) as number };
  };

  it('job_stall: GPUs busy at ~100 % but no progress datapoints, and a distributed stall pages', () => {
    const job = jobOf('stall');
    const { from, to } = window('stall');
    expect(job.cls).toBe('distributed');
    expect(sim.progressTimestamps(job.name, from - 20 * MIN, from).length).toBeGreaterThan(0);
    expect(sim.progressTimestamps(job.name, from, to)).toEqual([]);
    const g = job.gpus[0] as number;
    expect(sim.gpuValues(g, from + 5 * MIN)?.gpu_util).toBeGreaterThanOrEqual(97);
    expect(truth.get('stall')?.expected).toEqual({ cause: 'software', severity: 'page' });
  });

  it('job_idle: utilisation ~0 while the job is InProgress, no progress', () => {
    const job = jobOf('idle');
    const { from } = window('idle');
    expect(sim.gpuValues(job.gpus[0] as number, from + 10 * MIN)?.gpu_util).toBe(0);
    expect(sim.progressTimestamps(job.name, from, from + 30 * MIN)).toEqual([]);
    const transitionsDuringIdle = job.transitions.filter(
      (t) => t.startMs > from && t.startMs < from + 30 * MIN,
    );
    expect(transitionsDuringIdle).toEqual([]);
  });

  it('checkpoint_stall: progress continues but the newest checkpoint stops moving', () => {
    const job = jobOf('ckpt');
    const { from } = window('ckpt');
    expect(job.checkpointUri).toBeDefined();
    const newestAtOnset = sim.newestCheckpoint(job.checkpointUri as string, from);
    const later = Math.min(from + 80 * MIN, job.endMs ?? sim.nowMs) - 1;
    expect(sim.newestCheckpoint(job.checkpointUri as string, later)).toBe(newestAtOnset);
    expect(sim.progressTimestamps(job.name, from, later).length).toBeGreaterThan(5);
  });

  it('dataloader_bottleneck: SM activity drops and progress slows', () => {
    const job = jobOf('loader');
    const { from } = window('loader');
    const g = job.gpus[0] as number;
    const smBefore = avg(
      range(from - 20 * MIN, from).map((t) => sim.gpuValues(g, t)?.sm_active ?? Number.NaN),
    );
    const smDuring = avg(
      range(from + MIN, from + 21 * MIN).map((t) => sim.gpuValues(g, t)?.sm_active ?? Number.NaN),
    );
    expect(smDuring).toBeLessThan(smBefore * 0.6);
    const before = sim.progressTimestamps(job.name, from - 20 * MIN, from).length;
    const during = sim.progressTimestamps(job.name, from, from + 20 * MIN).length;
    expect(during).toBeLessThan(before);
  });

  it('network_degradation: NVLink errors climb on a distributed job and its progress slows', () => {
    const job = jobOf('net');
    const { from } = window('net');
    const g = job.gpus[0] as number;
    const nvBefore = sim.gpuValues(g, from - MIN)?.nvlink_errors as number;
    const nvAfter = sim.gpuValues(g, from + 10 * MIN)?.nvlink_errors as number;
    expect(nvAfter - nvBefore).toBeGreaterThanOrEqual(400);
    expect(truth.get('net')?.expected.cause).toBe('network');
  });

  it('driver_regression: cohort jobs carry the new driver tag and fail far more often', () => {
    const cohort = new Set(truth.get('driver')?.labels.nodes);
    expect(cohort.size).toBe(4);
    let upgraded = 0;
    let upgradedFailed = 0;
    let others = 0;
    let othersFailed = 0;
    for (const job of sim.retainedJobs()) {
      if (job.cluster !== 'cohort' || job.placedMs === undefined || job.placedMs < START + 60 * MIN) continue;
      if (job.endMs === undefined) continue;
      const host = sim.fleet.nodes[job.nodes[0] as number]?.hostname as string;
      if (cohort.has(host)) {
        upgraded++;
        expect(sim.jobState(job).tags.driver_version).toBe('560.35.03');
        if (job.status === 'Failed') upgradedFailed++;
      } else {
        others++;
        expect(sim.jobState(job).tags.driver_version).not.toBe('560.35.03');
        if (job.status === 'Failed') othersFailed++;
      }
    }
    expect(upgraded).toBeGreaterThan(10);
    expect(upgradedFailed / upgraded).toBeGreaterThan(0.6);
    expect(othersFailed / Math.max(1, others)).toBeLessThan(0.2);
  });

  it('scheduler_contention: jobs created during it wait at least the extra queue time', () => {
    const { from, to } = window('queue');
    const waits = [...sim.retainedJobs()]
      .filter(
        (j) => j.cluster === 'cohort' && j.createdMs >= from && j.createdMs < to && j.placedMs !== undefined,
      )
      .map((j) => (j.placedMs as number) - j.createdMs);
    expect(waits.length).toBeGreaterThan(5);
    for (const w of waits) expect(w).toBeGreaterThanOrEqual(25 * MIN);
  });

  it('fleet_utilisation_drop: about params.drop of the cluster arrivals stop coming', () => {
    const { from, to } = window('drop');
    const created = [...sim.retainedJobs()].filter(
      (j) => j.cluster === 'hw' && j.createdMs >= from && j.createdMs < to,
    );
    const dropped = sim.counters.arrivalsDropped;
    const share = dropped / (dropped + created.length);
    expect(share).toBeGreaterThan(0.35);
    expect(share).toBeLessThan(0.65);
  });
});

describe('model_drift', () => {
  it('Data Capture rows parse with the drift checker and shift after the onset', () => {
    const drifted = Date.parse(at(180));
    const before = parseDataCapture(
      sim.endpoints.dataCapture('ranker-prod', drifted - HOUR, drifted),
      DRIFT_FEATURES,
    );
    const after = parseDataCapture(
      sim.endpoints.dataCapture('ranker-prod', drifted, drifted + HOUR),
      DRIFT_FEATURES,
    );
    expect(before.bad).toEqual([]);
    expect(before.rows).toHaveLength(360);
    const mean = (rows: typeof before.rows) => avg(rows.map((r) => r.basket_value as number));
    expect(mean(after.rows) - mean(before.rows)).toBeGreaterThan(40); // ~2 sd of 30
    const baseline = sim.endpoints.baselineCsv('ranker-prod', 500).split('\n');
    expect(baseline[0]).toBe('account_age_days,basket_value,session_minutes,channel');
    expect(baseline).toHaveLength(501);
    expect(truth.get('drift')?.labels.endpoint).toBe('ranker-prod');
  });
});

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let t = from - (from % MIN); t < to; t += MIN) out.push(t);
  return out;
}

function avg(xs: readonly number[]): number {
  const ok = xs.filter((x) => Number.isFinite(x));
  return ok.reduce((s, x) => s + x, 0) / ok.length;
}
