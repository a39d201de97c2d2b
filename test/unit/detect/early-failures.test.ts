import { describe, expect, it } from 'vitest';
import { findingSchema } from '../../../lambdas/contracts/finding';
import { COHORT_FAILURE_KIND, detectCohortFailures } from '../../../lambdas/core/detect/cohorts';
import {
  earlyFailureTest,
  kaplanMeierFailed,
  oldestTrainingAgeMs,
} from '../../../lambdas/core/detect/early-failures';
import type { TrainingJobState } from '../../../lambdas/core/model';
import { HOUR_MS } from '../../../lambdas/core/time';
import { job, MIN, T0 } from './job-fixtures';

/**
 * A just-rolled-out cohort judged on failures per minute of training at risk (early-failures.ts):
 * minutes after a driver rollout, its failed jobs are the only ones that ended, and its running
 * jobs count with the minutes they trained.
 */

const NOW = T0 + 6 * HOUR_MS;
let seq = 0;

interface Spec {
  readonly driver: string;
  /** Training started this long before NOW. */
  readonly startedAgo: number;
  /** Failed this long after its training start; undefined: still running (or completed, below). */
  readonly failedAfter?: number;
  /** Completed this long after its training start. */
  readonly completedAfter?: number;
  readonly workloadClass?: string;
}

function j(s: Spec): TrainingJobState {
  const start = NOW - s.startedAgo;
  const end =
    s.failedAfter !== undefined
      ? start + s.failedAfter
      : s.completedAfter !== undefined
        ? start + s.completedAfter
        : undefined;
  return job({
    jobName: `e-${++seq}`,
    status:
      s.failedAfter !== undefined ? 'Failed' : s.completedAfter !== undefined ? 'Completed' : 'InProgress',
    creationTime: start - 5 * MIN,
    trainingStartTime: start,
    lastModifiedTime: end ?? start,
    ...(end === undefined ? {} : { trainingEndTime: end }),
    workloadClass: s.workloadClass ?? 'batch',
    tags: { driver_version: s.driver },
    ...(s.failedAfter !== undefined
      ? { failureReason: 'AlgorithmError: RuntimeError: CUDA error: initialization error' }
      : {}),
  });
}

const many = (n: number, f: (i: number) => Spec) => Array.from({ length: n }, (_, i) => j(f(i)));

/** The old driver over the last 3 h: 120 finished batch jobs (1 failed 10 min in), 30 running. */
function restOfFleet(): TrainingJobState[] {
  return [
    ...many(119, (i) => ({ driver: '550', startedAgo: 180 * MIN - i * MIN, completedAfter: 45 * MIN })),
    j({ driver: '550', startedAgo: 100 * MIN, failedAfter: 10 * MIN }),
    ...many(30, (i) => ({ driver: '550', startedAgo: (i + 1) * 2 * MIN })),
  ];
}

/** The new driver, 8 minutes after the rollout: 6 started, 3 failed at CUDA init. */
function freshRollout(): TrainingJobState[] {
  return [
    j({ driver: '560', startedAgo: 7 * MIN, failedAfter: 0 }),
    j({ driver: '560', startedAgo: 6 * MIN, failedAfter: 1 * MIN }),
    j({ driver: '560', startedAgo: 5 * MIN, failedAfter: 0 }),
    j({ driver: '560', startedAgo: 5 * MIN }),
    j({ driver: '560', startedAgo: 3 * MIN }),
    j({ driver: '560', startedAgo: 2 * MIN }),
  ];
}

describe('kaplanMeierFailed', () => {
  it('censors running jobs at their age instead of counting them as survivors', () => {
    // At risk 4: one fails (S = 3/4); one censored; at risk 2: one fails (S = 3/8).
    const lives = [
      { age: 1, failed: true },
      { age: 2, failed: false },
      { age: 3, failed: true },
      { age: 4, failed: false },
    ];
    expect(kaplanMeierFailed(lives)).toBeCloseTo(5 / 8, 10);
    expect(kaplanMeierFailed([])).toBe(0);
    expect(kaplanMeierFailed([{ age: 0, failed: true }])).toBe(1);
  });
});

describe('earlyFailureTest', () => {
  it('3 of 6 new-driver jobs failing at CUDA init against 1 early failure in 150 is significant', () => {
    const cohort = freshRollout();
    const r = earlyFailureTest(cohort, restOfFleet(), NOW, 30 * MIN);
    expect(r.started).toBe(6);
    expect(r.failed).toBe(3);
    expect(r.restStarted).toBe(150);
    // Compared over the cohort's own ages: its oldest job trained 7 min.
    expect(r.windowMs).toBe(7 * MIN);
    expect(oldestTrainingAgeMs(cohort, NOW)).toBe(7 * MIN);
    expect(r.pValue).toBeLessThan(0.001);
    expect(r.failedShare).toBeGreaterThanOrEqual(0.5);
    // The cohort trained 0 + 1 + 0 + 5 + 3 + 2 = 11 minutes at risk.
    expect(r.exposureMinutes).toBe(11);
  });

  it('is not significant when the rest fails as early as often', () => {
    const rest = [
      ...restOfFleet(),
      ...many(60, (i) => ({ driver: '550', startedAgo: 60 * MIN + i * MIN, failedAfter: (i % 3) * MIN })),
    ];
    const r = earlyFailureTest(freshRollout(), rest, NOW, 30 * MIN);
    expect(r.failed).toBe(3);
    expect(r.pValue).toBeGreaterThan(0.01);
  });

  it('compares workload classes with their own kind: notebooks that fail early are not a signal', () => {
    // Notebooks fail early everywhere (1 in 4 within minutes); batch jobs rarely. A new image used
    // only by notebooks fails like every other notebook.
    const nb = (driver: string, n: number) =>
      many(n, (i) => ({
        driver,
        startedAgo: 20 * MIN + i * MIN,
        workloadClass: 'interactive',
        ...(i % 4 === 0 ? { failedAfter: 2 * MIN } : { completedAfter: 8 * MIN }),
      }));
    const rest = [...restOfFleet(), ...nb('550', 40)];
    const stratified = earlyFailureTest(nb('new-image', 16), rest, NOW, 30 * MIN);
    expect(stratified.failed).toBe(4);
    expect(stratified.pValue).toBeGreaterThan(0.05);
  });

  it('is 1 without a failure', () => {
    const r = earlyFailureTest(
      freshRollout().filter((x) => x.status !== 'Failed'),
      restOfFleet(),
      NOW,
      30 * MIN,
    );
    expect(r.pValue).toBe(1);
  });
});

describe('detectCohortFailures, a just-rolled-out cohort', () => {
  it('pages on the early failures of a new driver before five of its jobs have ended', () => {
    const jobs = [...restOfFleet(), ...freshRollout()];
    const { findings } = detectCohortFailures({ jobs, nowMs: NOW });
    expect(findings).toHaveLength(1);
    const f = findings[0];
    expect(findingSchema.parse(f)).toEqual(f);
    expect(f?.kind).toBe(COHORT_FAILURE_KIND);
    expect(f?.severity).toBe('page');
    expect(f?.cause).toBe('software');
    expect(f?.title).toContain('Early failures in new cohort driver_version=560');
    // The rest's one failure came 10 min into training: past the 7 min compared.
    expect(f?.evidence.values).toMatchObject({
      earlyFailed: 3,
      earlyStarted: 6,
      earlyRestFailed: 0,
      earlyWindowMinutes: 7,
    });
    expect(Number(f?.evidence.values?.earlyPValue)).toBeLessThan(0.001);
    // The per-job tests alone would wait: 3 jobs with an outcome are fewer than they need.
    const perJobOnly = detectCohortFailures({
      jobs,
      nowMs: NOW,
      options: { newCohortMs: 0 },
    });
    expect(perJobOnly.findings).toEqual([]);
  });

  it('needs minFailures early failures: two crashes out of six are not enough', () => {
    const twoFailed = freshRollout().filter((_x, i) => i !== 2);
    expect(detectCohortFailures({ jobs: [...restOfFleet(), ...twoFailed], nowMs: NOW }).findings).toEqual([]);
  });

  it('tickets, not pages, when under half of the started jobs are estimated to fail early', () => {
    // 3 crashes among 12 jobs that have all trained past the crash ages.
    const jobs = [
      ...restOfFleet(),
      ...many(12, (i) => ({
        driver: '560',
        startedAgo: 20 * MIN + i * MIN,
        ...(i < 3 ? { failedAfter: 0 } : {}),
      })),
    ];
    const [f] = detectCohortFailures({ jobs, nowMs: NOW }).findings;
    expect(f?.severity).toBe('ticket');
    expect(f?.title).toContain('Early failures');
  });

  it('does not judge a cohort value on its early failures once it is not new', () => {
    // The same three crashes, but the driver has run for 3 h: the per-job tests judge it.
    const jobs = [
      ...restOfFleet(),
      ...freshRollout(),
      ...many(6, (i) => ({ driver: '560', startedAgo: 180 * MIN - i * MIN, completedAfter: 45 * MIN })),
    ];
    const findings = detectCohortFailures({ jobs, nowMs: NOW }).findings;
    expect(findings.filter((f) => f.title.includes('Early failures'))).toEqual([]);
  });
});
