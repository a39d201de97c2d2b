import { sortedCopy } from '../robust';

/**
 * Distribution distances for drift: PSI (population stability index) over categories or over
 * quantile bins of the baseline, and the two-sample Kolmogorov–Smirnov test for numeric values.
 *
 * PSI = Σ (recent_i − baseline_i) · ln(recent_i / baseline_i) over bin proportions. Every term is
 * ≥ 0 (both factors share a sign), so PSI ≥ 0 and is 0 only for equal proportions. Rules of thumb:
 * < 0.1 stable, 0.1–0.2 moderate, > 0.2 significant shift.
 */

/**
 * An empty bin would make ln(·) infinite, so proportions are floored at PSI_EPSILON. 1e-4 keeps a
 * category that is new in the recent data (0 % in the baseline, say 5 % now) loud — it adds
 * 0.05 · ln(0.05 / 1e-4) ≈ 0.31 — without letting one stray value dominate: 1 in 2,000 adds ≈ 0.0006.
 */
export const PSI_EPSILON = 1e-4;

/** Ten quantile bins: the usual PSI choice; fewer hides shape changes, more makes PSI noisy. */
export const DEFAULT_PSI_BINS = 10;

/** PSI between two count vectors over the same bins. */
export function psiFromCounts(
  baseline: readonly number[],
  recent: readonly number[],
  epsilon = PSI_EPSILON,
): number {
  if (baseline.length !== recent.length)
    throw new RangeError('psiFromCounts needs the same bins on both sides');
  const nb = sum(baseline);
  const nr = sum(recent);
  if (nb === 0 || nr === 0) return Number.NaN;
  let psi = 0;
  for (let i = 0; i < baseline.length; i++) {
    const e = Math.max((baseline[i] as number) / nb, epsilon);
    const a = Math.max((recent[i] as number) / nr, epsilon);
    psi += (a - e) * Math.log(a / e);
  }
  return psi;
}

/**
 * Interior bin edges at the baseline's quantiles, duplicates removed: a feature with many ties (a
 * flag that is 0 for 90 % of rows) gets fewer, wider bins rather than empty ones.
 */
export function quantileBinEdges(baseline: Iterable<number>, bins = DEFAULT_PSI_BINS): number[] {
  if (!(Number.isInteger(bins) && bins >= 2))
    throw new RangeError(`bins must be an integer ≥ 2, got ${bins}`);
  const sorted = sortedCopy(baseline);
  if (sorted.length === 0) return [];
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    // An order statistic, not an interpolated quantile: between two tied runs interpolation would
    // put an edge where no baseline value lies, i.e. an empty bin.
    const q = sorted[Math.max(0, Math.ceil((i / bins) * sorted.length) - 1)] as number;
    if (edges.length === 0 || q > (edges[edges.length - 1] as number)) edges.push(q);
  }
  // An edge at the maximum would leave the top bin empty by construction.
  const max = sorted[sorted.length - 1] as number;
  if (edges.length > 0 && (edges[edges.length - 1] as number) >= max) edges.pop();
  return edges;
}

/** Counts per bin: bin i holds edges[i−1] < v ≤ edges[i]; the last bin everything above. */
export function binCounts(values: Iterable<number>, edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of values) {
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((edges[mid] as number) < v) lo = mid + 1;
      else hi = mid;
    }
    counts[lo] = (counts[lo] as number) + 1;
  }
  return counts;
}

/** PSI of numeric values over quantile bins of the baseline. */
export function psiNumeric(
  baseline: readonly number[],
  recent: readonly number[],
  bins = DEFAULT_PSI_BINS,
  epsilon = PSI_EPSILON,
): number {
  const edges = quantileBinEdges(baseline, bins);
  return psiFromCounts(binCounts(baseline, edges), binCounts(recent, edges), epsilon);
}

/** PSI of categorical values over the union of categories seen on either side. */
export function psiCategorical(
  baseline: readonly string[],
  recent: readonly string[],
  epsilon = PSI_EPSILON,
): number {
  const b = tally(baseline);
  const r = tally(recent);
  const categories = [...new Set([...b.keys(), ...r.keys()])];
  return psiFromCounts(
    categories.map((c) => b.get(c) ?? 0),
    categories.map((c) => r.get(c) ?? 0),
    epsilon,
  );
}

export interface KsResult {
  /** Largest distance between the two empirical CDFs, in [0, 1]. */
  readonly d: number;
  /** Asymptotic p-value of D under "same distribution". */
  readonly p: number;
}

/** Two-sample Kolmogorov–Smirnov statistic. Ties are stepped over together on both sides. */
export function ksStatistic(a: Iterable<number>, b: Iterable<number>): number {
  const x = sortedCopy(a);
  const y = sortedCopy(b);
  const n = x.length;
  const m = y.length;
  if (n === 0 || m === 0) return Number.NaN;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const v = Math.min(x[i] as number, y[j] as number);
    while (i < n && (x[i] as number) === v) i++;
    while (j < m && (y[j] as number) === v) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  return d;
}

/**
 * P(D ≥ d) from the Kolmogorov distribution with the small-sample correction of Stephens (1970),
 * as in Numerical Recipes: λ = (√nₑ + 0.12 + 0.11/√nₑ)·d, nₑ = nm/(n+m),
 * Q(λ) = 2 Σₖ (−1)^(k−1) e^(−2k²λ²). Good to a few percent from n ≈ 20 on, which is all a
 * threshold at p = 0.01 needs.
 */
export function ksPValue(d: number, n: number, m: number): number {
  if (!(n > 0 && m > 0) || Number.isNaN(d)) return Number.NaN;
  const en = Math.sqrt((n * m) / (n + m));
  const lambda = (en + 0.12 + 0.11 / en) * d;
  // The series converges slowly near 0, where the answer is 1 to many digits anyway.
  if (lambda < 0.2) return 1;
  let q = 0;
  for (let k = 1; k <= 100; k++) {
    const term = (k % 2 === 1 ? 2 : -2) * Math.exp(-2 * k * k * lambda * lambda);
    q += term;
    if (Math.abs(term) < 1e-12) break;
  }
  return Math.min(1, Math.max(0, q));
}

export function ksTest(a: readonly number[], b: readonly number[]): KsResult {
  const d = ksStatistic(a, b);
  return { d, p: ksPValue(d, a.length, b.length) };
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

function tally(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}
