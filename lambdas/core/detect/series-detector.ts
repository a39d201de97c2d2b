import { DAY_MS, HOUR_MS } from '../time';
import { type CusumState, cusumStep, initialCusum } from './change-detection';
import { quantileSorted, SortedWindow, sortedCopy } from './robust';
import {
  bucketOf,
  emptyBaseline,
  type SeasonalBaselineState,
  type SeasonalGranularity,
  seasonalOffsets,
  type TimedValue,
  updateBaseline,
} from './seasonal-baseline';

/**
 * The single-series anomaly detector behind `fleetwatch detect` and the statistical Lambdas.
 *
 * Online: each point is scored only with what came before it, so the batch CLI and a Lambda fed
 * one window at a time give the same answers. Per point:
 *
 *   x ─► minus the seasonal offset of its hour (daily / weekly shape, if any) ─► residual y
 *   y against the reference (rolling median and MAD of the last day of residuals):
 *     z = (y - median) / scale                                    → spike (z high) / dip (z low)
 *     CUSUM of clip(z, ±3) - its mean, scaled for autocorrelation → level_shift_up / _down
 *     v = log(typical |Δy| over the last hour / in the reference) → variance_change
 *
 * Thresholds calibrate themselves: a statistic fires only when it exceeds both a floor (z > 5,
 * CUSUM > 10, variability ×3) and 1.5 × the "worst normal" of its own last week (the value only
 * 1 point in 1,000 exceeded). A bursty disk-write series then needs a burst well beyond its usual
 * bursts, while a calm series alarms on the floor. Sensitivity scales every threshold.
 *
 * Episodes: an alarm opens an episode (half a day) during which nothing else is reported, the
 * reference is frozen and nothing is learned. At its end the episode is reviewed: if the level or
 * the variability moved, the reference restarts from the episode (a new normal), otherwise the
 * old reference goes on. So one incident gives one anomaly.
 *
 *   ──normal──┬─alarm─── episode: quiet, reference frozen ───┬── review: same or new reference ──
 *             t0                                             t0 + refractory
 *
 * Learning: a point's statistics join the calibration history only after a short delay with no
 * alarm (so an incident's build-up never becomes "normal"); the alarm point itself does join, so
 * something that keeps recurring (a nightly cron spike) stops alarming after a few nights.
 *
 * Seasonality 'auto' looks for a daily (or weekly) cycle in the hourly history once it spans
 * three periods; when the choice changes, the recent points are replayed under the new model.
 *
 * Probation: nothing is reported during the first points (default: 15 % of a batch, at most 750
 * points, at least what the reference needs); statistics and episodes run silently meanwhile.
 */

export const SEASONALITIES = ['auto', 'none', 'daily', 'weekly'] as const;
export type Seasonality = (typeof SEASONALITIES)[number];

export const SENSITIVITIES = ['low', 'medium', 'high'] as const;
export type SensitivityName = (typeof SENSITIVITIES)[number];
/** A name, or a number in (0, 1): higher reports more. medium = 0.5, low = 0.25, high = 0.75. */
export type Sensitivity = SensitivityName | number;

export const ANOMALY_KINDS = [
  'spike',
  'dip',
  'level_shift_up',
  'level_shift_down',
  'variance_change',
] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

export interface SeriesAnomaly {
  readonly timestamp: number;
  /** Position of the point in the input (batch) or in the stream since the detector started. */
  readonly index: number;
  readonly kind: AnomalyKind;
  /**
   * In [0.5, 1): 1 - threshold / (2 × statistic). 0.5 means "just over the threshold"; 0.75 means
   * the statistic was twice its threshold.
   */
  readonly score: number;
  readonly value: number;
  /** What the reference expected at this time (reference median plus seasonal offset). */
  readonly expected: number;
  /** The statistic that fired (robust z, CUSUM sum or log variance ratio) and its threshold. */
  readonly statistic: number;
  readonly threshold: number;
}

export interface SeriesDetectorOptions {
  /** @default 'auto' - daily or weekly when the history shows it, else none */
  readonly seasonality?: Seasonality;
  /** @default 'medium' */
  readonly sensitivity?: Sensitivity;
  /** Points before the first report. @default max(one day of points, the warm-up the reference needs) */
  readonly probationPoints?: number;
}

/** Statistic order: also the preference order when two fire on the same point with equal strength. */
const STATS = ['spikeUp', 'spikeDown', 'shiftUp', 'shiftDown', 'varUp', 'varDown'] as const;
type StatName = (typeof STATS)[number];

const KIND_OF: Readonly<Record<StatName, AnomalyKind>> = {
  spikeUp: 'spike',
  spikeDown: 'dip',
  shiftUp: 'level_shift_up',
  shiftDown: 'level_shift_down',
  varUp: 'variance_change',
  varDown: 'variance_change',
};

interface StatRule {
  /** The statistic must exceed this whatever its history. */
  readonly floor: number;
  /** ... and margin × the "worst normal" of its own history. */
  readonly margin: number;
}

/** Thresholds at medium sensitivity (checked on bench/detect-eval.ts; the score is flat around them). */
const RULES: Readonly<Record<StatName, StatRule>> = {
  spikeUp: { floor: 5, margin: 1.5 },
  spikeDown: { floor: 5, margin: 1.5 },
  shiftUp: { floor: 10, margin: 1.5 },
  shiftDown: { floor: 10, margin: 1.5 },
  // Variability tripled (or fell to a quarter: quieter is less often a problem).
  varUp: { floor: Math.log(3), margin: 1.5 },
  varDown: { floor: Math.log(4), margin: 1.5 },
};

/** Autocorrelation beyond this counts as this: the CUSUM input is divided by at most 3. */
const MAX_RHO = 0.8;
/** Allowance 0.5 sigma; clipping at 3 keeps one outlier from looking like a step. No h: see RULES. */
const CUSUM = { k: 0.5, clip: 3, h: Number.POSITIVE_INFINITY } as const;
/** "Worst normal" = the value exceeded by this share of the calibration history (1 in 1,000). */
const TAIL_FRACTION = 0.001;
/** At episode review, a level this many reference sigmas away, or a variability ratio beyond 2, is a new normal. */
const REVIEW_LEVEL_Z = 2;
const REVIEW_SCALE_RATIO = 2;

export function sensitivityFactor(s: Sensitivity = 'medium'): number {
  const value = typeof s === 'number' ? s : { low: 0.25, medium: 0.5, high: 0.75 }[s];
  if (!(value > 0 && value < 1))
    throw new RangeError(`sensitivity must be low, medium, high or a number in (0, 1), got ${s}`);
  // Each 0.25 step scales every threshold by about 1.3.
  return 2 ** ((0.5 - value) * 1.5);
}

/** Window sizes in points, derived from the cadence so they mean the same time at any cadence. */
export interface DetectorTuning {
  readonly cadenceMs: number;
  readonly referencePoints: number;
  readonly minReferencePoints: number;
  readonly shortPoints: number;
  readonly refractoryPoints: number;
  readonly calibrationPoints: number;
  readonly admitDelayPoints: number;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

export function tuningFor(cadenceMs: number): DetectorTuning {
  if (!(cadenceMs > 0)) throw new RangeError(`cadenceMs must be > 0, got ${cadenceMs}`);
  const perDay = DAY_MS / cadenceMs;
  const perHour = HOUR_MS / cadenceMs;
  const referencePoints = Math.round(clamp(perDay, 48, 1440));
  const minReferencePoints = Math.round(clamp(referencePoints / 2, 24, 720));
  const shortPoints = Math.round(clamp(perHour, 6, 30));
  return {
    cadenceMs,
    // About a day of residuals: long enough for a stable median/MAD, short enough to follow drift.
    referencePoints,
    minReferencePoints,
    // About an hour: the window over which variability "now" is judged.
    shortPoints,
    // Half a day of quiet after an alarm: one incident, one report.
    refractoryPoints: Math.max(minReferencePoints, Math.round(perDay / 2)),
    // About a week of statistics to learn what "normal worst" looks like.
    calibrationPoints: Math.round(clamp(7 * perDay, 500, 5000)),
    // A statistic joins the history only once it is this old without an alarm: an episode's
    // build-up never teaches the detector that the episode is normal.
    admitDelayPoints: shortPoints,
  };
}

/** Probation for a batch of n points: 15 % of it, capped at 750, never less than the warm-up. */
export function defaultProbation(n: number, cadenceMs: number): number {
  const t = tuningFor(cadenceMs);
  return Math.max(2 * t.minReferencePoints, Math.min(Math.ceil(0.15 * n), 750));
}

/** The typical spacing of the points: median of the positive gaps. */
export function inferCadence(points: readonly TimedValue[]): number {
  const gaps: number[] = [];
  for (let i = 1; i < points.length; i++) {
    const d = (points[i] as TimedValue).t - (points[i - 1] as TimedValue).t;
    if (d > 0) gaps.push(d);
  }
  if (gaps.length === 0) throw new RangeError('need at least two distinct timestamps to infer the cadence');
  return quantileSorted(sortedCopy(gaps), 0.5);
}

// -------------------------------------------------------------------------------------------------
// Seasonality

/** Slices of hourly history kept for the seasonal profile and the auto choice (4 weeks). */
const HISTORY_DAYS = 28;
const PROFILE: Readonly<
  Record<'daily' | 'weekly', { granularity: SeasonalGranularity; days: number; minSlices: number }>
> = {
  // A bucket needs its hour on 2 days (daily) or in 2 weeks (weekly) before it is corrected.
  daily: { granularity: 'hour-of-day', days: 7, minSlices: 2 },
  weekly: { granularity: 'hour-of-week', days: HISTORY_DAYS, minSlices: 2 },
};
/** Auto picks a period when the detrended hourly series correlates with itself one period later this much. */
const AUTO_MIN_ACF = 0.3;
/** A period already in use is dropped only below this. */
const AUTO_KEEP_ACF = 0.15;
/** ... and weekly only when that beats daily by this much (a daily pattern also repeats weekly). */
const AUTO_WEEKLY_EDGE = 0.1;

/**
 * Picks the seasonality from hourly history: the autocorrelation at lag 24 h (168 h) of the hourly
 * medians after removing a centred moving average of one period (so a trend or a random walk does
 * not pass for seasonality). Needs 3 periods of history.
 */
export function chooseSeasonality(
  hourly: SeasonalBaselineState,
  current: 'none' | 'daily' | 'weekly' = 'none',
): 'none' | 'daily' | 'weekly' {
  const daily = periodStrength(hourly, 24);
  const weekly = periodStrength(hourly, 168);
  // Hysteresis: a period in use is kept until its evidence is clearly gone, so one odd day
  // (an incident, a level shift) does not flip the model back and forth.
  const keep = (p: 'daily' | 'weekly') => (current === p ? AUTO_KEEP_ACF : AUTO_MIN_ACF);
  if (weekly !== undefined && weekly >= keep('weekly') && weekly > (daily ?? 0) + AUTO_WEEKLY_EDGE)
    return 'weekly';
  if (daily !== undefined && daily >= keep('daily')) return 'daily';
  if (current !== 'none' && (current === 'daily' ? daily : weekly) === undefined) return current;
  return 'none';
}

function periodStrength(hourly: SeasonalBaselineState, period: number): number | undefined {
  const slices = hourly.slices;
  const first = slices[0];
  const last = slices[slices.length - 1];
  if (!first || !last) return undefined;
  const hours = (last.hourStart - first.hourStart) / HOUR_MS + 1;
  if (hours < 3 * period) return undefined;
  const series = new Float64Array(hours).fill(Number.NaN);
  for (const s of slices) series[(s.hourStart - first.hourStart) / HOUR_MS] = s.median;
  // Centred moving average over one period (2×period MA for an even period: half weights at the ends).
  const half = period / 2;
  const detrended = new Float64Array(hours).fill(Number.NaN);
  for (let i = half; i < hours - half; i++) {
    let sum = 0;
    let ok = true;
    for (let j = -half; j <= half; j++) {
      const v = series[i + j] as number;
      if (Number.isNaN(v)) {
        ok = false;
        break;
      }
      sum += Math.abs(j) === half ? v / 2 : v;
    }
    if (ok) detrended[i] = (series[i] as number) - sum / period;
  }
  // Pearson correlation over the pairs (x_i, x_i+period) that exist: the textbook ACF divides by
  // the whole series' variance, which biases long lags towards 0 when history is short.
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i + period < hours; i++) {
    const a = detrended[i] as number;
    const b = detrended[i + period] as number;
    if (!Number.isNaN(a) && !Number.isNaN(b)) {
      xs.push(a);
      ys.push(b);
    }
  }
  if (xs.length < period) return undefined;
  const mx = xs.reduce((s, v) => s + v, 0) / xs.length;
  const my = ys.reduce((s, v) => s + v, 0) / ys.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  xs.forEach((x, i) => {
    const y = ys[i] as number;
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
    syy += (y - my) ** 2;
  });
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : undefined;
}

// -------------------------------------------------------------------------------------------------
// The detector

interface Recent {
  readonly t: number;
  readonly x: number;
  /** Its statistics joined the calibration history. */
  learned: boolean;
  /** It raised an alarm or fell in the episode after one. */
  episode: boolean;
  /** Last point of an episode after which the reference restarted from the episode. */
  restart: boolean;
}

export interface SeriesDetectorState {
  readonly version: 1;
  readonly cadenceMs: number;
  readonly seasonality: Seasonality;
  readonly sensitivity: Sensitivity;
  readonly probationPoints: number;
  readonly index: number;
  readonly hourPoints: TimedValue[];
  readonly hourly: SeasonalBaselineState;
  readonly activeSeasonality: 'none' | 'daily' | 'weekly';
  readonly seasonalityDecidedDay: number | null;
  /** Raw recent points (about a week), replayed when the seasonal model changes. */
  readonly recent: { t: number; x: number; learned: boolean; episode: boolean; restart: boolean }[];
  readonly reference: number[];
  readonly referenceDiffs: number[];
  readonly shortDiffs: number[];
  readonly prevY: number | null;
  readonly cusum: CusumState;
  readonly episode: {
    readonly alarmIndex: number;
    readonly kind: AnomalyKind;
    readonly endIndex: number;
    readonly ys: number[];
  } | null;
  /** Indices (into the stream) of points whose statistics wait for admission, with the statistics. */
  readonly pending: { readonly index: number; readonly stats: number[]; readonly recent: number }[];
  readonly calibration: number[][];
}

interface Episode {
  readonly alarmIndex: number;
  readonly kind: AnomalyKind;
  readonly endIndex: number;
  ys: number[];
}

/** A better name for an anomaly already reported, known once its episode is over. */
export interface KindRevision {
  readonly index: number;
  readonly kind: AnomalyKind;
}

interface Pending {
  readonly index: number;
  readonly stats: number[];
  readonly point: Recent;
}

export class SeriesDetector {
  readonly tuning: DetectorTuning;
  private readonly seasonality: Seasonality;
  private readonly sensitivity: Sensitivity;
  private readonly factor: number;
  private readonly probationPoints: number;

  private index = 0;
  private hourPoints: TimedValue[] = [];
  private hourly: SeasonalBaselineState = emptyBaseline({
    granularity: 'hour-of-week',
    windowDays: HISTORY_DAYS,
  });
  private activeSeasonality: 'none' | 'daily' | 'weekly' = 'none';
  private seasonalityDecidedDay: number | undefined;
  private offsets: number[] = [];
  private recent: Recent[] = [];
  private readonly reference: SortedWindow;
  private readonly referenceDiffs: SortedWindow;
  private shortDiffs: number[] = [];
  private prevY: number | undefined;
  private cusum: CusumState = initialCusum();
  private episode: Episode | undefined;
  private revision: KindRevision | undefined;
  private pending: Pending[] = [];
  private readonly calibration: SortedWindow[];

  constructor(cadenceMs: number, options: SeriesDetectorOptions = {}) {
    this.tuning = tuningFor(cadenceMs);
    this.seasonality = options.seasonality ?? 'auto';
    if (!SEASONALITIES.includes(this.seasonality)) {
      throw new RangeError(`seasonality must be one of ${SEASONALITIES.join(', ')}, got ${this.seasonality}`);
    }
    this.sensitivity = options.sensitivity ?? 'medium';
    this.factor = sensitivityFactor(this.sensitivity);
    this.probationPoints =
      options.probationPoints ?? Math.max(2 * this.tuning.minReferencePoints, Math.round(DAY_MS / cadenceMs));
    this.reference = new SortedWindow(this.tuning.referencePoints);
    this.referenceDiffs = new SortedWindow(this.tuning.referencePoints);
    this.calibration = STATS.map(() => new SortedWindow(this.tuning.calibrationPoints));
    if (this.seasonality === 'daily' || this.seasonality === 'weekly')
      this.activeSeasonality = this.seasonality;
  }

  /**
   * After an episode ends: if the spike or dip that opened it turned out to be a lasting step,
   * its better kind (level_shift_up / level_shift_down). Returned once; batch callers relabel.
   */
  takeRevision(): KindRevision | undefined {
    const r = this.revision;
    this.revision = undefined;
    return r;
  }

  /** The seasonality in use now (for 'auto', what the history has shown so far). */
  get currentSeasonality(): 'none' | 'daily' | 'weekly' {
    return this.activeSeasonality;
  }

  /** Scores the next point (timestamps must increase); returns the anomaly it raises, if any. */
  push(t: number, x: number): SeriesAnomaly | undefined {
    if (!Number.isFinite(t) || !Number.isFinite(x))
      throw new RangeError(`point must be finite, got (${t}, ${x})`);
    const last = this.recent[this.recent.length - 1];
    if (last && t <= last.t) throw new RangeError(`timestamps must increase: ${t} after ${last.t}`);
    const index = this.index++;
    this.advanceSeasonal(t);
    this.hourPoints.push({ t, v: x });
    const point: Recent = { t, x, learned: false, episode: false, restart: false };
    this.recent.push(point);
    if (this.recent.length > this.tuning.calibrationPoints) this.recent.shift();

    const offset = this.offsetAt(t);
    const y = x - offset;
    const diff = this.observeDiff(y);
    if (this.reference.size < this.tuning.minReferencePoints) {
      this.learn(y, diff);
      return undefined;
    }
    const { stats, cusum, center } = this.statistics(y);

    if (this.episode) {
      point.episode = true;
      this.episode.ys.push(y);
      if (index >= this.episode.endIndex) point.restart = this.closeEpisode();
      return undefined;
    }
    this.cusum = cusum;

    const alarm = this.strongest(stats);
    if (alarm) {
      point.episode = true;
      this.openEpisode(index, y, KIND_OF[alarm.stat]);
      // The alarm itself is remembered (once per episode): a pattern that recurs more often than
      // the tail fraction becomes the new "worst normal" and stops alarming.
      this.remember(point, stats);
      // Probation only mutes the report: episodes still reset the reference and the sums, so a
      // shift during warm-up does not leave a runaway CUSUM in the calibration.
      if (index >= this.probationPoints) {
        return {
          timestamp: t,
          index,
          kind: KIND_OF[alarm.stat],
          score: 1 - alarm.threshold / (2 * alarm.value),
          value: x,
          expected: center + offset,
          statistic: alarm.value,
          threshold: alarm.threshold,
        };
      }
      return undefined;
    }
    this.learn(y, diff);
    this.pending.push({ index, stats, point });
    while (
      this.pending.length > 0 &&
      (this.pending[0] as Pending).index <= index - this.tuning.admitDelayPoints
    ) {
      const p = this.pending.shift() as Pending;
      this.remember(p.point, p.stats);
    }
    return undefined;
  }

  /** Serialisable state (plain JSON): enough to resume exactly where this detector stopped. */
  snapshot(): SeriesDetectorState {
    const recentIndex = new Map(this.recent.map((r, i) => [r, i]));
    return {
      version: 1,
      cadenceMs: this.tuning.cadenceMs,
      seasonality: this.seasonality,
      sensitivity: this.sensitivity,
      probationPoints: this.probationPoints,
      index: this.index,
      hourPoints: this.hourPoints.map((p) => ({ ...p })),
      hourly: { ...this.hourly, slices: this.hourly.slices.map((s) => ({ ...s })) },
      activeSeasonality: this.activeSeasonality,
      seasonalityDecidedDay: this.seasonalityDecidedDay ?? null,
      recent: this.recent.map((r) => ({ ...r })),
      reference: this.reference.values(),
      referenceDiffs: this.referenceDiffs.values(),
      shortDiffs: [...this.shortDiffs],
      prevY: this.prevY ?? null,
      cusum: { ...this.cusum },
      episode: this.episode ? { ...this.episode, ys: [...this.episode.ys] } : null,
      // A pending point is always among the recent ones (admission waits less than the recent span).
      pending: this.pending.map((p) => ({
        index: p.index,
        stats: [...p.stats],
        recent: recentIndex.get(p.point) ?? -1,
      })),
      calibration: this.calibration.map((w) => w.values()),
    };
  }

  static restore(state: SeriesDetectorState): SeriesDetector {
    const d = new SeriesDetector(state.cadenceMs, {
      seasonality: state.seasonality,
      sensitivity: state.sensitivity,
      probationPoints: state.probationPoints,
    });
    d.index = state.index;
    d.hourPoints = state.hourPoints.map((p) => ({ ...p }));
    d.hourly = { ...state.hourly, slices: state.hourly.slices.map((s) => ({ ...s })) };
    d.activeSeasonality = state.activeSeasonality;
    d.seasonalityDecidedDay = state.seasonalityDecidedDay ?? undefined;
    d.rebuildOffsets();
    d.recent = state.recent.map((r) => ({ ...r }));
    for (const v of state.reference) d.reference.push(v);
    for (const v of state.referenceDiffs) d.referenceDiffs.push(v);
    d.shortDiffs = [...state.shortDiffs];
    d.prevY = state.prevY ?? undefined;
    d.cusum = { ...state.cusum };
    d.episode = state.episode ? { ...state.episode, ys: [...state.episode.ys] } : undefined;
    d.pending = state.pending.map((p) => ({
      index: p.index,
      stats: [...p.stats],
      point: d.recent[p.recent] ?? { t: 0, x: 0, learned: false, episode: false, restart: false },
    }));
    state.calibration.forEach((values, i) => {
      for (const v of values) d.calibration[i]?.push(v);
    });
    return d;
  }

  // --- seasonal profile ------------------------------------------------------------------------

  /** When a new clock hour starts, the finished hour becomes a slice and the profile is rebuilt. */
  private advanceSeasonal(t: number): void {
    const first = this.hourPoints[0];
    if (this.seasonality === 'none' || !first) return;
    if (Math.floor(first.t / HOUR_MS) === Math.floor(t / HOUR_MS)) return;
    this.hourly = updateBaseline(this.hourly, this.hourPoints);
    this.hourPoints = [];
    const before = this.activeSeasonality;
    const day = Math.floor(t / DAY_MS);
    if (this.seasonality === 'auto' && day !== this.seasonalityDecidedDay) {
      this.seasonalityDecidedDay = day;
      this.activeSeasonality = chooseSeasonality(this.hourly, this.activeSeasonality);
    }
    this.rebuildOffsets();
    if (this.activeSeasonality !== before) this.relearn();
  }

  private rebuildOffsets(): void {
    if (this.activeSeasonality === 'none') {
      this.offsets = [];
      return;
    }
    const p = PROFILE[this.activeSeasonality];
    const newest = this.hourly.slices[this.hourly.slices.length - 1]?.hourStart ?? 0;
    const state: SeasonalBaselineState = {
      ...this.hourly,
      granularity: p.granularity,
      windowDays: p.days,
      slices: this.hourly.slices.filter((s) => s.hourStart > newest - p.days * DAY_MS),
    };
    // Light smoothing (1-2-1 over neighbouring hours): each offset comes from a few days of data,
    // and its noise would otherwise feed the CUSUM as small persistent biases.
    const raw = seasonalOffsets(state, { minSlices: p.minSlices });
    const n = raw.length;
    const at = (i: number) => raw[(i + n) % n] as number;
    this.offsets = raw.map((o, i) => 0.25 * at(i - 1) + 0.5 * o + 0.25 * at(i + 1));
  }

  /**
   * The seasonal offset at t, interpolated linearly between the centres of neighbouring hour
   * buckets: a step at every full hour would leave a saw-tooth in the residuals of a smooth
   * cycle, which the CUSUM would read as small level shifts.
   */
  private offsetAt(t: number): number {
    const n = this.offsets.length;
    if (this.activeSeasonality === 'none' || n === 0) return 0;
    const granularity = PROFILE[this.activeSeasonality].granularity;
    // Position in buckets relative to the centre of the current hour (-0.5 .. 0.5).
    const frac = (t % HOUR_MS) / HOUR_MS - 0.5;
    const here = bucketOf(t, granularity);
    const there = (here + (frac >= 0 ? 1 : n - 1)) % n;
    const a = this.offsets[here] ?? 0;
    const b = this.offsets[there] ?? 0;
    return a + (b - a) * Math.abs(frac);
  }

  /**
   * The seasonal model changed, so every residual seen so far means something else: rebuild the
   * reference and the calibration by replaying the recent raw points under the new model, with
   * the same episodes (frozen reference, restarts) and the same points learned as the first time.
   */
  private relearn(): void {
    this.reference.clear();
    this.referenceDiffs.clear();
    for (const w of this.calibration) w.clear();
    this.shortDiffs = [];
    this.prevY = undefined;
    this.cusum = initialCusum();
    let held: { y: number; diff: number | undefined }[] = [];
    const feedHeld = (restart: boolean) => {
      if (restart) {
        this.reference.clear();
        this.referenceDiffs.clear();
      }
      for (const h of held) this.learn(h.y, h.diff);
      held = [];
      this.cusum = initialCusum();
    };
    this.recent.forEach((r, i) => {
      const y = r.x - this.offsetAt(r.t);
      const diff = this.observeDiff(y);
      if (this.reference.size >= this.tuning.minReferencePoints) {
        const { stats, cusum } = this.statistics(y);
        if (r.learned) this.calibrate(stats);
        if (!r.episode) this.cusum = cusum;
      }
      if (!r.episode) {
        this.learn(y, diff);
        return;
      }
      held.push({ y, diff });
      // An episode is its alarm (learned) plus the unlearned points after it.
      const next = this.recent[i + 1];
      if (next && !(next.episode && !next.learned)) feedHeld(r.restart);
    });
    const last = this.recent[this.recent.length - 1];
    if (this.episode) this.episode.ys = held.map((h) => h.y);
    else if (held.length > 0) feedHeld(last?.restart ?? false);
  }

  // --- reference and statistics ------------------------------------------------------------------

  private observeDiff(y: number): number | undefined {
    const diff = this.prevY === undefined ? undefined : Math.abs(y - this.prevY);
    this.prevY = y;
    if (diff !== undefined) {
      this.shortDiffs.push(diff);
      if (this.shortDiffs.length > this.tuning.shortPoints) this.shortDiffs.shift();
    }
    return diff;
  }

  private statistics(y: number): { stats: number[]; cusum: CusumState; center: number } {
    const center = this.reference.median();
    const scale = this.levelScale(center);
    const z = (y - center) / scale;
    // The CUSUM sees clipped z minus its own mean over the reference: zero drift on normal data
    // even when the noise is skewed (latency, bytes), where the median is not the mean.
    const clip = (v: number) => clamp((v - center) / scale, -CUSUM.clip, CUSUM.clip);
    const drift = this.reference.meanOf(clip);
    const cusum = cusumStep(this.cusum, (clip(y) - drift) / this.persistence(scale), CUSUM).state;
    const v = this.varianceLogRatio(scale);
    return { stats: [z, -z, cusum.pos, cusum.neg, v, -v], cusum, center };
  }

  /**
   * How much autocorrelation inflates a sum of z-scores, as a factor on sigma: sqrt((1+rho)/(1-rho))
   * for an AR(1)-like series, with rho estimated robustly from the reference (the spread of the
   * steps |Δy| against the spread of the levels: Var(Δy) = 2 Var(y) (1 - rho)). Dividing the CUSUM
   * input by it keeps a wandering CPU series from looking like a string of level shifts.
   */
  private persistence(scale: number): number {
    if (this.referenceDiffs.size < this.tuning.shortPoints) return 1;
    // median |Δ| of a zero-centred normal step is 0.6745 sigma.
    const stepSigma = this.referenceDiffs.median() / 0.6745;
    const rho = clamp(1 - stepSigma ** 2 / (2 * scale ** 2), 0, MAX_RHO);
    return Math.sqrt((1 + rho) / (1 - rho));
  }

  private learn(y: number, diff: number | undefined): void {
    this.reference.push(y);
    if (diff !== undefined) this.referenceDiffs.push(diff);
  }

  private remember(point: Recent, stats: readonly number[]): void {
    point.learned = true;
    this.calibrate(stats);
  }

  private calibrate(stats: readonly number[]): void {
    stats.forEach((s, i) => {
      this.calibration[i]?.push(s);
    });
  }

  /** Spread of the reference; never 0, so z stays finite on flat data. */
  private levelScale(center: number): number {
    const s = this.reference.scale();
    return s > 0 ? s : 1e-9 * Math.max(1, Math.abs(center));
  }

  /** log(typical |Δy| over the last hour / typical |Δy| in the reference). */
  private varianceLogRatio(levelScale: number): number {
    if (
      this.shortDiffs.length < this.tuning.shortPoints ||
      this.referenceDiffs.size < this.tuning.shortPoints
    )
      return 0;
    const eps = 1e-3 * levelScale;
    const now = typicalMagnitude(sortedCopy(this.shortDiffs));
    const before = typicalMagnitude(this.referenceDiffs);
    return Math.log((now + eps) / (before + eps));
  }

  private strongest(
    stats: readonly number[],
  ): { stat: StatName; value: number; threshold: number } | undefined {
    let best: { stat: StatName; value: number; threshold: number } | undefined;
    let bestRatio = 1;
    STATS.forEach((stat, i) => {
      const value = stats[i] as number;
      const rule = RULES[stat];
      const history = this.calibration[i] as SortedWindow;
      const worstNormal = history.kthLargest(Math.max(1, Math.ceil(history.size * TAIL_FRACTION)));
      const threshold =
        this.factor * Math.max(rule.floor, Number.isNaN(worstNormal) ? 0 : rule.margin * worstNormal);
      if (value > threshold && value / threshold > bestRatio) {
        best = { stat, value, threshold };
        bestRatio = value / threshold;
      }
    });
    return best;
  }

  // --- episodes ----------------------------------------------------------------------------------

  private openEpisode(index: number, y: number, kind: AnomalyKind): void {
    this.episode = { alarmIndex: index, kind, endIndex: index + this.tuning.refractoryPoints, ys: [y] };
    // What built up to this alarm is not normal: forget it.
    this.pending = [];
    this.cusum = initialCusum();
  }

  /** Keeps the reference if the episode looked like it, else restarts it from the episode (returns true). */
  private closeEpisode(): boolean {
    const episode = this.episode;
    const ys = episode?.ys ?? [];
    this.episode = undefined;
    this.cusum = initialCusum();
    const diffs = ys.slice(1).map((y, i) => Math.abs(y - (ys[i] as number)));
    const center = this.reference.median();
    const scale = this.levelScale(center);
    const signedLevelZ = (quantileSorted(sortedCopy(ys), 0.5) - center) / scale;
    const levelZ = Math.abs(signedLevelZ);
    const before = typicalMagnitude(this.referenceDiffs);
    const after = typicalMagnitude(sortedCopy(diffs));
    const eps = 1e-3 * scale;
    const ratio = (after + eps) / (before + eps);
    const moved = levelZ > REVIEW_LEVEL_Z || ratio > REVIEW_SCALE_RATIO || ratio < 1 / REVIEW_SCALE_RATIO;
    if (moved) {
      this.reference.clear();
      this.referenceDiffs.clear();
    }
    // With hindsight, a spike (dip) whose level stayed up (down) for the episode was a step.
    if (episode?.kind === 'spike' && signedLevelZ > REVIEW_LEVEL_Z) {
      this.revision = { index: episode.alarmIndex, kind: 'level_shift_up' };
    } else if (episode?.kind === 'dip' && signedLevelZ < -REVIEW_LEVEL_Z) {
      this.revision = { index: episode.alarmIndex, kind: 'level_shift_down' };
    }
    ys.forEach((y, i) => {
      this.learn(y, i === 0 ? undefined : diffs[i - 1]);
    });
    return moved;
  }
}

/** Typical size of non-negative magnitudes: the median, or a higher quantile when most are 0. */
function typicalMagnitude(sorted: ArrayLike<number> | SortedWindow): number {
  const q = (p: number) => (sorted instanceof SortedWindow ? sorted.quantile(p) : quantileSorted(sorted, p));
  for (const p of [0.5, 0.75, 0.9, 1]) {
    const v = q(p);
    if (v > 0) return v;
  }
  return 0;
}

export interface DetectOptions extends SeriesDetectorOptions {
  /** @default the median spacing of the points */
  readonly cadenceMs?: number;
}

/**
 * Runs the detector over a whole series (sorted by time, unique timestamps) and returns its
 * anomalies in time order. Probation defaults to 15 % of the series (at most 750 points).
 * Detection is online; only the kind may use hindsight: a spike or dip whose episode stayed at
 * the new level is reported as a level shift (same timestamp, same score).
 */
export function detectSeriesAnomalies(
  points: readonly TimedValue[],
  options: DetectOptions = {},
): SeriesAnomaly[] {
  if (points.length < 2) return [];
  const cadenceMs = options.cadenceMs ?? inferCadence(points);
  const detector = new SeriesDetector(cadenceMs, {
    ...options,
    probationPoints: options.probationPoints ?? defaultProbation(points.length, cadenceMs),
  });
  const anomalies: SeriesAnomaly[] = [];
  for (const p of points) {
    const a = detector.push(p.t, p.v);
    if (a) anomalies.push(a);
    const revision = detector.takeRevision();
    const last = anomalies[anomalies.length - 1];
    if (revision && last?.index === revision.index)
      anomalies[anomalies.length - 1] = { ...last, kind: revision.kind };
  }
  return anomalies;
}
