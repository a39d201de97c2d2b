import type { MaintenanceWindow } from '../../contracts/calendar';
import type { DetectionConfig, Sensitivity } from '../../contracts/detection-config';
import type { Finding } from '../../contracts/finding';
import type { GpuSample, TrainingJobState } from '../model';
import { HOUR_MS, MINUTE_MS } from '../time';
import { DEFAULT_CUSUM } from './change-detection';
import { type CohortDimension, detectCohortFailures, foldOutcomes } from './cohorts';
import {
  type CheckpointMemory,
  copyRecord,
  type DetectionState,
  jobStateKeyOf,
  pruneDetectionState,
} from './detection-state';
import { assessEfficiency, type BusyRun, type EfficiencyReport } from './efficiency';
import { detectHardware } from './hardware';
import { scopeInterconnectToJobs } from './hardware/job-scope';
import { expandActivity, historyNeededFrom, minuteFlag, recordMinutes } from './job-activity';
import {
  type CheckpointCadence,
  type ClassPolicy,
  checkpointLongestGap,
  checkpointStaleAfterMs,
  DEFAULT_CLASS_POLICIES,
  detectJobHealth,
  isTraining,
  type JobHealthOptions,
  type JobPlacement,
  samplesByJob,
  trainingStartOf,
  WORKLOAD_CLASSES,
  type WorkloadClass,
  workloadClassOf,
} from './jobs';
import { maintenancePeriods, withoutMaintenance } from './maintenance';
import {
  type CohortScore,
  detectCohortRegressions,
  detectFleetDrop,
  type RegressionSettings,
} from './regressions';
import { median } from './robust';
import { type ClassSla, detectScheduling, foldLatencies } from './scheduling';
import { detectProgressSlowdown } from './slowdown';
import { detectUnattributedLoad } from './unattributed-load';

/**
 * One detection run over one collected window: every detector, one state in, one state out.
 *
 *   state ─┬─ hardware ──────────── detectHardware
 *          ├─ jobs (activity) ───── detectJobHealth (idle, stalled, hung, checkpoint)
 *          │                        assessEfficiency (report + efficiency findings)
 *          ├─ outcomes ──────────── detectCohortFailures   (baseline: hourly counts, window: raw jobs)
 *          ├─ latencies ─────────── detectScheduling        (baseline: hourly histograms)
 *          ├─ cohorts ───────────── detectCohortRegressions (hour-of-week baseline + CUSUM)
 *          ├─ fleet ─────────────── detectFleetDrop          (vs the same minutes 24 h earlier)
 *          └─ checkpoints ───────── newest-object times the use case listed (this run or before)
 *
 * Pure: the use case does every read (state, jobs, progress, checkpoint listings) and every write.
 * Job outcomes and start latencies are folded into the hourly aggregates as they leave the 6 h
 * window, i.e. 6 h after they happened, so late job-store updates still count.
 */

export const JOB_WINDOW_MS = 6 * HOUR_MS;

export interface DetectionSettings {
  readonly progressLookbackMs: number;
  readonly jobHealth: JobHealthOptions;
  readonly sla: Partial<Record<WorkloadClass, ClassSla>>;
  readonly cohortDimensions?: readonly CohortDimension[];
  readonly regressions: RegressionSettings;
  /** The calendar's maintenance windows: kept out of baseline training (see maintenance.ts). */
  readonly maintenance: readonly MaintenanceWindow[];
  readonly checkpointCheckEveryMs: number;
  readonly maxCheckpointChecksPerRun: number;
}

const SENSITIVITY: Record<Sensitivity, { h: number; relativeMadFloor: number }> = {
  low: { h: 15, relativeMadFloor: 0.03 },
  medium: { h: DEFAULT_CUSUM.h, relativeMadFloor: 0.02 },
  high: { h: 6, relativeMadFloor: 0.01 },
};

const minutesToMs = (m: number | undefined) => (m === undefined ? undefined : m * MINUTE_MS);

/** Turns the `detection` config section (minutes, ISO instants) into detector settings (ms). */
export function detectionSettingsFrom(
  config: DetectionConfig,
  maintenance: readonly MaintenanceWindow[] = [],
): DetectionSettings {
  const classes: Partial<Record<WorkloadClass, Partial<ClassPolicy>>> = {};
  const sla: Partial<Record<WorkloadClass, ClassSla>> = {};
  for (const cls of WORKLOAD_CLASSES) {
    const p = config.classes[cls];
    if (p) {
      classes[cls] = dropUndefined({
        idleGraceMs: minutesToMs(p.idleGraceMinutes),
        minStallMs: minutesToMs(p.minStallMinutes),
        unknownCadenceStallMs: minutesToMs(p.unknownCadenceStallMinutes),
        checkpointStaleMs: minutesToMs(p.checkpointStaleMinutes),
      });
    }
    const s = config.sla[cls];
    if (s) {
      sla[cls] = dropUndefined({
        maxStartLatencyMs: minutesToMs(s.maxStartLatencyMinutes),
        maxDurationMs: minutesToMs(s.maxDurationMinutes),
        minAttainment: s.minAttainment,
      });
    }
  }
  const sens = SENSITIVITY[config.sensitivity];
  return {
    progressLookbackMs: config.progressLookbackMinutes * MINUTE_MS,
    jobHealth: { classes },
    sla,
    ...(config.cohortDimensions ? { cohortDimensions: config.cohortDimensions } : {}),
    regressions: {
      cusum: { ...DEFAULT_CUSUM, h: sens.h },
      relativeMadFloor: sens.relativeMadFloor,
      minGlobalSlices: 24,
      fleetDropThreshold: config.fleetDropThreshold,
      fleetDropWindowMs: config.fleetDropWindowMinutes * MINUTE_MS,
    },
    maintenance,
    checkpointCheckEveryMs: config.checkpointCheckEveryMinutes * MINUTE_MS,
    maxCheckpointChecksPerRun: config.maxCheckpointChecksPerRun,
  };
}

/** The run without job data: hardware and the fleet drop only; job-related state unchanged. */
function gpuOnly(
  input: RunDetectorsInput,
  hw: ReturnType<typeof detectHardware>,
): ReturnType<typeof runDetectors> {
  const { nowMs, state, settings } = input;
  const fleet = detectFleetDrop({
    samples: trainingSamples(input).kept,
    fleet: state.fleet,
    nowMs,
    windowEndMs: input.window.endMs,
    settings: settings.regressions,
  });
  return {
    findings: [...hw.findings, ...fleet.findings],
    state: pruneDetectionState({ ...state, savedAtMs: nowMs, hardware: hw.state, fleet: fleet.fleet }, nowMs),
    report: {
      findingsByDetector: {
        hardware: hw.findings.length,
        jobHealth: 0,
        efficiency: 0,
        cohortFailures: 0,
        scheduling: 0,
        cohortRegressions: 0,
        fleetDrop: fleet.findings.length,
      },
      efficiency: { window: input.window, jobs: [], teams: [] },
      cohorts: [],
      ...fleetDropReport(fleet.result),
      folded: { outcomes: 0, latencies: 0 },
      jobsWithHistory: 0,
      samplesInMaintenance: trainingSamples(input).excluded,
      jobsUnavailable: true,
    },
  };
}

function trainingSamples(input: RunDetectorsInput): { kept: readonly GpuSample[]; excluded: number } {
  const periods = maintenancePeriods(
    input.settings.maintenance,
    input.window.startMs,
    input.window.endMs + MINUTE_MS,
  );
  return withoutMaintenance(input.samples, periods);
}

function dropUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

/** Checkpoint gaps after a listing that found `newest` (see checkpointMemorySchema.gapsMs). */
export function checkpointGaps(
  remembered: CheckpointMemory | undefined,
  newest: number | undefined,
  trainingStartMs: number,
): number[] {
  const gaps = remembered?.gapsMs ?? [];
  if (newest === undefined || remembered === undefined) return [...gaps];
  const prev = remembered.newestMs;
  // The first object after an empty listing: training start to it approximates one interval
  // (over-estimates it when several were written between the two listings: late, never early).
  const gap = prev === null ? (gaps.length === 0 ? newest - trainingStartMs : 0) : newest - prev;
  return gap > 0 ? [...gaps, Math.round(gap)].slice(-5) : [...gaps];
}

/** The job's own checkpoint interval: median of the gaps seen; undefined before the first. */
export function checkpointIntervalOf(memory: CheckpointMemory): number | undefined {
  const gaps = memory.gapsMs ?? [];
  return gaps.length > 0 ? median(gaps) : undefined;
}

/**
 * Training jobs whose checkpoint prefix is due for a listing: never listed, listed at least
 * `everyMs` ago, or whose own-interval deadline (checkpointStaleAfterMs) passed since the last
 * listing, so a missing checkpoint is confirmed when it is due and not up to `everyMs` later.
 * Oldest first, at most `max`, so one run's S3 calls stay bounded and every job gets its turn.
 */
export function checkpointChecksDue(
  state: DetectionState,
  jobs: readonly TrainingJobState[],
  nowMs: number,
  everyMs: number,
  max: number,
): TrainingJobState[] {
  const deadlinePassed = (j: TrainingJobState, m: CheckpointMemory): boolean => {
    const interval = checkpointIntervalOf(m);
    if (interval === undefined) return false;
    const classStale = DEFAULT_CLASS_POLICIES[workloadClassOf(j)].checkpointStaleMs;
    const deadline =
      Math.max(m.newestMs ?? 0, trainingStartOf(j)) +
      checkpointStaleAfterMs(interval, classStale, undefined, undefined, checkpointLongestGap(m.gapsMs));
    return m.checkedAtMs <= deadline && deadline < nowMs;
  };
  return jobs
    .filter((j) => isTraining(j) && j.checkpointS3Uri)
    .map((j) => ({ j, m: state.checkpoints[jobStateKeyOf(j)] }))
    .filter((x) => x.m === undefined || nowMs - x.m.checkedAtMs >= everyMs || deadlinePassed(x.j, x.m))
    .map(({ j, m }) => ({ j, at: m?.checkedAtMs }))
    .sort((a, b) => (a.at ?? -1) - (b.at ?? -1) || a.j.jobName.localeCompare(b.j.jobName))
    .slice(0, Math.max(0, max))
    .map((x) => x.j);
}

/** Key of the progress map the JobProgressSource port returns. */
export const progressKey = (region: string, jobName: string) => `${region}#${jobName}`;

export interface RunDetectorsInput {
  /** The collected window's GPU samples (any order). */
  readonly samples: readonly GpuSample[];
  readonly window: { readonly startMs: number; readonly endMs: number };
  readonly nowMs: number;
  /**
   * Running jobs and jobs changed since at least JOB_WINDOW_MS ago (terminal included); undefined
   * when the job store could not be read: only the GPU-level detectors run and the job-related
   * state is kept as it was (folding nothing, so no baseline hour is lost).
   */
  readonly jobs: readonly TrainingJobState[] | undefined;
  /** Progress datapoint times keyed by progressKey(region, jobName); a missing job means unknown. */
  readonly progress: ReadonlyMap<string, readonly number[]>;
  /** This run's checkpoint listings, keyed by jobStateKey; undefined value: the prefix is empty. */
  readonly checkpointListings: ReadonlyMap<string, number | undefined>;
  /**
   * Job → cluster and nodes, for metric profiles whose GPU series carry no job label (node-level
   * dcgm-exporter). Nodes shared by several jobs are attributed to none (see samplesByJob).
   */
  readonly placement?: ReadonlyMap<string, JobPlacement>;
  readonly state: DetectionState;
  readonly settings: DetectionSettings;
}

export interface DetectorCounts {
  readonly hardware: number;
  readonly jobHealth: number;
  readonly efficiency: number;
  readonly cohortFailures: number;
  readonly scheduling: number;
  readonly cohortRegressions: number;
  readonly fleetDrop: number;
}

export interface RunReport {
  readonly findingsByDetector: DetectorCounts;
  readonly efficiency: EfficiencyReport;
  readonly cohorts: readonly CohortScore[];
  readonly fleetDrop?: { readonly drop: number; readonly coverage: number; readonly fired: boolean };
  /** Jobs whose outcome / start latency was folded into the hourly baselines this run. */
  readonly folded: { readonly outcomes: number; readonly latencies: number };
  /** Jobs given remembered minutes (activity) for the job-health judgement. */
  readonly jobsWithHistory: number;
  /** GPU samples inside maintenance windows, kept out of the statistical detectors. */
  readonly samplesInMaintenance: number;
  /** The job store could not be read: only GPU-level detectors ran. */
  readonly jobsUnavailable?: boolean;
}

export function runDetectors(input: RunDetectorsInput): {
  findings: Finding[];
  state: DetectionState;
  report: RunReport;
} {
  const { nowMs, settings, samples, state } = input;

  // 1. Hardware.
  const hw = detectHardware({ samples, state: state.hardware, nowMs });
  if (input.jobs === undefined) return gpuOnly(input, hw);
  const jobs = input.jobs;

  // 2. Job activity memory, checkpoints and progress, then job health.
  // Per-GPU samples (not the per-host 'all' series), filtered once for every detector below.
  const gpuSamples = samples.filter((s) => s.labels.gpu !== 'all');
  const byJob = samplesByJob(jobs, gpuSamples, input.placement);
  const activity = copyRecord(state.jobs); // { ...state.jobs }, a day of jobs: see copyRecord
  const checkpoints = { ...state.checkpoints };
  const progressByName = new Map<string, readonly number[]>();
  const checkpointByName = new Map<string, number | undefined>();
  const checkpointCadence = new Map<string, CheckpointCadence>();
  const history: GpuSample[] = [];
  let jobsWithHistory = 0;
  const healthJobs: TrainingJobState[] = [];
  for (const job of jobs) {
    const key = jobStateKeyOf(job);
    const progress = input.progress.get(progressKey(job.region, job.jobName));
    if (progress !== undefined) progressByName.set(job.jobName, progress);
    if (!isTraining(job)) {
      healthJobs.push(job);
      continue;
    }
    const own = byJob.get(job.jobName) ?? [];
    const before = activity[key];
    const lastProgress = progress && progress.length > 0 ? Math.max(...progress) : undefined;
    const from = historyNeededFrom(job, before, lastProgress, trainingStartOf(job), nowMs);
    const like = own[0];
    if (before && from !== undefined && like) {
      const firstWindowMinute = Math.min(...own.map((s) => s.time));
      const expanded = expandActivity(before, from, firstWindowMinute, like);
      if (expanded.length > 0) jobsWithHistory++;
      for (const s of expanded) history.push(s);
    }
    const perMinute = new Map<number, GpuSample[]>();
    for (const s of own) {
      const l = perMinute.get(s.time);
      if (l) l.push(s);
      else perMinute.set(s.time, [s]);
    }
    const minutes = [...perMinute.entries()].map(([time, ss]) => ({ time, flag: minuteFlag(ss) }));
    if (minutes.length > 0 || before) activity[key] = recordMinutes(before, minutes, nowMs);

    // Checkpoints: this run's listing, else the remembered one; never listed means unknown, and an
    // unknown checkpoint is not judged (a missed listing must not read as "no checkpoint").
    const listed = input.checkpointListings.has(key);
    const remembered = checkpoints[key];
    if (listed) {
      const newest = input.checkpointListings.get(key);
      const gapsMs = checkpointGaps(remembered, newest, trainingStartOf(job));
      checkpoints[key] = {
        checkedAtMs: nowMs,
        newestMs: newest ?? null,
        seenAtMs: nowMs,
        ...(gapsMs.length > 0 ? { gapsMs } : {}),
      };
    } else if (remembered) {
      checkpoints[key] = { ...remembered, seenAtMs: nowMs };
    }
    const memory = checkpoints[key];
    if (job.checkpointS3Uri && memory) {
      checkpointByName.set(job.jobName, memory.newestMs ?? undefined);
      const intervalMs = checkpointIntervalOf(memory);
      const longestGapMs = checkpointLongestGap(memory.gapsMs);
      if (intervalMs !== undefined)
        checkpointCadence.set(job.jobName, {
          intervalMs,
          checkedAtMs: memory.checkedAtMs,
          ...(longestGapMs === undefined ? {} : { longestGapMs }),
        });
      healthJobs.push(job);
    } else if (job.checkpointS3Uri) {
      const { checkpointS3Uri: _unknown, ...rest } = job;
      healthJobs.push(rest);
    } else healthJobs.push(job);
  }
  const health = detectJobHealth({
    jobs: healthJobs,
    samples: history.length > 0 ? [...history, ...samples] : samples,
    progress: progressByName,
    checkpoints: checkpointByName,
    checkpointCadence,
    ...(input.placement ? { placement: input.placement } : {}),
    nowMs,
    options: settings.jobHealth,
  });

  // 3. Efficiency over the window.
  // Busy-not-working runs carried from the last window, for jobs still training (bounded: a job
  // that ended or stopped training drops out here).
  const carriedBusy = new Map<string, Readonly<Record<string, BusyRun>>>();
  for (const job of jobs) {
    const runs = state.busyRuns?.[jobStateKeyOf(job)];
    if (runs && isTraining(job)) carriedBusy.set(job.jobName, runs);
  }
  const eff = assessEfficiency({
    jobs,
    samples,
    progress: progressByName,
    busyRuns: carriedBusy,
    window: input.window,
    ...(input.placement ? { placement: input.placement } : {}),
    nowMs,
  });

  // 4. Cohort failures and scheduling: fold what left the 6 h window, then judge the window.
  const windowStart = nowMs - JOB_WINDOW_MS;
  const outcomes = foldOutcomes(state.outcomes, jobs, windowStart, settings.cohortDimensions);
  const latencies = foldLatencies(state.latencies, jobs, windowStart);
  const cohortFailures = detectCohortFailures({
    jobs,
    nowMs,
    windowMs: JOB_WINDOW_MS,
    baseline: outcomes.aggregates,
    ...(settings.cohortDimensions ? { dimensions: settings.cohortDimensions } : {}),
  });
  const scheduling = detectScheduling({
    jobs,
    nowMs,
    windowMs: JOB_WINDOW_MS,
    baseline: latencies.aggregates,
    options: { sla: settings.sla },
  });

  // 5. Statistical regressions, on samples outside maintenance windows only.
  const training = trainingSamples(input);
  const regressions = detectCohortRegressions({
    samples: training.kept,
    jobs,
    cohorts: state.cohorts,
    nowMs,
    settings: settings.regressions,
  });
  const fleet = detectFleetDrop({
    samples: training.kept,
    fleet: state.fleet,
    nowMs,
    windowEndMs: input.window.endMs,
    settings: settings.regressions,
  });

  // 2b. Jobs that progress, but several times slower than before (one finding per job: those
  // already found stalled, hung or idle are skipped).
  const slowdown = detectProgressSlowdown({
    jobs,
    samples: gpuSamples,
    ...(input.placement ? { placement: input.placement } : {}),
    progress: progressByName,
    skip: new Set(
      health.findings
        .filter((f) => f.kind !== 'job.checkpoint_stale')
        .flatMap((f) => (f.labels.job ? [f.labels.job] : [])),
    ),
    nowMs,
  });

  // 3b. Busy-not-working GPUs no job is credited with (burners outside jobs, shared nodes). A job
  // found hung or stalled on the node this run explains a spinning GPU there better.
  // byJob holds exactly the per-GPU samples a job is credited with (attribution is per sample, so
  // leaving out the 'all' series changes no other sample's job): no second samplesByJob pass.
  const attributed = new Set<GpuSample>();
  for (const list of byJob.values()) for (const s of list) attributed.add(s);
  const stalledNodes = new Set(
    health.findings
      .filter((f) => f.kind === 'job.hung' || f.kind === 'job.progress_stalled')
      .flatMap((f) => {
        const p = f.labels.job ? input.placement?.get(f.labels.job) : undefined;
        return [...(p?.nodes ?? []), ...(f.labels.node ? [f.labels.node] : [])];
      }),
  );
  const unattributed = detectUnattributedLoad({
    samples: gpuSamples.filter((s) => !attributed.has(s)),
    carried: state.unattributedRuns ?? {},
    window: input.window,
    nowMs,
  });
  const unattributedFindings = unattributed.findings.filter(
    (f) => f.labels.node === undefined || !stalledNodes.has(f.labels.node),
  );

  // One idle job, one finding: job.gpus_idle (the failure: idle past its grace or idle with no
  // progress) says everything efficiency.idle_allocation (the accounting note) would.
  const idleJobs = new Set(
    health.findings.filter((f) => f.kind === 'job.gpus_idle').map((f) => f.labels.job),
  );
  const effFindings = eff.findings.filter(
    (f) => !(f.kind === 'efficiency.idle_allocation' && idleJobs.has(f.labels.job)),
  );
  const findings = [
    // NVLink errors on the nodes of one distributed job: one job-scoped finding (issue 5).
    ...scopeInterconnectToJobs(hw.findings, byJob),
    ...health.findings,
    ...slowdown.findings,
    ...effFindings,
    ...unattributedFindings,
    ...cohortFailures.findings,
    ...scheduling.findings,
    ...regressions.findings,
    ...fleet.findings,
  ];
  const next = pruneDetectionState(
    {
      ...state,
      savedAtMs: nowMs,
      hardware: hw.state,
      jobs: activity,
      busyRuns: Object.fromEntries(
        jobs
          .filter((j) => isTraining(j) && eff.busyRuns.has(j.jobName))
          .map((j) => [jobStateKeyOf(j), eff.busyRuns.get(j.jobName) ?? {}]),
      ),
      unattributedRuns: unattributed.runs,
      checkpoints,
      outcomes: outcomes.aggregates,
      latencies: latencies.aggregates,
      cohorts: regressions.cohorts,
      fleet: fleet.fleet,
    },
    nowMs,
  );
  return {
    findings,
    state: next,
    report: {
      findingsByDetector: {
        hardware: hw.findings.length,
        jobHealth: health.findings.length + slowdown.findings.length,
        efficiency: effFindings.length + unattributedFindings.length,
        cohortFailures: cohortFailures.findings.length,
        scheduling: scheduling.findings.length,
        cohortRegressions: regressions.findings.length,
        fleetDrop: fleet.findings.length,
      },
      efficiency: eff.report,
      cohorts: regressions.scores,
      ...fleetDropReport(fleet.result),
      folded: { outcomes: outcomes.folded, latencies: latencies.folded },
      jobsWithHistory,
      samplesInMaintenance: training.excluded,
    },
  };
}

/** The fleet drop's part of the run report (absent when the drop test had nothing to judge). */
function fleetDropReport(
  result: { readonly drop: number; readonly coverage: number; readonly fired: boolean } | undefined,
) {
  return result ? { fleetDrop: { drop: result.drop, coverage: result.coverage, fired: result.fired } } : {};
}
