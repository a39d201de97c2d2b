import {
  type CloudWatchClient,
  type Dimension,
  GetMetricDataCommand,
  type GetMetricDataOutput,
  ListMetricsCommand,
  type ListMetricsOutput,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import type {
  FetchRequest,
  FetchResult,
  ListSeriesRequest,
  MetricQuery,
  MetricSource,
  SeriesData,
  SeriesRef,
} from '../../core/ports';
import { backoffMs, isThrottling, isTransient, sleepFor } from '../aws-retry';

/**
 * MetricSource over CloudWatch: ListMetrics for discovery, GetMetricData for values.
 *
 * - GetMetricData takes at most 500 queries per call and is billed per metric requested per call,
 *   NextToken pages included; `metricsRequested` counts exactly that.
 * - Throttling (50 TPS per region) and 5xx/network errors (classified by ../aws-retry) are retried
 *   with exponential backoff and jitter (aws-retry's shared policy), on top of the SDK's own short retries, because a collector run can afford to wait
 *   seconds while a failed run costs a backfill.
 */
export const MAX_QUERIES_PER_CALL = 500;

export interface CloudWatchMetricSourceOptions {
  /** Attempts per API call, including the first. @default 5 */
  readonly maxAttempts?: number;
  /** First backoff ceiling; doubles per attempt, capped at maxDelayMs. @default 200 */
  readonly baseDelayMs?: number;
  /** @default 10_000 */
  readonly maxDelayMs?: number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Uniform [0, 1) for jitter. @default Math.random */
  readonly random?: () => number;
  /** GetMetricData batches in flight at once per fetch. @default 4 */
  readonly concurrency?: number;
  /** Told about every retry (the wiring counts them as ApiThrottled). */
  readonly onRetry?: (retry: RetryInfo) => void;
}

export interface RetryInfo {
  readonly api: 'ListMetrics' | 'GetMetricData';
  readonly region: string;
  /** The attempt that failed (1-based). */
  readonly attempt: number;
  readonly delayMs: number;
  readonly throttled: boolean;
  readonly error: string;
}

export class CloudWatchCallError extends Error {
  override readonly name = 'CloudWatchCallError';
  constructor(
    readonly api: RetryInfo['api'],
    readonly region: string,
    readonly attempts: number,
    readonly retryable: boolean,
    cause: unknown,
  ) {
    super(
      retryable
        ? `${api} in ${region} failed after ${attempts} attempts (throttled or unavailable each time); last error ${describe(cause)}`
        : `${api} in ${region} failed with a non-retryable error: ${describe(cause)}`,
      { cause },
    );
  }
}

const RECENTLY_ACTIVE = 'PT3H';
export class CloudWatchMetricSource implements MetricSource {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly concurrency: number;

  constructor(
    private readonly clientFor: (region: string) => CloudWatchClient,
    private readonly options: CloudWatchMetricSourceOptions = {},
  ) {
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.baseDelayMs = options.baseDelayMs ?? 200;
    this.maxDelayMs = options.maxDelayMs ?? 10_000;
    this.sleep = options.sleep ?? sleepFor;
    this.random = options.random ?? Math.random;
    this.concurrency = Math.max(1, options.concurrency ?? 4);
  }

  async listSeries(req: ListSeriesRequest): Promise<{ series: SeriesRef[]; calls: number }> {
    const client = this.clientFor(req.region);
    const filters = Object.entries(req.match).map(([Name, Value]) => ({ Name, Value }));
    const byKey = new Map<string, SeriesRef>();
    let calls = 0;
    let nextToken: string | undefined;
    do {
      const page: ListMetricsOutput = await this.withRetry('ListMetrics', req.region, () =>
        client.send(
          new ListMetricsCommand({
            Namespace: req.namespace,
            MetricName: req.metricName,
            ...(filters.length > 0 ? { Dimensions: filters } : {}),
            RecentlyActive: RECENTLY_ACTIVE,
            ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
          }),
        ),
      );
      calls++;
      for (const m of page.Metrics ?? []) {
        // Only what was asked for: emulators have been seen to ignore the namespace filter.
        if (m.Namespace !== req.namespace || m.MetricName !== req.metricName) continue;
        const series: SeriesRef = {
          namespace: m.Namespace,
          metricName: m.MetricName,
          dimensions: Object.fromEntries((m.Dimensions ?? []).map((d) => [d.Name ?? '', d.Value ?? ''])),
        };
        // The same series can come back more than once (across pages, or from emulators).
        const key = seriesKey(series);
        if (!byKey.has(key)) byKey.set(key, series);
      }
      nextToken = page.NextToken || undefined;
    } while (nextToken !== undefined);
    return { series: [...byKey.values()], calls };
  }

  async fetch(req: FetchRequest): Promise<FetchResult> {
    const batches: MetricQuery[][] = [];
    for (let i = 0; i < req.queries.length; i += MAX_QUERIES_PER_CALL) {
      batches.push(req.queries.slice(i, i + MAX_QUERIES_PER_CALL));
    }
    const results = await mapWithConcurrency(batches, this.concurrency, (batch) =>
      this.fetchBatch(req, batch),
    );

    const data = new Map<string, SeriesData>();
    const incomplete: FetchResult['incomplete'][number][] = [];
    let calls = 0;
    let metricsRequested = 0;
    for (const r of results) {
      for (const [id, d] of r.data) data.set(id, d);
      incomplete.push(...r.incomplete);
      calls += r.calls;
      metricsRequested += r.metricsRequested;
    }
    return { data, incomplete, calls, metricsRequested };
  }

  private async fetchBatch(req: FetchRequest, batch: readonly MetricQuery[]): Promise<FetchResult> {
    const client = this.clientFor(req.region);
    // GetMetricData ids must match ^[a-z][a-zA-Z0-9_]*$ and be unique per call; ours are arbitrary.
    const wireIds = batch.map((_, i) => `q${i}`);
    const ourId = new Map(batch.map((q, i) => [`q${i}`, q.id]));
    const queries: MetricDataQuery[] = batch.map((q, i) => ({
      Id: wireIds[i],
      MetricStat: {
        Metric: {
          Namespace: q.series.namespace,
          MetricName: q.series.metricName,
          Dimensions: toDimensions(q.series),
        },
        Period: q.periodSeconds,
        Stat: q.stat,
      },
      ReturnData: true,
    }));

    const points = new Map<string, [number, number][]>(batch.map((q) => [q.id, []]));
    const status = new Map<string, { status: string; message?: string }>();
    let calls = 0;
    let metricsRequested = 0;
    let nextToken: string | undefined;
    do {
      const page: GetMetricDataOutput = await this.withRetry('GetMetricData', req.region, () =>
        client.send(
          new GetMetricDataCommand({
            MetricDataQueries: queries,
            StartTime: new Date(req.startMs),
            EndTime: new Date(req.endMs),
            ScanBy: 'TimestampAscending',
            ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
          }),
        ),
      );
      calls++;
      metricsRequested += queries.length;
      for (const result of page.MetricDataResults ?? []) {
        const id = ourId.get(result.Id ?? '');
        if (id === undefined) continue;
        const list = points.get(id) ?? [];
        const values = result.Values ?? [];
        (result.Timestamps ?? []).forEach((t, i) => {
          list.push([t.getTime(), values[i] ?? Number.NaN]);
        });
        points.set(id, list);
        if (result.StatusCode !== undefined) {
          const message = result.Messages?.map((m) => `${m.Code ?? ''} ${m.Value ?? ''}`.trim()).join('; ');
          status.set(id, { status: result.StatusCode, ...(message ? { message } : {}) });
        }
      }
      nextToken = page.NextToken || undefined;
    } while (nextToken !== undefined);

    const data = new Map<string, SeriesData>();
    for (const [id, list] of points) {
      list.sort((a, b) => a[0] - b[0]);
      data.set(id, { timestamps: list.map((p) => p[0]), values: list.map((p) => p[1]) });
    }
    const incomplete = [...status.entries()]
      .filter(([, s]) => s.status !== 'Complete' && s.status !== 'PartialData')
      .map(([id, s]) => ({ id, ...s }));
    return { data, incomplete, calls, metricsRequested };
  }

  private async withRetry<T>(api: RetryInfo['api'], region: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (!isTransient(err)) throw new CloudWatchCallError(api, region, attempt, false, err);
        if (attempt >= this.maxAttempts) throw new CloudWatchCallError(api, region, attempt, true, err);
        const delayMs = backoffMs(attempt, this.baseDelayMs, this.maxDelayMs, this.random);
        this.options.onRetry?.({
          api,
          region,
          attempt,
          delayMs,
          throttled: isThrottling(err),
          error: describe(err),
        });
        await this.sleep(delayMs);
      }
    }
  }
}

function toDimensions(series: SeriesRef): Dimension[] {
  return Object.entries(series.dimensions).map(([Name, Value]) => ({ Name, Value }));
}

function seriesKey(s: SeriesRef): string {
  const dims = Object.entries(s.dimensions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([s.namespace, s.metricName, dims]);
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return `${err.name}${status !== undefined ? ` (HTTP ${status})` : ''}: ${err.message}`;
  }
  return String(err);
}

async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failed) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T);
      } catch (err) {
        failed = true; // the fetch fails as a whole: start no more batches
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
