import { describe, expect, it } from 'vitest';
import { KPI_KEYS, KPIS, NORTH_STAR, WASTE_KINDS } from '../../../lambdas/contracts/kpis';
import { computeGoodput, jobGoodput } from '../../../lambdas/core/kpi/goodput';
import {
  EMPTY_JOB_STATS,
  jobStats,
  kpiValues,
  scopeKpis,
  usdPerGpuHour,
  waste,
} from '../../../lambdas/core/kpi/supporting';
import { HOUR_WINDOW, MIN, node, nodes, state, T0, usage } from './fixtures';

const W = HOUR_WINDOW;

describe('KPI catalogue', () => {
  it('has one north star and 6 to 10 supporting KPIs with unique metric names', () => {
    const stars = KPI_KEYS.filter((k) => KPIS[k].role === 'north-star');
    expect(stars).toEqual([NORTH_STAR]);
    const supporting = KPI_KEYS.filter((k) => KPIS[k].role === 'supporting').length;
    expect(supporting).toBeGreaterThanOrEqual(6);
    expect(supporting).toBeLessThanOrEqual(10);
    const names = KPI_KEYS.map((k) => KPIS[k].metricName);
    expect(new Set(names).size).toBe(names.length);
    for (const k of KPI_KEYS) expect(KPIS[k].description.length).toBeGreaterThan(20);
  });
});

describe('job statistics (hand-computed)', () => {
  // Window 08:00-09:00. Batch start SLA is 60 min.
  const jobs = [
    // A: created 07:50, started 08:05: waited 15 min, within SLA.
    state({ jobName: 'A', trainingStartTime: T0 + 5 * MIN }),
    // B: created 06:00, started 08:30: waited 150 min, SLA missed.
    state({ jobName: 'B', creationTime: T0 - 120 * MIN, trainingStartTime: T0 + 30 * MIN }),
    // C: waiting since 06:50: deadline 07:50 passed before the window: not due in it.
    state({ jobName: 'C', creationTime: T0 - 70 * MIN, secondaryStatus: 'Starting' }),
    // D: waiting since 07:30: deadline 08:30 falls in the window: a miss.
    state({ jobName: 'D', creationTime: T0 - 30 * MIN, secondaryStatus: 'Starting' }),
    // E, F, G: started before the window, ended in it.
    state({
      jobName: 'E',
      status: 'Completed',
      trainingStartTime: T0 - 9 * MIN,
      trainingEndTime: T0 + 40 * MIN,
    }),
    state({
      jobName: 'F',
      status: 'Failed',
      trainingStartTime: T0 - 9 * MIN,
      trainingEndTime: T0 + 50 * MIN,
    }),
    state({
      jobName: 'G',
      status: 'Stopped',
      trainingStartTime: T0 - 9 * MIN,
      trainingEndTime: T0 + 55 * MIN,
    }),
  ];
  const stats = jobStats(jobs, W, new Map()).get('fleet') ?? EMPTY_JOB_STATS;

  it('counts outcomes, waits, SLA and queued GPU-hours', () => {
    expect([stats.completed, stats.failed, stats.stopped]).toEqual([1, 1, 1]);
    expect(stats.queueWaitsMs).toEqual([15 * MIN, 150 * MIN]);
    // due: A (met), B (missed), D (missed)
    expect([stats.slaMet, stats.slaDue]).toEqual([1, 3]);
    // queued in the window, × 8 GPUs: A 5 min, B 30 min, C 60 min, D 60 min = 155 min × 8 = 1240 GPU-min
    expect(stats.queuedGpuHours).toBeCloseTo(1240 / 60);
  });

  it('turns them into KPIs', () => {
    const b = computeGoodput({ window: W, jobs: [], nodes: [node('n1')] }).scopes[0]?.breakdown;
    if (!b) throw new Error('no fleet scope');
    const k = scopeKpis(b, [], stats);
    expect(k.jobSuccessRate).toBeCloseTo(1 / 3);
    expect(k.slaAttainment).toBeCloseTo(1 / 3);
    // p95 of [15, 150] min, linear interpolation: 15 + 0.95 × 135 = 143.25 min = 8595 s
    expect(k.queueWaitP95Seconds).toBeCloseTo(8595);
  });

  it('judges a duration SLA when the class has one', () => {
    const slow = state({
      jobName: 'slow',
      status: 'Completed',
      creationTime: T0 - 60 * MIN,
      trainingStartTime: T0 - 55 * MIN,
      trainingEndTime: T0 + 30 * MIN, // 90 min from creation
    });
    const slas = {
      interactive: {},
      batch: { maxStartLatencyMs: 60 * MIN, maxDurationMs: 60 * MIN },
      distributed: {},
    };
    const s = jobStats([slow], W, new Map(), slas).get('fleet');
    expect([s?.slaMet, s?.slaDue]).toEqual([0, 1]);
  });

  it('splits by region, cluster (from usage) and team', () => {
    const m = jobStats(
      [state({ jobName: 'A', team: 'vision', trainingStartTime: T0 + MIN })],
      W,
      new Map([['A', 'train-b']]),
    );
    expect([...m.keys()].sort()).toEqual([
      'cluster:us-east-1/train-b',
      'fleet',
      'region:us-east-1',
      'team:vision',
    ]);
  });
});

describe('capacity KPIs and waste (hand-computed)', () => {
  // Two nodes (16 GPU-h). Job a: 8 GPUs, all training, progressing half, sm 0.5 → useful 2.
  // Job b: 4 GPUs idle-held (not training) → not_training 4. Job c: 4 GPUs failed at 30 min
  // without checkpoint, progressing all, sm 1 → lost 2 (its 30 min × 4 GPUs), reported as lost.
  const jobs = [
    usage('a', { progressing: 0.5, sm: 0.5 }),
    usage('b', { gpus: 4, training: 0, progressing: 0 }),
    usage('c', {
      gpus: 4,
      outcome: 'failed',
      allocations: [{ startMs: T0, endMs: T0 + 30 * MIN }],
      buckets: [
        {
          startMs: T0,
          endMs: T0 + 30 * MIN,
          observedGpuMinutes: 120,
          trainingGpuMinutes: 120,
          progressingGpuMinutes: 120,
          progressingSmGpuMinutes: 120,
        },
      ],
    }),
  ];
  const res = computeGoodput({ window: W, jobs, nodes: nodes(2) });
  const fleet = res.scopes.find((s) => s.scope.kind === 'fleet');
  if (!fleet) throw new Error('no fleet scope');
  const k = scopeKpis(fleet.breakdown, fleet.jobs, EMPTY_JOB_STATS);

  it('computes allocation rate, effective SM activity, goodput', () => {
    // allocated 8 + 4 + 2 = 14 of 16
    expect(k.allocationRate).toBeCloseTo(14 / 16);
    // SM-weighted progressing (kept 2 + lost 2) / allocated 14
    expect(k.effectiveSmActivity).toBeCloseTo(4 / 14);
    expect(k.goodput).toBeCloseTo(2 / 16);
    expect(k.dataLoaderWaitShare).toBeUndefined();
  });

  it('splits waste into disjoint kinds and prices it', () => {
    // not_training: b 4; stalled: a 8 × 0.5 = 4; lost_to_failure: c 2 → total 10 GPU-h
    expect(k.waste.gpuHours).toEqual({ not_training: 4, stalled: 4, lost_to_failure: 2, total: 10 });
    const perGpuHour = 98.32 / 8; // p5.48xlarge list price (prices.ts) / 8 GPUs
    expect(usdPerGpuHour('p5.48xlarge')).toBeCloseTo(perGpuHour);
    expect(k.waste.dollars.total).toBeCloseTo(10 * perGpuHour);
    expect(k.waste.unpricedGpuHours).toBe(0);
  });

  it('leaves unpriced instance types out of dollars and counts them', () => {
    const w = waste([jobGoodput(usage('x', { instanceType: 'p5en.48xlarge', training: 0 }), W)]);
    expect(w.dollars.total).toBe(0);
    expect(w.unpricedGpuHours).toBe(8);
  });

  it('emits only defined KPIs, with scope and waste dimensions', () => {
    const values = kpiValues({ kind: 'cluster', region: 'us-east-1', cluster: 'train-a' }, k, W.endMs);
    const keys = new Set(values.map((v) => v.key));
    expect(keys.has('goodput')).toBe(true);
    expect(keys.has('queueWaitP95')).toBe(false); // no job started: no value, not 0
    expect(values.filter((v) => v.key === 'wastedGpuHours').map((v) => v.dimensions.Waste)).toEqual([
      ...WASTE_KINDS,
    ]);
    for (const v of values) {
      expect(v.dimensions).toMatchObject({ Region: 'us-east-1', Cluster: 'train-a' });
      expect(KPI_KEYS).toContain(v.key);
    }
  });
});
