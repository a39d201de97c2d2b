import { describe, expect, it } from 'vitest';
import {
  type DecompositionCase,
  expectAttributedTo,
  ONSET_MS,
  onset,
  runCasesBeforeAll,
} from './kpi-decomposition-cases';

/**
 * Goodput decomposition on simulated faults of a known cause (issue 6), part 2: data I/O and
 * network, which the decomposition can only tell apart from software through the step-time
 * breakdown jobs publish (lambdas/sim/step-time.ts: the PyTorch jobs), and the two classic
 * findings: "utilisation flat while SLA misses spike" and "utilisation falling while queue time
 * rises and node health looks normal". Timeline and fleet: kpi-decomposition-cases.ts.
 */

const CASES = {
  // Input pipelines of four long distributed jobs starve (each dataloader fault hits one job).
  dataIo: {
    name: 'data-io',
    mix: 'busy',
    jobsPerDay: 600,
    faults: [0, 1, 2, 3].map((n) => ({
      id: `dataloader-${n}`,
      kind: 'dataloader_bottleneck',
      at: onset,
      target: { cluster: 'train-a', job: 'running-distributed' },
      duration: '2h',
    })),
  },
  // The cluster fabric degrades: every distributed job training on it, now or later, is slowed.
  network: {
    name: 'network',
    mix: 'busy',
    jobsPerDay: 600,
    faults: [
      {
        id: 'fabric',
        kind: 'network_degradation',
        at: onset,
        target: { cluster: 'train-a' },
        duration: '2h',
      },
    ],
  },
  // An oversubscribed fleet (demand twice its capacity, the queue never empties) whose shared input
  // path halves in speed: every job training on the cluster, now or later, waits twice as long for
  // data. The GPUs stay allocated (the slowed jobs hold them longer) while starts fall behind.
  storage: {
    name: 'storage',
    mix: 'light',
    jobsPerDay: 1500,
    targetLoad: 2,
    faults: [
      {
        id: 'storage',
        kind: 'dataloader_bottleneck',
        at: onset,
        target: { cluster: 'train-a' },
        params: { slowdown: 2 },
        duration: '2h',
      },
    ],
  },
  // A fleet with spare capacity whose scheduler holds queued jobs back 45 minutes: GPUs go unused
  // while the queue grows and every node is healthy.
  placement: {
    name: 'placement',
    mix: 'light',
    jobsPerDay: 1500,
    faults: [
      {
        id: 'contention',
        kind: 'scheduler_contention',
        at: onset,
        target: { cluster: 'train-a' },
        params: { extraQueueMinutes: 45 },
        duration: '2h',
      },
    ],
  },
} satisfies Record<string, DecompositionCase>;

const result = runCasesBeforeAll(CASES);

describe('goodput decomposition: data I/O and network from the step-time breakdown', () => {
  it('data-io: starved input pipelines', () => {
    const r = result('dataIo');
    expectAttributedTo(r, 'data-io');
    // The breakdown is what shows it: the data-loader wait share of training rose several-fold.
    const before = r.kpis.filter((p) => p.tMs <= ONSET_MS).at(-1);
    const after = r.kpis.at(-1);
    expect(after?.dataLoaderWaitShare ?? 0).toBeGreaterThan(3 * (before?.dataLoaderWaitShare ?? 1));
  });

  it('network: a degraded fabric slowing the distributed jobs', () => {
    const r = result('network');
    expectAttributedTo(r, 'network');
    const before = r.kpis.filter((p) => p.tMs <= ONSET_MS).at(-1);
    const after = r.kpis.at(-1);
    expect(after?.communicationShare ?? 0).toBeGreaterThan(2 * (before?.communicationShare ?? 1));
  });
});

describe('goodput decomposition: classic finding "utilisation flat while SLA misses spike"', () => {
  it('is recognised and attributed to data-io when the shared input path slows every job', () => {
    const r = result('storage');
    const d = expectAttributedTo(r, 'data-io');
    expect(d.pattern).toBe('utilisation-flat-sla-misses');
    expect(d.shares.scheduling).toBe(0);
    expect(d.shares.hardware).toBe(0);
    // The pattern's preconditions, as the KPI series shows them: the allocation rate did not fall,
    // SLA attainment fell by at least 10 points, and the data-wait share of training rose.
    const before = r.kpis.filter((p) => p.tMs <= ONSET_MS).at(-1);
    const after = r.kpis.find((p) => p.tMs === d.atMs) ?? r.kpis.at(-1);
    expect(after?.allocationRate ?? 0).toBeGreaterThanOrEqual((before?.allocationRate ?? 1) - 0.03);
    expect((before?.slaAttainment ?? 0) - (after?.slaAttainment ?? 1)).toBeGreaterThanOrEqual(0.1);
    expect(after?.dataLoaderWaitShare ?? 0).toBeGreaterThan(2 * (before?.dataLoaderWaitShare ?? 1));
  });
});

describe('goodput decomposition: classic finding "utilisation falling, queue rising, nodes healthy"', () => {
  it('is recognised and attributed to scheduling, not to lack of demand or hardware', () => {
    const r = result('placement');
    const d = expectAttributedTo(r, 'scheduling');
    expect(d.pattern).toBe('utilisation-falling-queue-rising');
    expect(d.shares['idle-capacity']).toBe(0);
    expect(d.shares.hardware).toBe(0);
    // The pattern's preconditions, as the KPI series shows them.
    const before = r.kpis.filter((p) => p.tMs <= ONSET_MS).at(-1);
    const after = r.kpis.find((p) => p.tMs === d.atMs) ?? r.kpis.at(-1);
    expect(after?.allocationRate ?? 1).toBeLessThan(before?.allocationRate ?? 0);
    expect(after?.queueWaitP95Seconds ?? 0).toBeGreaterThan(
      before?.queueWaitP95Seconds ?? Number.POSITIVE_INFINITY,
    );
    expect(after?.hardwareFaultsPer1kGpuHours ?? 1).toBe(0);
  });
});
