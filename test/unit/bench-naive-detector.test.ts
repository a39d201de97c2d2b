import { describe, expect, it } from 'vitest';
import { NaiveDetector, type NaiveWindow } from '../../bench/naive-detector';
import type { GpuSample, TrainingJobState } from '../../lambdas/core/model';

const MIN = 60_000;
const T0 = Date.parse('2026-09-07T00:00:00Z');

function sample(minute: number, values: GpuSample['values'], gpu = '0', node = 'n1'): GpuSample {
  return {
    time: T0 + minute * MIN,
    labels: { cluster: 'train-a', region: 'us-east-1', instanceType: 'p5.48xlarge', node, gpu },
    values,
  };
}

function failedJob(name: string, atMs: number, cluster = 'train-a'): TrainingJobState {
  return {
    region: 'us-east-1',
    jobName: name,
    arn: `arn:aws:sagemaker:us-east-1:123456789012:training-job/${name}`,
    status: 'Failed',
    lastModifiedTime: atMs,
    creationTime: atMs - 10 * MIN,
    tags: { 'fleetwatch:cluster': cluster },
    transitions: [],
  };
}

/** Window ending at `endMinute` (5 minutes long), delivered at its end. */
function window(
  endMinute: number,
  samples: GpuSample[],
  opts: { jobs?: TrainingJobState[]; jobOnGpu?: NaiveWindow['jobOnGpu'] } = {},
): NaiveWindow {
  return {
    nowMs: T0 + endMinute * MIN,
    windowStartMs: T0 + (endMinute - 5) * MIN,
    windowEndMs: T0 + endMinute * MIN,
    samples,
    jobs: opts.jobs ?? [],
    jobOnGpu: opts.jobOnGpu ?? (() => undefined),
  };
}

describe('NaiveDetector', () => {
  it('pages on a fatal Xid and ignores a non-fatal one', () => {
    const d = new NaiveDetector();
    d.onWindow(window(5, [sample(1, { xid: 13 }, '1'), sample(2, { xid: 79 }, '2')]));
    expect(d.notifications.map((n) => [n.rule, n.severity, n.labels.gpu])).toEqual([
      ['xid-fatal', 'page', '2'],
    ]);
  });

  it('repeats a still-firing alert once an hour, not every window (Alertmanager repeat_interval)', () => {
    const d = new NaiveDetector();
    for (let end = 5; end <= 125; end += 5) d.onWindow(window(end, [sample(end - 1, { temperature: 90 })]));
    const events = d.notifications.map((n) => [n.event, (n.atMs - T0) / MIN]);
    expect(events).toEqual([
      ['open', 5],
      ['repeat', 65],
      ['repeat', 125],
    ]);
    // One firing episode: scored as one incident opened three times (two duplicates).
    const scored = d.forScoring();
    expect(scored.incidents).toHaveLength(1);
    expect(new Set(scored.notifications.map((n) => n.incidentId)).size).toBe(1);
  });

  it('starts a new episode when the alert stopped firing for longer than the repeat interval', () => {
    const d = new NaiveDetector();
    d.onWindow(window(5, [sample(1, { temperature: 90 })]));
    d.onWindow(window(200, [sample(196, { temperature: 90 })]));
    expect(d.notifications.map((n) => n.event)).toEqual(['open', 'open']);
    expect(d.forScoring().incidents).toHaveLength(2);
  });

  it('pages when the ECC DBE volatile total rises, not while it stays put', () => {
    const d = new NaiveDetector({ repeatMs: 1 });
    d.onWindow(window(5, [sample(1, { ecc_dbe: 0 })]));
    d.onWindow(window(10, [sample(6, { ecc_dbe: 2 })]));
    d.onWindow(window(15, [sample(11, { ecc_dbe: 2 })]));
    expect(d.notifications.map((n) => [n.rule, (n.atMs - T0) / MIN])).toEqual([['ecc-dbe', 10]]);
  });

  it('tickets on power above 95 % of the instance TDP (p5: 700 W)', () => {
    const d = new NaiveDetector();
    d.onWindow(window(5, [sample(1, { power: 660 }, '0'), sample(1, { power: 670 }, '1')]));
    expect(d.notifications.map((n) => [n.rule, n.severity, n.labels.gpu])).toEqual([
      ['power-high', 'ticket', '1'],
    ]);
  });

  it('tickets on low utilisation only for a GPU a job holds the whole window', () => {
    const d = new NaiveDetector();
    const samples = [0, 1, 2, 3, 4].flatMap((m) => [
      sample(m, { gpu_util: 3 }, '0'),
      sample(m, { gpu_util: 3 }, '1'),
      sample(m, { gpu_util: m === 2 ? 50 : 3 }, '2'),
    ]);
    // GPU 0 idle with a job; GPU 1 idle without a job; GPU 2 has one busy minute.
    const jobOnGpu = (_node: string, gpu: string) => (gpu === '1' ? undefined : 'job-a');
    d.onWindow(window(5, samples, { jobOnGpu }));
    expect(d.notifications.map((n) => [n.rule, n.severity, n.labels.gpu, n.labels.job])).toEqual([
      ['utilisation-low', 'ticket', '0', 'job-a'],
    ]);
  });

  it('pages when one cluster has the fixed count of failed jobs in a window', () => {
    const d = new NaiveDetector({ failedJobsPerWindow: 3 });
    const inWindow = T0 + 2 * MIN;
    d.onWindow(
      window(5, [], {
        jobs: [
          failedJob('a', inWindow),
          failedJob('b', inWindow),
          failedJob('c', inWindow, 'train-b'),
          failedJob('d', T0 - 30 * MIN), // failed before the window
        ],
      }),
    );
    expect(d.notifications).toHaveLength(0);
    d.onWindow(
      window(10, [], {
        jobs: [5, 6, 7].map((m) => failedJob(`x${m}`, T0 + m * MIN)),
      }),
    );
    expect(d.notifications.map((n) => [n.rule, n.severity, n.labels.cluster])).toEqual([
      ['failed-jobs-high', 'page', 'train-a'],
    ]);
  });
});
