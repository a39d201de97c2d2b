import type { Signal } from '../contracts/signals';
import type { StepTimeSample } from '../core/kpi/step-time';
import type { TrainingJobState } from '../core/model';
import type {
  CheckpointLister,
  FetchRequest,
  FetchResult,
  JobProgressSource,
  ListSeriesRequest,
  MetricQuery,
  MetricSource,
  ProgressQuery,
  SeriesData,
  SeriesRef,
  StepTimeQuery,
  TrainingJobApi,
  TrainingJobSummary,
} from '../core/ports';
import { HOUR_MS, MINUTE_MS } from './duration';
import type { SimNode } from './fleet';
import {
  CLUSTER_DIMENSION,
  GPU_DIMENSION,
  HOST_DIMENSION,
  SIMULATOR_NAMESPACE,
  simulatorMetricNames,
} from './profile';
import type { FleetSimulator } from './simulator';
import {
  COMM_TIME_METRIC,
  DATA_TIME_METRIC,
  publishesStepTimes,
  STEP_TIME_METRIC,
  stepTimesAt,
} from './step-time';
import type { GpuValues } from './telemetry';

/**
 * The ports of lambdas/core/ports.ts over a running FleetSimulator, behaving like the AWS adapters
 * they stand in for where it matters to detection and cost:
 *
 * - CloudWatch publishing delay: a datapoint for minute t becomes visible at t + delay (default
 *   2 min). Before that, GetMetricData simply has no point for it, as in AWS.
 *
 *      minute t  t+1  t+2 = now
 *      |---------|----|          delay 2 min: minute t is visible now, minute t+1 is not
 *
 * - ListMetrics RecentlyActive=PT3H: a GPU that has not reported for 3 h is not listed.
 * - Calls and metrics requested are counted like the real adapters (500 queries per
 *   GetMetricData call, a new page per 100,800 datapoints, 500 metrics per ListMetrics page),
 *   so cost benchmarks can price a simulated run.
 */

export const TRAINING_JOBS_NAMESPACE = '/aws/sagemaker/TrainingJobs';
export const PROGRESS_METRIC = 'train:loss';
const MAX_QUERIES_PER_CALL = 500;
const MAX_DATAPOINTS_PER_CALL = 100_800;
const LIST_PAGE = 500;
const RECENTLY_ACTIVE_MS = 3 * HOUR_MS;

export interface ApiCallCounts {
  'cloudwatch:ListMetrics': number;
  'cloudwatch:GetMetricData': number;
  /** Metrics requested over all GetMetricData calls: the billed unit. */
  'cloudwatch:GetMetricData:metrics': number;
  'sagemaker:ListTrainingJobs': number;
  'sagemaker:DescribeTrainingJob': number;
  's3:ListObjectsV2': number;
}

export function emptyApiCalls(): ApiCallCounts {
  return {
    'cloudwatch:ListMetrics': 0,
    'cloudwatch:GetMetricData': 0,
    'cloudwatch:GetMetricData:metrics': 0,
    'sagemaker:ListTrainingJobs': 0,
    'sagemaker:DescribeTrainingJob': 0,
    's3:ListObjectsV2': 0,
  };
}

export interface SimulatedMetricSourceOptions {
  /** CloudWatch publishing delay. @default 2 minutes */
  readonly delayMs?: number;
  /** Shared call counter (the runner sums every simulated service into one). */
  readonly calls?: ApiCallCounts;
}

export class SimulatedMetricSource implements MetricSource {
  readonly delayMs: number;
  readonly calls: ApiCallCounts;
  private readonly metricSignal: ReadonlyMap<string, Signal>;
  private readonly nodeByHost: ReadonlyMap<string, SimNode>;
  private readonly resolved = new WeakMap<
    SeriesRef,
    { gpu: number; signal: Signal; region: string } | null
  >();

  constructor(
    private readonly sim: FleetSimulator,
    options: SimulatedMetricSourceOptions = {},
  ) {
    this.delayMs = options.delayMs ?? 2 * MINUTE_MS;
    this.calls = options.calls ?? emptyApiCalls();
    this.metricSignal = simulatorMetricNames();
    this.nodeByHost = new Map(sim.fleet.nodes.map((n) => [n.hostname, n]));
  }

  async listSeries(req: ListSeriesRequest): Promise<{ series: SeriesRef[]; calls: number }> {
    const series =
      req.namespace === SIMULATOR_NAMESPACE
        ? this.gpuSeries(req)
        : req.namespace === TRAINING_JOBS_NAMESPACE
          ? this.progressSeries(req)
          : [];
    const calls = Math.max(1, Math.ceil(series.length / LIST_PAGE));
    this.calls['cloudwatch:ListMetrics'] += calls;
    return { series, calls };
  }

  private gpuSeries(req: ListSeriesRequest): SeriesRef[] {
    if (!this.metricSignal.has(req.metricName)) return [];
    const visibleEnd = this.sim.nowMs - this.delayMs;
    const from = this.sim.nowMs - RECENTLY_ACTIVE_MS;
    const out: SeriesRef[] = [];
    for (const node of this.sim.fleet.nodes) {
      if (node.region !== req.region) continue;
      for (let g = 0; g < node.gpuCount; g++) {
        const dimensions = {
          [CLUSTER_DIMENSION]: node.cluster,
          [HOST_DIMENSION]: node.hostname,
          [GPU_DIMENSION]: String(g),
        };
        if (!matches(dimensions, req.match)) continue;
        if (
          !this.sim.gpuReportedBetween(
            node.firstGpu + g,
            Math.max(from, this.sim.scenario.startMs),
            visibleEnd,
          )
        )
          continue;
        out.push({ namespace: SIMULATOR_NAMESPACE, metricName: req.metricName, dimensions });
      }
    }
    return out;
  }

  private progressSeries(req: ListSeriesRequest): SeriesRef[] {
    if (req.metricName !== PROGRESS_METRIC) return [];
    const from = this.sim.nowMs - RECENTLY_ACTIVE_MS;
    const to = this.sim.nowMs - this.delayMs;
    const out: SeriesRef[] = [];
    for (const job of this.sim.retainedJobs()) {
      if (job.region !== req.region || job.trainingStartMs === undefined) continue;
      const dimensions = { Host: `${job.name}/algo-1` };
      if (!matches(dimensions, req.match)) continue;
      if (this.sim.progressTimestamps(job.name, from, to).length === 0) continue;
      out.push({ namespace: TRAINING_JOBS_NAMESPACE, metricName: PROGRESS_METRIC, dimensions });
    }
    return out;
  }

  async fetch(req: FetchRequest): Promise<FetchResult> {
    const data = new Map<string, SeriesData>();
    const cache = new MinuteCache(this.sim, req.startMs, req.endMs);
    let calls = 0;
    let metricsRequested = 0;
    for (let i = 0; i < req.queries.length; i += MAX_QUERIES_PER_CALL) {
      const batch = req.queries.slice(i, i + MAX_QUERIES_PER_CALL);
      let points = 0;
      for (const q of batch) {
        const d = this.answer(req, q, cache);
        points += d.timestamps.length;
        data.set(q.id, d);
      }
      const pages = Math.max(1, Math.ceil(points / MAX_DATAPOINTS_PER_CALL));
      calls += pages;
      metricsRequested += pages * batch.length;
    }
    this.calls['cloudwatch:GetMetricData'] += calls;
    this.calls['cloudwatch:GetMetricData:metrics'] += metricsRequested;
    return { data, incomplete: [], calls, metricsRequested };
  }

  private answer(req: FetchRequest, q: MetricQuery, cache: MinuteCache): SeriesData {
    const periodMs = q.periodSeconds * 1000;
    // A minute is visible once t + delay has passed; a period only counts minutes that are.
    const visibleBefore = this.sim.nowMs - this.delayMs + 1;
    if (periodMs === MINUTE_MS && q.series.namespace === SIMULATOR_NAMESPACE) {
      // Fast path for the collector's 60 s DCGM queries: one value per visible minute, no
      // per-period buffer or reader closure (the aggregate of one sample is the sample, except
      // SampleCount, which is 1).
      const resolved = this.resolveGpuSeries(q.series, req.region);
      if (resolved === undefined) return EMPTY;
      const { gpu, signal } = resolved;
      const timestamps: number[] = [];
      const values: number[] = [];
      const end = Math.min(req.endMs, visibleBefore);
      for (let m = req.startMs - (req.startMs % MINUTE_MS); m < end; m += MINUTE_MS) {
        if (m < req.startMs) continue;
        const value = cache.get(gpu, m)?.[signal];
        if (value === undefined) continue;
        timestamps.push(m);
        values.push(q.stat === 'SampleCount' ? 1 : value);
      }
      return { timestamps, values };
    }
    const per = this.minuteReader(req.region, q, cache);
    if (per === undefined) return EMPTY;
    const timestamps: number[] = [];
    const values: number[] = [];
    const samples: number[] = [];
    for (let p = req.startMs - (req.startMs % periodMs); p < req.endMs; p += periodMs) {
      samples.length = 0;
      for (let m = p; m < p + periodMs; m += MINUTE_MS) {
        if (m < req.startMs || m >= req.endMs || m >= visibleBefore) continue;
        per(m, samples);
      }
      if (samples.length === 0) continue;
      timestamps.push(p);
      values.push(
        samples.length === 1 && q.stat !== 'SampleCount'
          ? (samples[0] as number)
          : aggregate(q.stat, samples),
      );
    }
    return { timestamps, values };
  }

  /** A reader that appends one series' samples in a minute, or undefined when the series does not exist. */
  private minuteReader(
    region: string,
    q: MetricQuery,
    cache: MinuteCache,
  ): ((minuteMs: number, out: number[]) => void) | undefined {
    const { series } = q;
    if (series.namespace === SIMULATOR_NAMESPACE) {
      const resolved = this.resolveGpuSeries(series, region);
      if (resolved === undefined) return undefined;
      const { gpu, signal } = resolved;
      return (m, out) => {
        const value = cache.get(gpu, m)?.[signal];
        if (value !== undefined) out.push(value);
      };
    }
    if (series.namespace === TRAINING_JOBS_NAMESPACE && series.metricName === PROGRESS_METRIC) {
      const host = series.dimensions.Host ?? '';
      const match = /^(.+)\/algo-(\d+)$/.exec(host);
      const job = match ? this.sim.job(match[1] as string) : undefined;
      if (job === undefined || job.region !== region || Number(match?.[2]) > job.nodeCount) return undefined;
      return (m, out) => {
        for (const t of this.sim.progressTimestamps(job.name, m, m + MINUTE_MS))
          out.push(this.sim.lossAt(job, t));
      };
    }
    return undefined;
  }

  /** Dense GPU index and signal of a DCGM series; memoised per series object (inventories are reused). */
  private resolveGpuSeries(series: SeriesRef, region: string): { gpu: number; signal: Signal } | undefined {
    let r = this.resolved.get(series);
    if (r === undefined) {
      const signal = this.metricSignal.get(series.metricName);
      const node = this.nodeByHost.get(series.dimensions[HOST_DIMENSION] ?? '');
      const g = Number(series.dimensions[GPU_DIMENSION]);
      const ok =
        signal !== undefined && node !== undefined && Number.isInteger(g) && g >= 0 && g < node.gpuCount;
      r = ok ? { gpu: node.firstGpu + g, signal, region: node.region } : null;
      this.resolved.set(series, r);
    }
    return r === null || r.region !== region ? undefined : r;
  }
}

/** GPU-minutes computed once per fetch: every signal of a GPU comes from one telemetry call. */
class MinuteCache {
  private readonly firstMinute: number;
  private readonly minutes: number;
  private readonly values: (GpuValues | undefined | null)[];

  constructor(
    private readonly sim: FleetSimulator,
    startMs: number,
    endMs: number,
  ) {
    // Only minutes inside [startMs, endMs) are ever read.
    this.firstMinute = Math.floor(startMs / MINUTE_MS);
    this.minutes = Math.max(1, Math.ceil(endMs / MINUTE_MS) - this.firstMinute);
    this.values = new Array(this.minutes * sim.fleet.gpuCount).fill(undefined);
  }

  get(gpu: number, minuteMs: number): GpuValues | undefined {
    const slot = minuteMs / MINUTE_MS - this.firstMinute;
    if (slot < 0 || slot >= this.minutes) return this.sim.gpuValues(gpu, minuteMs);
    const i = slot * this.sim.fleet.gpuCount + gpu;
    let v = this.values[i];
    if (v === undefined) {
      v = this.sim.gpuValues(gpu, minuteMs) ?? null;
      this.values[i] = v;
    }
    return v ?? undefined;
  }
}

const EMPTY: SeriesData = { timestamps: [], values: [] };

function aggregate(stat: string, samples: readonly number[]): number {
  switch (stat) {
    case 'Maximum':
      return Math.max(...samples);
    case 'Minimum':
      return Math.min(...samples);
    case 'Sum':
      return samples.reduce((s, v) => s + v, 0);
    case 'SampleCount':
      return samples.length;
    default:
      return samples.reduce((s, v) => s + v, 0) / samples.length;
  }
}

function matches(
  dimensions: Readonly<Record<string, string>>,
  match: Readonly<Record<string, string>>,
): boolean {
  for (const [k, v] of Object.entries(match)) if (dimensions[k] !== v) return false;
  return true;
}

/**
 * JobProgressSource like adapters/cloudwatch/job-progress.ts: SampleCount of each job's metric on
 * Host `<job>/algo-1` at 60 s, so a timestamp is the start of a minute with at least one datapoint,
 * visible after the publishing delay.
 */
export class SimulatedJobProgress implements JobProgressSource {
  readonly delayMs: number;
  readonly calls: ApiCallCounts;

  constructor(
    private readonly sim: FleetSimulator,
    options: SimulatedMetricSourceOptions = {},
  ) {
    this.delayMs = options.delayMs ?? 2 * MINUTE_MS;
    this.calls = options.calls ?? emptyApiCalls();
  }

  async progressTimestamps(
    queries: readonly ProgressQuery[],
    startMs: number,
    endMs: number,
  ): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>();
    const visibleBefore = this.sim.nowMs - this.delayMs + 1;
    let requested = 0;
    for (const q of queries) {
      const key = `${q.region}#${q.jobName}`;
      requested += q.metricNames.length;
      const job = this.sim.job(q.jobName);
      if (job === undefined || job.region !== q.region || !q.metricNames.includes(PROGRESS_METRIC)) {
        out.set(key, out.get(key) ?? []);
        continue;
      }
      const minutes = new Set<number>();
      for (const t of this.sim.progressTimestamps(q.jobName, startMs, endMs)) {
        const m = t - (t % MINUTE_MS);
        if (m < visibleBefore && m >= startMs) minutes.add(m);
      }
      out.set(
        key,
        [...minutes].sort((a, b) => a - b),
      );
    }
    const calls = Math.ceil(requested / MAX_QUERIES_PER_CALL);
    this.calls['cloudwatch:GetMetricData'] += calls;
    this.calls['cloudwatch:GetMetricData:metrics'] += requested;
    return out;
  }

  /**
   * The step-time breakdown (step-time.ts) like the CloudWatch adapter reads it: Average per
   * 60 s of each queried metric on algo-1, logged with every progress datapoint, visible after
   * the publishing delay. A metric name the job does not publish has no datapoints.
   */
  async stepTimes(
    queries: readonly StepTimeQuery[],
    startMs: number,
    endMs: number,
  ): Promise<Map<string, StepTimeSample[]>> {
    const out = new Map<string, StepTimeSample[]>();
    const visibleBefore = this.sim.nowMs - this.delayMs + 1;
    let requested = 0;
    for (const q of queries) {
      const key = `${q.region}#${q.jobName}`;
      const names = [q.step, q.dataWait, q.communication].filter((n) => n !== undefined);
      requested += names.length;
      const job = this.sim.job(q.jobName);
      const samples: StepTimeSample[] = [];
      if (job !== undefined && job.region === q.region && publishesStepTimes(job)) {
        const byMinute = new Map<number, { n: number; step: number; data: number; comm: number }>();
        for (const t of this.sim.progressTimestamps(q.jobName, startMs, endMs)) {
          const m = t - (t % MINUTE_MS);
          if (m >= visibleBefore || m < startMs) continue;
          const v = stepTimesAt(job, t);
          const acc = byMinute.get(m) ?? { n: 0, step: 0, data: 0, comm: 0 };
          acc.n++;
          acc.step += v.stepSeconds;
          acc.data += v.dataWaitSeconds;
          acc.comm += v.commSeconds;
          byMinute.set(m, acc);
        }
        for (const [m, a] of [...byMinute].sort((x, y) => x[0] - y[0]))
          samples.push({
            time: m,
            ...(q.step === STEP_TIME_METRIC ? { stepSeconds: a.step / a.n } : {}),
            ...(q.dataWait === DATA_TIME_METRIC ? { dataWaitSeconds: a.data / a.n } : {}),
            ...(q.communication === COMM_TIME_METRIC ? { commSeconds: a.comm / a.n } : {}),
          });
      }
      out.set(key, samples);
    }
    this.calls['cloudwatch:GetMetricData'] += Math.ceil(requested / MAX_QUERIES_PER_CALL);
    this.calls['cloudwatch:GetMetricData:metrics'] += requested;
    return out;
  }
}

/** CheckpointLister over the simulated checkpoint writes (S3 is strongly consistent: no delay). */
export class SimulatedCheckpoints implements CheckpointLister {
  readonly calls: ApiCallCounts;

  constructor(
    private readonly sim: FleetSimulator,
    options: { calls?: ApiCallCounts } = {},
  ) {
    this.calls = options.calls ?? emptyApiCalls();
  }

  async newestObjectTime(s3Uri: string): Promise<number | undefined> {
    this.calls['s3:ListObjectsV2']++;
    return this.sim.newestCheckpoint(s3Uri);
  }
}

export class TrainingJobNotFound extends Error {
  override readonly name = 'TrainingJobNotFound';
}

/** TrainingJobApi over the simulator's retained jobs (ListTrainingJobs pages of 100). */
export class SimulatedTrainingJobApi implements TrainingJobApi {
  readonly calls: ApiCallCounts;

  constructor(
    private readonly sim: FleetSimulator,
    options: { calls?: ApiCallCounts } = {},
  ) {
    this.calls = options.calls ?? emptyApiCalls();
  }

  async *listModifiedSince(
    region: string,
    afterMs: number,
    beforeMs?: number,
  ): AsyncIterable<TrainingJobSummary> {
    const matching: TrainingJobSummary[] = [];
    for (const job of this.sim.retainedJobs()) {
      if (job.region !== region || job.lastModifiedMs <= afterMs) continue;
      if (beforeMs !== undefined && job.lastModifiedMs >= beforeMs) continue;
      matching.push({ jobName: job.name, status: job.status, lastModifiedTime: job.lastModifiedMs });
    }
    // SageMaker's default order: newest first.
    matching.sort((a, b) => b.lastModifiedTime - a.lastModifiedTime || a.jobName.localeCompare(b.jobName));
    this.calls['sagemaker:ListTrainingJobs'] += Math.max(1, Math.ceil(matching.length / 100));
    yield* matching;
  }

  async describe(region: string, jobName: string): Promise<TrainingJobState> {
    this.calls['sagemaker:DescribeTrainingJob']++;
    const job = this.sim.job(jobName);
    if (job === undefined || job.region !== region) {
      throw new TrainingJobNotFound(
        `training job ${jobName} not found in ${region} (the simulator keeps finished jobs ${this.sim.jobRetentionMs / HOUR_MS} h)`,
      );
    }
    return this.sim.jobState(job);
  }
}
