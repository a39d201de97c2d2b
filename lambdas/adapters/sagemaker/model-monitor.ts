import {
  DescribeMonitoringScheduleCommand,
  DescribeProcessingJobCommand,
  ListMonitoringExecutionsCommand,
  ListMonitoringSchedulesCommand,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { MONITORING_TYPES, type MonitoringType } from '../../contracts/model-monitor';
import type { Log, ModelMonitorApi, MonitoringScheduleInfo, OpsMetrics } from '../../core/ports';
import { type Sleep, sleepFor } from '../aws-retry';
import { type EarlyStop, followNextToken } from './paging';
import { withRetries } from './retry';

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
    const pages = this.pages(region, 'ListMonitoringSchedules', (token) =>
      client.send(
        new ListMonitoringSchedulesCommand({
          EndpointName: endpoint,
          MaxResults: 100,
          ...(token !== undefined ? { NextToken: token } : {}),
        }),
      ),
    );
    for await (const res of pages) {
      for (const s of res.MonitoringScheduleSummaries ?? []) {
        if (s.MonitoringScheduleName) names.push(s.MonitoringScheduleName);
      }
    }
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
    const pages = this.pages(region, 'ListMonitoringExecutions', (token) =>
      client.send(
        new ListMonitoringExecutionsCommand({
          MonitoringScheduleName: scheduleName,
          ScheduledTimeAfter: new Date(sinceMs),
          SortBy: 'ScheduledTime',
          SortOrder: 'Descending',
          MaxResults: 100,
          ...(token !== undefined ? { NextToken: token } : {}),
        }),
      ),
    );
    for await (const res of pages) out.push(...(res.MonitoringExecutionSummaries ?? []));
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

  /** The pages of one listing, each fetched with retries; stops with a warning (see paging.ts). */
  private pages<Page extends { readonly NextToken?: string | undefined }>(
    region: string,
    api: Api,
    send: (token: string | undefined) => Promise<Page>,
  ): AsyncGenerator<Page, void, undefined> {
    const reasons: Record<EarlyStop, string> = {
      'repeated-token': 'repeated NextToken',
      'page-cap': `page cap ${this.opts.maxPages}`,
    };
    return followNextToken(
      (token) => this.call(region, api, () => send(token)),
      this.opts.maxPages,
      (pages, why) =>
        this.log.warn(`SageMaker ${api} listing stopped early`, { region, api, pages, reason: reasons[why] }),
    );
  }

  private call<T>(region: string, api: Api, send: () => Promise<T>): Promise<T> {
    return withRetries(this.opts, { region, api, log: this.log, ops: this.ops }, () => {
      this.ops.count('modelMonitorCalls', 1, { Api: api });
      return send();
    });
  }
}

function isMonitoringType(v: unknown): v is MonitoringType {
  return typeof v === 'string' && (MONITORING_TYPES as readonly string[]).includes(v);
}
