import { FINDING_SCHEMA_VERSION, type Finding } from '../../contracts/finding';
import { gpuInstanceSpec } from '../../contracts/gpu-catalogue';
import type { GpuSample, TrainingJobState } from '../model';
import { roundTo } from '../numbers';
import { HOUR_MS, MINUTE_MS } from '../time';
import {
  DEFAULT_CLASS_POLICIES,
  definedOnly,
  isIdleSample,
  type JobPlacement,
  jobLabels,
  listText,
  progressCadenceMs,
  samplesByJob,
  tdpOf,
  trainingStartOf,
  type WorkloadClass,
  workloadClassOf,
} from './jobs';
import { median, robustScaleSorted, sortedCopy } from './robust';

/**
 * GPU efficiency that gpu_util cannot fake. gpu_util is "a kernel was resident", so one spinning
 * kernel reads 100 %. Effective utilisation is therefore built from SM activity and from the job
 * actually progressing:
 *
 *   effective = mean(sm_active) × progressing fraction   (share of minutes near a progress datapoint)
 *
 * A job without any progress datapoint counts as 0: an unconfigured metric is indistinguishable
 * from a job that does nothing, and crediting it would make removing the metric a way to game.
 * Without sm_active the estimate falls back to gpu_util × power/TDP and says it is weaker.
 *
 * Only per-GPU samples count (gpu 'all' host series would double count), one sample = one GPU-minute.
 */

export interface EfficiencyOptions {
  /** Idle GPU-minute: gpu_util below and sm_active below. @default 5, 0.05 */
  readonly idleUtilMax?: number;
  readonly idleSmMax?: number;
  /** "Busy but not working": gpu_util ≥, sm_active <, tensor_active <, power < share of TDP. @default 80, 0.15, 0.05, 0.35 */
  readonly busyUtilMin?: number;
  readonly busySmMax?: number;
  readonly busyTensorMax?: number;
  readonly busyPowerShareMax?: number;
  /** Consecutive minutes a GPU must look busy-not-working. @default 15 */
  readonly busyMinMinutes?: number;
  /** Synthetic load: span judged, median gpu_util at least, robust spreads at most. @default 30, 90, 1.5 (%), 1 % of TDP (≥ 3 W) */
  readonly syntheticMinMinutes?: number;
  readonly syntheticUtilMin?: number;
  readonly syntheticUtilSpreadMax?: number;
  readonly syntheticPowerSpreadShareMax?: number;
  /** Data I/O at or below this (bytes in the window) counts as none. @default 1 MiB */
  readonly ioNoneMaxBytes?: number;
  /** Idle-allocation finding: info from, ticket from (GPU-hours in the window). @default 1, 8 */
  readonly idleInfoGpuHours?: number;
  readonly idleTicketGpuHours?: number;
}

export const EFFICIENCY_DEFAULTS = {
  idleUtilMax: 5,
  idleSmMax: 0.05,
  busyUtilMin: 80,
  busySmMax: 0.15,
  busyTensorMax: 0.05,
  busyPowerShareMax: 0.35,
  busyMinMinutes: 15,
  syntheticMinMinutes: 30,
  syntheticUtilMin: 90,
  syntheticUtilSpreadMax: 1.5,
  syntheticPowerSpreadShareMax: 0.01,
  ioNoneMaxBytes: 1_048_576,
  idleInfoGpuHours: 1,
  idleTicketGpuHours: 8,
};
const DEFAULTS = EFFICIENCY_DEFAULTS;
type Opts = typeof DEFAULTS;

export type UtilisationBasis = 'sm_active' | 'gpu_util_x_power' | 'none';

export interface JobEfficiency {
  readonly jobName: string;
  readonly team: string;
  readonly workloadClass: WorkloadClass;
  /** GPUs allocated × time allocated inside the window (from the job's resources, not from samples). */
  readonly allocatedGpuHours: number;
  /** GPU-minutes with samples / 60. */
  readonly observedGpuHours: number;
  readonly idleGpuHours: number;
  readonly busyNotWorkingGpuHours: number;
  readonly meanSmActive?: number;
  /** Share of observed minutes with a progress datapoint nearby, 0..1. */
  readonly progressingFraction: number;
  /** 0..1; undefined when neither sm_active nor gpu_util + power were collected. */
  readonly effectiveUtilisation?: number;
  readonly basis: UtilisationBasis;
  /** True when the estimate is gpu_util × power/TDP: it cannot see SM occupancy. */
  readonly weakerEstimate: boolean;
  readonly progressDatapoints: number;
}

export interface TeamEfficiency {
  readonly team: string;
  readonly jobs: number;
  readonly allocatedGpuHours: number;
  readonly observedGpuHours: number;
  readonly idleGpuHours: number;
  readonly busyNotWorkingGpuHours: number;
  /** Observed-GPU-hour-weighted effective utilisation of jobs that have one. */
  readonly effectiveUtilisation?: number;
}

export interface EfficiencyReport {
  readonly window: { readonly startMs: number; readonly endMs: number };
  readonly jobs: readonly JobEfficiency[];
  readonly teams: readonly TeamEfficiency[];
}

export interface EfficiencyInput {
  readonly jobs: readonly TrainingJobState[];
  readonly samples: readonly GpuSample[];
  readonly placement?: ReadonlyMap<string, JobPlacement>;
  readonly progress: ReadonlyMap<string, readonly number[]>;
  /** Bytes the job read (data I/O) in the window; a missing job means unknown, not zero. */
  readonly dataIoBytes?: ReadonlyMap<string, number>;
  readonly window: { readonly startMs: number; readonly endMs: number };
  readonly nowMs: number;
  readonly options?: EfficiencyOptions;
  /**
   * Busy-not-working runs still going at the end of the last window, by job name then GPU
   * (node/gpu): [first minute, last minute]. A run needs busyMinMinutes (15) and a window is
   * usually 5 minutes, so without this memory the check could only fire on backfill windows.
   */
  readonly busyRuns?: ReadonlyMap<string, Readonly<Record<string, BusyRun>>>;
}

/** [first minute, last minute] of a GPU's ongoing busy-not-working run (epoch ms). */
export type BusyRun = [number, number];

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const round = (x: number, digits = 3): number => roundTo(x, digits);

function gpuKey(s: GpuSample): string {
  return `${s.labels.node}/${s.labels.gpu}`;
}

function byGpu(samples: readonly GpuSample[]): Map<string, GpuSample[]> {
  const m = new Map<string, GpuSample[]>();
  for (const s of samples) {
    const list = m.get(gpuKey(s));
    if (list) list.push(s);
    else m.set(gpuKey(s), [s]);
  }
  for (const list of m.values()) list.sort((a, b) => a.time - b.time);
  return m;
}

/**
 * Share of the given minutes that lie within a tolerance of a progress datapoint. The tolerance
 * follows the job's own cadence (2 × median interval, at least 5 min), so a job that logs every
 * 20 minutes is not called stalled between two logs.
 */
export function progressingFraction(minutes: readonly number[], progress: readonly number[]): number {
  if (minutes.length === 0 || progress.length === 0) return 0;
  const ts = [...progress].sort((a, b) => a - b);
  const tol = Math.max(2 * (progressCadenceMs(ts) ?? 5 * MINUTE_MS), 5 * MINUTE_MS);
  let j = 0;
  let near = 0;
  for (const t of [...minutes].sort((a, b) => a - b)) {
    while (j < ts.length - 1 && (ts[j + 1] as number) <= t) j++;
    const before = ts[j] as number;
    const after = ts[Math.min(j + 1, ts.length - 1)] as number;
    if (Math.abs(t - before) <= tol || Math.abs(after - t) <= tol) near++;
  }
  return near / minutes.length;
}

/** gpu_util high while SMs, tensor cores and power say the GPU does almost nothing. */
export function isBusyNotWorking(
  s: GpuSample,
  o: Pick<Opts, 'busyUtilMin' | 'busySmMax' | 'busyTensorMax' | 'busyPowerShareMax'>,
): boolean {
  const { gpu_util: util, sm_active: sm, tensor_active: tensor, power } = s.values;
  if (util === undefined || sm === undefined) return false; // the test is "SMs say otherwise": needs sm_active
  if (util < o.busyUtilMin || sm >= o.busySmMax) return false;
  if (tensor !== undefined && tensor >= o.busyTensorMax) return false;
  const tdp = tdpOf(s);
  if (power !== undefined && tdp !== undefined && power >= o.busyPowerShareMax * tdp) return false;
  return true;
}

/**
 * Longest run of consecutive minutes (gaps up to 2 min tolerated) matching `pred`, per GPU,
 * continuing `carried` (the run still going at the end of the last window) when the window's first
 * matching minute follows it within the gap. `open` is the run still going at the window's end.
 */
export function longestRun(
  series: readonly GpuSample[],
  pred: (s: GpuSample) => boolean,
  carried?: BusyRun,
): { minutes: number; count: number; open?: BusyRun } {
  const length = (r: BusyRun) => Math.round((r[1] - r[0]) / MINUTE_MS) + 1;
  let run: BusyRun | undefined = carried;
  let best = 0;
  let count = 0;
  for (const s of series) {
    if (run !== undefined && s.time <= run[1]) continue; // a minute collected twice
    if (pred(s)) {
      count++;
      run = run !== undefined && s.time - run[1] <= 2 * MINUTE_MS ? [run[0], s.time] : [s.time, s.time];
      best = Math.max(best, length(run));
    } else {
      run = undefined;
    }
  }
  const last = series[series.length - 1];
  // Still going when the window ended (its last minute matched, or the gap has not closed it yet).
  const open =
    run !== undefined && (last === undefined || last.time - run[1] <= 2 * MINUTE_MS) ? run : undefined;
  return { minutes: best, count, ...(open ? { open } : {}) };
}

interface Flatness {
  readonly utilSpread: number;
  readonly powerSpread: number;
  readonly medianUtil: number;
  readonly medianPower: number;
  readonly flat: boolean;
}

function flatness(series: readonly GpuSample[], o: Opts): Flatness | undefined {
  const util = series.map((s) => s.values.gpu_util).filter((v): v is number => v !== undefined);
  const power = series.map((s) => s.values.power).filter((v): v is number => v !== undefined);
  const first = series[0];
  const last = series[series.length - 1];
  if (!first || !last || last.time - first.time + MINUTE_MS < o.syntheticMinMinutes * MINUTE_MS)
    return undefined;
  if (util.length < o.syntheticMinMinutes || power.length < o.syntheticMinMinutes) return undefined;
  const utilSpread = robustScaleSorted(sortedCopy(util));
  const powerSpread = robustScaleSorted(sortedCopy(power));
  const medianUtil = median(util);
  const medianPower = median(power);
  const powerMax = Math.max(3, o.syntheticPowerSpreadShareMax * (tdpOf(first) ?? 300));
  return {
    utilSpread,
    powerSpread,
    medianUtil,
    medianPower,
    flat:
      medianUtil >= o.syntheticUtilMin && utilSpread <= o.syntheticUtilSpreadMax && powerSpread <= powerMax,
  };
}

export function assessEfficiency(input: EfficiencyInput): {
  findings: Finding[];
  report: EfficiencyReport;
  /** Busy-not-working runs going at the window's end, by job name then GPU: the next run's busyRuns. */
  busyRuns: Map<string, Record<string, BusyRun>>;
} {
  const o: Opts = { ...DEFAULTS, ...definedOnly(input.options ?? {}) };
  const { startMs, endMs } = input.window;
  const byJob = samplesByJob(input.jobs, input.samples, input.placement);
  const findings: Finding[] = [];
  const jobsOut: JobEfficiency[] = [];
  const busyRunsOut = new Map<string, Record<string, BusyRun>>();

  for (const job of input.jobs) {
    const trainFrom = Math.max(trainingStartOf(job), startMs);
    const trainTo = Math.min(job.trainingEndTime ?? endMs, endMs);
    const samples = (byJob.get(job.jobName) ?? []).filter(
      (s) => s.labels.gpu !== 'all' && s.time >= startMs && s.time < endMs,
    );
    if (trainTo <= trainFrom && samples.length === 0) continue;

    const gpus = byGpu(samples);
    const nodesSeen = new Set(samples.map((s) => s.labels.node)).size;
    const instanceType = job.instanceType ?? samples[0]?.labels.instanceType;
    const perNode =
      (instanceType && gpuInstanceSpec(instanceType)?.gpus) ||
      Math.max(1, Math.ceil(gpus.size / Math.max(nodesSeen, 1)));
    const allocatedGpuHours =
      (Math.max(0, trainTo - trainFrom) / HOUR_MS) * perNode * (job.instanceCount ?? Math.max(nodesSeen, 1));
    const observedGpuHours = samples.length / 60;
    const idleGpuHours = samples.filter((s) => isIdleSample(s, o.idleUtilMax, o.idleSmMax)).length / 60;

    const sm = samples.map((s) => s.values.sm_active).filter((v): v is number => v !== undefined);
    const proxy = samples.flatMap((s) => {
      const tdp = tdpOf(s);
      const { gpu_util: u, power: p } = s.values;
      return u !== undefined && p !== undefined && tdp ? [(u / 100) * Math.min(1, p / tdp)] : [];
    });
    const basis: UtilisationBasis =
      sm.length > 0 ? 'sm_active' : proxy.length > 0 ? 'gpu_util_x_power' : 'none';
    const activity =
      basis === 'sm_active' ? mean(sm) : basis === 'gpu_util_x_power' ? mean(proxy) : undefined;
    const progress = (input.progress.get(job.jobName) ?? []).filter(
      (t) => t >= startMs - HOUR_MS && t <= endMs,
    );
    const inWindow = progress.filter((t) => t >= startMs);
    const minutes = [...new Set(samples.map((s) => s.time))];
    const fraction = progressingFraction(minutes, progress);

    // Busy but not working, per GPU: the longest qualifying run must reach N minutes.
    const carried = input.busyRuns?.get(job.jobName);
    const bnw = [...gpus.entries()].map(([key, series]) => ({
      key,
      ...longestRun(series, (s) => isBusyNotWorking(s, o), carried?.[key]),
    }));
    const open = Object.fromEntries(bnw.flatMap((g) => (g.open ? [[g.key, g.open] as const] : [])));
    if (Object.keys(open).length > 0) busyRunsOut.set(job.jobName, open);
    const busyNotWorkingGpuHours = bnw.reduce((a, g) => a + g.count, 0) / 60;
    const team = job.team ?? 'unknown';
    const cls = workloadClassOf(job);

    jobsOut.push({
      jobName: job.jobName,
      team,
      workloadClass: cls,
      allocatedGpuHours: round(allocatedGpuHours),
      observedGpuHours: round(observedGpuHours),
      idleGpuHours: round(idleGpuHours),
      busyNotWorkingGpuHours: round(busyNotWorkingGpuHours),
      ...(sm.length > 0 ? { meanSmActive: mean(sm) } : {}),
      progressingFraction: fraction,
      ...(activity === undefined ? {} : { effectiveUtilisation: activity * fraction }),
      basis,
      weakerEstimate: basis === 'gpu_util_x_power',
      progressDatapoints: inWindow.length,
    });

    const { labels, nodes } = jobLabels(job, samples, input.placement?.get(job.jobName));
    const base = (
      kind: string,
    ): Pick<Finding, 'schemaVersion' | 'kind' | 'labels' | 'runbook' | 'detectedAt'> => ({
      schemaVersion: FINDING_SCHEMA_VERSION,
      kind,
      labels,
      runbook: `docs/runbooks/${kind}.md`,
      detectedAt: input.nowMs,
    });
    const window = { startMs, endMs: Math.max(startMs, endMs) };
    const nodeText = `nodes: ${listText(nodes) || 'unknown'}`;

    const flagged = bnw.filter((g) => g.minutes >= o.busyMinMinutes);
    if (flagged.length > 0) {
      const hit = samples.filter((s) => isBusyNotWorking(s, o));
      const tdp = hit[0] ? tdpOf(hit[0]) : undefined;
      const watts = hit.map((s) => s.values.power).filter((v): v is number => v !== undefined);
      findings.push({
        ...base('efficiency.busy_not_working'),
        severity: 'ticket',
        cause: 'efficiency',
        title: `Job ${job.jobName}: ${flagged.length} GPU(s) report ≥ ${o.busyUtilMin} % utilisation but their SMs are nearly idle`,
        summary: `gpu_util only says a kernel was resident. For ${Math.max(...flagged.map((g) => g.minutes))} min these GPUs had sm_active < ${o.busySmMax}, tensor_active < ${o.busyTensorMax}${tdp ? ` and drew < ${Math.round(o.busyPowerShareMax * 100)} % of the ${tdp} W TDP` : ''}: busy, not working.`,
        evidence: {
          window,
          values: {
            gpus: flagged.length,
            longestMinutes: Math.max(...flagged.map((g) => g.minutes)),
            meanGpuUtil: round(mean(hit.map((s) => s.values.gpu_util ?? 0)), 1),
            meanSmActive: round(mean(hit.map((s) => s.values.sm_active ?? 0))),
            ...(watts.length > 0 ? { meanPowerWatts: round(mean(watts), 1) } : {}),
            ...(tdp ? { tdpWatts: tdp } : {}),
          },
          detail: `${nodeText}; GPUs: ${listText(flagged.map((g) => g.key))}${tdp === undefined ? '; power not judged (unknown TDP or no power signal)' : ''}`,
        },
      });
    }

    // Synthetic load: every judged GPU flat and high, no progress at all, and no data I/O if we know it.
    const flat = [...gpus.values()].map((series) => flatness(series, o)).filter((f): f is Flatness => !!f);
    const io = input.dataIoBytes?.get(job.jobName);
    const ioQuiet = io === undefined || io <= o.ioNoneMaxBytes;
    if (flat.length > 0 && flat.every((f) => f.flat) && inWindow.length === 0 && ioQuiet) {
      findings.push({
        ...base('efficiency.synthetic_load'),
        severity: 'ticket',
        cause: 'efficiency',
        title: `Job ${job.jobName}: flat, high GPU load with no training progress (synthetic-load signature)`,
        summary: `On ${flat.length} GPU(s) utilisation and power stayed almost constant for ${o.syntheticMinMinutes}+ min while the job logged no progress datapoint. Real training breathes (steps, evaluation, data loading); a constant load without progress looks like a burner keeping utilisation up.`,
        evidence: {
          window,
          values: {
            gpus: flat.length,
            maxUtilSpread: round(Math.max(...flat.map((f) => f.utilSpread))),
            maxPowerSpreadWatts: round(Math.max(...flat.map((f) => f.powerSpread))),
            medianGpuUtil: round(median(flat.map((f) => f.medianUtil)), 1),
            medianPowerWatts: round(median(flat.map((f) => f.medianPower)), 1),
            progressDatapoints: 0,
            ...(io === undefined ? {} : { dataIoBytes: io }),
          },
          detail: `${nodeText}; ${io === undefined ? 'data I/O unknown (not collected for this job): judged on flatness and missing progress only' : `data I/O ${io} bytes in the window`}; progress metrics declared: ${listText(job.metricNames ?? [], 20) || 'none'}`,
        },
      });
    }

    // The finding counts idle minutes after the class's start-up grace only: loading weights and
    // warming data loaders look exactly like idleness (the report above still counts them).
    const judgedFrom = trainingStartOf(job) + DEFAULT_CLASS_POLICIES[cls].idleGraceMs;
    const idleJudgedGpuHours =
      samples.filter((s) => s.time >= judgedFrom && isIdleSample(s, o.idleUtilMax, o.idleSmMax)).length / 60;
    if (idleJudgedGpuHours >= o.idleInfoGpuHours) {
      findings.push({
        ...base('efficiency.idle_allocation'),
        severity: idleJudgedGpuHours >= o.idleTicketGpuHours ? 'ticket' : 'info',
        cause: 'efficiency',
        title: `Job ${job.jobName} (team ${team}) held ${round(idleJudgedGpuHours, 1)} idle GPU-hours`,
        summary: `${round(idleJudgedGpuHours, 1)} of ${round(allocatedGpuHours, 1)} allocated GPU-hours in the window were idle (gpu_util < ${o.idleUtilMax} % and sm_active < ${o.idleSmMax}).`,
        evidence: {
          window,
          values: {
            idleGpuHours: round(idleJudgedGpuHours),
            allocatedGpuHours: round(allocatedGpuHours),
            observedGpuHours: round(observedGpuHours),
          },
          detail: `${nodeText}; class ${cls}`,
        },
      });
    }
  }

  return {
    findings,
    report: { window: input.window, jobs: jobsOut, teams: teamTotals(jobsOut) },
    busyRuns: busyRunsOut,
  };
}

export function teamTotals(jobs: readonly JobEfficiency[]): TeamEfficiency[] {
  const teams = new Map<string, JobEfficiency[]>();
  for (const j of jobs) teams.set(j.team, [...(teams.get(j.team) ?? []), j]);
  return [...teams.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([team, js]) => {
      const sum = (f: (j: JobEfficiency) => number) => round(js.reduce((a, j) => a + f(j), 0));
      const rated = js.filter((j) => j.effectiveUtilisation !== undefined && j.observedGpuHours > 0);
      const ratedHours = rated.reduce((a, j) => a + j.observedGpuHours, 0);
      return {
        team,
        jobs: js.length,
        allocatedGpuHours: sum((j) => j.allocatedGpuHours),
        observedGpuHours: sum((j) => j.observedGpuHours),
        idleGpuHours: sum((j) => j.idleGpuHours),
        busyNotWorkingGpuHours: sum((j) => j.busyNotWorkingGpuHours),
        ...(ratedHours > 0
          ? {
              effectiveUtilisation:
                rated.reduce((a, j) => a + (j.effectiveUtilisation ?? 0) * j.observedGpuHours, 0) /
                ratedHours,
            }
          : {}),
      };
    });
}
