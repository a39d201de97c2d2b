import { describe, expect, it } from 'vitest';
import { type Finding, findingSchema } from '../../../lambdas/contracts/finding';
import {
  detectScheduling,
  emptyLatencyAggregates,
  foldLatencies,
  type SchedulingOptions,
  SLA_MISS_KIND,
  START_LATENCY_KIND,
  startLatencyMs,
} from '../../../lambdas/core/detect/scheduling';
import type { TrainingJobState } from '../../../lambdas/core/model';
import { DAY_MS, HOUR_MS } from '../../../lambdas/core/time';
import { job, MIN, T0 } from './job-fixtures';
import { normal, prng } from './synthetic';

const NOW = T0 + 6 * HOUR_MS;
const WINDOW_START = NOW - 6 * HOUR_MS;

let seq = 0;

/** A job created at `created` that began training `latencyMs` later and completed `runMs` after that. */
function started(
  cls: string,
  created: number,
  latencyMs: number,
  runMs = 45 * MIN,
  extra: Partial<TrainingJobState> = {},
): TrainingJobState {
  const training = created + latencyMs;
  const end = training + runMs;
  const done = end <= NOW;
  return job({
    jobName: `${cls}-${++seq}`,
    workloadClass: cls,
    status: done ? 'Completed' : 'InProgress',
    secondaryStatus: done ? 'Completed' : 'Training',
    creationTime: created,
    trainingStartTime: training,
    lastModifiedTime: done ? end : training,
    ...(done ? { trainingEndTime: end } : {}),
    transitions: [
      { status: 'Starting', startTime: created + 30_000, endTime: training - 60_000 },
      { status: 'Downloading', startTime: training - 60_000, endTime: training },
      { status: 'Training', startTime: training, ...(done ? { endTime: end } : {}) },
    ],
    ...extra,
  });
}

/**
 * `count` jobs of one class whose training began uniformly in [from, to), with start latencies
 * log-normal around `medianMs` (queue waits are skewed: most short, a few long).
 */
function population(
  seed: number,
  cls: string,
  count: number,
  from: number,
  to: number,
  medianMs: number,
): TrainingJobState[] {
  const rand = prng(seed);
  const z = normal(rand);
  return Array.from({ length: count }, () => {
    const latency = medianMs * Math.exp(0.5 * z());
    const training = from + rand() * (to - from);
    return started(cls, training - latency, latency);
  });
}

/** A healthy week: batch jobs wait about 4 min to start. */
const baselineBatch = (seed: number) =>
  population(seed, 'batch', 600, WINDOW_START - 7 * DAY_MS, WINDOW_START, 4 * MIN);

function run(jobs: readonly TrainingJobState[], options?: SchedulingOptions): Finding[] {
  const { findings } = detectScheduling({ jobs, nowMs: NOW, ...(options ? { options } : {}) });
  for (const f of findings) expect(findingSchema.parse(f)).toEqual(f);
  return findings;
}

const ofKind = (fs: readonly Finding[], kind: string) => fs.filter((f) => f.kind === kind);

describe('startLatencyMs', () => {
  it.each([
    ['from creation', 'creation' as const, 12 * MIN],
    ['from the Starting transition', 'starting' as const, 12 * MIN - 30_000],
  ])('%s', (_name, from, expected) => {
    expect(startLatencyMs(started('batch', T0, 12 * MIN), from)).toBe(expected);
  });

  it('is undefined while the job waits', () => {
    expect(
      startLatencyMs(job({ jobName: 'w', secondaryStatus: 'Starting', trainingStartTime: undefined })),
    ).toBeUndefined();
  });
});

describe('detectScheduling: start latency growth', () => {
  it.each([
    // name, window median, expected finding
    ['healthy queue (4 min)', 4 * MIN, false],
    ['slightly slower queue (5 min)', 5 * MIN, false],
    ['queue three times slower (12 min)', 12 * MIN, true],
    ['queue six times slower (25 min)', 25 * MIN, true],
  ])('%s', (_name, windowMedian, expected) => {
    const jobs = [...baselineBatch(1), ...population(2, 'batch', 80, WINDOW_START, NOW, windowMedian)];
    const growth = ofKind(run(jobs), START_LATENCY_KIND);
    expect(growth).toHaveLength(expected ? 1 : 0);
    if (expected) {
      const f = growth[0] as Finding;
      expect(f.severity).toBe('ticket');
      expect(f.cause).toBe('scheduling');
      expect(f.title).toMatch(/^batch jobs in us-east-1 wait longer to start: median/);
      expect(f.evidence.baseline?.median).toBeGreaterThan(3);
      expect(f.evidence.baseline?.median).toBeLessThan(5);
      expect(f.evidence.values?.medianMinutes).toBeGreaterThan(windowMedian / MIN / 1.5);
    }
  });

  it('warm-up: a baseline of 2 h of night jobs is plenty of jobs but no yardstick; a day of it is', () => {
    const window = population(2, 'batch', 80, WINDOW_START, NOW, 12 * MIN);
    // 200 jobs in the two hours before the window: enough jobs, too short a span.
    const short = population(9, 'batch', 200, WINDOW_START - 2 * HOUR_MS, WINDOW_START, 4 * MIN);
    expect(ofKind(run([...short, ...window]), START_LATENCY_KIND)).toEqual([]);
    // The same count spread over 25 hours is trusted.
    const day = population(9, 'batch', 200, WINDOW_START - 25 * HOUR_MS, WINDOW_START, 4 * MIN);
    expect(ofKind(run([...day, ...window]), START_LATENCY_KIND)).toHaveLength(1);
    // The span is configurable.
    expect(
      ofKind(run([...short, ...window], { minBaselineSpanMs: HOUR_MS }), START_LATENCY_KIND),
    ).toHaveLength(1);
  });

  it('warm-up from the compact aggregates: hours folded for less than a day are not trusted', () => {
    const window = population(2, 'batch', 80, WINDOW_START, NOW, 12 * MIN);
    const short = population(9, 'batch', 200, WINDOW_START - 2 * HOUR_MS, WINDOW_START, 4 * MIN);
    const day = population(9, 'batch', 200, WINDOW_START - 25 * HOUR_MS, WINDOW_START, 4 * MIN);
    const judge = (past: readonly TrainingJobState[]) =>
      detectScheduling({
        jobs: window,
        nowMs: NOW,
        baseline: foldLatencies(emptyLatencyAggregates(), past, WINDOW_START).aggregates,
      }).findings.filter((f) => f.kind === START_LATENCY_KIND);
    expect(judge(short)).toEqual([]);
    expect(judge(day)).toHaveLength(1);
  });

  it('catches a growing tail while the median holds', () => {
    const rand = prng(4);
    // 85 % of jobs start as usual; 15 % wait 40-60 min for capacity.
    const window = population(5, 'batch', 100, WINDOW_START, NOW, 4 * MIN).map((j, i) =>
      i % 7 === 0
        ? started('batch', (trainingOf(j) as number) - (40 + 20 * rand()) * MIN, (40 + 20 * rand()) * MIN)
        : j,
    );
    const growth = ofKind(run([...baselineBatch(3), ...window]), START_LATENCY_KIND);
    expect(growth).toHaveLength(1);
    expect(growth[0]?.title).toContain('p95');
  });

  it('needs enough jobs in the window and in the baseline', () => {
    const few = population(6, 'batch', 6, WINDOW_START, NOW, 30 * MIN);
    expect(ofKind(run([...baselineBatch(7), ...few]), START_LATENCY_KIND)).toEqual([]);
    const noHistory = population(8, 'batch', 80, WINDOW_START, NOW, 30 * MIN);
    expect(ofKind(run(noHistory), START_LATENCY_KIND)).toEqual([]);
  });

  it('judges each class against its own baseline', () => {
    // Distributed jobs always wait ~40 min for a placement group: normal for them, not growth.
    const dist = [
      ...population(9, 'distributed', 200, WINDOW_START - 7 * DAY_MS, WINDOW_START, 40 * MIN),
      ...population(10, 'distributed', 30, WINDOW_START, NOW, 42 * MIN),
    ];
    const batch = [...baselineBatch(11), ...population(12, 'batch', 80, WINDOW_START, NOW, 4 * MIN)];
    expect(ofKind(run([...dist, ...batch]), START_LATENCY_KIND)).toEqual([]);
  });
});

function trainingOf(j: TrainingJobState): number | undefined {
  return j.transitions.find((t) => t.status === 'Training')?.startTime;
}

/** A job of `cls` that began training `minutesAgo` before NOW after waiting `latencyMin`. */
function beganAgo(
  cls: string,
  minutesAgo: number,
  latencyMin: number,
  extra: Partial<TrainingJobState> = {},
) {
  return started(cls, NOW - (minutesAgo + latencyMin) * MIN, latencyMin * MIN, 45 * MIN, extra);
}

describe('detectScheduling: SLA misses', () => {
  it.each([
    // name, interactive start latencies in the last hour (min), expected misses, severity
    ['all within 10 min', [2, 4, 9.5], 0, undefined],
    ['one miss of three', [2, 4, 14], 1, 'info'],
    ['three misses of five', [12, 25, 4, 11, 3], 3, 'ticket'],
  ])('interactive: %s', (_name, latencies, misses, severity) => {
    const jobs = latencies.map((m, i) => beganAgo('interactive', 50 - i * 5, m));
    const sla = ofKind(run(jobs), SLA_MISS_KIND);
    expect(sla).toHaveLength(misses > 0 ? 1 : 0);
    if (misses > 0) {
      expect(sla[0]?.severity).toBe(severity);
      expect(sla[0]?.evidence.values?.misses).toBe(misses);
      expect(sla[0]?.evidence.values?.judgedJobs).toBe(latencies.length);
      expect(sla[0]?.title).toContain('interactive');
    }
  });

  it('judges attainment over the last hour: a few misses among many jobs on time are the SLA kept', () => {
    const onTime = (n: number) =>
      Array.from({ length: n }, (_, i) => beganAgo('interactive', 1 + (i % 58), 3));
    const late = [beganAgo('interactive', 20, 14), beganAgo('interactive', 10, 16)];
    // 2 of 62 late: 96.8 % ≥ 95 %.
    expect(ofKind(run([...onTime(60), ...late]), SLA_MISS_KIND)).toEqual([]);
    // 2 of 32 late: 93.75 % < 95 %: a ticket that says so.
    const short = ofKind(run([...onTime(30), ...late]), SLA_MISS_KIND);
    expect(short.map((f) => f.severity)).toEqual(['ticket']);
    expect(short[0]?.evidence.values).toMatchObject({ misses: 2, judgedJobs: 32, attainment: 0.9375 });
    expect(short[0]?.title).toContain('attainment 93.8 % < 95 %');
    // A class may promise less.
    expect(
      ofKind(run([...onTime(30), ...late], { sla: { interactive: { minAttainment: 0.9 } } }), SLA_MISS_KIND),
    ).toEqual([]);
    // Late jobs that began training more than an hour ago are not judged again.
    const earlier = [beganAgo('interactive', 70, 14), beganAgo('interactive', 65, 16)];
    expect(ofKind(run([...onTime(5), ...earlier]), SLA_MISS_KIND)).toEqual([]);
  });

  it('uses each class its own SLA and honours overrides', () => {
    // 45 min: fine for batch (60) and distributed (120), a miss for interactive (10).
    const jobs = ['interactive', 'batch', 'distributed'].map((cls) => beganAgo(cls, 5, 45));
    expect(ofKind(run(jobs), SLA_MISS_KIND).map((f) => f.title)).toEqual([
      expect.stringMatching(/^1 SLA miss\(es\) for interactive jobs/),
    ]);
    const strict = run(jobs, { sla: { batch: { maxStartLatencyMs: 30 * MIN } } });
    expect(ofKind(strict, SLA_MISS_KIND).map((f) => f.title)).toEqual([
      expect.stringMatching(/for interactive jobs/),
      expect.stringMatching(/for batch jobs/),
    ]);
  });

  it('counts a job still waiting past its deadline, not one still within it', () => {
    const waiting = (name: string, waitedMs: number) =>
      job({
        jobName: name,
        workloadClass: 'batch',
        secondaryStatus: 'Starting',
        creationTime: NOW - waitedMs,
        lastModifiedTime: NOW - waitedMs,
        trainingStartTime: undefined,
        transitions: [{ status: 'Starting', startTime: NOW - waitedMs }],
      });
    const sla = ofKind(run([waiting('stuck', 95 * MIN), waiting('fresh', 20 * MIN)]), SLA_MISS_KIND);
    expect(sla).toHaveLength(1);
    expect(sla[0]?.evidence.detail).toContain('stuck start (still waiting) +35 min');
    expect(sla[0]?.evidence.detail).not.toContain('fresh');
  });

  it('checks the optional duration SLA and caps the job list', () => {
    const jobs = [
      // Ended in the last hour (the first ten) or still running after 4 h (the rest).
      ...Array.from({ length: 30 }, (_, i) =>
        started('batch', NOW - 4 * HOUR_MS, 5 * MIN, (3 + i / 10) * HOUR_MS),
      ),
      // Within the SLA: 5 min queue + 2 h training, ended before the hour judged.
      started('batch', NOW - 4 * HOUR_MS, 5 * MIN, 2 * HOUR_MS),
    ];
    const sla = ofKind(
      run(jobs, { sla: { batch: { maxDurationMs: 3 * HOUR_MS } }, maxListedJobs: 5 }),
      SLA_MISS_KIND,
    );
    expect(sla).toHaveLength(1);
    // Finished ones exceed 3 h by their 5 min queue; the running ones have been going for 4 h.
    expect(sla[0]?.evidence.values?.durationMisses).toBe(30);
    expect(sla[0]?.evidence.values?.startMisses).toBe(0);
    expect(sla[0]?.evidence.detail).toContain('(+25 more)');
  });

  it('judges each cluster (job cluster tag) on its own and labels the finding with it', () => {
    const tagged = (cluster: string, latencyMin: number, i: number) =>
      beganAgo('interactive', 50 - i * 5, latencyMin, { tags: { 'fleetwatch:cluster': cluster } });
    // Cluster a: three misses; cluster b: all on time.
    const jobs = [
      tagged('a', 25, 0),
      tagged('a', 30, 1),
      tagged('a', 40, 2),
      tagged('b', 2, 3),
      tagged('b', 3, 4),
    ];
    const sla = ofKind(run(jobs), SLA_MISS_KIND);
    expect(sla).toHaveLength(1);
    expect(sla[0]?.labels.cluster).toBe('a');
    expect(sla[0]?.labels.region).toBeDefined();
    expect(sla[0]?.title).toContain('cluster a');
    expect(sla[0]?.evidence.values?.misses).toBe(3);
    // Both clusters congested: two findings, one per cluster.
    const both = ofKind(run([...jobs, tagged('b', 50, 5)]), SLA_MISS_KIND);
    expect(both.map((f) => f.labels.cluster)).toEqual(['a', 'b']);
  });

  it('ignores jobs that began training before the window', () => {
    const old = started('interactive', WINDOW_START - 2 * HOUR_MS, 30 * MIN);
    expect(ofKind(run([old]), SLA_MISS_KIND)).toEqual([]);
  });
});
