/**
 * Small statistics for the benchmarks (pure). Percentiles use the nearest-rank definition: the
 * p-th percentile is a value that was actually observed (no interpolation between two runs), so a
 * reported p95 latency is the latency of a real run, and p95 <= 900 s means at least 95 % of the
 * detected runs notified within 15 minutes.
 */

/** Nearest-rank percentile of `values` (any order); undefined for an empty list. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile: p must be within 0..100, got ${p}`);
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export interface LatencyStats {
  readonly runs: number;
  readonly detected: number;
  /** detected / runs in percent, one decimal. */
  readonly detectedPercent: number;
  readonly p50Seconds?: number;
  readonly p95Seconds?: number;
  readonly maxSeconds?: number;
  /** p95 <= limit, over the detected runs; false when nothing was detected. */
  readonly meetsLimit: boolean;
}

/**
 * Summarises the latencies of runs of one fault kind. `latencies` holds one entry per run: the
 * latency in seconds, or null when that run did not detect the fault (it counts in `runs` and
 * lowers `detectedPercent`, it is never dropped).
 */
export function latencyStats(latencies: readonly (number | null)[], limitSeconds: number): LatencyStats {
  const seen = latencies.filter((l): l is number => l !== null);
  const p95 = percentile(seen, 95);
  return {
    runs: latencies.length,
    detected: seen.length,
    detectedPercent: latencies.length === 0 ? 0 : Math.round((seen.length / latencies.length) * 1000) / 10,
    ...(seen.length === 0
      ? {}
      : { p50Seconds: percentile(seen, 50), p95Seconds: p95, maxSeconds: Math.max(...seen) }),
    meetsLimit: p95 !== undefined && p95 <= limitSeconds,
  };
}

/** Counts of each distinct value, most frequent first, as "value ×n" (e.g. severities seen). */
export function tally(values: readonly (string | null)[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v ?? 'none', (counts.get(v ?? 'none') ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([v, n]) => `${v} ×${n}`)
    .join(', ');
}
