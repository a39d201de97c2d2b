import { describe, expect, it } from 'vitest';
import type { MaintenanceWindowInput } from '../../../lambdas/contracts/calendar';
import { maintenanceWindowSchema } from '../../../lambdas/contracts/calendar';
import { defaultDetectionConfig, detectionConfigSchema } from '../../../lambdas/contracts/detection-config';
import { type Finding, findingSchema } from '../../../lambdas/contracts/finding';
import {
  type DetectionState,
  emptyDetectionState,
  jobStateKey,
} from '../../../lambdas/core/detect/detection-state';
import {
  COHORT_BASELINE_DAYS,
  COHORT_REGRESSION_KIND,
  COHORT_SHIFT_UP_KIND,
  FLEET_DROP_KIND,
} from '../../../lambdas/core/detect/regressions';
import {
  checkpointChecksDue,
  type DetectionSettings,
  detectionSettingsFrom,
  progressKey,
  runDetectors,
} from '../../../lambdas/core/detect/run-detectors';
import { cohortKey, emptyBaseline, updateBaseline } from '../../../lambdas/core/detect/seasonal-baseline';
import type { GpuSample, TrainingJobState } from '../../../lambdas/core/model';
import { DAY_MS, HOUR_MS } from '../../../lambdas/core/time';
import { idle, job, MIN, minutes, training } from './job-fixtures';
import { prng } from './synthetic';

/**
 * The detection run end to end over realistic windows: p5.48xlarge nodes (8× H100), 5-minute
 * windows, state carried from run to run exactly as the use case stores it (JSON round trip).
 */

/** Tuesday 2026-11-24 09:00 UTC. */
const TUE_0900 = Date.UTC(2026, 10, 24, 9);
/** Sunday 2026-11-22 09:00 UTC. */
const SUN_0900 = Date.UTC(2026, 10, 22, 9);
/** Wednesday 2026-11-25 14:00 UTC. */
const WED_1400 = Date.UTC(2026, 10, 25, 14);

function settings(maintenance: MaintenanceWindowInput[] = [], overrides: object = {}): DetectionSettings {
  return detectionSettingsFrom(
    detectionConfigSchema.parse(overrides),
    maintenance.map((m) => maintenanceWindowSchema.parse(m)),
  );
}

interface RunArgs {
  readonly samples: readonly GpuSample[];
  readonly startMs: number;
  readonly jobs?: readonly TrainingJobState[];
  readonly progress?: ReadonlyMap<string, readonly number[]>;
  readonly listings?: ReadonlyMap<string, number | undefined>;
  readonly state?: DetectionState;
  readonly settings?: DetectionSettings;
}

/** One 5-minute run; every finding must validate against the finding schema. */
function run(a: RunArgs) {
  const endMs = a.startMs + 5 * MIN;
  const out = runDetectors({
    samples: a.samples,
    window: { startMs: a.startMs, endMs },
    nowMs: endMs,
    jobs: a.jobs ?? [],
    progress: a.progress ?? new Map(),
    checkpointListings: a.listings ?? new Map(),
    state: a.state ?? emptyDetectionState(),
    settings: a.settings ?? settings(),
  });
  for (const f of out.findings) expect(findingSchema.parse(f)).toEqual(f);
  // The state survives the trip through S3 (JSON) unchanged.
  expect(JSON.parse(JSON.stringify(out.state))).toEqual(out.state);
  return out;
}

const kinds = (fs: readonly Finding[]) => fs.map((f) => f.kind).sort();

/** A cohort baseline for p5.48xlarge × batch × sm_active: `level(t)` ± 0.02 over the 7 days before `endMs`. */
function trainedCohort(endMs: number, level: (t: number) => number): DetectionState['cohorts'][string] {
  const rand = prng(11);
  const points: { t: number; v: number }[] = [];
  for (let t = endMs - 7 * DAY_MS; t < endMs; t += MIN)
    points.push({ t, v: level(t) + (rand() - 0.5) * 0.04 });
  return {
    seen: endMs - MIN,
    baseline: updateBaseline(emptyBaseline({ windowDays: COHORT_BASELINE_DAYS }), points),
    cusum: { pos: 0, neg: 0, n: 0 },
    lastMinute: endMs - MIN,
  };
}

const SM_KEY = cohortKey({ instanceType: 'p5.48xlarge', workloadClass: 'batch', signal: 'sm_active' });

/** Weekday retrain peak: Tuesday 08:00-12:00 UTC runs at 0.8, every other hour at 0.5. */
const weekdayPeak = (t: number) => {
  const d = new Date(t);
  return d.getUTCDay() === 2 && d.getUTCHours() >= 8 && d.getUTCHours() < 12 ? 0.8 : 0.5;
};

/** Samples of one 8-GPU node running `jobName`, every GPU at `sm` (± noise) for 5 minutes from `from`. */
function cohortWindow(
  jobName: string,
  from: number,
  sm: (t: number) => number,
  node = 'ip-10-0-0-1',
): GpuSample[] {
  return minutes({
    job: jobName,
    nodes: [node],
    from,
    to: from + 5 * MIN,
    values: (t, _g, r) => ({ gpu_util: 99, sm_active: sm(t) + (r() - 0.5) * 0.02, power: 600 }),
  });
}

describe('runDetectors: hardware', () => {
  it('pages an Xid 79 and names the node to drain', () => {
    const samples = minutes({
      job: 'llm-1',
      nodes: ['ip-10-0-0-7'],
      from: TUE_0900,
      to: TUE_0900 + 5 * MIN,
      values: (t, g, r) => ({ ...training(t, g, r), xid: g === 3 && t >= TUE_0900 + 2 * MIN ? 79 : 0 }),
    });
    const { findings, state } = run({ samples, startMs: TUE_0900 });
    const xid = findings.filter((f) => f.kind === 'gpu.xid.fatal');
    expect(xid).toHaveLength(1);
    expect(xid[0]?.severity).toBe('page');
    expect(xid[0]?.labels).toMatchObject({ node: 'ip-10-0-0-7', gpu: '3' });
    expect(Object.keys(state.hardware.gpus)).toHaveLength(8);
  });
});

describe('runDetectors: job health across runs (activity memory)', () => {
  const start = TUE_0900 - 3 * HOUR_MS;

  /** Runs `n` consecutive 5-minute windows from `from`, carrying the state; findings per run. */
  function simulate(opts: {
    from: number;
    n: number;
    jobs: readonly TrainingJobState[];
    samples: (from: number) => GpuSample[];
    progress?: (nowMs: number) => Map<string, number[]>;
  }): Finding[][] {
    let state = emptyDetectionState();
    const out: Finding[][] = [];
    for (let i = 0; i < opts.n; i++) {
      const w = opts.from + i * 5 * MIN;
      const r = run({
        samples: opts.samples(w),
        startMs: w,
        jobs: opts.jobs,
        state: JSON.parse(JSON.stringify(state)),
        ...(opts.progress ? { progress: opts.progress(w + 5 * MIN) } : {}),
      });
      state = r.state;
      out.push(r.findings);
    }
    return out;
  }

  it('reports a batch job idle past its 30-minute grace only once the grace has passed', () => {
    // GPUs go idle at TUE_0900; each run sees 5 minutes, the state remembers the rest.
    const j = job({ jobName: 'etl-7', trainingStartTime: start, metricNames: [] });
    const perRun = simulate({
      from: TUE_0900,
      n: 8,
      jobs: [j],
      samples: (w) =>
        minutes({ job: 'etl-7', nodes: ['ip-10-0-0-2'], from: w, to: w + 5 * MIN, values: idle }),
    });
    const idleRuns = perRun.map((fs) => fs.some((f) => f.kind === 'job.gpus_idle'));
    // Idle minutes seen after run i: 5 (i + 1); the grace (30 min) is reached in run 6 (index 5).
    expect(idleRuns).toEqual([false, false, false, false, false, true, true, true]);
  });

  it('calls a job with busy GPUs and no progress for 20 minutes hung', () => {
    const j = job({ jobName: 'llm-hang', trainingStartTime: start });
    const stoppedAt = TUE_0900;
    const perRun = simulate({
      from: TUE_0900 - 10 * MIN,
      n: 8,
      jobs: [j],
      samples: (w) =>
        minutes({
          job: 'llm-hang',
          nodes: ['ip-10-0-0-3'],
          from: w,
          to: w + 5 * MIN,
          values: () => ({ gpu_util: 100, sm_active: 0.9 }),
        }),
      progress: (nowMs) => {
        const ts: number[] = [];
        for (let t = nowMs - 3 * HOUR_MS; t < Math.min(nowMs, stoppedAt); t += MIN) ts.push(t);
        return new Map([[progressKey('us-east-1', 'llm-hang'), ts]]);
      },
    });
    const hung = perRun.map((fs) => fs.some((f) => f.kind === 'job.hung'));
    // Runs end 08:55, 09:00, ... The last datapoint is 08:59; the stall threshold is 10 min (the
    // batch minimum; 4 × 1 min cadence is less): silent 11 min at 09:10, the fourth run.
    expect(hung).toEqual([false, false, false, true, true, true, true, true]);
    const f = perRun[7]?.find((x) => x.kind === 'job.hung');
    expect(f?.cause).toBe('software');
    expect(f?.evidence.values?.busyShare).toBe(1);
  });

  it('does not judge a checkpoint that was never listed, and flags one listed stale', () => {
    const j = job({
      jobName: 'ckpt',
      trainingStartTime: start,
      checkpointS3Uri: 's3://ckpt/ckpt/',
      metricNames: [],
    });
    const samples = minutes({
      job: 'ckpt',
      nodes: ['ip-10-0-0-4'],
      from: TUE_0900,
      to: TUE_0900 + 5 * MIN,
      values: training,
    });
    const unlisted = run({ samples, startMs: TUE_0900, jobs: [j] });
    expect(kinds(unlisted.findings)).not.toContain('job.checkpoint_stale');
    const listed = run({
      samples,
      startMs: TUE_0900,
      jobs: [j],
      listings: new Map([[jobStateKey('us-east-1', 'ckpt'), start]]),
    });
    expect(kinds(listed.findings)).toContain('job.checkpoint_stale');
    expect(listed.state.checkpoints[jobStateKey('us-east-1', 'ckpt')]).toMatchObject({ newestMs: start });
  });
});

describe('runDetectors: statistical regressions', () => {
  it.each([
    // name, window start, window level, expected kinds
    ['weekday retrain peak at its usual hour', TUE_0900, () => 0.8, []],
    ['the same load on a Sunday morning', SUN_0900, () => 0.8, [COHORT_SHIFT_UP_KIND]],
    ['normal Wednesday afternoon', WED_1400, () => 0.5, []],
    ['sustained 25 % drop of SM activity', WED_1400, () => 0.375, [COHORT_REGRESSION_KIND]],
    ['one odd minute, then normal', WED_1400, (t: number) => (t === WED_1400 ? 0.2 : 0.5), []],
  ])('%s', (_name, from, level, expected) => {
    const state = emptyDetectionState();
    state.cohorts[SM_KEY] = trainedCohort(from, weekdayPeak);
    const j = job({ jobName: 'nightly', trainingStartTime: from - HOUR_MS });
    const { findings, report } = run({
      samples: cohortWindow('nightly', from, level),
      startMs: from,
      jobs: [j],
      state,
    });
    const stat = findings.filter((f) => f.kind.startsWith('stat.'));
    expect(kinds(stat)).toEqual(expected);
    const score = report.cohorts.find((c) => c.key === SM_KEY);
    expect(score?.minutesScored).toBe(5);
    if (expected.length === 0) expect(score?.alarm).toBeUndefined();
  });

  it('a regression names its cohort and baseline', () => {
    const state = emptyDetectionState();
    state.cohorts[SM_KEY] = trainedCohort(WED_1400, weekdayPeak);
    const j = job({ jobName: 'nightly', trainingStartTime: WED_1400 - HOUR_MS });
    const { findings } = run({
      samples: cohortWindow('nightly', WED_1400, () => 0.375),
      startMs: WED_1400,
      jobs: [j],
      state,
    });
    const f = findings.find((x) => x.kind === COHORT_REGRESSION_KIND);
    expect(f?.severity).toBe('ticket');
    expect(f?.title).toContain('p5.48xlarge × batch × sm_active');
    expect(f?.evidence.baseline?.median).toBeCloseTo(0.5, 1);
    expect(f?.evidence.values?.changeFraction).toBeLessThan(-0.2);
  });

  it('reports a lasting regression once, and again only after the cohort recovered', () => {
    let state = emptyDetectionState();
    state.cohorts[SM_KEY] = trainedCohort(WED_1400, weekdayPeak);
    const j = job({ jobName: 'nightly', trainingStartTime: WED_1400 - HOUR_MS });
    const levels = [0.375, 0.375, 0.375, 0.5, 0.375];
    const alarms: (string | undefined)[] = [];
    const reported = levels.map((level, i) => {
      const from = WED_1400 + i * 5 * MIN;
      const r = run({ samples: cohortWindow('nightly', from, () => level), startMs: from, jobs: [j], state });
      state = r.state;
      alarms.push(r.report.cohorts.find((c) => c.key === SM_KEY)?.alarm);
      return r.findings.filter((f) => f.kind === COHORT_REGRESSION_KIND).length;
    });
    // Still judged against last week's 14:00, not against this hour's own (regressed) minutes.
    expect(alarms).toEqual(['down', 'down', 'down', undefined, 'down']);
    expect(reported).toEqual([1, 0, 0, 0, 1]);
  });

  it('a new job borrows its cohort baseline: judged on its first window', () => {
    const state = emptyDetectionState();
    state.cohorts[SM_KEY] = trainedCohort(WED_1400, weekdayPeak);
    const fresh = job({ jobName: 'brand-new', trainingStartTime: WED_1400 - 2 * MIN });
    const { findings } = run({
      samples: cohortWindow('brand-new', WED_1400, () => 0.3),
      startMs: WED_1400,
      jobs: [fresh],
      state,
    });
    expect(kinds(findings)).toContain(COHORT_REGRESSION_KIND);
  });

  it.each([
    ['8 % below the same hour yesterday', 0.92 * 0.6, true],
    ['10 % below', 0.9 * 0.6, true],
    ['5 % below', 0.95 * 0.6, false],
    ['the same', 0.6, false],
  ])('fleet utilisation %s', (_name, level, fires) => {
    const state = emptyDetectionState();
    const end = WED_1400 + 5 * MIN;
    // Yesterday: 0.6 around this time; today's first 55 minutes of the judged hour at `level`.
    for (let t = end - DAY_MS - 2 * HOUR_MS; t < end - DAY_MS + HOUR_MS; t += MIN)
      state.fleet.points.push([t, 0.6]);
    for (let t = end - HOUR_MS; t < WED_1400; t += MIN) state.fleet.points.push([t, level]);
    const samples = minutes({
      nodes: ['ip-10-0-1-1'],
      from: WED_1400,
      to: end,
      values: () => ({ sm_active: level, gpu_util: 90 }),
    });
    const { findings, state: next, report } = run({ samples, startMs: WED_1400, state });
    expect(findings.filter((f) => f.kind === FLEET_DROP_KIND)).toHaveLength(fires ? 1 : 0);
    expect(report.fleetDrop?.coverage).toBeGreaterThanOrEqual(0.99);
    expect(next.fleet.dropOpen).toBe(fires);
    // 25 h kept, no more.
    expect(Math.min(...next.fleet.points.map(([t]) => t))).toBeGreaterThanOrEqual(end - 25 * HOUR_MS);
  });

  it('reports a fleet drop on every run while it lasts (clean runs start only when it ends)', () => {
    const state = emptyDetectionState();
    const end = WED_1400 + 5 * MIN;
    for (let t = end - DAY_MS - 2 * HOUR_MS; t < end - DAY_MS + 2 * HOUR_MS; t += MIN)
      state.fleet.points.push([t, 0.6]);
    for (let t = end - HOUR_MS; t < WED_1400; t += MIN) state.fleet.points.push([t, 0.5]);
    const window = (from: number) =>
      minutes({ nodes: ['ip-10-0-1-1'], from, to: from + 5 * MIN, values: () => ({ sm_active: 0.5 }) });
    const first = run({ samples: window(WED_1400), startMs: WED_1400, state });
    const second = run({
      samples: window(WED_1400 + 5 * MIN),
      startMs: WED_1400 + 5 * MIN,
      state: first.state,
    });
    expect(kinds(first.findings)).toContain(FLEET_DROP_KIND);
    expect(kinds(second.findings)).toContain(FLEET_DROP_KIND);
  });
});

describe('runDetectors: maintenance windows stay out of the baselines', () => {
  const j = job({ jobName: 'nightly', trainingStartTime: WED_1400 - HOUR_MS });
  const drained = (from: number) => cohortWindow('nightly', from, () => 0.05);

  it.each([
    ['no window', [], true],
    [
      'an unscoped window over the minutes',
      [{ start: '2026-11-25T13:30:00Z', end: '2026-11-25T15:00:00Z' }],
      false,
    ],
    [
      'a window scoped to this cluster',
      [
        {
          start: '2026-11-25T13:30:00Z',
          duration: 'PT2H',
          scope: [{ label: 'cluster', op: '=', value: 'train-a' }],
        },
      ],
      false,
    ],
    [
      'a window scoped to another cluster',
      [
        {
          start: '2026-11-25T13:30:00Z',
          duration: 'PT2H',
          scope: [{ label: 'cluster', op: '=', value: 'train-b' }],
        },
      ],
      true,
    ],
    [
      'a window that only mutes alert kinds (not telemetry)',
      [
        {
          start: '2026-11-25T13:30:00Z',
          duration: 'PT2H',
          scope: [{ label: 'kind', op: '=~', value: 'gpu\\..*' }],
        },
      ],
      true,
    ],
    ['a recurring window (Wednesdays 13:00 UTC, 2 h)', [{ cron: '0 13 * * 3', duration: 'PT2H' }], false],
  ] as [string, MaintenanceWindowInput[], boolean][])('%s', (_name, windows, trained) => {
    const state = emptyDetectionState();
    state.cohorts[SM_KEY] = trainedCohort(WED_1400, weekdayPeak);
    state.fleet.points.push([WED_1400 - MIN, 0.5]);
    const before = structuredClone(state.cohorts[SM_KEY]);
    const {
      findings,
      state: next,
      report,
    } = run({
      samples: drained(WED_1400),
      startMs: WED_1400,
      jobs: [j],
      state,
      settings: settings(windows),
    });
    const after = next.cohorts[SM_KEY];
    const fleetMinutes = next.fleet.points.filter(([t]) => t >= WED_1400).length;
    if (trained) {
      expect(after?.baseline).not.toEqual(before?.baseline);
      expect(fleetMinutes).toBe(5);
      expect(report.samplesInMaintenance).toBe(0);
      // A drained node outside maintenance is a regression.
      expect(kinds(findings)).toContain(COHORT_REGRESSION_KIND);
    } else {
      expect(after?.baseline).toEqual(before?.baseline);
      expect(after?.cusum).toEqual(before?.cusum);
      expect(fleetMinutes).toBe(0);
      expect(report.samplesInMaintenance).toBe(40);
      expect(kinds(findings)).not.toContain(COHORT_REGRESSION_KIND);
    }
  });
});

describe('runDetectors: job outcomes and start latencies leave the window into hourly baselines', () => {
  it('folds jobs that ended more than 6 h ago, once', () => {
    const now = WED_1400 + 5 * MIN;
    const ended = (name: string, endMs: number, status: 'Completed' | 'Failed') =>
      job({
        jobName: name,
        status,
        secondaryStatus: status,
        creationTime: endMs - 2 * HOUR_MS,
        trainingStartTime: endMs - 2 * HOUR_MS + 5 * MIN,
        trainingEndTime: endMs,
        lastModifiedTime: endMs,
        transitions: [{ status: 'Training', startTime: endMs - 2 * HOUR_MS + 5 * MIN }],
        tags: { driver_version: '550.54.15' },
      });
    const jobs = [
      ended('old-ok', now - 7 * HOUR_MS, 'Completed'),
      ended('old-failed', now - 6.5 * HOUR_MS, 'Failed'),
      ended('recent', now - HOUR_MS, 'Completed'),
    ];
    const first = run({ samples: [], startMs: WED_1400, jobs });
    expect(first.report.folded.outcomes).toBe(2);
    const hours = Object.values(first.state.outcomes.hours);
    expect(hours.reduce((a, h) => a + h.n, 0)).toBe(2);
    expect(hours.reduce((a, h) => a + h.failed, 0)).toBe(1);
    const second = run({ samples: [], startMs: WED_1400 + 5 * MIN, jobs, state: first.state });
    expect(second.report.folded.outcomes).toBe(0);
    expect(second.state.outcomes.hours).toEqual(first.state.outcomes.hours);
    expect(second.state.outcomes.foldedThroughMs).toBe(WED_1400 + 10 * MIN - 6 * HOUR_MS);
  });

  it('with the job store unreadable, runs the GPU detectors and keeps job state as it was', () => {
    const state = emptyDetectionState();
    state.outcomes = { foldedThroughMs: WED_1400 - 6 * HOUR_MS, hours: {} };
    const out = runDetectors({
      samples: cohortWindow('x', WED_1400, () => 0.5),
      window: { startMs: WED_1400, endMs: WED_1400 + 5 * MIN },
      nowMs: WED_1400 + 5 * MIN,
      jobs: undefined,
      progress: new Map(),
      checkpointListings: new Map(),
      state,
      settings: settings(),
    });
    expect(out.report.jobsUnavailable).toBe(true);
    expect(out.state.outcomes).toEqual(state.outcomes);
    expect(Object.keys(out.state.hardware.gpus)).toHaveLength(8);
  });
});

describe('checkpointChecksDue', () => {
  it('lists never-checked prefixes first, then the oldest, within the budget and cadence', () => {
    const state = emptyDetectionState();
    const now = WED_1400;
    const jobs = ['a', 'b', 'c', 'd'].map((n) => job({ jobName: n, checkpointS3Uri: `s3://b/${n}/` }));
    state.checkpoints[jobStateKey('us-east-1', 'a')] = {
      checkedAtMs: now - 20 * MIN,
      newestMs: null,
      seenAtMs: now,
    };
    state.checkpoints[jobStateKey('us-east-1', 'b')] = {
      checkedAtMs: now - 5 * MIN,
      newestMs: null,
      seenAtMs: now,
    };
    state.checkpoints[jobStateKey('us-east-1', 'c')] = {
      checkedAtMs: now - 60 * MIN,
      newestMs: null,
      seenAtMs: now,
    };
    const due = checkpointChecksDue(state, jobs, now, 15 * MIN, 3).map((j) => j.jobName);
    expect(due).toEqual(['d', 'c', 'a']);
    expect(checkpointChecksDue(state, jobs, now, 15 * MIN, 1).map((j) => j.jobName)).toEqual(['d']);
  });
});

describe('detectionSettingsFrom', () => {
  it('turns the config section into detector settings (minutes to ms)', () => {
    const s = settings([], {
      classes: { interactive: { idleGraceMinutes: 20 } },
      sla: { batch: { maxStartLatencyMinutes: 90 } },
      sensitivity: 'high',
    });
    expect(s.jobHealth.classes?.interactive).toEqual({ idleGraceMs: 20 * MIN });
    expect(s.sla.batch).toEqual({ maxStartLatencyMs: 90 * MIN });
    expect(s.regressions.cusum.h).toBeLessThan(
      detectionSettingsFrom(defaultDetectionConfig()).regressions.cusum.h,
    );
  });
});
