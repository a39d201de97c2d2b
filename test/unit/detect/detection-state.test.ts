import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CohortDimension,
  cohortValueKey,
  DEFAULT_COHORT_DIMENSIONS,
  detectCohortFailures,
  emptyOutcomeAggregates,
  foldOutcomes,
  outcomeBaseline,
} from '../../../lambdas/core/detect/cohorts';
import {
  DEFAULT_STATE_HORIZONS,
  type DetectionState,
  detectionStateSchema,
  emptyDetectionState,
  parseDetectionState,
  pruneDetectionState,
} from '../../../lambdas/core/detect/detection-state';
import { expandActivity, idleSince, recordMinutes } from '../../../lambdas/core/detect/job-activity';
import { quantileSorted, sortedCopy } from '../../../lambdas/core/detect/robust';
import {
  detectScheduling,
  emptyLatencyAggregates,
  foldLatencies,
  histogramStats,
  mergedHistograms,
  startLatencyMs,
} from '../../../lambdas/core/detect/scheduling';
import { emptyBaseline } from '../../../lambdas/core/detect/seasonal-baseline';
import type { GpuSample, TrainingJobState } from '../../../lambdas/core/model';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../../lambdas/core/time';
import { job } from './job-fixtures';

/** Wednesday 2026-11-25 14:00 UTC (hour-aligned: aggregate and raw baselines then agree exactly). */
const NOW = Date.UTC(2026, 10, 25, 14);

describe('parseDetectionState', () => {
  it('accepts a valid state as is', () => {
    const s = emptyDetectionState(NOW);
    expect(parseDetectionState(JSON.parse(JSON.stringify(s)))).toEqual({ state: s });
  });

  it('starts empty, without a reset, when nothing was stored', () => {
    expect(parseDetectionState(undefined)).toEqual({ state: emptyDetectionState() });
  });

  it.each([
    ['an older version', { version: 0, gpus: {} }, 'old-version', /stored version 0/],
    ['no version at all', { hardware: {} }, 'old-version', /missing/],
    ['garbage', 'not json at all', 'old-version', /missing/],
    [
      'a corrupt field',
      { ...emptyDetectionState(), fleet: { points: 'x', dropOpen: false } },
      'invalid',
      /fleet\.points/,
    ],
    ['an unknown field', { ...emptyDetectionState(), extra: 1 }, 'invalid', /extra|Unrecognized/],
  ])('resets %s with a reason, never throws', (_name, value, reason, detail) => {
    const r = parseDetectionState(value);
    expect(r.state).toEqual(emptyDetectionState());
    expect(r.reset?.reason).toBe(reason);
    expect(r.reset?.detail).toMatch(detail);
  });
});

// -------------------------------------------------------------------------------------------------
// Boundedness

const time = fc.integer({ min: NOW - 30 * DAY_MS, max: NOW });

const stateArb: fc.Arbitrary<DetectionState> = fc
  .record({
    gpus: fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), time), { maxLength: 20 }),
    cohorts: fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), time), { maxLength: 10 }),
    jobs: fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), time), { maxLength: 10 }),
    points: fc.array(time, { maxLength: 50 }),
    hours: fc.array(time, { maxLength: 20 }),
  })
  .map((r) => {
    const s = emptyDetectionState(NOW);
    for (const [k, seen] of r.gpus) s.hardware.gpus[k] = { seen };
    for (const [k, seen] of r.cohorts) {
      s.cohorts[k] = { seen, baseline: emptyBaseline(), cusum: { pos: 0, neg: 0, n: 0 } };
    }
    for (const [k, t] of r.jobs) {
      s.checkpoints[k] = { checkedAtMs: t, newestMs: null, seenAtMs: t };
      s.jobs[k] = { seenAtMs: t, runs: [[t, t, 1]] };
    }
    s.fleet.points = [...new Set(r.points)].sort((a, b) => a - b).map((t) => [t, 0.5]);
    for (const t of r.hours) {
      const end = Math.ceil(t / HOUR_MS) * HOUR_MS;
      s.outcomes.hours[String(end)] = { n: 1, failed: 0, cohorts: {} };
      s.latencies.hours[String(end)] = { '["us-east-1","batch"]': { '40': 1 } };
    }
    return s;
  });

describe('pruneDetectionState (property)', () => {
  it('keeps exactly the entries inside their horizon, and stays a valid state', () => {
    fc.assert(
      fc.property(stateArb, (s) => {
        const p = pruneDetectionState(s, NOW);
        const h = DEFAULT_STATE_HORIZONS;
        expect(detectionStateSchema.safeParse(p).success).toBe(true);
        for (const [k, g] of Object.entries(s.hardware.gpus))
          expect(Object.hasOwn(p.hardware.gpus, k)).toBe(g.seen >= NOW - h.gpuMs);
        for (const [k, c] of Object.entries(s.cohorts))
          expect(Object.hasOwn(p.cohorts, k)).toBe(c.seen >= NOW - h.cohortMs);
        for (const [k, j] of Object.entries(s.jobs))
          expect(Object.hasOwn(p.jobs, k)).toBe(j.seenAtMs >= NOW - h.jobMs);
        for (const [k, c] of Object.entries(s.checkpoints))
          expect(Object.hasOwn(p.checkpoints, k)).toBe(c.seenAtMs >= NOW - h.jobMs);
        expect(p.fleet.points.every(([t]) => t >= NOW - h.fleetMs)).toBe(true);
        expect(p.fleet.points.length).toBe(s.fleet.points.filter(([t]) => t >= NOW - h.fleetMs).length);
        for (const k of Object.keys(p.outcomes.hours)) expect(Number(k)).toBeGreaterThan(NOW - h.aggregateMs);
        for (const k of Object.keys(p.latencies.hours))
          expect(Number(k)).toBeGreaterThan(NOW - h.aggregateMs);
        // Idempotent.
        expect(pruneDetectionState(p, NOW)).toEqual(p);
      }),
    );
  });

  it('job activity keeps at most 64 runs of the last 6 h, whatever the minute pattern', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom<0 | 1 | 2>(0, 1, 2), { minLength: 1, maxLength: 1_000 }),
        (flags) => {
          const start = NOW - flags.length * MINUTE_MS;
          const a = recordMinutes(
            undefined,
            flags.map((flag, i) => ({ time: start + i * MINUTE_MS, flag })),
            NOW,
          );
          expect(a.runs.length).toBeLessThanOrEqual(64);
          expect(a.runs.every(([, end]) => end >= NOW - 6 * HOUR_MS)).toBe(true);
        },
      ),
    );
  });
});

describe('job activity round trip (property)', () => {
  it('expanding the remembered runs gives back each minute with its flag', () => {
    const like: GpuSample = {
      time: 0,
      labels: { cluster: 'c', region: 'r', instanceType: 'p5.48xlarge', node: 'n', gpu: '0', job: 'j' },
      values: {},
    };
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom<0 | 1 | 2>(0, 1, 2), { minLength: 1, maxLength: 300 }),
        (flags) => {
          const start = NOW - flags.length * MINUTE_MS;
          const minutes = flags.map((flag, i) => ({ time: start + i * MINUTE_MS, flag }));
          // Recorded over several runs of 5 minutes, as the detection run does.
          let a = recordMinutes(undefined, [], start);
          for (let i = 0; i < minutes.length; i += 5) a = recordMinutes(a, minutes.slice(i, i + 5), NOW);
          const back = expandActivity(a, start, NOW + 1, like);
          expect(back.map((s) => s.time)).toEqual(minutes.map((m) => m.time));
          back.forEach((s, i) => {
            const f = flags[i];
            expect((s.values.gpu_util ?? 0) < 5).toBe(f === 1);
            expect((s.values.gpu_util ?? 0) >= 80).toBe(f === 2);
          });
          let first = flags.length;
          while (first > 0 && flags[first - 1] === 1) first--;
          expect(idleSince(a)).toBe(first === flags.length ? undefined : start + first * MINUTE_MS);
        },
      ),
    );
  });
});

// -------------------------------------------------------------------------------------------------
// Aggregated baselines == the raw computation they replace

const DIMS: readonly CohortDimension[] = DEFAULT_COHORT_DIMENSIONS;

const endedJob = fc.record({
  endOffsetMin: fc.integer({ min: 1, max: 7 * 24 * 60 + 6 * 60 + 120 }),
  failed: fc.boolean(),
  stopped: fc.boolean(),
  driver: fc.constantFrom('535.183.01', '550.54.15', undefined),
  image: fc.constantFrom('pt:2.3', 'jax:0.4'),
  instanceType: fc.constantFrom('p5.48xlarge', 'p4d.24xlarge'),
  latencyS: fc.integer({ min: 0, max: 4 * 3600 }),
  cls: fc.constantFrom('interactive', 'batch', 'distributed'),
});

type EndedJob = typeof endedJob extends fc.Arbitrary<infer T> ? T : never;

function toJobs(rs: readonly EndedJob[]): TrainingJobState[] {
  return rs.map((r, i) => {
    const end = NOW - r.endOffsetMin * MINUTE_MS;
    const began = end - 30 * MINUTE_MS;
    const status = r.failed ? 'Failed' : r.stopped ? 'Stopped' : 'Completed';
    return job({
      jobName: `j-${i}`,
      status,
      secondaryStatus: status,
      instanceType: r.instanceType,
      workloadClass: r.cls,
      creationTime: began - r.latencyS * 1_000,
      trainingStartTime: began,
      trainingEndTime: end,
      lastModifiedTime: end,
      transitions: [{ status: 'Training', startTime: began }],
      tags: { image: r.image, ...(r.driver ? { driver_version: r.driver } : {}) },
    });
  });
}

describe('outcome aggregates (property)', () => {
  it('folded in 5-minute steps, give the same baseline counts and findings as the raw 7 days', () => {
    fc.assert(
      fc.property(
        fc.array(endedJob, { minLength: 0, maxLength: 150 }),
        fc.integer({ min: 1, max: 6 }),
        (rs, steps) => {
          const jobs = toJobs(rs);
          const windowStart = NOW - 6 * HOUR_MS;
          // Fold as successive runs would: up to windowStart, in a few uneven steps.
          let agg = emptyOutcomeAggregates();
          for (let i = steps; i >= 0; i--)
            agg = foldOutcomes(agg, jobs, windowStart - i * 7 * MINUTE_MS, DIMS).aggregates;
          const base = outcomeBaseline(agg, windowStart - 7 * DAY_MS);
          const rawBaseline = jobs.filter((j) => {
            const end = j.trainingEndTime as number;
            return end > windowStart - 7 * DAY_MS && end <= windowStart;
          });
          expect(base.fleet).toEqual({
            n: rawBaseline.length,
            failed: rawBaseline.filter((j) => j.status === 'Failed').length,
          });
          for (const d of DIMS) {
            for (const v of ['535.183.01', '550.54.15', 'pt:2.3', 'jax:0.4', 'p5.48xlarge', 'p4d.24xlarge']) {
              const members = rawBaseline.filter((j) => (d.tag ? j.tags[d.tag] : j.instanceType) === v);
              expect(base.cohort(d.name, v)).toEqual({
                n: members.length,
                failed: members.filter((j) => j.status === 'Failed').length,
              });
            }
          }
          const windowJobs = jobs.filter((j) => (j.trainingEndTime as number) > windowStart);
          const raw = detectCohortFailures({ jobs, nowMs: NOW });
          const fromAgg = detectCohortFailures({ jobs: windowJobs, nowMs: NOW, baseline: agg });
          expect(fromAgg.findings).toEqual(raw.findings);
        },
      ),
    );
  });

  it('finds the driver spike from aggregates alone', () => {
    const jobs: TrainingJobState[] = [];
    let i = 0;
    const add = (endMs: number, driver: string, failed: boolean) =>
      jobs.push(
        job({
          jobName: `k-${i++}`,
          status: failed ? 'Failed' : 'Completed',
          trainingEndTime: endMs,
          lastModifiedTime: endMs,
          tags: { driver_version: driver },
          failureReason: failed ? 'AlgorithmError: NCCL error: unhandled cuda error' : undefined,
        }),
      );
    for (let k = 0; k < 400; k++)
      add(NOW - 6 * HOUR_MS - (k + 1) * 20 * MINUTE_MS, '535.183.01', k % 30 === 0);
    for (let k = 0; k < 60; k++)
      add(NOW - (k + 1) * 5 * MINUTE_MS, k % 2 ? '550.54.15' : '535.183.01', k % 2 === 1 && k % 3 !== 0);
    const agg = foldOutcomes(emptyOutcomeAggregates(), jobs, NOW - 6 * HOUR_MS).aggregates;
    expect(Object.keys(agg.hours).length).toBeLessThanOrEqual(24 * 7 + 1);
    expect(JSON.stringify(agg)).toContain(
      cohortValueKey('driver_version', '535.183.01').replaceAll('"', '\\"'),
    );
    const { findings } = detectCohortFailures({
      jobs: jobs.filter((j) => (j.trainingEndTime as number) > NOW - 6 * HOUR_MS),
      nowMs: NOW,
      baseline: agg,
    });
    expect(findings.map((f) => f.evidence.detail?.match(/= ([\d.]+)/)?.[1])).toEqual(['550.54.15']);
  });
});

describe('start-latency aggregates (property)', () => {
  it('count exactly, and median/p95 agree with the raw ones to within a bucket', () => {
    fc.assert(
      fc.property(fc.array(endedJob, { minLength: 1, maxLength: 200 }), (rs) => {
        const jobs = toJobs(rs);
        const windowStart = NOW - 6 * HOUR_MS;
        const agg = foldLatencies(emptyLatencyAggregates(), jobs, windowStart).aggregates;
        const hists = mergedHistograms(agg, windowStart - 7 * DAY_MS);
        for (const [group, hist] of hists) {
          const [region, cls] = JSON.parse(group) as [string, string];
          const raw = jobs
            .filter((j) => j.region === region && (j.workloadClass ?? 'batch') === cls)
            .filter((j) => {
              const b = j.trainingStartTime as number;
              return b > windowStart - 7 * DAY_MS && b <= windowStart;
            })
            .map((j) => startLatencyMs(j) as number);
          const stats = histogramStats(hist);
          expect(stats?.n).toBe(raw.length);
          const sorted = sortedCopy(raw);
          for (const [p, got] of [
            [0.5, stats?.median],
            [0.95, stats?.p95],
          ] as const) {
            const want = quantileSorted(sorted, p);
            // Half a 5 % bucket relative, plus 1 s for tiny latencies where buckets are a second wide.
            expect(Math.abs((got as number) - want)).toBeLessThanOrEqual(0.05 * want + 1_000);
          }
        }
      }),
    );
  });

  it('scheduling findings from aggregates match the raw baseline on a realistic slowdown', () => {
    const jobs: TrainingJobState[] = [];
    let i = 0;
    const started = (began: number, latencyMs: number) =>
      jobs.push(
        job({
          jobName: `s-${i++}`,
          creationTime: began - latencyMs,
          trainingStartTime: began,
          transitions: [{ status: 'Training', startTime: began }],
        }),
      );
    for (let k = 0; k < 500; k++)
      started(NOW - 6 * HOUR_MS - (k + 1) * 19 * MINUTE_MS, (3 + (k % 5)) * MINUTE_MS);
    for (let k = 0; k < 40; k++) started(NOW - (k + 1) * 8 * MINUTE_MS, (14 + (k % 6)) * MINUTE_MS);
    const agg = foldLatencies(emptyLatencyAggregates(), jobs, NOW - 6 * HOUR_MS).aggregates;
    const raw = detectScheduling({ jobs, nowMs: NOW }).findings;
    const fromAgg = detectScheduling({
      jobs: jobs.filter((j) => (j.trainingStartTime as number) > NOW - 6 * HOUR_MS),
      nowMs: NOW,
      baseline: agg,
    }).findings;
    expect(raw.map((f) => f.kind)).toEqual(['scheduling.start_latency_growth']);
    expect(fromAgg.map((f) => f.kind)).toEqual(raw.map((f) => f.kind));
    expect(fromAgg[0]?.evidence.baseline?.n).toBe(raw[0]?.evidence.baseline?.n);
    expect(fromAgg[0]?.evidence.baseline?.median).toBeCloseTo(raw[0]?.evidence.baseline?.median as number, 0);
  });
});
