import { z } from 'zod';
import { DAY_MS, HOUR_MS } from '../time';
import { MAD_TO_SIGMA, median, robustStats, robustZ, weightedMedian } from './robust';

/**
 * A robust seasonal baseline: what a signal normally looks like at this hour of the day or of the
 * week, so that the weekday retrain peak is normal on Tuesday at 03:00 and anomalous on Sunday.
 *
 * The state keeps one summary (n, median, MAD) per observed clock hour ("slice") for the last
 * `windowDays`, never the points: for hour-of-week over 7 days that is at most 168 slices, small
 * enough to read and write once per run. A bucket (e.g. "Tuesday 03:00") pools the slices of that
 * hour; when it has too few, the estimate falls back to the pooled slices of all hours.
 *
 *   slices:   |Mon 00|Mon 01| ... |Tue 03| ... |Sun 23|   one per clock hour seen, pruned after windowDays
 *   bucket:   Tue 03  <- slices of every Tuesday 03:00 in the window
 *   global:   all slices (fallback)
 */

export const SEASONAL_GRANULARITIES = ['hour-of-day', 'hour-of-week'] as const;
export type SeasonalGranularity = (typeof SEASONAL_GRANULARITIES)[number];

export const BUCKET_COUNT: Readonly<Record<SeasonalGranularity, number>> = {
  'hour-of-day': 24,
  'hour-of-week': 168,
};

export interface TimedValue {
  /** Epoch ms. */
  readonly t: number;
  readonly v: number;
}

export const baselineSliceSchema = z.strictObject({
  /** Start of the clock hour, epoch ms. */
  hourStart: z.int(),
  n: z.int().min(1),
  median: z.number(),
  /** Scaled MAD (sigma-equivalent). */
  mad: z.number().min(0),
});
export type BaselineSlice = z.output<typeof baselineSliceSchema>;

export const seasonalBaselineStateSchema = z.strictObject({
  version: z.literal(1),
  granularity: z.enum(SEASONAL_GRANULARITIES),
  windowDays: z.number().positive(),
  /** Sorted by hourStart, at most one per hour. */
  slices: z.array(baselineSliceSchema),
});
export type SeasonalBaselineState = z.output<typeof seasonalBaselineStateSchema>;

export interface BaselineOptions {
  /** @default 'hour-of-week' */
  readonly granularity?: SeasonalGranularity;
  /** @default 7 - the rolling window the issue asks for; longer gives each hour-of-week bucket more weeks */
  readonly windowDays?: number;
}

export function emptyBaseline(options: BaselineOptions = {}): SeasonalBaselineState {
  const windowDays = options.windowDays ?? 7;
  if (!(windowDays > 0)) throw new RangeError(`windowDays must be > 0, got ${windowDays}`);
  return { version: 1, granularity: options.granularity ?? 'hour-of-week', windowDays, slices: [] };
}

/** Bucket index: hour of the UTC day (0-23) or hour of the UTC week with Monday 00:00 = 0. */
export function bucketOf(t: number, granularity: SeasonalGranularity): number {
  const hour = Math.floor(t / HOUR_MS);
  const count = BUCKET_COUNT[granularity];
  // 1970-01-01 (epoch hour 0) was a Thursday, 72 hours after Monday 00:00.
  const offset = granularity === 'hour-of-week' ? 72 : 0;
  return (((hour + offset) % count) + count) % count;
}

/**
 * Adds points to the baseline and drops slices older than the window (measured from the newest
 * slice, not a clock). Points of an hour that already has a slice are merged approximately
 * (n-weighted median and pooled spread); the merge is exact when an hour arrives in one call.
 */
export function updateBaseline(
  state: SeasonalBaselineState,
  points: readonly TimedValue[],
): SeasonalBaselineState {
  const byHour = new Map<number, number[]>();
  for (const p of points) {
    if (!Number.isFinite(p.v) || !Number.isFinite(p.t)) continue;
    const hourStart = Math.floor(p.t / HOUR_MS) * HOUR_MS;
    const list = byHour.get(hourStart);
    if (list) list.push(p.v);
    else byHour.set(hourStart, [p.v]);
  }
  const slices = new Map<number, BaselineSlice>(state.slices.map((s) => [s.hourStart, s]));
  for (const [hourStart, values] of byHour) {
    const stats = robustStats(values);
    const fresh: BaselineSlice = { hourStart, n: stats.n, median: stats.median, mad: stats.mad };
    const old = slices.get(hourStart);
    slices.set(hourStart, old ? mergeSlices(old, fresh) : fresh);
  }
  const sorted = [...slices.values()].sort((a, b) => a.hourStart - b.hourStart);
  const newest = sorted[sorted.length - 1]?.hourStart;
  const cutoff = newest === undefined ? Number.NEGATIVE_INFINITY : newest - state.windowDays * DAY_MS;
  return { ...state, slices: sorted.filter((s) => s.hourStart > cutoff) };
}

export function baselineFromPoints(
  points: readonly TimedValue[],
  options: BaselineOptions = {},
): SeasonalBaselineState {
  return updateBaseline(emptyBaseline(options), points);
}

function mergeSlices(a: BaselineSlice, b: BaselineSlice): BaselineSlice {
  const n = a.n + b.n;
  const m = (a.n * a.median + b.n * b.median) / n;
  // Law of total variance with robust stand-ins: within-part spread plus the gap between parts.
  const variance = (a.n * (a.mad ** 2 + (a.median - m) ** 2) + b.n * (b.mad ** 2 + (b.median - m) ** 2)) / n;
  return { hourStart: a.hourStart, n, median: m, mad: Math.sqrt(variance) };
}

export interface BaselineEstimate {
  readonly median: number;
  /** Sigma-equivalent spread: typical within-hour MAD combined with the spread between occurrences. */
  readonly mad: number;
  /** Points behind the estimate. */
  readonly n: number;
  /** Slices (clock hours) behind the estimate. */
  readonly slices: number;
  readonly source: 'bucket' | 'global';
}

export interface EstimateOptions {
  /** Fewer slices than this in the bucket → global fallback. @default 1 */
  readonly minSlices?: number;
  /** Fewer points than this in the bucket → global fallback. @default 3 */
  readonly minPoints?: number;
}

/** Pools slices: weighted median of their medians; spread = √(median within-MAD² + MAD of medians²). */
export function pool(
  slices: readonly BaselineSlice[],
  source: BaselineEstimate['source'],
): BaselineEstimate | undefined {
  if (slices.length === 0) return undefined;
  const medians = slices.map((s) => s.median);
  const n = slices.reduce((acc, s) => acc + s.n, 0);
  const within = weightedMedian(
    slices.map((s) => s.mad ** 2),
    slices.map((s) => s.n),
  );
  const center = weightedMedian(
    medians,
    slices.map((s) => s.n),
  );
  const between = slices.length > 1 ? median(medians.map((m) => Math.abs(m - center))) * MAD_TO_SIGMA : 0;
  return { median: center, mad: Math.sqrt(within + between ** 2), n, slices: slices.length, source };
}

/** The baseline for time t: its bucket when that has enough data, else all hours pooled. */
export function expectedAt(
  state: SeasonalBaselineState,
  t: number,
  options: EstimateOptions = {},
): BaselineEstimate | undefined {
  const bucket = bucketOf(t, state.granularity);
  const inBucket = state.slices.filter((s) => bucketOf(s.hourStart, state.granularity) === bucket);
  const points = inBucket.reduce((acc, s) => acc + s.n, 0);
  if (inBucket.length >= (options.minSlices ?? 1) && points >= (options.minPoints ?? 3)) {
    return pool(inBucket, 'bucket');
  }
  return globalBaseline(state);
}

export function globalBaseline(state: SeasonalBaselineState): BaselineEstimate | undefined {
  return pool(state.slices, 'global');
}

/**
 * Per-bucket expected values for a whole cycle at once (index = bucket), with undefined where the
 * bucket falls back; cheaper than expectedAt per point when scoring a long series.
 */
export function bucketProfile(
  state: SeasonalBaselineState,
  options: EstimateOptions = {},
): (BaselineEstimate | undefined)[] {
  const groups: BaselineSlice[][] = Array.from({ length: BUCKET_COUNT[state.granularity] }, () => []);
  for (const s of state.slices) groups[bucketOf(s.hourStart, state.granularity)]?.push(s);
  return groups.map((g) => {
    const points = g.reduce((acc, s) => acc + s.n, 0);
    return g.length >= (options.minSlices ?? 1) && points >= (options.minPoints ?? 3)
      ? pool(g, 'bucket')
      : undefined;
  });
}

/**
 * The seasonal shape alone, per bucket: how far that hour typically sits above or below the level
 * of the cycle around it (a centred moving median over one period of slice medians), centred so
 * the typical bucket is 0. Unlike raw bucket medians this survives a level shift inside the
 * window, because the hours after the shift carry their own local level; a median rather than a
 * mean keeps an incident hour from dragging its neighbours. Buckets with fewer than `minSlices`
 * usable hours get 0 (no seasonal correction).
 *
 *   slice medians:  ..._/^\_..._/^\_...      local level: median over ±period/2 around each hour
 *   deviation = slice median - local level;   offset(bucket) = median of its deviations
 */
export function seasonalOffsets(
  state: SeasonalBaselineState,
  options: { minSlices?: number } = {},
): number[] {
  const period = BUCKET_COUNT[state.granularity];
  const half = period / 2;
  const byHour = new Map(state.slices.map((s) => [s.hourStart, s.median]));
  const deviations: number[][] = Array.from({ length: period }, () => []);
  for (const s of state.slices) {
    // Needs both ends of the cycle around it and most hours in between, else the local level
    // is biased by the shape.
    if (!byHour.has(s.hourStart - half * HOUR_MS) || !byHour.has(s.hourStart + half * HOUR_MS)) continue;
    const around: number[] = [];
    for (let j = -half; j <= half; j++) {
      const m = byHour.get(s.hourStart + j * HOUR_MS);
      if (m !== undefined) around.push(m);
    }
    if (around.length < 0.8 * (period + 1)) continue;
    deviations[bucketOf(s.hourStart, state.granularity)]?.push(s.median - median(around));
  }
  const raw = deviations.map((d) => (d.length >= (options.minSlices ?? 1) ? median(d) : undefined));
  const defined = raw.filter((o): o is number => o !== undefined);
  const center = defined.length > 0 ? median(defined) : 0;
  return raw.map((o) => (o === undefined ? 0 : o - center));
}

/** Robust z of a value against the baseline for its time; undefined while the baseline is empty. */
export function seasonalZ(
  state: SeasonalBaselineState,
  t: number,
  value: number,
  options: EstimateOptions = {},
): { z: number; estimate: BaselineEstimate } | undefined {
  const estimate = expectedAt(state, t, options);
  if (!estimate) return undefined;
  // A perfectly flat history has zero spread; a tiny relative floor keeps z finite but large.
  const floor = 1e-9 * Math.max(1, Math.abs(estimate.median));
  return { z: robustZ(value, estimate.median, estimate.mad, floor), estimate };
}

// -------------------------------------------------------------------------------------------------
// Cohorts: one baseline per instance type × workload class × signal, all kept in one state object.

export interface Cohort {
  readonly instanceType: string;
  readonly workloadClass: string;
  readonly signal: string;
}

export function cohortKey(c: Cohort): string {
  for (const [name, part] of Object.entries(c)) {
    if (part.length === 0 || part.includes('|')) {
      throw new RangeError(
        `cohort ${name} must be non-empty and contain no "|", got ${JSON.stringify(part)}`,
      );
    }
  }
  return `${c.instanceType}|${c.workloadClass}|${c.signal}`;
}

export const cohortBaselinesSchema = z.record(z.string().min(1), seasonalBaselineStateSchema);
export type CohortBaselines = Readonly<Record<string, SeasonalBaselineState>>;

export function updateCohort(
  baselines: CohortBaselines,
  key: string,
  points: readonly TimedValue[],
  options: BaselineOptions = {},
): CohortBaselines {
  const current = Object.hasOwn(baselines, key) ? baselines[key] : undefined;
  return { ...baselines, [key]: updateBaseline(current ?? emptyBaseline(options), points) };
}
