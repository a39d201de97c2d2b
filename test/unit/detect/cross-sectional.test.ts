import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findingSchema } from '../../../lambdas/contracts/finding';
import {
  COHORT_FAILURE_KIND,
  detectCohortFailures,
  JOB_CLUSTER_TAG,
} from '../../../lambdas/core/detect/cohorts';
import { fisherGreaterP, logGamma } from '../../../lambdas/core/detect/proportions';
import type { TrainingJobState } from '../../../lambdas/core/model';
import { DAY_MS, HOUR_MS } from '../../../lambdas/core/time';
import { job, MIN, T0 } from './job-fixtures';

/**
 * Cold start of the cohort failure detector (no trusted baseline yet): the cohort is compared with
 * the rest of the same window (one-sided Fisher exact test), like a canary analysis.
 */

const NOW = T0 + 6 * HOUR_MS;
let seq = 0;

/** `n` finished jobs on `driver`, `failed` of them Failed, ending inside the last hour. */
function finished(n: number, failed: number, driver: string, extraTags: Record<string, string> = {}) {
  const out: TrainingJobState[] = [];
  for (let i = 0; i < n; i++) {
    const end = NOW - 60 * MIN + Math.floor((i * 59 * MIN) / Math.max(1, n));
    out.push(
      job({
        jobName: `x-${++seq}`,
        status: i < failed ? 'Failed' : 'Completed',
        creationTime: end - 30 * MIN,
        trainingStartTime: end - 25 * MIN,
        trainingEndTime: end,
        lastModifiedTime: end,
        tags: { driver_version: driver, ...extraTags },
        ...(i < failed ? { failureReason: 'AlgorithmError: CUDA error: an illegal memory access' } : {}),
      }),
    );
  }
  return out;
}

describe('fisherGreaterP', () => {
  it.each([
    // a, n1, c, n2, p (exact hypergeometric tail; the first is Fisher's tea-tasting table)
    [3, 4, 1, 4, 0.242857],
    [3, 5, 1, 70, 0.00058],
    [2, 2, 1, 68, 0.001242],
    [9, 12, 1, 80, 2.45e-9],
    [10, 100, 10, 100, 0.592851],
  ])('%i/%i vs %i/%i', (a, n1, c, n2, p) => {
    expect(fisherGreaterP(a, n1, c, n2)).toBeCloseTo(p, 5);
    expect(fisherGreaterP(a, n1, c, n2) / p).toBeCloseTo(1, 2);
  });

  it('is 1 when a group is empty, and logGamma matches factorials', () => {
    expect(fisherGreaterP(0, 0, 3, 10)).toBe(1);
    expect(fisherGreaterP(3, 10, 0, 0)).toBe(1);
    expect(logGamma(11)).toBeCloseTo(Math.log(3_628_800), 9);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 9);
  });

  it('is a probability, and more failures in the cohort never raise it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 300 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (n1, n2, s1, s2) => {
          const a = Math.floor(s1 * n1);
          const c = Math.floor(s2 * n2);
          const p = fisherGreaterP(a, n1, c, n2);
          expect(p).toBeGreaterThanOrEqual(0);
          expect(p).toBeLessThanOrEqual(1);
          if (a < n1) expect(fisherGreaterP(a + 1, n1, c, n2)).toBeLessThanOrEqual(p + 1e-9);
        },
      ),
    );
  });
});

describe('detectCohortFailures, cold start (cross-sectional)', () => {
  it('a new driver failing 3 of 5 jobs against 1 of 70 elsewhere fires, with rates, counts and p-value', () => {
    const jobs = [
      ...finished(5, 3, '560.35.03', { [JOB_CLUSTER_TAG]: 'train-a' }),
      ...finished(70, 1, '550.54.15', { [JOB_CLUSTER_TAG]: 'train-a' }),
    ];
    const { findings } = detectCohortFailures({ jobs, nowMs: NOW });
    expect(findings).toHaveLength(1);
    const f = findings[0];
    expect(findingSchema.parse(f)).toEqual(f);
    expect(f?.kind).toBe(COHORT_FAILURE_KIND);
    expect(f?.cause).toBe('software');
    expect(f?.title).toContain('driver_version=560.35.03');
    expect(f?.title).toContain('vs rest of fleet');
    expect(f?.labels).toMatchObject({ cluster: 'train-a', region: 'us-east-1' });
    expect(f?.evidence.values).toMatchObject({
      crossSectional: 1,
      failed: 3,
      jobs: 5,
      rate: 0.6,
      baselineFailed: 1,
      baselineJobs: 70,
    });
    expect(f?.evidence.values?.pValue).toBeCloseTo(0.00058, 5);
    expect(f?.evidence.detail).toContain('cross-sectional');
  });

  it('needs a minimum number of failures: 2 of 5 against 0 of 200 (p ≈ 5e-4) does not fire', () => {
    const jobs = [...finished(5, 2, '560.35.03'), ...finished(200, 0, '550.54.15')];
    expect(fisherGreaterP(2, 5, 0, 200)).toBeLessThan(0.001);
    expect(detectCohortFailures({ jobs, nowMs: NOW }).findings).toEqual([]);
    // The same with a third failure does.
    const more = [...finished(5, 3, '560.35.03'), ...finished(200, 0, '550.54.15')];
    expect(detectCohortFailures({ jobs: more, nowMs: NOW }).findings).toHaveLength(1);
  });

  it('needs enough jobs outside the cohort to compare with', () => {
    const jobs = [...finished(8, 6, '560.35.03'), ...finished(6, 0, '550.54.15')];
    expect(detectCohortFailures({ jobs, nowMs: NOW }).findings).toEqual([]);
  });

  it('most jobs failing on the cohort pages (rate ≥ 50 %, ≥ 6 failures)', () => {
    const jobs = [...finished(9, 7, '560.35.03'), ...finished(80, 1, '550.54.15')];
    const [f] = detectCohortFailures({ jobs, nowMs: NOW }).findings;
    expect(f?.severity).toBe('page');
  });

  it('never fires for equal failure rates inside and outside the cohort (property)', () => {
    fc.assert(
      fc.property(
        // rate = r / d; the cohort has m1 × d jobs, the rest m2 × d: the same proportion exactly.
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 20 }),
        (d, rRaw, m1, m2) => {
          const r = Math.min(rRaw, d);
          const jobs = [...finished(m1 * d, m1 * r, '560.35.03'), ...finished(m2 * d, m2 * r, '550.54.15')];
          expect(detectCohortFailures({ jobs, nowMs: NOW }).findings).toEqual([]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('with a warm baseline the temporal test judges, not the cross-sectional one', () => {
    // 200 healthy jobs a day before the window: a trusted fleet baseline of 1 % failures.
    const history = finished(200, 2, '550.54.15').map((j) => ({
      ...j,
      trainingEndTime: (j.trainingEndTime ?? 0) - DAY_MS,
      lastModifiedTime: j.lastModifiedTime - DAY_MS,
    }));
    const jobs = [...history, ...finished(20, 12, '560.35.03'), ...finished(70, 1, '550.54.15')];
    const { findings } = detectCohortFailures({ jobs, nowMs: NOW });
    expect(findings).toHaveLength(1);
    expect(findings[0]?.evidence.values?.crossSectional).toBeUndefined();
    expect(findings[0]?.title).toContain('vs baseline');
  });
});
