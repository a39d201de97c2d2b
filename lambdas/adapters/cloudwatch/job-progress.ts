import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataOutput,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { jobKey } from '../../core/jobs/job-state';
import type { StepTimeSample } from '../../core/kpi/step-time';
import type { JobProgressSource, ProgressQuery, StepTimeQuery } from '../../core/ports';
import {
  backoffMs,
  errorMessage,
  errorName,
  isThrottling,
  isTransient,
  type Sleep,
  sleepFor,
} from '../aws-retry';

/**
 * JobProgressSource over the training metrics SageMaker publishes from a job's metric definitions
 * (namespace `/aws/sagemaker/TrainingJobs`, dimension `Host = <job>/algo-<n>`).
 *
 * Plan (cheapest that is correct for the stall detector): one MetricStat per (job, metric name)
 * on Host `<job>/algo-1`, statistic SampleCount at 60 s, in GetMetricData calls of at most 500
 * queries, following NextToken. Why algo-1 only:
 * - GetMetricData bills per metric requested, so querying every host multiplies the cost by the
 *   instance count for no detection gain: data-parallel hosts step in lockstep (a hang on one is
 *   a hang on all), and rank 0, which logs the metrics, runs on algo-1.
 * - Discovering hosts with ListMetrics first would add calls and lags up to 15 minutes for a new
 *   series, which would make a young job look silent.
 * - SEARCH expressions would find every host in one query, but are billed per metric found, are
 *   limited to 100 per call and cannot be checked against the local emulator.
 * `hostsPerJob` widens the plan (algo-1..algo-k) for jobs whose metrics are logged elsewhere.
 *
 * A datapoint counts when its SampleCount is > 0; timestamps of all hosts and metric names of a
 * job are merged, de-duplicated and sorted.
 *
 * The step-time breakdown (`stepTimes`, lambdas/core/kpi/step-time.ts) is read with the same plan
 * and calls: one MetricStat per declared role metric (step, data wait, communication) on algo-1,
 * statistic Average at 60 s, so a sample is the mean per-step time of the minute (rank 0's view).
 */
export const TRAINING_JOBS_NAMESPACE = '/aws/sagemaker/TrainingJobs';
export const MAX_QUERIES_PER_CALL = 500;

export interface CloudWatchJobProgressOptions {
  /** Hosts queried per job: algo-1..algo-k. @default 1 */
  readonly hostsPerJob?: number;
  /** @default 60 */
  readonly periodSeconds?: number;
  /** Attempts per call, including the first. @default 4 */
  readonly maxAttempts?: number;
  /** @default 200 */
  readonly baseDelayMs?: number;
  /** @default 5_000 */
  readonly maxDelayMs?: number;
  readonly sleep?: Sleep;
  readonly random?: () => number;
  /** Told about every retried call (the wiring counts throttles). */
  readonly onRetry?: (retry: { region: string; attempt: number; throttled: boolean; error: string }) => void;
  /** Told about every call made and metrics requested (the billed unit). */
  readonly onCall?: (call: { region: string; metricsRequested: number }) => void;
}

interface PlannedQuery {
  readonly id: string;
  readonly job: string;
  readonly query: MetricDataQuery;
}

export class CloudWatchJobProgress implements JobProgressSource {
  private readonly hostsPerJob: number;
  private readonly periodSeconds: number;
  private readonly maxAttempts: number;
  private readonly sleep: Sleep;
  private readonly random: () => number;

  constructor(
    private readonly clientFor: (region: string) => CloudWatchClient,
    private readonly options: CloudWatchJobProgressOptions = {},
  ) {
    this.hostsPerJob = Math.max(1, options.hostsPerJob ?? 1);
    this.periodSeconds = options.periodSeconds ?? 60;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.sleep = options.sleep ?? sleepFor;
    this.random = options.random ?? Math.random;
  }

  async progressTimestamps(
    queries: readonly ProgressQuery[],
    startMs: number,
    endMs: number,
  ): Promise<Map<string, number[]>> {
    const seen = new Map<string, Set<number>>();
    const byRegion = new Map<string, PlannedQuery[]>();
    for (const q of queries) {
      const job = jobKey(q.region, q.jobName);
      seen.set(job, seen.get(job) ?? new Set());
      const planned = byRegion.get(q.region) ?? [];
      for (const metricName of new Set(q.metricNames)) {
        for (let host = 1; host <= this.hostsPerJob; host++) {
          const id = `q${planned.length}`;
          planned.push({
            id,
            job,
            query: {
              Id: id,
              MetricStat: {
                Metric: {
                  Namespace: TRAINING_JOBS_NAMESPACE,
                  MetricName: metricName,
                  Dimensions: [{ Name: 'Host', Value: `${q.jobName}/algo-${host}` }],
                },
                Period: this.periodSeconds,
                Stat: 'SampleCount',
              },
              ReturnData: true,
            },
          });
        }
      }
      byRegion.set(q.region, planned);
    }

    for (const [region, planned] of byRegion) {
      for (let i = 0; i < planned.length; i += MAX_QUERIES_PER_CALL) {
        const batch = planned.slice(i, i + MAX_QUERIES_PER_CALL);
        // Ids restart per call: GetMetricData wants them unique per request only.
        const jobOf = new Map(batch.map((p, k) => [`q${k}`, p.job]));
        const wire = batch.map((p, k) => ({ ...p.query, Id: `q${k}` }));
        let nextToken: string | undefined;
        do {
          const page = await this.call(region, wire, startMs, endMs, nextToken);
          for (const result of page.MetricDataResults ?? []) {
            const job = jobOf.get(result.Id ?? '');
            if (job === undefined) continue;
            const values = result.Values ?? [];
            (result.Timestamps ?? []).forEach((t, k) => {
              const ms = t.getTime();
              if ((values[k] ?? 0) > 0 && ms >= startMs && ms < endMs) seen.get(job)?.add(ms);
            });
          }
          nextToken = page.NextToken || undefined;
        } while (nextToken !== undefined);
      }
    }
    return new Map([...seen].map(([job, times]) => [job, [...times].sort((a, b) => a - b)]));
  }

  async stepTimes(
    queries: readonly StepTimeQuery[],
    startMs: number,
    endMs: number,
  ): Promise<Map<string, StepTimeSample[]>> {
    type Role = 'stepSeconds' | 'dataWaitSeconds' | 'commSeconds';
    const minutes = new Map<string, Map<number, { -readonly [K in Role]?: number }>>();
    const byRegion = new Map<string, { job: string; role: Role; query: MetricDataQuery }[]>();
    for (const q of queries) {
      const job = jobKey(q.region, q.jobName);
      minutes.set(job, minutes.get(job) ?? new Map());
      const planned = byRegion.get(q.region) ?? [];
      const roles: [Role, string | undefined][] = [
        ['stepSeconds', q.step],
        ['dataWaitSeconds', q.dataWait],
        ['commSeconds', q.communication],
      ];
      for (const [role, metricName] of roles) {
        if (metricName === undefined) continue;
        planned.push({
          job,
          role,
          query: {
            Id: 'q',
            MetricStat: {
              Metric: {
                Namespace: TRAINING_JOBS_NAMESPACE,
                MetricName: metricName,
                Dimensions: [{ Name: 'Host', Value: `${q.jobName}/algo-1` }],
              },
              Period: this.periodSeconds,
              Stat: 'Average',
            },
            ReturnData: true,
          },
        });
      }
      byRegion.set(q.region, planned);
    }
    for (const [region, planned] of byRegion) {
      for (let i = 0; i < planned.length; i += MAX_QUERIES_PER_CALL) {
        const batch = planned.slice(i, i + MAX_QUERIES_PER_CALL);
        const wire = batch.map((p, k) => ({ ...p.query, Id: `q${k}` }));
        let nextToken: string | undefined;
        do {
          const page = await this.call(region, wire, startMs, endMs, nextToken);
          for (const result of page.MetricDataResults ?? []) {
            const p = batch[Number((result.Id ?? '').slice(1))];
            const perMinute = p === undefined ? undefined : minutes.get(p.job);
            if (p === undefined || perMinute === undefined || !/^q\d+$/.test(result.Id ?? '')) continue;
            const values = result.Values ?? [];
            (result.Timestamps ?? []).forEach((t, k) => {
              const ms = t.getTime();
              const v = values[k];
              if (v === undefined || ms < startMs || ms >= endMs) return;
              const m = perMinute.get(ms) ?? {};
              m[p.role] = v;
              perMinute.set(ms, m);
            });
          }
          nextToken = page.NextToken || undefined;
        } while (nextToken !== undefined);
      }
    }
    return new Map(
      [...minutes].map(([job, perMinute]) => [
        job,
        [...perMinute].sort((a, b) => a[0] - b[0]).map(([time, v]) => ({ time, ...v })),
      ]),
    );
  }

  private async call(
    region: string,
    queries: MetricDataQuery[],
    startMs: number,
    endMs: number,
    nextToken: string | undefined,
  ): Promise<GetMetricDataOutput> {
    const client = this.clientFor(region);
    for (let attempt = 1; ; attempt++) {
      try {
        const page = await client.send(
          new GetMetricDataCommand({
            MetricDataQueries: queries,
            StartTime: new Date(startMs),
            EndTime: new Date(endMs),
            ScanBy: 'TimestampAscending',
            ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
          }),
        );
        this.options.onCall?.({ region, metricsRequested: queries.length });
        return page;
      } catch (err) {
        if (!isTransient(err) || attempt >= this.maxAttempts) {
          throw new Error(
            `GetMetricData (training job progress) in ${region} failed after ${attempt} attempt(s): ${errorName(err)}: ${errorMessage(err)}`,
            { cause: err },
          );
        }
        this.options.onRetry?.({
          region,
          attempt,
          throttled: isThrottling(err),
          error: `${errorName(err)}: ${errorMessage(err)}`,
        });
        await this.sleep(
          backoffMs(attempt, this.options.baseDelayMs ?? 200, this.options.maxDelayMs ?? 5_000, this.random),
        );
      }
    }
  }
}
