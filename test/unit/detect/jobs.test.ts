import { describe, expect, it } from 'vitest';
import { findingSchema } from '../../../lambdas/contracts/finding';
import {
  DEFAULT_CLASS_POLICIES,
  detectJobHealth,
  type JobPlacement,
  progressCadenceMs,
  workloadClassOf,
} from '../../../lambdas/core/detect/jobs';
import type { GpuSample, TrainingJobState } from '../../../lambdas/core/model';
import { idle, job, MIN, minutes, T0, training, type Values } from './job-fixtures';

/** NCCL deadlock: the collective kernel spins, so gpu_util reads 100 % while nothing advances. */
const ncclSpin = (_t: number, _g: number, r: () => number): Values => ({
  gpu_util: 100,
  sm_active: 0.1 + r() * 0.02,
  tensor_active: 0,
  power: 230 + r() * 10,
});

/** Progress datapoints every `step` in [from, to). */
function every(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let t = from; t < to; t += step) out.push(t);
  return out;
}

const NOW = T0 + 4 * 60 * MIN;

interface Case {
  readonly name: string;
  readonly jobs: readonly TrainingJobState[];
  readonly samples: readonly GpuSample[];
  readonly progress?: ReadonlyMap<string, readonly number[]>;
  readonly checkpoints?: ReadonlyMap<string, number | undefined>;
  readonly placement?: ReadonlyMap<string, JobPlacement>;
  readonly now?: number;
  /** Expected findings as kind/severity/cause. */
  readonly expected: ReadonlyArray<readonly [kind: string, severity: string, cause: string]>;
}

/** A job that trained normally, then went idle for `idleMin` minutes up to NOW. */
function wentIdle(name: string, idleMin: number, p: Partial<TrainingJobState> = {}, nodes = ['i-0a1']) {
  const j = job({ jobName: name, metricNames: [], ...p });
  return {
    jobs: [j],
    samples: [
      ...minutes({ job: name, nodes, from: NOW - 90 * MIN, to: NOW - idleMin * MIN, values: training }),
      ...minutes({ job: name, nodes, from: NOW - idleMin * MIN, to: NOW, values: idle }),
    ],
  };
}

const loss = (name: string, points: number[]) => new Map([[name, points]]);

const cases: Case[] = [
  {
    name: 'batch job idle 40 min (grace 30) fires',
    ...wentIdle('bert-ft', 40),
    expected: [['job.gpus_idle', 'ticket', 'efficiency']],
  },
  { name: 'batch job idle 20 min stays inside its 30 min grace', ...wentIdle('bert-ft', 20), expected: [] },
  {
    name: 'interactive job idle 20 min fires (grace 15)',
    ...wentIdle('nb-sweep', 20, { workloadClass: 'interactive' }),
    expected: [['job.gpus_idle', 'ticket', 'efficiency']],
  },
  {
    name: 'distributed job idle 40 min stays inside its 45 min grace',
    ...wentIdle('llama-pretrain', 40, { instanceCount: 2 }, ['i-0a1', 'i-0a2']),
    expected: [],
  },
  {
    name: 'distributed job idle 50 min fires (a page: many GPUs wasted)',
    ...wentIdle('llama-pretrain', 50, { instanceCount: 2 }, ['i-0a1', 'i-0a2']),
    expected: [['job.gpus_idle', 'page', 'efficiency']],
  },
  {
    name: 'the workload-class tag overrides the instance count (4 nodes, interactive)',
    ...wentIdle('dbg-4node', 20, { instanceCount: 4, workloadClass: 'Interactive' }, ['i-0a1', 'i-0a2']),
    expected: [['job.gpus_idle', 'ticket', 'efficiency']],
  },
  {
    name: 'nothing fires before the job has trained for its grace (idle, no progress, no checkpoint)',
    jobs: [job({ jobName: 'fresh', trainingStartTime: NOW - 12 * MIN, checkpointS3Uri: 's3://ckpt/fresh/' })],
    samples: minutes({ job: 'fresh', nodes: ['i-0a1'], from: NOW - 12 * MIN, to: NOW, values: idle }),
    progress: loss('fresh', []),
    expected: [],
  },
  {
    name: 'a stall inside the grace does not fire (20 min into a batch job, silent 15 min)',
    jobs: [job({ jobName: 'warming', trainingStartTime: NOW - 20 * MIN })],
    samples: minutes({ job: 'warming', nodes: ['i-0a1'], from: NOW - 20 * MIN, to: NOW, values: ncclSpin }),
    progress: loss('warming', every(NOW - 20 * MIN, NOW - 15 * MIN, MIN)),
    expected: [],
  },
  {
    name: 'the same stall once the grace has passed fires',
    jobs: [job({ jobName: 'warming', trainingStartTime: NOW - 35 * MIN })],
    samples: minutes({ job: 'warming', nodes: ['i-0a1'], from: NOW - 35 * MIN, to: NOW, values: ncclSpin }),
    progress: loss('warming', every(NOW - 35 * MIN, NOW - 15 * MIN, MIN)),
    expected: [['job.hung', 'ticket', 'software']],
  },
  {
    name: 'one busy GPU keeps the job from being idle',
    jobs: [job({ jobName: 'one-gpu', metricNames: [] })],
    samples: [
      ...minutes({ job: 'one-gpu', nodes: ['i-0a1'], gpus: 7, from: NOW - 60 * MIN, to: NOW, values: idle }),
      ...minutes({
        job: 'one-gpu',
        nodes: ['i-0a1'],
        gpus: 1,
        from: NOW - 60 * MIN,
        to: NOW,
        values: training,
      }).map((s) => ({ ...s, labels: { ...s.labels, gpu: '7' } })),
    ],
    expected: [],
  },
  {
    name: 'progress every 2 min, silent for 30 min at moderate load: stalled (threshold max(4×2, 10) min)',
    jobs: [job({ jobName: 'resnet' })],
    samples: minutes({
      job: 'resnet',
      nodes: ['i-0a1'],
      from: NOW - 60 * MIN,
      to: NOW,
      values: () => ({ gpu_util: 45, sm_active: 0.3, power: 300 }),
    }),
    progress: loss('resnet', every(T0, NOW - 30 * MIN, 2 * MIN)),
    expected: [['job.progress_stalled', 'ticket', 'software']],
  },
  {
    name: 'progress every 2 min, last one 3 min ago: healthy',
    jobs: [job({ jobName: 'resnet' })],
    samples: minutes({ job: 'resnet', nodes: ['i-0a1'], from: NOW - 60 * MIN, to: NOW, values: training }),
    progress: loss('resnet', every(T0, NOW - 2 * MIN, 2 * MIN)),
    expected: [],
  },
  {
    name: 'a job with 40 long metric definitions still yields a one-line title',
    jobs: [
      job({
        jobName: 'many-metrics',
        metricNames: Array.from({ length: 40 }, (_, i) => `validation:per_class_accuracy_${i}`),
      }),
    ],
    samples: minutes({ job: 'many-metrics', nodes: ['i-0a1'], from: NOW - 60 * MIN, to: NOW, values: idle }),
    progress: loss('many-metrics', every(T0, NOW - 90 * MIN, MIN)),
    // Idle GPUs and no progress is one problem (idle), reported once, not also as a stall.
    expected: [['job.gpus_idle', 'ticket', 'efficiency']],
  },
  {
    name: 'a job that logs every 15 min is not stalled 40 min after its last point (threshold 60)',
    jobs: [job({ jobName: 'slow-eval' })],
    samples: minutes({ job: 'slow-eval', nodes: ['i-0a1'], from: NOW - 60 * MIN, to: NOW, values: training }),
    progress: loss('slow-eval', every(T0, NOW - 39 * MIN, 15 * MIN)),
    expected: [],
  },
  {
    name: 'a declared metric that never reported in 4 h is stalled (cadence unknown, 60 min)',
    jobs: [job({ jobName: 'no-metrics-yet' })],
    samples: minutes({
      job: 'no-metrics-yet',
      nodes: ['i-0a1'],
      from: NOW - 60 * MIN,
      to: NOW,
      values: () => ({ gpu_util: 30, sm_active: 0.2 }),
    }),
    expected: [['job.progress_stalled', 'ticket', 'software']],
  },
  {
    name: 'hang at 100 % util on a 2-node job, no progress for 25 min: page, software',
    jobs: [job({ jobName: 'llama-70b', instanceCount: 2 })],
    samples: [
      ...minutes({
        job: 'llama-70b',
        nodes: ['i-0b1', 'i-0b2'],
        from: NOW - 60 * MIN,
        to: NOW - 25 * MIN,
        values: training,
      }),
      ...minutes({
        job: 'llama-70b',
        nodes: ['i-0b1', 'i-0b2'],
        from: NOW - 25 * MIN,
        to: NOW,
        values: ncclSpin,
      }),
    ],
    progress: loss('llama-70b', every(T0, NOW - 25 * MIN, MIN)),
    expected: [['job.hung', 'page', 'software']],
  },
  {
    name: 'the same hang with an Xid 79 on one GPU points at hardware',
    jobs: [job({ jobName: 'llama-70b', instanceCount: 2 })],
    samples: minutes({
      job: 'llama-70b',
      nodes: ['i-0b1', 'i-0b2'],
      from: NOW - 25 * MIN,
      to: NOW,
      values: ncclSpin,
    }).map((s) =>
      s.labels.node === 'i-0b2' && s.labels.gpu === '5' && s.time >= NOW - 24 * MIN
        ? { ...s, values: { ...s.values, xid: 79 } }
        : s,
    ),
    progress: loss('llama-70b', every(T0, NOW - 25 * MIN, MIN)),
    expected: [['job.hung', 'page', 'hardware']],
  },
  {
    name: 'a single-node stall is a ticket, not a page',
    jobs: [job({ jobName: 'vit-b' })],
    samples: minutes({ job: 'vit-b', nodes: ['i-0a1'], from: NOW - 30 * MIN, to: NOW, values: ncclSpin }),
    progress: loss('vit-b', every(T0, NOW - 30 * MIN, MIN)),
    expected: [['job.hung', 'ticket', 'software']],
  },
  {
    name: 'distributed job that checkpoints hourly, newest 50 min old: fine',
    jobs: [job({ jobName: 'gpt-moe', instanceCount: 4, checkpointS3Uri: 's3://ckpt/gpt-moe/' })],
    samples: minutes({ job: 'gpt-moe', nodes: ['i-0c1'], from: NOW - 30 * MIN, to: NOW, values: training }),
    progress: loss('gpt-moe', every(T0, NOW, MIN)),
    checkpoints: new Map([['gpt-moe', NOW - 50 * MIN]]),
    expected: [],
  },
  {
    name: 'the hourly checkpointer stopped 3 h ago: stale (distributed expects 2.5 h)',
    jobs: [job({ jobName: 'gpt-moe', instanceCount: 4, checkpointS3Uri: 's3://ckpt/gpt-moe/' })],
    samples: minutes({ job: 'gpt-moe', nodes: ['i-0c1'], from: NOW - 30 * MIN, to: NOW, values: training }),
    progress: loss('gpt-moe', every(T0, NOW, MIN)),
    checkpoints: new Map([['gpt-moe', NOW - 3 * 60 * MIN]]),
    expected: [['job.checkpoint_stale', 'ticket', 'data-io']],
  },
  {
    name: 'a job without a checkpoint prefix is not expected to checkpoint',
    jobs: [job({ jobName: 'no-ckpt' })],
    samples: minutes({ job: 'no-ckpt', nodes: ['i-0a1'], from: NOW - 30 * MIN, to: NOW, values: training }),
    progress: loss('no-ckpt', every(T0, NOW, MIN)),
    expected: [],
  },
  {
    name: 'jobs not in Training (Downloading, Completed) are not judged',
    jobs: [
      job({ jobName: 'dl', secondaryStatus: 'Downloading', checkpointS3Uri: 's3://ckpt/dl/' }),
      job({ jobName: 'done', status: 'Completed', secondaryStatus: 'Completed' }),
    ],
    samples: [
      ...minutes({ job: 'dl', nodes: ['i-0a1'], from: NOW - 60 * MIN, to: NOW, values: idle }),
      ...minutes({ job: 'done', nodes: ['i-0a2'], from: NOW - 60 * MIN, to: NOW, values: idle }),
    ],
    expected: [],
  },
  {
    name: 'samples without a job label are mapped through placement',
    jobs: [job({ jobName: 'placed', metricNames: [] })],
    samples: minutes({ nodes: ['i-0d9'], from: NOW - 45 * MIN, to: NOW, values: idle }),
    placement: new Map([['placed', { cluster: 'train-a', nodes: ['i-0d9'] }]]),
    expected: [['job.gpus_idle', 'ticket', 'efficiency']],
  },
  {
    name: 'placement on another cluster does not claim the samples',
    jobs: [job({ jobName: 'placed', metricNames: [] })],
    samples: minutes({ nodes: ['i-0d9'], from: NOW - 45 * MIN, to: NOW, values: idle }),
    placement: new Map([['placed', { cluster: 'train-b', nodes: ['i-0d9'] }]]),
    expected: [],
  },
];

describe('detectJobHealth', () => {
  describe('classification order: idle GPUs + no progress is idle, busy GPUs + no progress is a stall/hang', () => {
    /** A distributed job that logged loss every minute, then went quiet `quietMin` minutes ago with GPUs `then`. */
    const quietDistributed = (quietMin: number, then: (t: number, g: number, r: () => number) => Values) => {
      const name = 'llama-dist';
      const nodes = ['i-0a1', 'i-0a2'];
      return detectJobHealth({
        jobs: [job({ jobName: name, instanceCount: 2 })],
        samples: [
          ...minutes({ job: name, nodes, from: NOW - 120 * MIN, to: NOW - quietMin * MIN, values: training }),
          ...minutes({ job: name, nodes, from: NOW - quietMin * MIN, to: NOW, values: then }),
        ],
        progress: loss(name, every(NOW - 120 * MIN, NOW - quietMin * MIN, MIN)),
        checkpoints: new Map(),
        nowMs: NOW,
      }).findings;
    };

    it('idle GPUs, no progress for 15 min (inside the 45 min idle grace): gpus_idle page, with the idle GPU-hours', () => {
      const findings = quietDistributed(15, idle);
      expect(findings.map((f) => [f.kind, f.severity, f.cause])).toEqual([
        ['job.gpus_idle', 'page', 'efficiency'],
      ]);
      const v = findings[0]?.evidence.values ?? {};
      // 2 nodes × 8 GPUs (fixture default) idle for 15 minutes = 4 GPU-hours.
      expect(v.idleGpuHours).toBeCloseTo((v.gpus ?? 0) * 0.25, 2);
      expect(v.idleMinutes).toBe(15);
      expect(findingSchema.parse(findings[0])).toEqual(findings[0]);
    });

    it('idle GPUs corroborate the silence: idle after 2 × cadence (12 min silent, logs every 3 min), a stall needs 4 ×', () => {
      const name = 'llama-dist';
      const nodes = ['i-0a1', 'i-0a2'];
      const judge = (then: (t: number, g: number, r: () => number) => Values) =>
        detectJobHealth({
          jobs: [job({ jobName: name, instanceCount: 2 })],
          samples: [
            ...minutes({ job: name, nodes, from: NOW - 120 * MIN, to: NOW - 11 * MIN, values: training }),
            ...minutes({ job: name, nodes, from: NOW - 11 * MIN, to: NOW, values: then }),
          ],
          progress: loss(name, every(NOW - 120 * MIN, NOW - 10 * MIN, 3 * MIN)),
          checkpoints: new Map(),
          nowMs: NOW,
        }).findings.map((f) => f.kind);
      // Last loss point 12 min ago (not more than the stall threshold); thresholds: idle max(2 × 3, 5, 10) = 10 min, stall max(4 × 3, 5, 10) = 12 min.
      expect(judge(idle)).toEqual(['job.gpus_idle']);
      expect(judge(() => ({ gpu_util: 45, sm_active: 0.3, power: 300 }))).toEqual([]);
    });

    it('busy GPUs, no progress: hung, not idle', () => {
      const findings = quietDistributed(15, ncclSpin);
      expect(findings.map((f) => f.kind)).toEqual(['job.hung']);
    });

    it('working-but-moderate GPUs, no progress: progress_stalled, not idle', () => {
      const findings = quietDistributed(15, () => ({ gpu_util: 45, sm_active: 0.3, power: 300 }));
      expect(findings.map((f) => f.kind)).toEqual(['job.progress_stalled']);
    });

    it('progress still arriving while idle for a short while: nothing (no stall, inside idle grace)', () => {
      const name = 'llama-dist';
      const findings = detectJobHealth({
        jobs: [job({ jobName: name, instanceCount: 2 })],
        samples: [
          ...minutes({
            job: name,
            nodes: ['i-0a1', 'i-0a2'],
            from: NOW - 120 * MIN,
            to: NOW - 15 * MIN,
            values: training,
          }),
          ...minutes({ job: name, nodes: ['i-0a1', 'i-0a2'], from: NOW - 15 * MIN, to: NOW, values: idle }),
        ],
        progress: loss(name, every(NOW - 120 * MIN, NOW, MIN)),
        checkpoints: new Map(),
        nowMs: NOW,
      }).findings;
      expect(findings).toEqual([]);
    });
  });

  it.each(cases)('$name', (c) => {
    const { findings } = detectJobHealth({
      jobs: c.jobs,
      samples: c.samples,
      progress: c.progress ?? new Map(),
      checkpoints: c.checkpoints ?? new Map(),
      ...(c.placement ? { placement: c.placement } : {}),
      nowMs: c.now ?? NOW,
    });
    expect(findings.map((f) => [f.kind, f.severity, f.cause])).toEqual(c.expected);
    for (const f of findings) {
      expect(findingSchema.parse(f)).toEqual(f);
      expect(f.runbook).toBe(`docs/runbooks/${f.kind}.md`);
      expect(f.detectedAt).toBe(c.now ?? NOW);
      expect(f.labels).toMatchObject({
        job: c.jobs[0]?.jobName,
        team: 'llm',
        cluster: 'train-a',
        region: 'us-east-1',
      });
    }
  });

  it('labels a single-node job with its node and lists every node of a multi-node job in the detail', () => {
    const single = detectJobHealth({
      ...wentIdle('bert-ft', 40),
      progress: new Map(),
      checkpoints: new Map(),
      nowMs: NOW,
    });
    expect(single.findings[0]?.labels.node).toBe('i-0a1');
    const multi = detectJobHealth({
      ...wentIdle('llama-pretrain', 50, { instanceCount: 2 }, ['i-0a1', 'i-0a2']),
      progress: new Map(),
      checkpoints: new Map(),
      nowMs: NOW,
    });
    expect(multi.findings[0]?.labels.node).toBeUndefined();
    expect(multi.findings[0]?.evidence.detail).toContain('i-0a1, i-0a2');
    expect(multi.findings[0]?.evidence.values).toMatchObject({ idleMinutes: 50, graceMinutes: 45, gpus: 16 });
  });

  it('a 64-node hang with Xids on every GPU keeps its evidence within the schema limits', () => {
    const nodes = Array.from({ length: 64 }, (_, i) => `i-0f${String(i).padStart(4, '0')}`);
    const { findings } = detectJobHealth({
      jobs: [job({ jobName: 'giant', instanceCount: 64 })],
      samples: minutes({
        job: 'giant',
        nodes,
        from: NOW - 20 * MIN,
        to: NOW,
        values: (t, g, r) => ({ ...ncclSpin(t, g, r), xid: 79 }),
      }),
      progress: loss('giant', every(T0, NOW - 20 * MIN, MIN)),
      checkpoints: new Map(),
      nowMs: NOW,
    });
    expect(findings.map((f) => [f.kind, f.severity, f.cause])).toEqual([['job.hung', 'page', 'hardware']]);
    expect(findingSchema.safeParse(findings[0]).success).toBe(true);
    expect(findings[0]?.evidence.detail).toContain('(+24 more)');
  });

  it('class policies are data: a longer batch grace silences the 40 min idle job', () => {
    const input = { ...wentIdle('bert-ft', 40), progress: new Map(), checkpoints: new Map(), nowMs: NOW };
    expect(detectJobHealth(input).findings).toHaveLength(1);
    expect(
      detectJobHealth({ ...input, options: { classes: { batch: { idleGraceMs: 60 * MIN } } } }).findings,
    ).toEqual([]);
  });

  it('defaults order the idle grace interactive < batch < distributed', () => {
    const g = DEFAULT_CLASS_POLICIES;
    expect(g.interactive.idleGraceMs).toBeLessThan(g.batch.idleGraceMs);
    expect(g.batch.idleGraceMs).toBeLessThan(g.distributed.idleGraceMs);
  });

  it.each([
    { name: 'one node', p: { instanceCount: 1 }, cls: 'batch' },
    { name: 'eight nodes', p: { instanceCount: 8 }, cls: 'distributed' },
    { name: 'tagged batch on eight nodes', p: { instanceCount: 8, workloadClass: 'batch' }, cls: 'batch' },
    {
      name: 'unknown tag falls back',
      p: { instanceCount: 2, workloadClass: 'research' },
      cls: 'distributed',
    },
  ])('workload class: $name → $cls', ({ p, cls }) => {
    expect(workloadClassOf(job({ jobName: 'x', ...p }))).toBe(cls);
  });

  it.each([
    { points: [], cadence: undefined },
    { points: [T0, T0 + MIN], cadence: undefined },
    { points: [T0, T0 + 2 * MIN, T0 + 4 * MIN, T0 + 30 * MIN], cadence: 2 * MIN },
    { points: [T0 + 4 * MIN, T0, T0 + 2 * MIN], cadence: 2 * MIN },
  ])('progress cadence of $points.length points is the median interval', ({ points, cadence }) => {
    expect(progressCadenceMs(points)).toBe(cadence);
  });
});
