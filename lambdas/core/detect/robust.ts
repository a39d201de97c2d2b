/**
 * Robust statistics: median and MAD instead of mean and standard deviation, so that the outliers
 * we are looking for do not inflate the baseline they are judged against.
 *
 * Empty input yields NaN (there is no answer); callers decide what "not enough data" means.
 */

/** MAD × 1.4826 estimates the standard deviation of normally distributed data. */
export const MAD_TO_SIGMA = 1.4826;

export function sortedCopy(values: Iterable<number>): Float64Array {
  // Float64Array sorts numerically (Array#sort would compare strings).
  return Float64Array.from(values).sort();
}

/** Quantile of already sorted data, linear interpolation between order statistics (R type 7). */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`quantile p must be in [0, 1], got ${p}`);
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (h - lo) * (b - a);
}

export function quantile(values: Iterable<number>, p: number): number {
  return quantileSorted(sortedCopy(values), p);
}

export function median(values: Iterable<number>): number {
  return quantileSorted(sortedCopy(values), 0.5);
}

/** Median absolute deviation around the median, scaled to estimate sigma (× 1.4826). */
export function mad(values: Iterable<number>): number {
  return madSorted(sortedCopy(values));
}

/**
 * MAD of sorted data in O(n): the absolute deviations left of the median and right of it are each
 * already ordered, so merging them from the centre outwards yields the deviations in order.
 */
export function madSorted(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const m = quantileSorted(sorted, 0.5);
  let right = upperBound(sorted, m); // first index with value > m
  let left = right - 1; // values <= m, walking down
  const need = Math.floor(n / 2); // index of the (upper) middle deviation
  let prev = 0;
  let cur = 0;
  for (let i = 0; i <= need; i++) {
    prev = cur;
    const dl = left >= 0 ? m - (sorted[left] as number) : Number.POSITIVE_INFINITY;
    const dr = right < n ? (sorted[right] as number) - m : Number.POSITIVE_INFINITY;
    if (dl <= dr) {
      cur = dl;
      left--;
    } else {
      cur = dr;
      right++;
    }
  }
  const middle = n % 2 === 1 ? cur : (prev + cur) / 2;
  return middle * MAD_TO_SIGMA;
}

export interface RobustStats {
  readonly n: number;
  readonly median: number;
  /** Scaled MAD (sigma-equivalent). */
  readonly mad: number;
}

export function robustStats(values: Iterable<number>): RobustStats {
  const sorted = sortedCopy(values);
  return { n: sorted.length, median: quantileSorted(sorted, 0.5), mad: madSorted(sorted) };
}

/**
 * Weighted median: the smallest value at which the cumulative weight reaches half the total.
 * Used to pool per-slice medians (each weighted by its point count) without keeping the points.
 */
export function weightedMedian(values: readonly number[], weights: readonly number[]): number {
  if (values.length !== weights.length) throw new RangeError('weightedMedian needs one weight per value');
  const idx = values.map((_, i) => i).filter((i) => (weights[i] as number) > 0);
  if (idx.length === 0) return Number.NaN;
  idx.sort((a, b) => (values[a] as number) - (values[b] as number));
  const total = idx.reduce((s, i) => s + (weights[i] as number), 0);
  let cum = 0;
  for (const i of idx) {
    cum += weights[i] as number;
    if (cum >= total / 2) return values[i] as number;
  }
  return values[idx[idx.length - 1] as number] as number;
}

/**
 * A sigma-equivalent spread that stays positive for quantised or mostly constant data, where the
 * MAD is 0 (CPU stuck at 0 %, a counter that rarely moves): it falls back to successively wider
 * quantile ranges, each divided by its width in normal sigmas. Only all-equal data gives 0.
 */
export function robustScaleSorted(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const m = madSorted(sorted);
  if (m > 0) return m;
  // [lower p, upper p, width of that range in sigmas of a normal distribution]
  const ranges: ReadonlyArray<readonly [number, number, number]> = [
    [0.25, 0.75, 1.349],
    [0.1, 0.9, 2.563],
    [0.025, 0.975, 3.92],
    [0, 1, 6],
  ];
  for (const [lo, hi, sigmas] of ranges) {
    const width = quantileSorted(sorted, hi) - quantileSorted(sorted, lo);
    if (width > 0) return width / sigmas;
  }
  return 0;
}

/**
 * (value - center) / scale. A zero scale gives 0 for the center itself and ±Infinity otherwise:
 * callers that need a finite score pass a floor.
 */
export function robustZ(value: number, center: number, scale: number, floor = 0): number {
  const s = Math.max(scale, floor);
  const d = value - center;
  if (s > 0) return d / s;
  if (d === 0) return 0;
  return d > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
}

/** Index of the first element > x in sorted data. */
function upperBound(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element >= x in sorted data. */
function lowerBound(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The last `capacity` values, kept both in arrival order and sorted, so rolling medians, MADs and
 * quantiles cost O(capacity) per update instead of a sort. Serialises as its values in arrival
 * order (`values()`), which is all that is needed to rebuild it.
 */
export class SortedWindow {
  private readonly sorted: number[] = [];
  private readonly order: number[] = [];

  constructor(
    readonly capacity: number,
    initial: Iterable<number> = [],
  ) {
    if (!(Number.isInteger(capacity) && capacity > 0)) {
      throw new RangeError(`SortedWindow capacity must be a positive integer, got ${capacity}`);
    }
    for (const v of initial) this.push(v);
  }

  get size(): number {
    return this.order.length;
  }

  /** Adds a value, evicting the oldest when full. NaN is rejected: it has no place in an order. */
  push(value: number): void {
    if (Number.isNaN(value)) throw new RangeError('SortedWindow cannot hold NaN');
    if (this.order.length === this.capacity) {
      const oldest = this.order.shift() as number;
      this.sorted.splice(lowerBound(this.sorted, oldest), 1);
    }
    this.order.push(value);
    this.sorted.splice(upperBound(this.sorted, value), 0, value);
  }

  clear(): void {
    this.order.length = 0;
    this.sorted.length = 0;
  }

  /** Values in arrival order, oldest first. */
  values(): number[] {
    return [...this.order];
  }

  quantile(p: number): number {
    return quantileSorted(this.sorted, p);
  }

  median(): number {
    return quantileSorted(this.sorted, 0.5);
  }

  mad(): number {
    return madSorted(this.sorted);
  }

  scale(): number {
    return robustScaleSorted(this.sorted);
  }

  /** Mean of f(value) over the window (e.g. a clipped mean); NaN when empty. */
  meanOf(f: (value: number) => number): number {
    if (this.order.length === 0) return Number.NaN;
    let sum = 0;
    for (const v of this.order) sum += f(v);
    return sum / this.order.length;
  }

  /** The k-th largest value (k = 1 is the maximum); NaN when the window holds fewer than k. */
  kthLargest(k: number): number {
    const i = this.sorted.length - k;
    return i >= 0 && k >= 1 ? (this.sorted[i] as number) : Number.NaN;
  }
}
