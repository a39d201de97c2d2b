import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  builtinProfiles,
  type ProfileSignal,
  profileSignalSchema,
} from '../../../lambdas/contracts/profiles';
import { SIGNALS } from '../../../lambdas/contracts/signals';
import { assembleSamples, type QueryTarget, validate } from '../../../lambdas/core/collection/samples';
import type { GpuLabels } from '../../../lambdas/core/model';
import { MIN } from './fixtures';

const sig = (input: Parameters<typeof profileSignalSchema.parse>[0]): ProfileSignal =>
  profileSignalSchema.parse(input);
const labels = (node: string, gpu: string): GpuLabels => ({
  cluster: 'c',
  region: 'us-east-1',
  instanceType: 'p5.48xlarge',
  node,
  gpu,
});
const target = (id: string, signal: ProfileSignal, node = 'n1', gpu = '0', gpusPerNode = 8): QueryTarget => ({
  id,
  metricName: signal.metricName,
  labels: labels(node, gpu),
  signal,
  gpusPerNode,
});
const START = Date.parse('2025-03-10T11:52:00Z');
const WINDOW = { startMs: START, endMs: START + 5 * MIN };

describe('validate', () => {
  const util = sig({ signal: 'gpu_util', metricName: 'u' });
  const temp = sig({ signal: 'temperature', metricName: 't' });
  const xid = sig({ signal: 'xid', metricName: 'x' });
  const flag = sig({ signal: 'row_remap_failure', metricName: 'r' });
  const smSum = sig({ signal: 'gpu_util', metricName: 'GPUUtilization', aggregation: 'sum-over-gpus' });
  const bytes = sig({ signal: 'fb_used', metricName: 'b', scale: 1 / 1_048_576 });

  it.each([
    { name: 'a normal percentage', s: util, raw: 87.5, out: { value: 87.5 } },
    { name: 'NaN', s: util, raw: Number.NaN, out: { reason: 'nan' } },
    { name: '+Infinity', s: util, raw: Number.POSITIVE_INFINITY, out: { reason: 'infinite' } },
    { name: '-Infinity', s: temp, raw: Number.NEGATIVE_INFINITY, out: { reason: 'infinite' } },
    { name: 'negative utilisation', s: util, raw: -1, out: { reason: 'negative', value: -1 } },
    { name: 'utilisation over 100', s: util, raw: 100.5, out: { reason: 'above-range', value: 100.5 } },
    { name: 'a cold but real temperature', s: temp, raw: -5, out: { value: -5 } },
    { name: 'a temperature below -40', s: temp, raw: -60, out: { reason: 'below-range', value: -60 } },
    { name: 'an integer Xid code', s: xid, raw: 79, out: { value: 79 } },
    { name: 'a fractional Xid code', s: xid, raw: 79.5, out: { reason: 'non-integer', value: 79.5 } },
    { name: 'a flag of 2', s: flag, raw: 2, out: { reason: 'above-range', value: 2 } },
    { name: 'SageMaker 640% over 8 GPUs', s: smSum, raw: 640, out: { value: 80 } },
    { name: 'SageMaker 800% over 8 GPUs', s: smSum, raw: 800, out: { value: 100 } },
    {
      name: 'SageMaker 900% cannot come from 8 GPUs',
      s: smSum,
      raw: 900,
      out: { reason: 'above-range', value: 112.5 },
    },
    { name: 'bytes scaled to MiB', s: bytes, raw: 80 * 1_048_576, out: { value: 80 } },
  ])('$name', ({ s, raw, out }) => {
    expect(validate({ signal: s, gpusPerNode: 8 }, raw)).toEqual(out);
  });

  it('divides sum-over-gpus by the node GPU count it is given', () => {
    expect(validate({ signal: smSum, gpusPerNode: 4 }, 300)).toEqual({ value: 75 });
  });

  it('accepts exactly the finite values within every built-in signal range (property)', () => {
    const signals = builtinProfiles().flatMap((p) => p.signals);
    fc.assert(
      fc.property(
        fc.constantFrom(...signals),
        fc.oneof(fc.double(), fc.integer({ min: -10, max: 1_000 })),
        (s, raw) => {
          const out = validate({ signal: s, gpusPerNode: 8 }, raw);
          const spec: { min: number; max: number; integer?: boolean } = SIGNALS[s.signal];
          const v = (raw * s.scale) / (s.aggregation === 'sum-over-gpus' ? 8 : 1);
          const valid =
            Number.isFinite(raw) &&
            v >= spec.min &&
            v <= spec.max &&
            (spec.integer !== true || Number.isInteger(v));
          expect(out).toEqual(valid ? { value: v } : expect.objectContaining({ reason: expect.any(String) }));
        },
      ),
    );
  });
});

describe('assembleSamples', () => {
  const util = sig({ signal: 'gpu_util', metricName: 'DCGM_FI_DEV_GPU_UTIL' });
  const power = sig({ signal: 'power', metricName: 'DCGM_FI_DEV_POWER_USAGE' });
  const minutes = (n: number) => Array.from({ length: n }, (_, i) => START + i * MIN);

  it('makes one sample per GPU and minute holding every signal', () => {
    const targets = [
      target('a', util, 'n1', '0'),
      target('b', power, 'n1', '0'),
      target('c', util, 'n1', '1'),
    ];
    const data = new Map([
      ['a', { timestamps: minutes(5), values: [10, 20, 30, 40, 50] }],
      ['b', { timestamps: minutes(5), values: [300, 310, 320, 330, 340] }],
      ['c', { timestamps: minutes(5), values: [1, 2, 3, 4, 5] }],
    ]);
    const out = assembleSamples(targets, data, WINDOW, 60);
    expect(out.samples).toHaveLength(10);
    expect(out.accepted).toBe(15);
    expect(out.rejectedTotal).toBe(0);
    expect(out.missing).toBe(0);
    expect(out.samples[0]).toEqual({
      time: START,
      labels: labels('n1', '0'),
      values: { gpu_util: 10, power: 300 },
    });
    expect(out.samples.map((s) => s.time)).toEqual([...minutes(5), ...minutes(5)].sort((a, b) => a - b));
  });

  it('rejects bad datapoints by reason with examples and keeps the rest of the sample', () => {
    const targets = [target('a', util), target('b', power)];
    const data = new Map([
      ['a', { timestamps: minutes(5), values: [Number.NaN, -3, 101, Number.POSITIVE_INFINITY, 55] }],
      ['b', { timestamps: minutes(5), values: [300, 300, 300, 300, 300] }],
    ]);
    const out = assembleSamples(targets, data, WINDOW, 60);
    expect(out.rejected.map((g) => [g.reason, g.count])).toEqual([
      ['nan', 1],
      ['infinite', 1],
      ['negative', 1],
      ['above-range', 1],
    ]);
    expect(out.rejected[2]?.examples[0]).toEqual({
      node: 'n1',
      gpu: '0',
      signal: 'gpu_util',
      metricName: 'DCGM_FI_DEV_GPU_UTIL',
      time: '2025-03-10T11:53:00.000Z',
      raw: '-3',
      value: -3,
    });
    expect(out.rejected[0]?.examples[0]?.raw).toBe('NaN');
    expect(out.samples).toHaveLength(5);
    expect(out.samples[0]?.values).toEqual({ power: 300 });
    expect(out.samples[4]?.values).toEqual({ gpu_util: 55, power: 300 });
    expect(out.accepted).toBe(6);
  });

  it('caps examples at three per reason but counts every rejection', () => {
    const data = new Map([['a', { timestamps: minutes(5), values: [-1, -2, -3, -4, -5] }]]);
    const out = assembleSamples([target('a', util)], data, WINDOW, 60);
    expect(out.rejected).toHaveLength(1);
    expect(out.rejected[0]?.count).toBe(5);
    expect(out.rejected[0]?.examples).toHaveLength(3);
  });

  it('counts series-minutes with no datapoint as missing, with examples', () => {
    const targets = [target('a', util, 'n1', '0'), target('b', util, 'n2', '0')];
    const data = new Map([['a', { timestamps: minutes(3), values: [1, 2, 3] }]]);
    const out = assembleSamples(targets, data, WINDOW, 60);
    expect(out.missing).toBe(2 + 5);
    expect(out.missingExamples).toEqual([
      { node: 'n1', gpu: '0', signal: 'gpu_util', metricName: 'DCGM_FI_DEV_GPU_UTIL', periods: 2 },
      { node: 'n2', gpu: '0', signal: 'gpu_util', metricName: 'DCGM_FI_DEV_GPU_UTIL', periods: 5 },
    ]);
  });

  it('rejects timestamps outside the window or off the period grid', () => {
    const data = new Map([
      ['a', { timestamps: [START - MIN, START, START + 30_000, WINDOW.endMs], values: [1, 2, 3, 4] }],
    ]);
    const out = assembleSamples([target('a', util)], data, WINDOW, 60);
    expect(out.rejected).toEqual([expect.objectContaining({ reason: 'outside-window', count: 3 })]);
    expect(out.samples.map((s) => s.values)).toEqual([{ gpu_util: 2 }]);
  });

  it('never writes one GPU-minute-signal twice with different values', () => {
    const data = new Map([
      ['a', { timestamps: [START], values: [40] }],
      ['b', { timestamps: [START], values: [41] }],
      ['c', { timestamps: [START], values: [40] }],
    ]);
    const out = assembleSamples([target('a', util), target('b', util), target('c', util)], data, WINDOW, 60);
    expect(out.samples).toEqual([{ time: START, labels: labels('n1', '0'), values: { gpu_util: 40 } }]);
    expect(out.rejected).toEqual([expect.objectContaining({ reason: 'conflicting-duplicate', count: 1 })]);
  });

  it('normalises SageMaker host utilisation to per-GPU with gpu "all"', () => {
    const sm = sig({ signal: 'gpu_util', metricName: 'GPUUtilization', aggregation: 'sum-over-gpus' });
    const data = new Map([['h', { timestamps: minutes(2), values: [640, 760] }]]);
    const out = assembleSamples([target('h', sm, 'job-1/algo-1', 'all', 8)], data, WINDOW, 60);
    expect(out.samples.map((s) => s.values.gpu_util)).toEqual([80, 95]);
    expect(out.samples[0]?.labels.gpu).toBe('all');
  });

  it('works on 5-minute periods', () => {
    const window = { startMs: START, endMs: START + 15 * MIN };
    const data = new Map([['a', { timestamps: [START, START + 5 * MIN], values: [1, 2] }]]);
    const out = assembleSamples([target('a', util)], data, window, 300);
    expect(out.samples).toHaveLength(2);
    expect(out.missing).toBe(1);
  });
});
