import {
  DescribeMonitoringScheduleCommand,
  DescribeProcessingJobCommand,
  ListMonitoringExecutionsCommand,
  ListMonitoringSchedulesCommand,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { MONITORING_TYPES, type MonitoringType } from '../../contracts/model-monitor';
import type { Log, ModelMonitorApi, MonitoringScheduleInfo, OpsMetrics } from '../../core/ports';
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
 * ModelMonitorApi over SageMaker: ListMonitoringSchedules (EndpointName filter) and
 * DescribeMonitoringSchedule for each schedule; ListMonitoringExecutions per schedule with
 * SortBy ScheduledTime Descending and ScheduledTimeAfter; DescribeProcessingJob to find where an
 * execution wrote its report.
 *
 * Where the report is: DescribeProcessingJob's ProcessingOutputConfig gives the exact S3 output
 * URI of the execution's processing job, and constraint_violations.json sits directly in it
 * (AWS docs). The alternative, rebuilding `<MonitoringOutputConfig S3Uri>/<endpoint>/<schedule>/
 * yyyy/mm/dd/hh/` from the schedule, relies on a key layout AWS does not document (aws-facts.md
 * §4 calls it "observed") and on the hour the job actually ran; one more Describe call per
 * violating execution is cheap next to a silently wrong path.
 *
 * Throttling, 5xx and network errors are retried with backoff beyond the SDK's own attempts;
 * listings follow NextToken and stop (with a warning) on a repeated token or the page cap.
 */
export interface SageMakerModelMonitorApiOptions {
  /** Attempts per call, the first included. @default 5 */
  readonly maxAttempts?: number;
  /** @default 300 */
  readonly baseDelayMs?: number;
  /** @default 10000 */
  readonly maxDelayMs?: number;
  /** Page cap per listing. @default 50 */
  readonly maxPages?: number;
  readonly sleep?: Sleep;
  readonly random?: () => number;
  readonly log?: Log;
  readonly ops?: OpsMetrics;
}

type Api =
  | 'ListMonitoringSchedules'
  | 'DescribeMonitoringSchedule'
  | 'ListMonitoringExecutions'
  | 'DescribeProcessingJob';

const noLog: Log = { debug() {}, info() {}, warn() {}, error() {} };
const noOps: OpsMetrics = { count() {} };

export class SageMakerModelMonitorApi implements ModelMonitorApi {
  private readonly opts: Required<Omit<SageMakerModelMonitorApiOptions, 'log' | 'ops'>>;
  private readonly log: Log;
  private readonly ops: OpsMetrics;

  constructor(
    private readonly clientFor: (region: string) => SageMakerClient,
    options: SageMakerModelMonitorApiOptions = {},
  ) {
    this.opts = {
      maxAttempts: Math.max(1, options.maxAttempts ?? 5),
      baseDelayMs: options.baseDelayMs ?? 300,
      maxDelayMs: options.maxDelayMs ?? 10_000,
      maxPages: options.maxPages ?? 50,
      sleep: options.sleep ?? sleepFor,
      random: options.random ?? Math.random,
    };
    this.log = options.log ?? noLog;
    this.ops = options.ops ?? noOps;
  }

  async schedulesOf(region: string, endpoint: string): Promise<MonitoringScheduleInfo[]> {
    const client = this.clientFor(region);
    const names: string[] = [];
    await this.pages(region, 'ListMonitoringSchedules', async (token) => {
      const res = await client.send(
        new ListMonitoringSchedulesCommand({
          EndpointName: endpoint,
          MaxResults: 100,
          ...(token !== undefined ? { NextToken: token } : {}),
        }),
      );
      for (const s of res.MonitoringScheduleSummaries ?? []) {
        if (s.MonitoringScheduleName) names.push(s.MonitoringScheduleName);
      }
      return res.NextToken;
    });
    const schedules: MonitoringScheduleInfo[] = [];
    for (const name of names) {
      const d = await this.call(region, 'DescribeMonitoringSchedule', () =>
        client.send(new DescribeMonitoringScheduleCommand({ MonitoringScheduleName: name })),
      );
      const type = d.MonitoringType;
      const expression = d.MonitoringScheduleConfig?.ScheduleConfig?.ScheduleExpression;
      const last = d.LastMonitoringExecutionSummary?.ScheduledTime;
      schedules.push({
        name,
        endpoint: d.EndpointName ?? endpoint,
        status: d.MonitoringScheduleStatus ?? 'unknown',
        ...(isMonitoringType(type) ? { monitoringType: type } : {}),
        ...(expression ? { scheduleExpression: expression } : {}),
        ...(last ? { lastScheduledMs: last.getTime() } : {}),
      });
    }
    return schedules;
  }

  async executionsSince(region: string, scheduleName: string, sinceMs: number): Promise<unknown[]> {
    const client = this.clientFor(region);
    const out: unknown[] = [];
    await this.pages(region, 'ListMonitoringExecutions', async (token) => {
      const res = await client.send(
        new ListMonitoringExecutionsCommand({
          MonitoringScheduleName: scheduleName,
          ScheduledTimeAfter: new Date(sinceMs),
          SortBy: 'ScheduledTime',
          SortOrder: 'Descending',
          MaxResults: 100,
          ...(token !== undefined ? { NextToken: token } : {}),
        }),
      );
      out.push(...(res.MonitoringExecutionSummaries ?? []));
      return res.NextToken;
    });
    return out;
  }

  async reportLocationOf(region: string, processingJobArn: string): Promise<string | undefined> {
    const client = this.clientFor(region);
    // DescribeProcessingJob takes the name: the ARN's last path segment.
    const name = processingJobArn.slice(processingJobArn.lastIndexOf('/') + 1);
    const d = await this.call(region, 'DescribeProcessingJob', () =>
      client.send(new DescribeProcessingJobCommand({ ProcessingJobName: name })),
    );
    const outputs = (d.ProcessingOutputConfig?.Outputs ?? []).filter((o) => o.S3Output?.S3Uri);
    // Model Monitor's job has one S3 output; prefer it by name if a container declared more.
    const chosen = outputs.find((o) => /monitor/i.test(o.OutputName ?? '')) ?? outputs[0];
    const uri = chosen?.S3Output?.S3Uri;
    return uri ? uri.replace(/\/+$/, '') : undefined;
  }

  /** Follows NextToken; stops with a warning on a repeated token or at the page cap. */
  private async pages(
    region: string,
    api: Api,
    page: (token: string | undefined) => Promise<string | undefined>,
  ): Promise<void> {
    const seen = new Set<string>();
    let token: string | undefined;
    for (let n = 1; ; n++) {
      const next = await this.call(region, api, () => page(token));
      if (next === undefined || next === '') return;
      if (seen.has(next) || n >= this.opts.maxPages) {
        this.log.warn(`SageMaker ${api} listing stopped early`, {
          region,
          api,
          pages: n,
          reason: seen.has(next) ? 'repeated NextToken' : `page cap ${this.opts.maxPages}`,
        });
        return;
      }
      seen.add(next);
      token = next;
    }
  }

  private async call<T>(region: string, api: Api, send: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      this.ops.count('modelMonitorCalls', 1, { Api: api });
      try {
        return await send();
      } catch (err) {
        if (!isTransient(err) || attempt >= this.opts.maxAttempts) throw err;
        const delayMs = backoffMs(attempt, this.opts.baseDelayMs, this.opts.maxDelayMs, this.opts.random);
        if (isThrottling(err)) this.ops.count('apiThrottled', 1, { Api: api });
        this.log.warn(`SageMaker ${api} failed transiently; backing off`, {
          region,
          api,
          attempt,
          delayMs,
          error: errorName(err),
          message: errorMessage(err),
        });
        await this.opts.sleep(delayMs);
      }
    }
  }
}

function isMonitoringType(v: unknown): v is MonitoringType {
  return typeof v === 'string' && (MONITORING_TYPES as readonly string[]).includes(v);
}
