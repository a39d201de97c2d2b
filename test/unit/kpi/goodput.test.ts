import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  breakdown,
  bucketsFromGpuMinutes,
  computeGoodput,
  coveredMs,
  type GpuMinute,
  type JobUsage,
  jobGoodput,
  type NodeWindow,
} from '../../../lambdas/core/kpi/goodput';
import { bucket, HOUR_WINDOW, MIN, node, nodes, T0, usage } from './fixtures';

const W = HOUR_WINDOW;
const fleet = (jobs: JobUsage[], inv: NodeWindow[]) =>
  computeGoodput({ window: W, jobs, nodes: inv }).scopes.find((s) => s.scope.kind === 'fleet')?.breakdown;

describe('goodput: hand-computed fleets (window 1 h, p5 nodes of 8 GPUs)', () => {
  // Each row: the fleet, and goodput computed by hand in the comment.
  const cases: { name: string; jobs: JobUsage[]; nodes: NodeWindow[]; goodput: number; useful: number }[] = [
    {
      // available 1 node × 8 GPUs × 1 h = 8; useful 8 GPUs × 1 h × sm 0.5 = 4 → 4 / 8 = 0.5
      name: 'one job, all progressing at sm 0.5',
      jobs: [usage('a', { sm: 0.5, outcome: 'completed' })],
      nodes: [node('n1')],
      goodput: 0.5,
      useful: 4,
    },
    {
      // available 2 nodes = 16; useful 8 × 0.5 = 4 → 0.25 (the idle second node counts against it)
      name: 'same job, a second node idle',
      jobs: [usage('a', { sm: 0.5, outcome: 'completed' })],
      nodes: nodes(2),
      goodput: 0.25,
      useful: 4,
    },
    {
      // maintenance 30 of 60 min is excluded: available 8 × 0.5 h = 4; the job ran the other
      // 30 min at sm 0.8: useful 8 × 0.5 × 0.8 = 3.2 → 0.8
      name: 'planned maintenance is excluded from available',
      jobs: [
        usage('a', {
          outcome: 'completed',
          allocations: [{ startMs: T0 + 30 * MIN, endMs: T0 + 60 * MIN }],
          buckets: [bucket(T0 + 30 * MIN, T0 + 60 * MIN, 8, { sm: 0.8 })],
        }),
      ],
      nodes: [node('n1', { maintenanceMinutes: 30 })],
      goodput: 0.8,
      useful: 3.2,
    },
    {
      // unhealthy time stays in available: 8; the job ran 30 min at sm 1: 4 → 0.5
      name: 'unplanned downtime (unhealthy) counts against goodput',
      jobs: [
        usage('a', {
          outcome: 'completed',
          allocations: [{ startMs: T0, endMs: T0 + 30 * MIN }],
          buckets: [bucket(T0, T0 + 30 * MIN, 8)],
        }),
      ],
      nodes: [node('n1', { unhealthyMinutes: 30 })],
      goodput: 0.5,
      useful: 4,
    },
    {
      // failed with a checkpoint at 30 min: two 30-min buckets of 8 GPUs at sm 0.75;
      // kept 8 × 0.5 × 0.75 = 3, lost the other 3 → 3 / 8 = 0.375
      name: 'failed job keeps only the work before its last checkpoint',
      jobs: [
        usage('a', {
          outcome: 'failed',
          failureCause: 'hardware',
          checkpoints: [T0 + 10 * MIN, T0 + 30 * MIN],
          buckets: [
            bucket(T0, T0 + 30 * MIN, 8, { sm: 0.75 }),
            bucket(T0 + 30 * MIN, T0 + 60 * MIN, 8, { sm: 0.75 }),
          ],
        }),
      ],
      nodes: [node('n1')],
      goodput: 0.375,
      useful: 3,
    },
    {
      // checkpoint inside the single 60-min bucket at 15 min: kept share 15/60;
      // 8 × 1 h × 0.75 × 0.25 = 1.5 → 1.5 / 8 = 0.1875
      name: 'a checkpoint inside a bucket splits it pro rata',
      jobs: [usage('a', { sm: 0.75, outcome: 'failed', checkpoints: [T0 + 15 * MIN] })],
      nodes: [node('n1')],
      goodput: 0.1875,
      useful: 1.5,
    },
    {
      // failed without any checkpoint: everything lost → 0
      name: 'failed job without checkpoint keeps nothing',
      jobs: [usage('a', { sm: 0.9, outcome: 'failed' })],
      nodes: [node('n1')],
      goodput: 0,
      useful: 0,
    },
    {
      // running job without checkpoint: counted provisionally: 8 × 0.9 = 7.2 → 0.9
      name: 'running job counts provisionally',
      jobs: [usage('a', { sm: 0.9 })],
      nodes: [node('n1')],
      goodput: 0.9,
      useful: 7.2,
    },
    {
      // 4 GPUs of an 8-GPU node: training 3/4 of the GPU-minutes, progressing 1/2, sm 0.5:
      // useful 4 × 1 h × 0.5 × 0.5 = 1 → 1 / 8 = 0.125
      name: 'not training and stalled minutes earn nothing',
      jobs: [usage('a', { gpus: 4, training: 0.75, progressing: 0.5, sm: 0.5 })],
      nodes: [node('n1')],
      goodput: 0.125,
      useful: 1,
    },
  ];
  it.each(cases)('$name', (c) => {
    const b = fleet(c.jobs, c.nodes);
    expect(b?.goodput).toBeCloseTo(c.goodput, 10);
    expect(b?.usefulGpuHours).toBeCloseTo(c.useful, 10);
  });

  it('partitions the allocated GPU-hours exactly (stalled job above)', () => {
    // allocated 4 GPU-h: not training 1, training 3 of which progressing 2 (sm 0.5 → useful 1),
    // so inefficient = training − SM-weighted progressing = 3 − 1 = 2; stalled = 3 − 2 = 1.
    const j = jobGoodput(usage('a', { gpus: 4, training: 0.75, progressing: 0.5, sm: 0.5 }), W);
    expect(j).toMatchObject({
      allocatedGpuHours: 4,
      unobservedGpuHours: 0,
      notTrainingGpuHours: 1,
      trainingGpuHours: 3,
      inefficientGpuHours: 2,
      usefulGpuHours: 1,
      stalledGpuHours: 1,
    });
    const b = breakdown([j], [node('n1')]);
    expect(b.unallocatedGpuHours).toBe(4);
  });

  it('reports lost and at-risk work', () => {
    const failed = jobGoodput(usage('f', { outcome: 'failed', checkpoints: [T0 + 45 * MIN] }), W);
    // 8 GPUs × 15 min after the checkpoint = 2 GPU-hours, sm 1
    expect(failed.lostToFailureGpuHours).toBeCloseTo(2);
    expect(failed.lostUsefulGpuHours).toBeCloseTo(2);
    expect(failed.atRiskGpuHours).toBe(0);
    const running = jobGoodput(usage('r', { checkpoints: [T0 + 45 * MIN] }), W);
    expect(running.atRiskGpuHours).toBeCloseTo(2);
    expect(running.usefulGpuHours).toBeCloseTo(8);
    const done = jobGoodput(usage('c', { outcome: 'completed' }), W);
    expect(done.lostToFailureGpuHours + done.atRiskGpuHours).toBe(0);
  });

  it('per scope: a team owning nodes gets a goodput, a team on shared nodes does not', () => {
    const inv = [node('a1', { team: 'vision' }), node('b1', { cluster: 'train-b' })];
    const jobs = [
      usage('v', { team: 'vision', sm: 0.5 }),
      usage('l', { team: 'llm', cluster: 'train-b', sm: 0.25 }),
    ];
    const res = computeGoodput({ window: W, jobs, nodes: inv });
    const by = (k: string) => res.scopes.find((s) => JSON.stringify(s.scope) === k)?.breakdown;
    // fleet: (4 + 2) / 16
    expect(by('{"kind":"fleet"}')?.goodput).toBeCloseTo(6 / 16);
    expect(by('{"kind":"cluster","region":"us-east-1","cluster":"train-b"}')?.goodput).toBeCloseTo(2 / 8);
    expect(by('{"kind":"team","team":"vision"}')?.goodput).toBeCloseTo(0.5);
    expect(by('{"kind":"team","team":"llm"}')?.goodput).toBeUndefined();
    expect(by('{"kind":"team","team":"llm"}')?.usefulGpuHours).toBeCloseTo(2);
  });

  it('counts overlapping allocations once and clips them to the window', () => {
    expect(
      coveredMs(
        [
          { startMs: T0 - 30 * MIN, endMs: T0 + 20 * MIN },
          { startMs: T0 + 10 * MIN, endMs: T0 + 30 * MIN },
          { startMs: T0 + 50 * MIN, endMs: T0 + 90 * MIN },
        ],
        W,
      ),
    ).toBe(40 * MIN);
  });

  it('clamps and reports inconsistent inputs instead of trusting them', () => {
    const issues: { subject: string; problem: string }[] = [];
    const bad: JobUsage = usage('bad', {
      buckets: [
        {
          startMs: T0,
          endMs: T0 + 60 * MIN,
          observedGpuMinutes: 480,
          trainingGpuMinutes: 480,
          progressingGpuMinutes: 600, // more than training
          progressingSmGpuMinutes: 700,
        },
      ],
    });
    const j = jobGoodput(bad, W, issues);
    expect(j.usefulGpuHours).toBeCloseTo(8);
    expect(issues.map((i) => i.problem).join('\n')).toMatch(
      /progressingGpuMinutes 600 > trainingGpuMinutes 480/,
    );
    const res = computeGoodput({ window: W, jobs: [usage('x'), usage('y')], nodes: [node('n1')] });
    expect(res.issues.some((i) => /beyond the healthy capacity/.test(i.problem))).toBe(true);
    expect(res.scopes.find((s) => s.scope.kind === 'fleet')?.breakdown.goodput).toBe(1);
  });
});

describe('goodput resists gaming', () => {
  /** A GPU-minute as DCGM would show a burner: gpu_util 100 %, SMs nearly idle, no progress. */
  const burnerMinutes = (gpus: number): GpuMinute[] =>
    Array.from({ length: 60 * gpus }, (_, i) => ({
      time: T0 + Math.floor(i / gpus) * MIN,
      smActive: 0.02, // gpu_util would read 100: one tiny kernel always resident
      training: true,
      progressing: false,
    }));

  it('dummy load at 100 % gpu_util does not raise goodput', () => {
    const real = usage('real', { sm: 0.6 });
    const base = fleet([real], nodes(2));
    const burner = usage('burner', { buckets: bucketsFromGpuMinutes(burnerMinutes(8)) });
    const gamed = computeGoodput({ window: W, jobs: [real, burner], nodes: nodes(2) }).scopes.find(
      (s) => s.scope.kind === 'fleet',
    );
    expect(base?.goodput).toBeCloseTo(4.8 / 16);
    expect(gamed?.breakdown.goodput).toBeCloseTo(base?.goodput ?? Number.NaN, 12);
    // ... while allocation ("utilisation") doubled: the trick works on that metric, not on goodput.
    expect(gamed?.breakdown.allocatedGpuHours).toBe(16);
    expect(gamed?.jobs.find((j) => j.jobName === 'burner')?.stalledGpuHours).toBe(8);
  });

  it('progress without SM work (a loop logging a fake loss) earns only its sm_active', () => {
    const fake = usage('fake', { sm: 0.02 }); // "progressing", but the SMs do nothing
    expect(fleet([fake], [node('n1')])?.goodput).toBeCloseTo(0.02);
  });

  it('hoarding idle allocation lowers goodput: the denominator is capacity, not allocation', () => {
    // Two nodes. The hoarder holds node 2 idle while a useful job could have used it.
    const worker = usage('worker', { sm: 0.5 });
    const hoarder = usage('hoarder', { training: 0, progressing: 0 });
    const hoarding = fleet([worker, hoarder], nodes(2));
    const released = fleet([worker, usage('queued-job', { sm: 0.5 })], nodes(2));
    expect(hoarding?.goodput).toBeCloseTo(4 / 16); // 0.25
    expect(released?.goodput).toBeCloseTo(8 / 16); // 0.5
    // The per-allocation view would call the hoarding fleet 100 % allocated.
    expect(hoarding?.allocatedGpuHours).toBe(16);
  });

  it('removing the progress metric does not help: minutes without progress earn nothing', () => {
    const minutes: GpuMinute[] = Array.from({ length: 480 }, (_, i) => ({
      time: T0 + Math.floor(i / 8) * MIN,
      smActive: 0.9,
      training: true,
      progressing: false,
    }));
    expect(fleet([usage('silent', { buckets: bucketsFromGpuMinutes(minutes) })], [node('n1')])?.goodput).toBe(
      0,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const arbBucket = (from: number) =>
  fc
    .record({
      observed: fc.integer({ min: 0, max: 480 }),
      training: fc.integer({ min: 0, max: 600 }),
      progressing: fc.integer({ min: 0, max: 600 }),
      sm: fc.double({ min: 0, max: 2, noNaN: true }),
      dataWait: fc.integer({ min: 0, max: 300 }),
    })
    .map((b) => ({
      startMs: from,
      endMs: from + 30 * MIN,
      observedGpuMinutes: b.observed,
      trainingGpuMinutes: b.training,
      progressingGpuMinutes: b.progressing,
      progressingSmGpuMinutes: b.progressing * b.sm,
      dataWaitGpuMinutes: b.dataWait,
    }));

const arbJob = fc
  .record({
    name: fc.string({ minLength: 1, maxLength: 6 }),
    gpus: fc.integer({ min: 1, max: 16 }),
    startMin: fc.integer({ min: -30, max: 60 }),
    lenMin: fc.integer({ min: 0, max: 120 }),
    b1: arbBucket(T0),
    b2: arbBucket(T0 + 30 * MIN),
    outcome: fc.constantFrom('running', 'completed', 'failed', 'stopped' as const),
    ckpt: fc.option(fc.integer({ min: -10, max: 70 }), { nil: undefined }),
    cluster: fc.constantFrom('a', 'b'),
    team: fc.constantFrom('t1', 't2'),
  })
  .map(
    (j): JobUsage => ({
      jobName: j.name,
      region: 'us-east-1',
      cluster: j.cluster,
      team: j.team,
      gpus: j.gpus,
      allocations: [{ startMs: T0 + j.startMin * MIN, endMs: T0 + (j.startMin + j.lenMin) * MIN }],
      buckets: [j.b1, j.b2],
      outcome: j.outcome as JobUsage['outcome'],
      checkpoints: j.ckpt === undefined ? [] : [T0 + j.ckpt * MIN],
    }),
  );

const arbNode = fc
  .record({
    id: fc.nat({ max: 1000 }),
    gpus: fc.integer({ min: 1, max: 8 }),
    present: fc.integer({ min: 0, max: 60 }),
    maint: fc.integer({ min: 0, max: 70 }),
    sick: fc.integer({ min: 0, max: 70 }),
    cluster: fc.constantFrom('a', 'b'),
  })
  .map(
    (n): NodeWindow =>
      node(`n${n.id}`, {
        gpus: n.gpus,
        presentMinutes: n.present,
        maintenanceMinutes: n.maint,
        unhealthyMinutes: n.sick,
        cluster: n.cluster,
      }),
  );

describe('goodput properties', () => {
  it('goodput is in [0, 1] for every scope, whatever the input', () => {
    fc.assert(
      fc.property(fc.array(arbJob, { maxLength: 8 }), fc.array(arbNode, { maxLength: 6 }), (jobs, inv) => {
        for (const s of computeGoodput({ window: W, jobs, nodes: inv }).scopes) {
          const g = s.breakdown.goodput;
          if (g !== undefined) {
            expect(g).toBeGreaterThanOrEqual(0);
            expect(g).toBeLessThanOrEqual(1);
          }
        }
      }),
    );
  });

  it('adding an idle allocated job never increases goodput', () => {
    fc.assert(
      fc.property(
        fc.array(arbJob, { maxLength: 6 }),
        fc.array(arbNode, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 16 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (jobs, inv, gpus, training) => {
          const before = fleet(jobs, inv)?.goodput;
          const idle: JobUsage = {
            jobName: 'idle-hoarder',
            region: 'us-east-1',
            cluster: 'a',
            team: 't1',
            gpus,
            allocations: [W],
            buckets: [bucket(T0, T0 + 60 * MIN, gpus, { training, progressing: 0 })],
            outcome: 'running',
            checkpoints: [],
          };
          const after = fleet([...jobs, idle], inv)?.goodput;
          if (before !== undefined && after !== undefined) expect(after).toBeLessThanOrEqual(before + 1e-12);
        },
      ),
    );
  });

  it('the partition of a job adds up to its allocation', () => {
    fc.assert(
      fc.property(arbJob, (job) => {
        const j = jobGoodput(job, W);
        const parts =
          j.unobservedGpuHours +
          j.notTrainingGpuHours +
          j.dataWaitGpuHours +
          j.commGpuHours +
          j.inefficientGpuHours +
          j.lostUsefulGpuHours +
          j.usefulGpuHours;
        expect(parts).toBeCloseTo(j.allocatedGpuHours, 6);
        for (const v of [
          j.unobservedGpuHours,
          j.notTrainingGpuHours,
          j.inefficientGpuHours,
          j.usefulGpuHours,
        ])
          expect(v).toBeGreaterThanOrEqual(-1e-9);
      }),
    );
  });
});
