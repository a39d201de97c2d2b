import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findingSchema } from '../../../lambdas/contracts/finding';
import {
  CATEGORIES,
  type Decomposition,
  type DecompositionOptions,
  decompose,
  goodputDropFinding,
  type KpiSnapshot,
  snapshotOf,
} from '../../../lambdas/core/kpi/decomposition';
import {
  computeGoodput,
  type JobUsage,
  type NodeWindow,
  type TimeWindow,
} from '../../../lambdas/core/kpi/goodput';
import {
  EMPTY_JOB_STATS,
  jobStats,
  supportingKpis,
  type WorkloadSlas,
} from '../../../lambdas/core/kpi/supporting';
import type { TrainingJobState } from '../../../lambdas/core/model';
import { HOUR_WINDOW, MIN, nodes, state, usage } from './fixtures';

const CUR: TimeWindow = HOUR_WINDOW;
const PREV: TimeWindow = { startMs: CUR.startMs - 60 * MIN, endMs: CUR.startMs };

function snapshot(
  window: TimeWindow,
  jobs: JobUsage[],
  inv: NodeWindow[],
  states: TrainingJobState[] = [],
  slas?: WorkloadSlas,
): KpiSnapshot {
  const g = computeGoodput({ window, jobs, nodes: inv });
  const stats = jobStats(states, window, new Map(jobs.map((j) => [j.jobName, j.cluster])), slas);
  const fleet = g.scopes.find((s) => s.scope.kind === 'fleet');
  const k = supportingKpis(g.scopes, stats).get('fleet');
  if (!fleet || !k) throw new Error('no fleet scope');
  return snapshotOf(fleet, k.kpis, stats.get('fleet') ?? EMPTY_JOB_STATS, window);
}

/**
 * The healthy fleet: 10 nodes (80 GPU-h per hour), 8 jobs of 8 GPUs (one node each), training and
 * progressing all hour at sm 0.6: useful 8 × 8 × 0.6 = 38.4 → goodput 0.48. Jobs 0-3 run framework
 * 2.5, jobs 4-7 framework 2.4; images img-0..3 alternate.
 */
function fleetJobs(
  window: TimeWindow,
  p: (i: number) => Partial<Parameters<typeof usage>[1]> = () => ({}),
): JobUsage[] {
  return Array.from({ length: 8 }, (_, i) =>
    usage(
      `job-${i}`,
      { sm: 0.6, cohort: { framework: i < 4 ? '2.5' : '2.4', image: `img-${i % 4}` }, ...p(i) },
      window,
    ),
  );
}

/** Jobs that started at the window start after waiting `waitMin` minutes. */
function started(window: TimeWindow, n: number, waitMin: number, prefix = 's'): TrainingJobState[] {
  return Array.from({ length: n }, (_, i) =>
    state({
      jobName: `${prefix}-${i}`,
      creationTime: window.startMs - waitMin * MIN,
      trainingStartTime: window.startMs,
    }),
  );
}

const baseline = (states: TrainingJobState[] = started(PREV, 8, 5), slas?: WorkloadSlas) =>
  snapshot(PREV, fleetJobs(PREV), nodes(10), states, slas);

function run(prev: KpiSnapshot, cur: KpiSnapshot, o?: DecompositionOptions): Decomposition {
  const d = decompose(prev, cur, o);
  if (!d) throw new Error('expected a goodput drop');
  const sum = CATEGORIES.reduce((a, c) => a + d.attributed[c], 0);
  expect(sum).toBeCloseTo(d.lostGpuHours, 9);
  const f = goodputDropFinding({ kind: 'fleet' }, d, CUR, CUR.endMs + MIN);
  expect(findingSchema.parse(f)).toEqual(f);
  return d;
}

describe('decomposition: one case per category', () => {
  it('hardware: two nodes unhealthy all hour', () => {
    // cur: nodes 0-1 unhealthy (16 GPU-h), jobs on 6 nodes: useful 28.8 → 0.36.
    // Lost (0.48 − 0.36) × 80 = 9.6 GPU-h, all hardware (software waste shrank: an offset).
    const inv = nodes(10).map((n, i) => (i < 2 ? { ...n, unhealthyMinutes: 60, hardwareFaults: 3 } : n));
    const d = run(baseline(), snapshot(CUR, fleetJobs(CUR).slice(2), inv, started(CUR, 6, 5)));
    expect(d.lostGpuHours).toBeCloseTo(9.6);
    expect(d.dominant).toBe('hardware');
    expect(d.attributed.hardware).toBeCloseTo(9.6);
    expect(d.offsets.software).toBeCloseTo(6.4);
  });

  it('software: the framework 2.5 cohort got slower', () => {
    // jobs 0-3 drop to sm 0.3: useful 4 × 8 × 0.3 + 4 × 8 × 0.6 = 28.8 → 0.36; lost 9.6, all software.
    const cur = snapshot(
      CUR,
      fleetJobs(CUR, (i) => (i < 4 ? { sm: 0.3 } : {})),
      nodes(10),
      started(CUR, 8, 5),
    );
    const d = run(baseline(), cur);
    expect(d.dominant).toBe('software');
    expect(d.attributed.software).toBeCloseTo(9.6);
    expect(d.topCohort).toMatchObject({ key: 'framework=2.5', concentration: 1 });
    expect(d.topCohort?.growthGpuHours).toBeCloseTo(9.6);
  });

  it('scheduling: three jobs preempted, their work since the last checkpoint lost', () => {
    // 3 jobs stopped by preemption, checkpoint at the window start: 3 × 8 × 0.6 = 14.4 lost
    // → useful 24 → 0.3; lost (0.48 − 0.3) × 80 = 14.4.
    const cur = snapshot(
      CUR,
      fleetJobs(CUR, (i) =>
        i < 3 ? { outcome: 'stopped', failureCause: 'scheduling', checkpoints: [CUR.startMs] } : {},
      ),
      nodes(10),
      started(CUR, 8, 5),
    );
    const d = run(baseline(), cur);
    expect(d.dominant).toBe('scheduling');
    expect(d.attributed.scheduling).toBeCloseTo(14.4);
  });

  it('data-io: every job spends a fifth of its time waiting for input', () => {
    // sm 0.6 → 0.4 with dataWait 0.2: useful 25.6 → 0.32; lost 12.8 to data-io.
    const cur = snapshot(
      CUR,
      fleetJobs(CUR, () => ({ sm: 0.4, dataWait: 0.2 })),
      nodes(10),
      started(CUR, 8, 5),
    );
    const d = run(baseline(), cur);
    expect(d.dominant).toBe('data-io');
    expect(d.attributed['data-io']).toBeCloseTo(12.8);
  });

  it('network: exposed communication grew', () => {
    const cur = snapshot(
      CUR,
      fleetJobs(CUR, () => ({ sm: 0.4, comm: 0.2 })),
      nodes(10),
      started(CUR, 8, 5),
    );
    const d = run(baseline(), cur);
    expect(d.dominant).toBe('network');
    expect(d.attributed.network).toBeCloseTo(12.8);
    const f = goodputDropFinding({ kind: 'region', region: 'us-east-1' }, d, CUR, CUR.endMs);
    expect(f).toMatchObject({
      kind: 'kpi.goodput_drop',
      cause: 'network',
      severity: 'ticket',
      labels: { region: 'us-east-1' },
    });
    expect(f.evidence.values?.networkShare).toBe(1);
    expect(f.evidence.detail).toMatch(/communication share/);
  });

  it('does not fire below the drop threshold or on small scopes', () => {
    const cur = snapshot(
      CUR,
      fleetJobs(CUR, (i) => (i === 0 ? { sm: 0.3 } : {})),
      nodes(10),
      started(CUR, 8, 5),
    );
    // 38.4 → 36 is a 6.25 % drop: below the default 8 %
    expect(decompose(baseline(), cur)).toBeUndefined();
    expect(decompose(baseline(), cur, { minRelativeDrop: 0.05 })).toBeDefined();
    expect(decompose(baseline(), cur, { minRelativeDrop: 0.05, minAvailableGpuHours: 100 })).toBeUndefined();
  });
});

describe('decomposition: the two classic findings', () => {
  it('(a) utilisation flat, SLA misses spike, queue wait up → scheduling (preemption churn)', () => {
    // Every GPU stays allocated and training (flat utilisation), but 3 jobs are preempted and lose
    // their work, and the jobs that start waited 150 min (batch SLA 60 min).
    const cur = snapshot(
      CUR,
      fleetJobs(CUR, (i) =>
        i < 3 ? { outcome: 'stopped', failureCause: 'scheduling', checkpoints: [CUR.startMs] } : {},
      ),
      nodes(10),
      started(CUR, 8, 150),
    );
    const prev = baseline();
    expect([prev.slaAttainment, cur.slaAttainment]).toEqual([1, 0]);
    const d = run(prev, cur);
    expect(d.pattern).toBe('utilisation-flat-sla-misses');
    expect(d.dominant).toBe('scheduling');
    expect(d.reassignment).toBeUndefined();
  });

  // Duration SLA 100 min: in the previous window jobs finished in 90 min, now in 110 min.
  const slas: WorkloadSlas = {
    interactive: {},
    batch: { maxStartLatencyMs: 60 * MIN, maxDurationMs: 100 * MIN },
    distributed: {},
  };
  const finished = (w: TimeWindow, durationMin: number) =>
    Array.from({ length: 8 }, (_, i) =>
      state({
        jobName: `done-${i}`,
        status: 'Completed',
        creationTime: w.startMs + 30 * MIN - durationMin * MIN,
        trainingStartTime: w.startMs + 30 * MIN - durationMin * MIN,
        trainingEndTime: w.startMs + 30 * MIN,
      }),
    );

  /** The duration-SLA pair of windows: `prevJobs` finish in 90 min, `curJobs` in 110 min. */
  const slaWindows = (prevJobs: JobUsage[], curJobs: JobUsage[]) => ({
    prev: snapshot(PREV, prevJobs, nodes(10), finished(PREV, 90), slas),
    cur: snapshot(CUR, curJobs, nodes(10), finished(CUR, 110), slas),
  });

  it('(a) utilisation flat, SLA misses spike, no queue growth, slowdown across cohorts → data-io', () => {
    // All jobs drop from sm 0.6 to 0.4 and report no step-time breakdown: the partition sees
    // "stalled / SMs idle" (software). Spread evenly over both frameworks and no queue growth:
    // the shared input path, reassigned to data-io.
    const { prev, cur } = slaWindows(
      fleetJobs(PREV),
      fleetJobs(CUR, () => ({ sm: 0.4 })),
    );
    const d = run(prev, cur);
    expect(d.pattern).toBe('utilisation-flat-sla-misses');
    expect(d.dominant).toBe('data-io');
    expect(d.attributed['data-io']).toBeCloseTo(12.8); // useful 8 × 8 × 0.4 = 25.6 → 0.32; (0.48 − 0.32) × 80
    expect(d.reassignment).toMatch(/input path/);
  });

  it('(a) same symptoms, but the slowdown sits in one cohort → stays software', () => {
    const { prev, cur } = slaWindows(
      fleetJobs(PREV),
      fleetJobs(CUR, (i) => (i < 4 ? { sm: 0.2 } : {})),
    );
    const d = run(prev, cur);
    expect(d.pattern).toBe('utilisation-flat-sla-misses');
    expect(d.dominant).toBe('software');
    expect(d.topCohort?.key).toBe('framework=2.5');
  });

  it('(a) utilisation rising counts as flat: slowed jobs hold their GPUs longer', () => {
    // prev: 7 of 10 nodes allocated (0.7), sm 0.6: goodput 0.42. cur: all 8 jobs held (0.8) at
    // sm 0.35: goodput 0.28. Allocation up 10 points, SLA misses spike: still pattern (a).
    const { prev, cur } = slaWindows(
      fleetJobs(PREV).slice(0, 7),
      fleetJobs(CUR, () => ({ sm: 0.35 })),
    );
    const d = run(prev, cur);
    expect(d.pattern).toBe('utilisation-flat-sla-misses');
    expect(d.dominant).toBe('data-io');
  });

  it('(a) is not claimed when utilisation fell by more than the flat limit', () => {
    // prev: 8 nodes allocated; cur: 7 (−10 points) at sm 0.4, SLA misses spike, queue flat.
    const { prev, cur } = slaWindows(fleetJobs(PREV), fleetJobs(CUR, () => ({ sm: 0.4 })).slice(0, 7));
    const d = run(prev, cur);
    expect(d.pattern).toBeUndefined();
    expect(d.reassignment).toBeUndefined();
  });

  it('(b) utilisation falling, queue wait rising, nodes healthy → scheduling', () => {
    // cur: only 5 jobs placed (useful 24 → 0.3), although one 8-GPU job waits all hour and the
    // jobs that did start waited 40 min (vs 5). Unallocated 40 GPU-h; queued demand only 8, so
    // the bare partition would call 32 of them idle capacity. The pattern reassigns them.
    const waiting = state({
      jobName: 'big',
      creationTime: CUR.startMs - 10 * MIN,
      secondaryStatus: 'Starting',
    });
    const cur = snapshot(CUR, fleetJobs(CUR).slice(0, 5), nodes(10), [...started(CUR, 5, 40), waiting]);
    const d = run(baseline(), cur);
    expect(d.pattern).toBe('utilisation-falling-queue-rising');
    expect(d.dominant).toBe('scheduling');
    expect(d.attributed.scheduling).toBeCloseTo(14.4); // (0.48 − 0.3) × 80
    expect(d.attributed['idle-capacity']).toBe(0);
  });

  it('(b) counter-case: utilisation falling with no queue is lost demand, not a fault', () => {
    const cur = snapshot(CUR, fleetJobs(CUR).slice(0, 5), nodes(10), started(CUR, 5, 5));
    const d = run(baseline(), cur);
    expect(d.pattern).toBeUndefined();
    expect(d.dominant).toBe('idle-capacity');
    const f = goodputDropFinding({ kind: 'fleet' }, d, CUR, CUR.endMs);
    expect([f.cause, f.severity]).toEqual(['efficiency', 'info']);
  });

  it('(b) is not claimed when nodes are failing: hardware wins', () => {
    const inv = nodes(10).map((n, i) => (i < 3 ? { ...n, unhealthyMinutes: 60, hardwareFaults: 2 } : n));
    const cur = snapshot(CUR, fleetJobs(CUR).slice(0, 5), inv, started(CUR, 5, 40));
    const d = run(baseline(), cur);
    expect(d.pattern).toBeUndefined();
    expect(d.dominant).toBe('hardware');
  });
});

describe('decomposition properties', () => {
  const hours = fc.double({ min: 0, max: 100, noNaN: true });
  const arbSnapshot = fc
    .record({
      unhealthy: hours,
      unallocated: hours,
      unobserved: hours,
      notTraining: hours,
      dataWait: hours,
      comm: hours,
      inefficient: hours,
      useful: fc.double({ min: 0.1, max: 100, noNaN: true }),
      lostHw: hours,
      lostSw: hours,
      queued: hours,
      waitP95: fc.option(fc.double({ min: 0, max: 10_000, noNaN: true }), { nil: undefined }),
    })
    .map((h): KpiSnapshot => {
      const allocated =
        h.unobserved + h.notTraining + h.dataWait + h.comm + h.inefficient + h.useful + h.lostHw + h.lostSw;
      const available = h.unhealthy + h.unallocated + allocated;
      return {
        window: CUR,
        breakdown: {
          availableGpuHours: available,
          maintenanceGpuHours: 0,
          unhealthyGpuHours: h.unhealthy,
          unallocatedGpuHours: h.unallocated,
          allocatedGpuHours: allocated,
          unobservedGpuHours: h.unobserved,
          notTrainingGpuHours: h.notTraining,
          trainingGpuHours: h.dataWait + h.comm + h.inefficient + h.useful + h.lostHw + h.lostSw,
          dataWaitGpuHours: h.dataWait,
          commGpuHours: h.comm,
          inefficientGpuHours: h.inefficient,
          lostUsefulGpuHours: h.lostHw + h.lostSw,
          usefulGpuHours: h.useful,
          stalledGpuHours: 0,
          lostToFailureGpuHours: h.lostHw + h.lostSw,
          atRiskGpuHours: 0,
          overAllocatedGpuHours: 0,
          hardwareFaults: 0,
          goodput: h.useful / available,
        },
        ...(h.waitP95 === undefined ? {} : { queueWaitP95Seconds: h.waitP95 }),
        queuedGpuHours: h.queued,
        lostUsefulByCause: { hardware: h.lostHw, software: h.lostSw },
        softwareByCohort: {},
      };
    });

  it('attributed GPU-hours sum to the lost total, none negative, dominant has the most', () => {
    fc.assert(
      fc.property(arbSnapshot, arbSnapshot, (prev, cur) => {
        const d = decompose(prev, cur, { minRelativeDrop: 0, minAvailableGpuHours: 0 });
        if (!d) return;
        const sum = CATEGORIES.reduce((a, c) => a + d.attributed[c], 0);
        expect(Math.abs(sum - d.lostGpuHours)).toBeLessThanOrEqual(1e-6 * Math.max(1, d.lostGpuHours));
        for (const c of CATEGORIES) {
          expect(d.attributed[c]).toBeGreaterThanOrEqual(0);
          expect(d.attributed[c]).toBeLessThanOrEqual(d.attributed[d.dominant]);
        }
        const f = goodputDropFinding({ kind: 'fleet' }, d, CUR, CUR.endMs);
        expect(findingSchema.safeParse(f).success).toBe(true);
      }),
    );
  });
});

describe('runbook', () => {
  it('exists where the finding links', () => {
    expect(existsSync('docs/runbooks/kpi.goodput_drop.md')).toBe(true);
  });
});
