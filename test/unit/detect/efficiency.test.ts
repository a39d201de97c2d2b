import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findingSchema } from '../../../lambdas/contracts/finding';
import {
  assessEfficiency,
  type EfficiencyInput,
  progressingFraction,
} from '../../../lambdas/core/detect/efficiency';
import type { GpuSample } from '../../../lambdas/core/model';
import { idle, job, MIN, minutes, T0, training, type Values } from './job-fixtures';

/** A dummy load that games gpu_util: one tiny kernel always resident. */
const burner = (_t: number, _g: number, r: () => number): Values => ({
  gpu_util: 100,
  sm_active: 0.02,
  tensor_active: 0,
  power: 120 + Math.round(r()) * 0.5,
});

/** Progress datapoints every `step` in [from, to). */
function every(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let t = from; t < to; t += step) out.push(t);
  return out;
}

const END = T0 + 4 * 60 * MIN;
const START = END - 60 * MIN;
const WINDOW = { startMs: START, endMs: END };

function run(partial: Partial<EfficiencyInput> & Pick<EfficiencyInput, 'jobs' | 'samples'>) {
  const out = assessEfficiency({ progress: new Map(), window: WINDOW, nowMs: END + 2 * MIN, ...partial });
  for (const f of out.findings) expect(findingSchema.parse(f)).toEqual(f);
  return out;
}

const kinds = (r: ReturnType<typeof run>) => r.findings.map((f) => [f.kind, f.severity, f.cause]);

describe('assessEfficiency: gaming gpu_util', () => {
  const dummy = job({ jobName: 'keep-warm', team: 'vision' });
  const real = job({ jobName: 'llama-ft', team: 'llm' });
  const result = run({
    jobs: [dummy, real],
    samples: [
      ...minutes({ job: 'keep-warm', nodes: ['i-0a1'], from: START, to: END, values: burner }),
      ...minutes({ job: 'llama-ft', nodes: ['i-0a2'], from: START, to: END, values: training }),
    ],
    progress: new Map([['llama-ft', every(START - 30 * MIN, END, 90_000)]]),
  });
  const byJob = new Map(result.report.jobs.map((j) => [j.jobName, j]));

  it('flags the dummy load (100 % util, 0.02 sm_active, 120 W on a 700 W H100) as busy-not-working and synthetic', () => {
    expect(
      kinds({ ...result, findings: result.findings.filter((f) => f.labels.job === 'keep-warm') }),
    ).toEqual([
      ['efficiency.busy_not_working', 'ticket', 'efficiency'],
      ['efficiency.synthetic_load', 'ticket', 'efficiency'],
    ]);
    const synthetic = result.findings.find((f) => f.kind === 'efficiency.synthetic_load');
    expect(synthetic?.evidence.detail).toContain('data I/O unknown');
    expect(synthetic?.labels).toEqual({
      job: 'keep-warm',
      team: 'vision',
      cluster: 'train-a',
      region: 'us-east-1',
      node: 'i-0a1',
    });
    const bnw = result.findings.find((f) => f.kind === 'efficiency.busy_not_working');
    expect(bnw?.evidence.values).toMatchObject({
      gpus: 8,
      longestMinutes: 60,
      meanGpuUtil: 100,
      tdpWatts: 700,
    });
  });

  it('the dummy load counts as ~0 effective utilisation, the real job with the same gpu_util does not', () => {
    expect(byJob.get('keep-warm')?.effectiveUtilisation).toBe(0);
    expect(byJob.get('keep-warm')?.busyNotWorkingGpuHours).toBeCloseTo(8, 5);
    const llama = byJob.get('llama-ft');
    expect(llama?.basis).toBe('sm_active');
    expect(llama?.progressingFraction).toBe(1);
    expect(llama?.effectiveUtilisation).toBeGreaterThan(0.55);
    expect(llama?.effectiveUtilisation).toBeLessThan(0.75);
  });

  it('raises nothing for the real training job', () => {
    expect(result.findings.filter((f) => f.labels.job === 'llama-ft')).toEqual([]);
  });

  it('aggregates per team', () => {
    expect(
      result.report.teams.map((t) => [t.team, t.jobs, t.allocatedGpuHours, t.busyNotWorkingGpuHours]),
    ).toEqual([
      ['llm', 1, 8, 0],
      ['vision', 1, 8, 8],
    ]);
    expect(result.report.teams.find((t) => t.team === 'vision')?.effectiveUtilisation).toBe(0);
  });
});

const hour = { from: START, to: END };

describe.each([
  {
    name: 'a 10 min burner burst is below the 15 min busy-not-working floor',
    samples: [
      ...minutes({ job: 'j', nodes: ['i-0a1'], from: START, to: END - 10 * MIN, values: training }),
      ...minutes({ job: 'j', nodes: ['i-0a1'], from: END - 10 * MIN, to: END, values: burner }),
    ],
    progress: every(START, END - 10 * MIN, MIN),
    expected: [],
  },
  {
    name: 'burner with known heavy data I/O: busy-not-working only (real reads are not a burner signature)',
    samples: minutes({ job: 'j', nodes: ['i-0a1'], ...hour, values: burner }),
    io: 40 * 1024 ** 3,
    expected: [['efficiency.busy_not_working', 'ticket', 'efficiency']],
  },
  {
    name: 'burner with known zero data I/O: both',
    samples: minutes({ job: 'j', nodes: ['i-0a1'], ...hour, values: burner }),
    io: 0,
    expected: [
      ['efficiency.busy_not_working', 'ticket', 'efficiency'],
      ['efficiency.synthetic_load', 'ticket', 'efficiency'],
    ],
  },
  {
    name: 'a flat full-power stress test with no progress is synthetic but not busy-not-working',
    samples: minutes({
      job: 'j',
      nodes: ['i-0a1'],
      ...hour,
      values: () => ({ gpu_util: 100, sm_active: 0.97, tensor_active: 0.8, power: 695 }),
    }),
    expected: [['efficiency.synthetic_load', 'ticket', 'efficiency']],
  },
  {
    name: 'real training without any progress metric is not synthetic: power swings',
    samples: minutes({ job: 'j', nodes: ['i-0a1'], ...hour, values: training }),
    expected: [],
  },
  {
    name: 'high util at low power but busy SMs (a memory-bound kernel) is not busy-not-working',
    samples: minutes({
      job: 'j',
      nodes: ['i-0a1'],
      ...hour,
      values: (_t, _g, r) => ({
        gpu_util: 98,
        sm_active: 0.45 + r() * 0.1,
        tensor_active: 0.02,
        power: 200 + r() * 40,
      }),
    }),
    progress: every(START, END, 2 * MIN),
    expected: [],
  },
  {
    name: 'low SM activity at 60 % of TDP (communication-heavy step) is not busy-not-working',
    samples: minutes({
      job: 'j',
      nodes: ['i-0a1'],
      ...hour,
      values: (_t, _g, r) => ({ gpu_util: 95, sm_active: 0.1, tensor_active: 0.01, power: 400 + r() * 40 }),
    }),
    progress: every(START, END, 2 * MIN),
    expected: [],
  },
  {
    name: 'steady training pinned at the power cap is not synthetic when it progresses',
    samples: minutes({
      job: 'j',
      nodes: ['i-0a1'],
      ...hour,
      values: () => ({ gpu_util: 100, sm_active: 0.97, tensor_active: 0.8, power: 695 }),
    }),
    progress: every(START, END, MIN),
    expected: [],
  },
  {
    name: '2 h idle on 8 GPUs (16 GPU-hours) is a ticket',
    samples: minutes({ job: 'j', nodes: ['i-0a1'], from: END - 120 * MIN, to: END, values: idle }),
    window: { startMs: END - 120 * MIN, endMs: END },
    expected: [['efficiency.idle_allocation', 'ticket', 'efficiency']],
  },
  {
    name: '15 min idle on 8 GPUs (2 GPU-hours) is info',
    samples: [
      ...minutes({ job: 'j', nodes: ['i-0a1'], from: START, to: END - 15 * MIN, values: training }),
      ...minutes({ job: 'j', nodes: ['i-0a1'], from: END - 15 * MIN, to: END, values: idle }),
    ],
    progress: every(START, END - 15 * MIN, MIN),
    expected: [['efficiency.idle_allocation', 'info', 'efficiency']],
  },
  {
    name: '5 min idle on 8 GPUs (0.67 GPU-hours) is below the info threshold',
    samples: [
      ...minutes({ job: 'j', nodes: ['i-0a1'], from: START, to: END - 5 * MIN, values: training }),
      ...minutes({ job: 'j', nodes: ['i-0a1'], from: END - 5 * MIN, to: END, values: idle }),
    ],
    progress: every(START, END, MIN),
    expected: [],
  },
])('findings: $name', ({ samples, progress, io, window, expected }) => {
  it('match', () => {
    const r = run({
      jobs: [job({ jobName: 'j' })],
      samples,
      progress: new Map([['j', progress ?? []]]),
      ...(io === undefined ? {} : { dataIoBytes: new Map([['j', io]]) }),
      ...(window ? { window } : {}),
    });
    expect(kinds(r)).toEqual(expected);
  });
});

describe('assessEfficiency: report numbers', () => {
  it.each([
    {
      name: '2 × p5 training through the hour',
      p: { instanceCount: 2, trainingStartTime: START - 60 * MIN },
      allocated: 16,
    },
    {
      name: '2 × p5 starting half-way',
      p: { instanceCount: 2, trainingStartTime: START + 30 * MIN },
      allocated: 8,
    },
    {
      name: '1 × p5 ended after 15 min',
      p: { trainingStartTime: T0, trainingEndTime: START + 15 * MIN },
      allocated: 2,
    },
  ])('allocated GPU-hours: $name → $allocated', ({ p, allocated }) => {
    const r = run({ jobs: [job({ jobName: 'j', ...p })], samples: [] });
    expect(r.report.jobs[0]?.allocatedGpuHours).toBe(allocated);
  });

  it('falls back to gpu_util × power/TDP without sm_active and says the estimate is weaker', () => {
    const r = run({
      jobs: [job({ jobName: 'j' })],
      samples: minutes({ job: 'j', nodes: ['i-0a1'], ...hour, values: () => ({ gpu_util: 90, power: 490 }) }),
      progress: new Map([['j', every(START, END, MIN)]]),
    });
    const j = r.report.jobs[0];
    expect(j?.basis).toBe('gpu_util_x_power');
    expect(j?.weakerEstimate).toBe(true);
    expect(j?.effectiveUtilisation).toBeCloseTo(0.9 * 0.7, 6);
    expect(j?.meanSmActive).toBeUndefined();
  });

  it('half the hour without progress halves the effective utilisation', () => {
    const r = run({
      jobs: [job({ jobName: 'j' })],
      samples: minutes({
        job: 'j',
        nodes: ['i-0a1'],
        ...hour,
        values: () => ({ gpu_util: 100, sm_active: 0.6 }),
      }),
      // every 2 min until +28 min; tolerance max(2 × 2, 5) = 5 min → minutes 0..33 progress: 34 of 60
      progress: new Map([['j', every(START - 60 * MIN, START + 30 * MIN, 2 * MIN)]]),
    });
    expect(r.report.jobs[0]?.progressingFraction).toBeCloseTo(34 / 60, 6);
    expect(r.report.jobs[0]?.effectiveUtilisation).toBeCloseTo(0.6 * (34 / 60), 6);
  });
});

describe('effective utilisation property', () => {
  it('never exceeds mean sm_active and is 0 without progress', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            util: fc.integer({ min: 0, max: 100 }),
            sm: fc.double({ min: 0, max: 1, noNaN: true }),
          }),
          {
            minLength: 1,
            maxLength: 90,
          },
        ),
        fc.array(fc.integer({ min: -30, max: 120 }), { maxLength: 40 }),
        (mins, progressMinutes) => {
          const samples: GpuSample[] = mins.map((m, i) => ({
            time: START + i * MIN,
            labels: {
              cluster: 'c',
              region: 'us-east-1',
              instanceType: 'p5.48xlarge',
              node: 'n',
              gpu: '0',
              job: 'j',
            },
            values: { gpu_util: m.util, sm_active: m.sm, power: 400 },
          }));
          const progress = progressMinutes.map((k) => START + k * MIN);
          const r = assessEfficiency({
            jobs: [job({ jobName: 'j' })],
            samples,
            progress: new Map([['j', progress]]),
            window: { startMs: START, endMs: START + 120 * MIN },
            nowMs: START + 120 * MIN,
          });
          const j = r.report.jobs[0];
          const meanSm = mins.reduce((a, m) => a + m.sm, 0) / mins.length;
          expect(j?.effectiveUtilisation).toBeLessThanOrEqual(meanSm + 1e-12);
          expect(j?.effectiveUtilisation).toBeGreaterThanOrEqual(0);
          if (progress.filter((t) => t >= START - 60 * MIN).length === 0)
            expect(j?.effectiveUtilisation).toBe(0);
        },
      ),
    );
  });

  it('progressingFraction is 0 without progress and 1 when every minute has a datapoint', () => {
    const ms = every(START, END, MIN);
    expect(progressingFraction(ms, [])).toBe(0);
    expect(progressingFraction(ms, ms)).toBe(1);
  });
});
