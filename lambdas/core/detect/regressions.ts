import { FINDING_SCHEMA_VERSION, type Finding, type FindingLabels } from '../../contracts/finding';
import type { Signal } from '../../contracts/signals';
import type { GpuSample, TrainingJobState } from '../model';
import { roundTo } from '../numbers';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../time';
import {
  type CusumParams,
  cusumStep,
  initialCusum,
  type RelativeDropResult,
  relativeDrop,
} from './change-detection';
import type { CohortSeriesState, FleetState } from './detection-state';
import { dayOverDayNoise, foldHours, type HourEntry, weekAgo } from './fleet-hours';
import { isTraining, listText, workloadClassOf } from './jobs';
import { median } from './robust';
import {
  cohortKey,
  emptyBaseline,
  type SeasonalBaselineState,
  seasonalZ,
  updateBaseline,
} from './seasonal-baseline';

/**
 * Statistical regressions over one collected window.
 *
 * Cohort regressions. A cohort is instanceType × workload class × signal over the GPUs of running
 * training jobs; its value per minute is the median over those GPUs. Each minute is scored
 * against the cohort's hour-of-week robust baseline (median/MAD, seasonal-baseline.ts), so the
 * Tuesday retrain peak is normal on Tuesday; the robust z feeds a CUSUM, so one odd minute is not
 * a finding but a sustained shift is. A job never needs a baseline of its own: new and short jobs
 * are judged through their cohort.
 *
 *   minute ─► cohort median ─► z vs baseline(hour of week) ─► CUSUM ─► finding on alarm
 *                          └─► baseline update (not inside maintenance windows)
 *
 * Fleet drop. Fleet utilisation per minute (mean sm_active over every reporting GPU) is kept for
 * 25 h, and by clock hour for eight days (fleet-hours.ts); the last `windowMs` are compared with
 * the same minutes 24 h earlier (relativeDrop), and a drop counts only when it is also out of that
 * scope's ordinary variation (the larger of the hour-to-hour noise, fleetDropNoise, and the
 * day-over-day noise of its hourly means) and, once a week of hours exists, also holds against
 * the same hour a week earlier.
 *
 * Both are given samples OUTSIDE maintenance windows only (run-detectors.ts filters them, see
 * maintenance.ts): GPUs under maintenance neither train a baseline, nor step a CUSUM, nor enter
 * the fleet history (a drained fleet is not tomorrow's yardstick).
 */

export const COHORT_SIGNALS = ['sm_active', 'gpu_util', 'power'] as const satisfies readonly Signal[];
export const COHORT_REGRESSION_KIND = 'stat.cohort_regression';
export const COHORT_SHIFT_UP_KIND = 'stat.cohort_shift_up';
export const FLEET_DROP_KIND = 'fleet.utilisation_drop';

export interface RegressionSettings {
  readonly cusum: CusumParams;
  /** MAD floor as a share of the baseline median: a steady cohort must still move this much to count. */
  readonly relativeMadFloor: number;
  /** A global (all-hours) baseline is used only with at least this many hourly slices. */
  readonly minGlobalSlices: number;
  readonly fleetDropThreshold: number;
  readonly fleetDropWindowMs: number;
}

interface CohortMinutes {
  readonly instanceType: string;
  readonly workloadClass: string;
  readonly signal: string;
  readonly clusters: Set<string>;
  readonly regions: Set<string>;
  readonly byMinute: Map<number, number[]>;
}

/** Groups GPU values by cohort and minute (only GPUs of running training jobs). */
export function cohortMinutes(
  samples: readonly GpuSample[],
  jobs: readonly TrainingJobState[],
): Map<string, CohortMinutes> {
  const classOf = new Map<string, string>();
  for (const j of jobs) if (isTraining(j)) classOf.set(j.jobName, workloadClassOf(j));
  const out = new Map<string, CohortMinutes>();
  for (const s of samples) {
    if (s.labels.gpu === 'all' || s.labels.job === undefined) continue;
    const cls = classOf.get(s.labels.job);
    if (cls === undefined) continue;
    for (const signal of COHORT_SIGNALS) {
      const v = s.values[signal];
      if (v === undefined || !Number.isFinite(v)) continue;
      const key = cohortKey({ instanceType: s.labels.instanceType, workloadClass: cls, signal });
      let c = out.get(key);
      if (!c) {
        c = {
          instanceType: s.labels.instanceType,
          workloadClass: cls,
          signal,
          clusters: new Set(),
          regions: new Set(),
          byMinute: new Map(),
        };
        out.set(key, c);
      }
      c.clusters.add(s.labels.cluster);
      c.regions.add(s.labels.region);
      const list = c.byMinute.get(s.time);
      if (list) list.push(v);
      else c.byMinute.set(s.time, [v]);
    }
  }
  return out;
}

/**
 * Seven days plus the current hour: when the first minute of Wednesday 14:00 arrives, last
 * Wednesday's 14:00 slice must still be there to judge it (with exactly 7 days it would be
 * pruned at that very moment, leaving the hour to be judged against itself).
 */
export const COHORT_BASELINE_DAYS = 7 + 1 / 24;

/** The baseline without the hour of `t` itself: a minute is judged against completed history. */
function completedHours(b: SeasonalBaselineState, t: number): SeasonalBaselineState {
  const hour = Math.floor(t / HOUR_MS) * HOUR_MS;
  const last = b.slices[b.slices.length - 1];
  return last === undefined || last.hourStart < hour
    ? b
    : { ...b, slices: b.slices.filter((s) => s.hourStart < hour) };
}

export interface CohortScore {
  readonly key: string;
  readonly minutesScored: number;
  /** Largest |z| of the window, for the report. */
  readonly maxAbsZ: number;
  readonly alarm?: 'up' | 'down';
}

export function detectCohortRegressions(input: {
  readonly samples: readonly GpuSample[];
  readonly jobs: readonly TrainingJobState[];
  readonly cohorts: Readonly<Record<string, CohortSeriesState>>;
  readonly nowMs: number;
  readonly settings: RegressionSettings;
}): { findings: Finding[]; cohorts: Record<string, CohortSeriesState>; scores: CohortScore[] } {
  const { settings: o, nowMs } = input;
  const next: Record<string, CohortSeriesState> = { ...input.cohorts };
  const findings: Finding[] = [];
  const scores: CohortScore[] = [];
  for (const [key, c] of cohortMinutes(input.samples, input.jobs)) {
    const prev = next[key];
    let baseline = prev?.baseline ?? emptyBaseline({ windowDays: COHORT_BASELINE_DAYS });
    let cusum = prev?.cusum ?? initialCusum();
    let lastMinute = prev?.lastMinute;
    const minutes = [...c.byMinute.entries()]
      .filter(([t]) => lastMinute === undefined || t > lastMinute)
      .sort(([a], [b]) => a - b)
      .map(([t, vs]) => ({ t, v: median(vs) }));
    const training: { t: number; v: number }[] = [];
    let scored = 0;
    let maxAbsZ = 0;
    let alarm:
      | { dir: 'up' | 'down'; t: number; v: number; median: number; mad: number; z: number; n: number }
      | undefined;
    const window: { t: number; v: number }[] = [];
    const zs: number[] = [];
    for (const m of minutes) {
      lastMinute = m.t;
      training.push(m);
      window.push(m);
      const scoredAt = seasonalZ(completedHours(baseline, m.t), m.t, m.v);
      if (!scoredAt) continue;
      const e = scoredAt.estimate;
      if (e.source === 'global' && e.slices < o.minGlobalSlices) continue;
      const mad = Math.max(e.mad, o.relativeMadFloor * Math.abs(e.median), 1e-9);
      const z = (m.v - e.median) / mad;
      scored++;
      zs.push(z);
      maxAbsZ = Math.max(maxAbsZ, Math.abs(z));
      const step = cusumStep(cusum, z, o.cusum);
      cusum = step.state;
      if (step.alarm && !alarm) alarm = { dir: step.alarm, t: m.t, v: m.v, median: e.median, mad, z, n: e.n };
    }
    if (training.length > 0) baseline = updateBaseline(baseline, training);
    // The CUSUM restarts after each alarm, so a lasting shift alarms again every few minutes: it
    // is reported once and stays open until a run's scored minutes sit back near the baseline.
    let open = prev?.open;
    const report = alarm !== undefined && alarm.dir !== open;
    if (alarm) open = alarm.dir;
    else if (zs.length > 0 && Math.abs(median(zs)) < 1) open = undefined;
    next[key] = {
      seen: Math.max(prev?.seen ?? 0, ...minutes.map((m) => m.t)),
      baseline,
      cusum,
      ...(lastMinute === undefined ? {} : { lastMinute }),
      ...(open === undefined ? {} : { open }),
    };
    scores.push({
      key,
      minutesScored: scored,
      maxAbsZ: roundTo(maxAbsZ, 2),
      ...(alarm ? { alarm: alarm.dir } : {}),
    });
    if (alarm && report) findings.push(regressionFinding(c, alarm, window, nowMs));
  }
  return { findings, cohorts: next, scores };
}

function singleLabels(c: CohortMinutes): FindingLabels {
  const [cluster] = c.clusters;
  const [region] = c.regions;
  return {
    ...(c.clusters.size === 1 && cluster ? { cluster } : {}),
    ...(c.regions.size === 1 && region ? { region } : {}),
  };
}

function regressionFinding(
  c: CohortMinutes,
  a: { dir: 'up' | 'down'; t: number; v: number; median: number; mad: number; z: number; n: number },
  window: readonly { t: number; v: number }[],
  nowMs: number,
): Finding {
  const down = a.dir === 'down';
  const kind = down ? COHORT_REGRESSION_KIND : COHORT_SHIFT_UP_KIND;
  const cohort = `${c.instanceType} × ${c.workloadClass} × ${c.signal}`;
  const recent = median(window.filter((m) => m.t >= a.t - 15 * MINUTE_MS).map((m) => m.v));
  const change = a.median !== 0 ? (recent - a.median) / Math.abs(a.median) : 0;
  const startMs = Math.min(window[0]?.t ?? a.t, a.t);
  return {
    schemaVersion: FINDING_SCHEMA_VERSION,
    kind,
    severity: down ? 'ticket' : 'info',
    // A cohort-wide drop of SM activity or power on healthy hardware is most often a software
    // change (driver, framework, image) or a starved input pipeline; the summary says both.
    cause: down ? 'software' : 'efficiency',
    title: `Sustained ${down ? 'drop' : 'rise'} of ${c.signal} in cohort ${cohort}: ${roundTo(recent, 3)} vs ${roundTo(a.median, 3)} usual for this hour of the week`,
    summary: `The median ${c.signal} of GPUs running ${c.workloadClass} jobs on ${c.instanceType} has stayed ${down ? 'below' : 'above'} its hour-of-week baseline long enough for the change detector (CUSUM) to fire: ${roundTo(change * 100, 1)} % against the usual level.${down ? ' Check recent driver, framework or image rollouts on this instance type, throttling, and input pipelines.' : ' Informational: more load than usual at this hour.'}`,
    labels: singleLabels(c),
    evidence: {
      window: { startMs, endMs: Math.max(startMs, nowMs) },
      values: {
        value: roundTo(recent, 4),
        z: roundTo(a.z, 2),
        changeFraction: roundTo(change, 4),
        alarmAtMs: a.t,
      },
      baseline: { median: roundTo(a.median, 4), mad: roundTo(a.mad, 4), n: a.n },
      detail: `cohort instanceType=${c.instanceType}, workloadClass=${c.workloadClass}, signal=${c.signal}; clusters: ${listText([...c.clusters].sort(), 10)}; regions: ${listText([...c.regions].sort(), 10)}`,
    },
    runbook: `docs/runbooks/${kind}.md`,
    detectedAt: nowMs,
  };
}

// -------------------------------------------------------------------------------------------------
// Fleet utilisation drop

/** Fleet utilisation per minute: mean sm_active (else gpu_util / 100) over every reporting GPU. */
export function fleetUtilisation(samples: readonly GpuSample[]): Map<number, number> {
  const acc = new Map<number, { sum: number; n: number }>();
  for (const s of samples) {
    if (s.labels.gpu === 'all') continue;
    const v = s.values.sm_active ?? (s.values.gpu_util === undefined ? undefined : s.values.gpu_util / 100);
    if (v === undefined || !Number.isFinite(v)) continue;
    const a = acc.get(s.time) ?? { sum: 0, n: 0 };
    a.sum += v;
    a.n++;
    acc.set(s.time, a);
  }
  return new Map([...acc.entries()].map(([t, a]) => [t, a.sum / a.n]));
}

/**
 * The utilisation drop against the same minutes 24 h earlier, for the whole fleet and for each
 * cluster (region + cluster), reported at the NARROWEST scope that explains it, on every run
 * while the drop lasts (so clean runs, and the incident's resolution, start only once it ends):
 *
 *   every cluster (two or more) dropped   → one fleet-wide finding (no labels)
 *   some clusters dropped                 → one finding per dropped cluster ({ cluster, region })
 *   only the fleet mean dropped           → one fleet-wide finding
 *
 * A scope's drop already explained by a reported one (a cluster inside a fleet-wide drop) is
 * marked open without a finding of its own, so one drop never notifies twice (fleet and cluster).
 * A scope fires only when its drop is both over `fleetDropThreshold` and out of its own ordinary
 * day-to-day variation (see fleetDropNoise): a 4-node fleet whose hourly utilisation swings by
 * half does not page for a quiet hour.
 */
export function detectFleetDrop(input: {
  readonly samples: readonly GpuSample[];
  readonly fleet: FleetState;
  readonly nowMs: number;
  readonly windowEndMs: number;
  readonly settings: RegressionSettings;
}): { findings: Finding[]; fleet: FleetState; result?: FleetDropResult } {
  let whole = scopeDrop(input.fleet, fleetUtilisation(input.samples), input);
  const scopes: Record<string, ScopeState> = {};
  const clusters = new Map<string, ScopeDrop>();
  const bySample = clusterUtilisation(input.samples);
  for (const key of new Set([...Object.keys(input.fleet.scopes ?? {}), ...bySample.keys()])) {
    const prev = input.fleet.scopes?.[key] ?? { points: [], dropOpen: false };
    const d = scopeDrop(prev, bySample.get(key) ?? new Map(), input);
    clusters.set(key, d);
    scopes[key] = stateOf(d);
  }

  const findings: Finding[] = [];
  const measured = [...clusters.entries()].filter(([, d]) => d.result !== undefined);
  const fired = measured.filter(([, d]) => d.result?.fired);
  const fleetWide = whole.result?.fired === true && measured.length >= 2 && fired.length === measured.length;
  // A cluster reported at its own scope in an earlier run (open while the fleet was not): it keeps
  // its own finding even if the rest of the fleet now drops too, so its incident carries on
  // instead of a second, fleet-wide one opening for the same drop.
  const clusterScopedOpen =
    !input.fleet.dropOpen && Object.values(input.fleet.scopes ?? {}).some((s) => s.dropOpen);
  if ((fleetWide && !clusterScopedOpen) || (whole.result?.fired === true && fired.length === 0)) {
    // Reported on EVERY run while the drop lasts (not once): the incident's clean-runs count then
    // starts only when the drop has ended, so a lasting drop neither resolves nor re-opens.
    if (whole.result) findings.push(dropFinding(whole.result, undefined, input));
    // The clusters' share of this drop is explained by the fleet-wide finding.
    for (const [key] of fired) scopes[key] = { ...(scopes[key] ?? { points: [] }), dropOpen: true };
  } else {
    for (const [key, d] of fired) {
      if (d.result !== undefined) findings.push(dropFinding(d.result, parseScopeKey(key), input));
    }
    // The fleet mean moved because of the clusters just reported: no fleet-wide finding of its
    // own, and not marked open (dropOpen means "reported at fleet scope").
    whole = { ...whole, dropOpen: false };
  }
  return {
    findings,
    fleet: {
      ...stateOf(whole),
      ...(Object.keys(scopes).length > 0 ? { scopes } : {}),
    },
    ...(whole.result ? { result: whole.result } : {}),
  };
}

interface ScopeState {
  readonly points: [number, number][];
  readonly dropOpen: boolean;
  /** Hourly means, eight days (fleet-hours.ts); absent in state written before it existed. */
  readonly hours?: HourEntry[];
}

function stateOf(d: ScopeDrop): ScopeState {
  return { points: d.points, dropOpen: d.dropOpen, ...(d.hours === undefined ? {} : { hours: d.hours }) };
}

/**
 * relativeDrop's result, `fired` also requiring the noise gate and last week; `noise` = the
 * drop's sigma used by the gate when estimable (the larger of the hour-to-hour and the
 * day-over-day estimates), `weekDrop` = the drop against the same hour a week earlier.
 */
export interface FleetDropResult extends RelativeDropResult {
  readonly noise?: number;
  readonly weekDrop?: number;
}

interface ScopeDrop extends ScopeState {
  readonly result?: FleetDropResult;
}

/** How many noise sigmas (fleetDropNoise) a drop must exceed on top of the relative threshold. */
export const FLEET_DROP_NOISE_SIGMAS = 3;
/** Fewer usable windows of history than this: no noise estimate, the relative threshold alone judges. */
const MIN_NOISE_WINDOWS = 8;

/**
 * The ordinary day-to-day variation of one scope's window mean, as a fraction (sigma of the
 * relative drop a quiet day shows), from the last 24 h before the judged window.
 *
 * The history is cut into consecutive windows of the judged length (≥ 80 % of minutes present);
 * for each inner window the residual against the mean of its two neighbours, relative to the
 * local level, is hour-scale noise with a linear (diurnal) trend cancelled. For independent
 * noise of sigma s per window the residual has sigma s·√1.5 while today − yesterday has s·√2, so
 * the drop's sigma is 1.4826·median|residual|·√(2/1.5) (robust: one odd hour does not inflate
 * it). A large fleet's smooth curve gives a sigma of a few tenths of a percent, so the relative
 * threshold (8 %) governs; a 4-node fleet swinging ±50 % an hour gives 10-30 %.
 */
export function fleetDropNoise(
  sorted: readonly (readonly [number, number])[],
  windowStartMs: number,
  windowMs: number,
): number | undefined {
  const count = Math.max(1, Math.round(windowMs / MINUTE_MS));
  const sums: { sum: number; n: number }[] = [];
  const first = windowStartMs - DAY_MS;
  for (const [t, v] of sorted) {
    if (t <= first || t > windowStartMs || !Number.isFinite(v)) continue;
    const i = Math.floor((windowStartMs - t) / windowMs);
    const b = sums[i] ?? { sum: 0, n: 0 };
    b.sum += v;
    b.n++;
    sums[i] = b;
  }
  const means = Array.from(sums, (b) => (b !== undefined && b.n >= 0.8 * count ? b.sum / b.n : undefined));
  const residuals: number[] = [];
  for (let i = 1; i + 1 < means.length; i++) {
    const [a, m, c] = [means[i - 1], means[i], means[i + 1]];
    if (a === undefined || m === undefined || c === undefined) continue;
    const level = (a + m + c) / 3;
    if (!(level > 0)) continue;
    residuals.push(Math.abs(m - (a + c) / 2) / level);
  }
  if (residuals.length < MIN_NOISE_WINDOWS) return undefined;
  return 1.4826 * median(residuals) * Math.sqrt(2 / 1.5);
}

function scopeDrop(
  prev: {
    readonly points: readonly (readonly [number, number])[];
    readonly dropOpen: boolean;
    readonly hours?: readonly HourEntry[];
  },
  latest: ReadonlyMap<number, number>,
  input: { readonly windowEndMs: number; readonly settings: RegressionSettings },
): ScopeDrop {
  const o = input.settings;
  const points = new Map<number, number>(prev.points.map(([t, v]) => [t, v]));
  for (const [t, v] of latest) points.set(t, v);
  const sorted = [...points.entries()].sort(([a], [b]) => a - b);
  // Points are minute starts; the last minute of the window starts one minute before its end.
  const endMs = input.windowEndMs - MINUTE_MS;
  const hours = foldHours(prev.hours ?? [], points, endMs, prev.dropOpen);
  const timed = sorted.map(([t, v]) => ({ t, v }));
  const params = { windowMs: o.fleetDropWindowMs, dropFraction: o.fleetDropThreshold, cadenceMs: MINUTE_MS };
  const raw = relativeDrop(timed, (t) => points.get(t - DAY_MS), endMs, params);
  let noise: number | undefined;
  let week: RelativeDropResult | undefined;
  if (raw?.fired) {
    // Judged against the larger of the two noises (fleet-hours.ts: why the day-over-day one).
    const windowStart = endMs - o.fleetDropWindowMs;
    const hourly = fleetDropNoise(sorted, windowStart, o.fleetDropWindowMs);
    const daily = dayOverDayNoise(hours, windowStart + MINUTE_MS);
    noise = hourly === undefined ? daily : daily === undefined ? hourly : Math.max(hourly, daily);
    week = relativeDrop(timed, weekAgo(hours), endMs, params);
  }
  const result =
    raw === undefined
      ? undefined
      : {
          ...raw,
          // A week of history: the drop must hold against the same hour last week too.
          fired:
            raw.fired &&
            (noise === undefined || raw.drop >= FLEET_DROP_NOISE_SIGMAS * noise) &&
            (week === undefined || week.coverage < 0.8 || week.fired),
          ...(noise === undefined ? {} : { noise }),
          ...(week === undefined || week.coverage < 0.8 ? {} : { weekDrop: week.drop }),
        };
  const dropOpen = result === undefined ? prev.dropOpen : result.fired;
  return { points: sorted, dropOpen, hours, ...(result ? { result } : {}) };
}

const SCOPE_SEPARATOR = '|';

function parseScopeKey(key: string): { region: string; cluster: string } {
  const at = key.indexOf(SCOPE_SEPARATOR);
  return { region: key.slice(0, at), cluster: key.slice(at + 1) };
}

/** Utilisation per minute of each cluster, keyed `<region>|<cluster>` (fleetUtilisation per cluster). */
export function clusterUtilisation(samples: readonly GpuSample[]): Map<string, Map<number, number>> {
  const groups = new Map<string, GpuSample[]>();
  for (const s of samples) {
    const key = `${s.labels.region}${SCOPE_SEPARATOR}${s.labels.cluster}`;
    const list = groups.get(key);
    if (list) list.push(s);
    else groups.set(key, [s]);
  }
  return new Map([...groups.entries()].map(([k, list]) => [k, fleetUtilisation(list)]));
}

function dropFinding(
  result: FleetDropResult,
  scope: { readonly region: string; readonly cluster: string } | undefined,
  input: { readonly nowMs: number; readonly settings: RegressionSettings },
): Finding {
  const o = input.settings;
  const minutes = Math.round(o.fleetDropWindowMs / MINUTE_MS);
  const used = Math.max(1, Math.round(result.coverage * minutes));
  const pct = roundTo(result.drop * 100, 1);
  const where = scope === undefined ? 'Fleet' : `Cluster ${scope.cluster} (${scope.region})`;
  const over =
    scope === undefined
      ? 'every reporting GPU'
      : `every reporting GPU of cluster ${scope.cluster} in ${scope.region}`;
  return {
    schemaVersion: FINDING_SCHEMA_VERSION,
    kind: FLEET_DROP_KIND,
    severity: 'ticket',
    cause: 'efficiency',
    title: `${where} GPU utilisation ${pct} % below the same time yesterday`,
    summary: `Mean SM activity over ${over} in the last ${minutes} min was ${pct} % below the same minutes 24 h earlier (threshold ${roundTo(o.fleetDropThreshold * 100, 1)} %${result.noise === undefined ? '' : `, and over ${FLEET_DROP_NOISE_SIGMAS} × the ${roundTo(result.noise * 100, 1)} % it ordinarily varies`}${result.weekDrop === undefined ? '' : `; ${roundTo(result.weekDrop * 100, 1)} % below the same hour a week earlier`}). Look for a scheduler or quota change, a failed rollout, or capacity that left ${scope === undefined ? 'the fleet' : 'the cluster'}.`,
    labels: scope === undefined ? {} : { cluster: scope.cluster, region: scope.region },
    evidence: {
      window: result.window,
      values: {
        drop: roundTo(result.drop, 4),
        meanUtilisation: roundTo(result.actual / used, 4),
        meanUtilisation24hEarlier: roundTo(result.expected / used, 4),
        coverage: roundTo(result.coverage, 3),
        threshold: o.fleetDropThreshold,
        ...(result.noise === undefined ? {} : { noiseSigma: roundTo(result.noise, 4) }),
        ...(result.weekDrop === undefined ? {} : { dropVsWeekEarlier: roundTo(result.weekDrop, 4) }),
      },
      detail: `${scope === undefined ? 'fleet-wide' : `scope: cluster ${scope.cluster}, region ${scope.region}`}; utilisation = mean sm_active (gpu_util / 100 where sm_active is not collected) per minute; maintenance minutes excluded`,
    },
    runbook: `docs/runbooks/${FLEET_DROP_KIND}.md`,
    detectedAt: input.nowMs,
  };
}
