import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Finding, findingSchema } from '../../../lambdas/contracts/finding';
import {
  COHORT_FAILURE_KIND,
  detectCohortFailures,
  wilsonInterval,
} from '../../../lambdas/core/detect/cohorts';
import type { TrainingJobState } from '../../../lambdas/core/model';
import { DAY_MS, HOUR_MS } from '../../../lambdas/core/time';
import { job, MIN, T0 } from './job-fixtures';
import { prng } from './synthetic';

const NOW = T0 + 6 * HOUR_MS;
/** The driver upgrade rolls out at the start of the 6 h window. */
const UPGRADE = NOW - 6 * HOUR_MS;

interface Spec {
  readonly image: string;
  readonly driver: string;
  readonly framework: string;
  readonly instanceType: string;
  readonly failRate: number;
  readonly reason?: string;
  readonly team?: string;
}

let seq = 0;
/** `count` jobs of one spec ending uniformly in [from, to); failures drawn with the spec's rate. */
function jobs(rand: () => number, count: number, from: number, to: number, s: Spec): TrainingJobState[] {
  const out: TrainingJobState[] = [];
  for (let i = 0; i < count; i++) {
    const end = Math.floor(from + rand() * (to - from));
    const failed = rand() < s.failRate;
    // One in forty is stopped by its user: an outcome, not a failure.
    const stopped = !failed && rand() < 0.025;
    out.push(
      job({
        jobName: `job-${++seq}`,
        status: failed ? 'Failed' : stopped ? 'Stopped' : 'Completed',
        creationTime: end - 95 * MIN,
        trainingStartTime: end - 90 * MIN,
        trainingEndTime: end,
        lastModifiedTime: end,
        instanceType: s.instanceType,
        team: s.team ?? (rand() < 0.5 ? 'llm' : 'vision'),
        tags: { image: s.image, driver_version: s.driver, framework: s.framework },
        ...(failed ? { failureReason: s.reason ?? 'AlgorithmError: ExitCode 1' } : {}),
      }),
    );
  }
  return out;
}

/** A week of healthy history on driver 535.183: about 3 % of jobs fail, spread over two images. */
function baselineWeek(rand: () => number): TrainingJobState[] {
  const from = UPGRADE - 7 * DAY_MS;
  const common = { driver: '535.183.01', failRate: 0.03 };
  return [
    ...jobs(rand, 700, from, UPGRADE, {
      ...common,
      image: 'pytorch-training:2.4-cu124',
      framework: 'pytorch-2.4',
      instanceType: 'p5.48xlarge',
    }),
    ...jobs(rand, 500, from, UPGRADE, {
      ...common,
      image: 'pytorch-training:2.4-cu124',
      framework: 'pytorch-2.4',
      instanceType: 'p4d.24xlarge',
    }),
    ...jobs(rand, 400, from, UPGRADE, {
      ...common,
      image: 'jax-training:0.4.30',
      framework: 'jax-0.4',
      instanceType: 'p5.48xlarge',
    }),
  ];
}

/**
 * After the upgrade: a third of the nodes run driver 550.54, and every job there uses the pytorch
 * image, which keeps running fine on the old driver elsewhere. Only the new driver fails.
 */
function driverUpgrade(seed: number, failRate550 = 0.4): TrainingJobState[] {
  const rand = prng(seed);
  const pt = { image: 'pytorch-training:2.4-cu124', framework: 'pytorch-2.4' };
  return [
    ...baselineWeek(rand),
    ...jobs(rand, 100, UPGRADE, NOW, {
      ...pt,
      driver: '550.54.15',
      instanceType: 'p5.48xlarge',
      failRate: failRate550,
      reason: 'AlgorithmError: NCCL error: unhandled cuda error, cudaErrorInitializationError',
    }),
    ...jobs(rand, 100, UPGRADE, NOW, {
      ...pt,
      driver: '535.183.01',
      instanceType: 'p4d.24xlarge',
      failRate: 0.03,
    }),
    ...jobs(rand, 100, UPGRADE, NOW, {
      image: 'jax-training:0.4.30',
      framework: 'jax-0.4',
      driver: '535.183.01',
      instanceType: 'p5.48xlarge',
      failRate: 0.03,
    }),
  ];
}

function run(all: readonly TrainingJobState[], options = {}): Finding[] {
  const { findings } = detectCohortFailures({ jobs: all, nowMs: NOW, options });
  for (const f of findings) expect(findingSchema.parse(f)).toEqual(f);
  return findings;
}

describe('wilsonInterval', () => {
  it.each([
    // failures, n, z, lower, upper (reference values of the Wilson score interval)
    [1, 3, 1.96, 0.0615, 0.7923],
    [40, 100, 1.96, 0.3094, 0.498],
    [0, 50, 1.96, 0, 0.0713],
  ])('%i of %i at z %f', (failures, n, z, lower, upper) => {
    const w = wilsonInterval(failures, n, z);
    expect(w.lower).toBeCloseTo(lower, 3);
    expect(w.upper).toBeCloseTo(upper, 3);
  });
});

describe('wilsonInterval properties', () => {
  it('brackets the observed rate inside [0, 1] and narrows with a smaller z', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (n, share) => {
          const failures = Math.round(share * n);
          const w = wilsonInterval(failures, n, 2.33);
          const wide = wilsonInterval(failures, n, 1.64);
          const p = failures / n;
          expect(w.lower).toBeGreaterThanOrEqual(0);
          expect(w.upper).toBeLessThanOrEqual(1);
          expect(w.lower).toBeLessThanOrEqual(p + 1e-12);
          expect(w.upper).toBeGreaterThanOrEqual(p - 1e-12);
          // A smaller z gives a narrower interval.
          expect(wide.upper - wide.lower).toBeLessThanOrEqual(w.upper - w.lower + 1e-12);
        },
      ),
    );
  });
});

describe('detectCohortFailures', () => {
  it.each([11, 23, 47])(
    'pins a driver upgrade on driver_version=550.54.15, not the shared image (seed %i)',
    (seed) => {
      const findings = run(driverUpgrade(seed));
      expect(findings).toHaveLength(1);
      const f = findings[0] as Finding;
      expect(f.kind).toBe(COHORT_FAILURE_KIND);
      expect(f.cause).toBe('software');
      expect(f.title).toContain('cohort driver_version=550.54.15');
      expect(f.title).not.toContain('image=');
      expect(f.evidence.detail).toMatch(
        /^cohort dimension driver_version \(tag driver_version\) = 550\.54\.15/,
      );
      // The image spikes too, only because of the driver: reported as related, not on its own.
      expect(f.evidence.detail).toContain('related: ');
      expect(f.evidence.detail).toContain('image=pytorch-training:2.4-cu124');
      expect(f.evidence.values?.rate).toBeGreaterThan(0.25);
      expect(f.evidence.values?.baselineRate).toBeLessThan(0.05);
      expect(f.evidence.values?.jobs).toBe(100);
      // Mixed teams: no team label.
      expect(f.labels).toEqual({ region: 'us-east-1' });
    },
  );

  it('blames the image when the driver dimension is not collected: the overlap is real', () => {
    const { findings } = detectCohortFailures({
      jobs: driverUpgrade(11),
      nowMs: NOW,
      dimensions: [{ name: 'image', tag: 'image' }],
    });
    expect(findings.map((f) => f.title)).toEqual([
      expect.stringContaining('cohort image=pytorch-training:2.4-cu124'),
    ]);
  });

  it('reads cohort values from configurable tag names', () => {
    const renamed = driverUpgrade(23).map((j) => ({
      ...j,
      tags: { 'fleet:nvidia-driver': j.tags['driver_version'] ?? '' },
    }));
    const { findings } = detectCohortFailures({
      jobs: renamed,
      nowMs: NOW,
      dimensions: [{ name: 'driver_version', tag: 'fleet:nvidia-driver' }],
    });
    expect(findings).toHaveLength(1);
    expect(findings[0]?.title).toContain('driver_version=550.54.15');
  });

  it('stays quiet when the new driver fails no more than the old one', () => {
    expect(run(driverUpgrade(5, 0.03))).toEqual([]);
  });

  it.each([
    ['one failure among three jobs', 3, 1],
    ['two failures among four jobs', 4, 2],
    ['two failures among twelve jobs', 12, 2],
  ])('a tiny cohort does not alarm: %s', (_name, n, failures) => {
    const rand = prng(3);
    const tiny = Array.from({ length: n }, (_, i) =>
      job({
        jobName: `tiny-${i}`,
        status: i < failures ? 'Failed' : 'Completed',
        trainingEndTime: NOW - (i + 1) * 10 * MIN,
        lastModifiedTime: NOW - (i + 1) * 10 * MIN,
        tags: {
          image: 'tensorflow-training:2.16',
          driver_version: '535.183.01',
          framework: 'tensorflow-2.16',
        },
        ...(i < failures ? { failureReason: 'AlgorithmError: OOM' } : {}),
      }),
    );
    expect(run([...baselineWeek(rand), ...tiny])).toEqual([]);
  });

  it('blames the hardware when an instance type fails with Xid errors, and pages on a large excess', () => {
    const rand = prng(9);
    const population = [
      ...baselineWeek(rand),
      ...jobs(rand, 120, UPGRADE, NOW, {
        image: 'pytorch-training:2.4-cu124',
        framework: 'pytorch-2.4',
        driver: '535.183.01',
        instanceType: 'p4d.24xlarge',
        failRate: 0.35,
        reason: 'ClientError: Xid 79: GPU has fallen off the bus',
        team: 'llm',
      }),
      // The same image on p5 keeps working: the instance type, not the software, sets them apart.
      ...jobs(rand, 100, UPGRADE, NOW, {
        image: 'pytorch-training:2.4-cu124',
        framework: 'pytorch-2.4',
        driver: '535.183.01',
        instanceType: 'p5.48xlarge',
        failRate: 0.03,
      }),
      ...jobs(rand, 150, UPGRADE, NOW, {
        image: 'jax-training:0.4.30',
        framework: 'jax-0.4',
        driver: '535.183.01',
        instanceType: 'p5.48xlarge',
        failRate: 0.03,
      }),
    ];
    const findings = run(population, { pageExcessFailures: 20 });
    expect(findings).toHaveLength(1);
    const f = findings[0] as Finding;
    expect(f.title).toContain('cohort instance_type=p4d.24xlarge');
    expect(f.cause).toBe('hardware');
    expect(f.labels.team).toBe('llm');
    expect(f.severity).toBe('page');
    // Same data, a higher page threshold: a ticket.
    expect(run(population, { pageExcessFailures: 100 })[0]?.severity).toBe('ticket');
  });

  it('reports two independent problems as two findings', () => {
    const rand = prng(17);
    const population = [
      ...driverUpgrade(31),
      ...jobs(rand, 80, UPGRADE, NOW, {
        image: 'jax-training:0.4.31-rc1',
        framework: 'jax-0.4',
        driver: '535.183.01',
        instanceType: 'p5.48xlarge',
        failRate: 0.5,
      }),
    ];
    const titles = run(population).map((f) => f.title);
    expect(titles).toHaveLength(2);
    expect(titles.some((t) => t.includes('driver_version=550.54.15'))).toBe(true);
    expect(titles.some((t) => t.includes('image=jax-training:0.4.31-rc1'))).toBe(true);
  });

  it('a regression older than the window: neither re-reported nor blamed on the cohorts it overlaps', () => {
    // Driver 550.54 rolled out 40 minutes before the window: its first 40 jobs (40 % failing) are
    // its own baseline, so it no longer spikes against itself. The pytorch image and framework
    // (healthy weeks of baseline) carry its failures in the window and would spike on them.
    const rand = prng(5);
    const pt = { image: 'pytorch-training:2.4-cu124', framework: 'pytorch-2.4' };
    const bad = { ...pt, driver: '550.54.15', instanceType: 'p5.48xlarge', failRate: 0.4 };
    const population = [...driverUpgrade(11), ...jobs(rand, 40, UPGRADE - 40 * MIN, UPGRADE, bad)];
    expect(run(population)).toEqual([]);
    // Without the chronic driver's jobs explaining them, the overlapping cohorts are what fires.
    const { findings } = detectCohortFailures({
      jobs: population,
      nowMs: NOW,
      dimensions: [
        { name: 'image', tag: 'image' },
        { name: 'framework', tag: 'framework' },
      ],
    });
    expect(findings.map((f) => f.title)).toEqual([expect.stringContaining('pytorch')]);
  });

  it('a chronic cohort does not hide a second problem in a cohort it overlaps', () => {
    const rand = prng(6);
    const pt = { image: 'pytorch-training:2.4-cu124', framework: 'pytorch-2.4' };
    const population = [
      ...driverUpgrade(11),
      ...jobs(rand, 40, UPGRADE - 40 * MIN, UPGRADE, {
        ...pt,
        driver: '550.54.15',
        instanceType: 'p5.48xlarge',
        failRate: 0.4,
      }),
      // A new image on the old driver fails half its jobs: independent of the driver.
      ...jobs(rand, 80, UPGRADE, NOW, {
        image: 'pytorch-training:2.5-cu126',
        framework: 'pytorch-2.4',
        driver: '535.183.01',
        instanceType: 'p4d.24xlarge',
        failRate: 0.5,
      }),
    ];
    expect(run(population).map((f) => f.title)).toEqual([
      expect.stringContaining('image=pytorch-training:2.5-cu126'),
    ]);
  });

  it('ignores running jobs and jobs that ended before the baseline', () => {
    const running = Array.from({ length: 30 }, (_, i) =>
      job({ jobName: `run-${i}`, tags: { driver_version: '550.54.15' } }),
    );
    const ancient = Array.from({ length: 30 }, (_, i) =>
      job({
        jobName: `old-${i}`,
        status: 'Failed',
        trainingEndTime: UPGRADE - 8 * DAY_MS,
        lastModifiedTime: UPGRADE - 8 * DAY_MS,
        tags: { driver_version: '550.54.15' },
      }),
    );
    expect(run([...baselineWeek(prng(2)), ...running, ...ancient])).toEqual([]);
  });
});
