import {
  DescribeTrainingJobCommand,
  type DescribeTrainingJobCommandOutput,
  ListTagsCommand,
  ListTrainingJobsCommand,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import type { OpsMetricKey } from '../../contracts/metrics';
import { TrainingJobNotFoundError } from '../../core/jobs/errors';
import {
  DEFAULT_JOB_TAG_KEYS,
  isTrainingJobStatus,
  type JobTagKeys,
  type TrainingJobDescription,
  toTrainingJobState,
} from '../../core/jobs/job-state';
import type { TrainingJobState } from '../../core/model';
import type { Log, OpsMetrics, TrainingJobApi, TrainingJobSummary } from '../../core/ports';
import { errorMessage, errorName, type Sleep, sleepFor } from '../aws-retry';
import { type EarlyStop, followNextToken } from './paging';
import { withRetries } from './retry';

/**
 * TrainingJobApi over SageMaker's ListTrainingJobs, DescribeTrainingJob and ListTags.
 *
 * ListTrainingJobs is slow and strict: an account-level quota reported at ~2 requests/s, not
 * adjustable, and MaxResults is applied *before* StatusEquals, so a filtered page can be short or
 * empty while more remain. So: no StatusEquals (callers filter), every page followed through
 * short and empty ones, a client-side minimum interval between calls, backoff on throttling,
 * and a stop (with a warning) on a repeated NextToken or after maxPages, because a known service
 * bug can page forever on LastModifiedTimeAfter.
 *
 * DescribeTrainingJob carries no tags; ListTags on the job ARN adds them. Both are mapped to a
 * TrainingJobState by the same core function the EventBridge path uses.
 *
 * One instance per Lambda container: the intervals are enforced within it, so the reconcile
 * Lambda runs with a concurrency of one.
 */
export interface SageMakerTrainingJobApiOptions {
  /** Minimum gap between ListTrainingJobs calls in one region. @default 600 */
  readonly minIntervalMs?: number;
  /** Minimum gap between DescribeTrainingJob (and ListTags) calls in one region. @default 200 */
  readonly describeMinIntervalMs?: number;
  /** Attempts per call, the first included, on throttling / 5xx / network errors. @default 6 */
  readonly maxAttempts?: number;
  /** @default 500 */
  readonly baseDelayMs?: number;
  /** @default 20000 */
  readonly maxDelayMs?: number;
  readonly sleep?: Sleep;
  readonly now?: () => number;
  readonly random?: () => number;
  /** Page cap per listing (100 jobs a page). @default 1000 */
  readonly maxPages?: number;
  readonly tagKeys?: JobTagKeys;
  readonly log?: Log;
  readonly ops?: OpsMetrics;
}

type Api = 'ListTrainingJobs' | 'DescribeTrainingJob' | 'ListTags';

const CALL_METRIC: Partial<Record<Api, OpsMetricKey>> = {
  ListTrainingJobs: 'listTrainingJobsCalls',
  DescribeTrainingJob: 'describeTrainingJobCalls',
};

const noLog: Log = { debug() {}, info() {}, warn() {}, error() {} };
const noOps: OpsMetrics = { count() {} };

export class SageMakerTrainingJobApi implements TrainingJobApi {
  private readonly opts: Required<Omit<SageMakerTrainingJobApiOptions, 'log' | 'ops'>>;
  private readonly log: Log;
  private readonly ops: OpsMetrics;
  /** Earliest time of the next call, per region and API. */
  private readonly nextCallAt = new Map<string, number>();

  constructor(
    private readonly clientFor: (region: string) => SageMakerClient,
    options: SageMakerTrainingJobApiOptions = {},
  ) {
    this.opts = {
      minIntervalMs: options.minIntervalMs ?? 600,
      describeMinIntervalMs: options.describeMinIntervalMs ?? 200,
      maxAttempts: Math.max(1, options.maxAttempts ?? 6),
      baseDelayMs: options.baseDelayMs ?? 500,
      maxDelayMs: options.maxDelayMs ?? 20_000,
      sleep: options.sleep ?? sleepFor,
      now: options.now ?? Date.now,
      random: options.random ?? Math.random,
      maxPages: options.maxPages ?? 1000,
      tagKeys: options.tagKeys ?? DEFAULT_JOB_TAG_KEYS,
    };
    this.log = options.log ?? noLog;
    this.ops = options.ops ?? noOps;
  }

  async *listModifiedSince(
    region: string,
    afterMs: number,
    beforeMs?: number,
  ): AsyncIterable<TrainingJobSummary> {
    const client = this.clientFor(region);
    const pages = followNextToken(
      (token) =>
        this.call(region, 'ListTrainingJobs', () =>
          client.send(
            new ListTrainingJobsCommand({
              LastModifiedTimeAfter: new Date(afterMs),
              ...(beforeMs !== undefined ? { LastModifiedTimeBefore: new Date(beforeMs) } : {}),
              MaxResults: 100,
              ...(token !== undefined ? { NextToken: token } : {}),
            }),
          ),
        ),
      this.opts.maxPages,
      (read, why) => this.stopListing(region, read, why),
    );
    for await (const res of pages) {
      for (const s of res.TrainingJobSummaries ?? []) {
        if (s.TrainingJobName === undefined) continue;
        const lastModified = s.LastModifiedTime ?? s.TrainingEndTime ?? s.CreationTime;
        yield {
          jobName: s.TrainingJobName,
          status: s.TrainingJobStatus ?? 'unknown',
          lastModifiedTime: lastModified?.getTime() ?? 0,
        };
      }
    }
  }

  async describe(region: string, jobName: string): Promise<TrainingJobState> {
    const client = this.clientFor(region);
    let described: DescribeTrainingJobCommandOutput;
    try {
      described = await this.call(region, 'DescribeTrainingJob', () =>
        client.send(new DescribeTrainingJobCommand({ TrainingJobName: jobName })),
      );
    } catch (err) {
      if (isNotFound(err)) throw new TrainingJobNotFoundError(region, jobName, err);
      throw err;
    }
    const tags = described.TrainingJobArn ? await this.tagsOf(region, client, described.TrainingJobArn) : {};
    return toTrainingJobState(region, descriptionFrom(jobName, described, tags), this.opts.tagKeys);
  }

  private async tagsOf(
    region: string,
    client: SageMakerClient,
    arn: string,
  ): Promise<Record<string, string>> {
    const tags: Record<string, string> = {};
    const pages = followNextToken(
      (token) =>
        this.call(region, 'ListTags', () =>
          client.send(
            new ListTagsCommand({
              ResourceArn: arn,
              MaxResults: 100,
              ...(token ? { NextToken: token } : {}),
            }),
          ),
        ),
      this.opts.maxPages,
      // A job has at most 50 tags (one page); more pages mean a looping token: keep what was read.
      (read, why) =>
        this.log.warn('ListTags listing stopped early', { region, arn, pages: read, reason: why }),
    );
    for await (const res of pages) {
      for (const t of res.Tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
    }
    return tags;
  }

  /** One API call: waits for the region's interval, retries throttling / 5xx / network with backoff. */
  private call<T>(region: string, api: Api, send: () => Promise<T>): Promise<T> {
    return withRetries(this.opts, { region, api, log: this.log, ops: this.ops }, async () => {
      await this.waitForTurn(region, api);
      const metric = CALL_METRIC[api];
      if (metric !== undefined) this.ops.count(metric, 1);
      return send();
    });
  }

  private async waitForTurn(region: string, api: Api): Promise<void> {
    const key = `${region}:${api}`;
    const interval = api === 'ListTrainingJobs' ? this.opts.minIntervalMs : this.opts.describeMinIntervalMs;
    const wait = (this.nextCallAt.get(key) ?? 0) - this.opts.now();
    if (wait > 0) await this.opts.sleep(wait);
    this.nextCallAt.set(key, this.opts.now() + interval);
  }

  private stopListing(region: string, pages: number, why: EarlyStop): void {
    this.ops.count('trainingJobListingsTruncated', 1);
    const reason =
      why === 'repeated-token'
        ? 'ListTrainingJobs returned a NextToken it had already returned'
        : `reached the cap of ${this.opts.maxPages} pages`;
    this.log.warn('ListTrainingJobs listing stopped early', { region, pages, reason });
  }
}

function isNotFound(err: unknown): boolean {
  const name = errorName(err);
  // DescribeTrainingJob models ResourceNotFound, but the service answers ValidationException.
  return (
    name === 'ResourceNotFound' ||
    name === 'ResourceNotFoundException' ||
    (name === 'ValidationException' && /not (be )?found|could not find/i.test(errorMessage(err)))
  );
}

function ms(d: Date | undefined): number | undefined {
  return d === undefined ? undefined : d.getTime();
}

/** DescribeTrainingJob output → the core's DescribeTrainingJob-shaped input (times as epoch ms). */
export function descriptionFrom(
  jobName: string,
  d: DescribeTrainingJobCommandOutput | Omit<DescribeTrainingJobCommandOutput, '$metadata'>,
  tags: Readonly<Record<string, string>>,
): TrainingJobDescription {
  const status = d.TrainingJobStatus;
  if (!isTrainingJobStatus(status)) {
    throw new Error(
      `DescribeTrainingJob for ${jobName} returned TrainingJobStatus "${String(status)}", which FleetWatch does not know`,
    );
  }
  const creation = ms(d.CreationTime);
  const lastModified = ms(d.LastModifiedTime) ?? ms(d.TrainingEndTime) ?? ms(d.TrainingStartTime) ?? creation;
  if (creation === undefined || lastModified === undefined) {
    throw new Error(`DescribeTrainingJob for ${jobName} returned no CreationTime / LastModifiedTime`);
  }
  return {
    TrainingJobName: d.TrainingJobName ?? jobName,
    TrainingJobArn: d.TrainingJobArn ?? '',
    TrainingJobStatus: status,
    SecondaryStatus: d.SecondaryStatus,
    FailureReason: d.FailureReason,
    CreationTime: creation,
    LastModifiedTime: lastModified,
    TrainingStartTime: ms(d.TrainingStartTime),
    TrainingEndTime: ms(d.TrainingEndTime),
    TrainingTimeInSeconds: d.TrainingTimeInSeconds,
    BillableTimeInSeconds: d.BillableTimeInSeconds,
    ResourceConfig: d.ResourceConfig
      ? { InstanceType: d.ResourceConfig.InstanceType, InstanceCount: d.ResourceConfig.InstanceCount }
      : undefined,
    AlgorithmSpecification: {
      MetricDefinitions: d.AlgorithmSpecification?.MetricDefinitions?.flatMap((m) =>
        m.Name ? [{ Name: m.Name }] : [],
      ),
    },
    CheckpointConfig: d.CheckpointConfig ? { S3Uri: d.CheckpointConfig.S3Uri } : undefined,
    SecondaryStatusTransitions: (d.SecondaryStatusTransitions ?? []).flatMap((t) =>
      t.Status && t.StartTime
        ? [
            {
              Status: t.Status,
              StartTime: t.StartTime.getTime(),
              EndTime: ms(t.EndTime),
              StatusMessage: t.StatusMessage,
            },
          ]
        : [],
    ),
    Tags: tags,
  };
}
