import type { JobProgressSource, ProgressQuery } from '../../core/ports';

/**
 * In-memory progress signal: datapoint times per job and metric name. Answers like the
 * CloudWatch-backed source: times of any of the queried metric names in [startMs, endMs),
 * ascending, keyed by `<region>#<jobName>`, [] for a job with none.
 */
export class InMemoryProgressSource implements JobProgressSource {
  private readonly points = new Map<string, Map<string, number[]>>();
  calls: { queries: readonly ProgressQuery[]; startMs: number; endMs: number }[] = [];
  failWith: Error | undefined;

  /** Records datapoints of one job's metric. */
  add(region: string, jobName: string, metricName: string, times: readonly number[]): this {
    const key = `${region}#${jobName}`;
    const byMetric = this.points.get(key) ?? new Map<string, number[]>();
    byMetric.set(metricName, [...(byMetric.get(metricName) ?? []), ...times]);
    this.points.set(key, byMetric);
    return this;
  }

  async progressTimestamps(
    queries: readonly ProgressQuery[],
    startMs: number,
    endMs: number,
  ): Promise<Map<string, number[]>> {
    this.calls.push({ queries, startMs, endMs });
    if (this.failWith) throw this.failWith;
    const out = new Map<string, number[]>();
    for (const q of queries) {
      const key = `${q.region}#${q.jobName}`;
      const byMetric = this.points.get(key);
      const times = new Set<number>();
      for (const name of q.metricNames) {
        for (const t of byMetric?.get(name) ?? []) if (t >= startMs && t < endMs) times.add(t);
      }
      out.set(
        key,
        [...times].sort((a, b) => a - b),
      );
    }
    return out;
  }
}
