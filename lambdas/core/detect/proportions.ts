/**
 * Comparing two failure proportions observed over the same window (a canary analysis): is the
 * cohort's rate higher than the rest of the fleet's, beyond what chance explains?
 *
 * Fisher's exact test, one-sided ("greater"), on the 2×2 table
 *
 *                 failed    not failed
 *   cohort          a         n1 - a
 *   rest            c         n2 - c
 *
 * p = P(X ≥ a) for X hypergeometric (N = n1 + n2 jobs, K = a + c failures, n1 drawn). Exact at
 * the small counts a fresh rollout has (a handful of failures), where the normal approximation of
 * the two-proportion z-test is poor; cost O(min(n1, K)) terms, fine at a 6 h window of the
 * reference fleet (~9,000 jobs).
 */

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; ~1e-13 relative accuracy). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0] as number;
  const t = z + g + 0.5;
  for (let i = 1; i < g + 2; i++) a += (c[i] as number) / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** ln C(n, k). */
export function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/**
 * One-sided Fisher exact p-value that the first group's failure proportion is greater than the
 * second's: P(X ≥ failed1). 1 when either group is empty (nothing can be concluded).
 */
export function fisherGreaterP(failed1: number, n1: number, failed2: number, n2: number): number {
  if (n1 <= 0 || n2 <= 0) return 1;
  const total = n1 + n2;
  const failures = failed1 + failed2;
  const hi = Math.min(n1, failures);
  const logDenominator = logChoose(total, n1);
  let p = 0;
  for (let k = failed1; k <= hi; k++) {
    p += Math.exp(logChoose(failures, k) + logChoose(total - failures, n1 - k) - logDenominator);
  }
  return Math.min(1, Math.max(0, p));
}
