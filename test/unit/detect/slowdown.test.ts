import { describe, expect, it } from 'vitest';
import { findingSchema } from '../../../lambdas/contracts/finding';
import type { JobPlacement } from '../../../lambdas/core/detect/jobs';
import {
  detectProgressSlowdown,
  PROGRESS_SLOW_KIND,
  slowdownOf,
} from '../../../lambdas/core/detect/slowdown';
import type { GpuSample, TrainingJobState } from '../../../lambdas/core/model';
import { HOUR_MS } from '../../../lambdas/core/time';
import { job, MIN, minutes, training } from './job-fixtures';

/**
 * A job that still progresses, but k× slower than its own earlier pace (a data loader that cannot
 * keep up, a degraded interconnect): the stall detectors never fire (progress keeps arriving), so
 * this one compares the job's last intervals with its own before.
 */

const NOW = Date.UTC(2026, 10, 24, 12);
const START = NOW - 2 * HOUR_MS;

/** Progress every `everyMin` minutes from START, then every `slowMin` from `slowFrom`. */
function progress(everyMin: number, slowFrom = Number.POSITIVE_INFINITY, slowMin = everyMin): number[] {
  const ts: number[] = [];
  for (let t = START; t <= NOW; ) {
    ts.push(t);
    t += (t >= slowFrom ? slowMin : everyMin) * MIN;
  }
  return ts;
}

const j = job({ jobName: 'slow-1', trainingStartTime: START, metricNames: ['train:loss'] });
const placement = new Map<string, JobPlacement>([['slow-1', { cluster: 'c1', nodes: ['ip-10-0-0-5'] }]]);

function run(ts: readonly number[], samples: readonly GpuSample[] = [], skip: readonly string[] = []) {
  const { findings } = detectProgressSlowdown({
    jobs: [j],
    samples: samples.map((s) => ({ ...s, labels: { ...s.labels, cluster: 'c1' } })),
    placement,
    progress: new Map([['slow-1', ts]]),
    skip: new Set(skip),
    nowMs: NOW,
  });
  for (const f of findings) expect(findingSchema.parse(f)).toEqual(f);
  return findings;
}

const window = (values: Parameters<typeof minutes>[0]['values']) =>
  minutes({ nodes: ['ip-10-0-0-5'], gpus: 2, from: NOW - 5 * MIN, to: NOW, values });

describe('slowdownOf', () => {
  it.each([
    ['steady 1-min pace', progress(1), undefined],
    ['4× slower for the last two intervals', progress(1, NOW - 8 * MIN, 4), 4],
    [
      'only the last interval long (one slow step)',
      [...progress(1).filter((t) => t <= NOW - 5 * MIN), NOW],
      undefined,
    ],
    ['2× slower: under the 2.5× factor', progress(2, NOW - 8 * MIN, 4), undefined],
  ])('%s', (_name, ts, ratio) => {
    const s = slowdownOf(ts);
    if (ratio === undefined) expect(s).toBeUndefined();
    else expect(s?.ratio).toBeCloseTo(ratio, 5);
  });

  it('needs the job own pace first (8 earlier intervals)', () => {
    const few = [NOW - 20 * MIN, NOW - 19 * MIN, NOW - 18 * MIN, NOW - 12 * MIN, NOW - 6 * MIN, NOW];
    expect(slowdownOf(few)).toBeUndefined();
  });
});

describe('detectProgressSlowdown: cause from the job own GPUs', () => {
  const slow = progress(1, NOW - 8 * MIN, 4);

  it('NVLink errors climbing on its GPUs: network', () => {
    const f = run(
      slow,
      window((t, g, r) => ({
        ...training(t, g, r),
        nvlink_errors: 1_000 + ((t - (NOW - 5 * MIN)) / MIN) * 40,
      })),
    );
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({
      kind: PROGRESS_SLOW_KIND,
      cause: 'network',
      severity: 'ticket',
      labels: { job: 'slow-1', node: 'ip-10-0-0-5' },
      evidence: { values: { slowdown: 4, nvlinkErrorsPerMinute: 40 } },
    });
  });

  it('clocks held by a power brake: hardware', () => {
    const f = run(
      slow,
      window((t, g, r) => ({ ...training(t, g, r), clock_events: 0x80 | 0x04 })),
    );
    expect(f[0]?.cause).toBe('hardware');
  });

  it('nothing wrong on the GPU side (low, bursty utilisation): data-io', () => {
    const f = run(
      slow,
      window((_t, _g, r) => ({ gpu_util: 35 + 35 * r(), sm_active: 0.2, nvlink_errors: 7 })),
    );
    expect(f[0]?.cause).toBe('data-io');
    expect(f[0]?.evidence.values?.gpuMinutesSeen).toBe(10);
  });

  it('its GPUs not attributable: data-io, and the evidence says nothing was checked', () => {
    const f = run(slow);
    expect(f[0]?.cause).toBe('data-io');
    expect(f[0]?.evidence.values?.gpuMinutesSeen).toBe(0);
    expect(f[0]?.evidence.detail).toContain('not attributable');
  });

  it('steady jobs, and jobs already reported stalled or idle, get nothing', () => {
    expect(run(progress(1))).toEqual([]);
    expect(run(slow, [], ['slow-1'])).toEqual([]);
  });

  it('waits out the start-up grace of the class', () => {
    const young: TrainingJobState = { ...j, trainingStartTime: NOW - 20 * MIN };
    const { findings } = detectProgressSlowdown({
      jobs: [young],
      samples: [],
      progress: new Map([['slow-1', slow.filter((t) => t >= NOW - 20 * MIN)]]),
      nowMs: NOW,
    });
    expect(findings).toEqual([]);
  });
});
