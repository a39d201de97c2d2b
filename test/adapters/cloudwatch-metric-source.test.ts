import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  ListMetricsCommand,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  CloudWatchCallError,
  CloudWatchMetricSource,
  type RetryInfo,
} from '../../lambdas/adapters/cloudwatch/metric-source';
import type { MetricQuery } from '../../lambdas/core/ports';

const cw = mockClient(CloudWatchClient);
const client = new CloudWatchClient({ region: 'us-east-1' });
const START = Date.parse('2025-03-10T11:00:00Z');
const END = START + 5 * 60_000;

function awsError(name: string, status: number, message = name): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

function queries(n: number): MetricQuery[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `gpu/${i}`,
    series: {
      namespace: 'CWAgent/DCGM',
      metricName: 'DCGM_FI_DEV_GPU_UTIL',
      dimensions: { Hostname: `h${Math.floor(i / 8)}`, gpu: String(i % 8) },
    },
    stat: 'Average',
    periodSeconds: 60,
  }));
}

function source(
  extra: { sleeps?: number[]; retries?: RetryInfo[]; maxAttempts?: number; concurrency?: number } = {},
) {
  return new CloudWatchMetricSource(() => client, {
    maxAttempts: extra.maxAttempts ?? 4,
    baseDelayMs: 100,
    random: () => 0.5,
    concurrency: extra.concurrency ?? 4,
    sleep: async (ms) => {
      extra.sleeps?.push(ms);
    },
    onRetry: (r) => extra.retries?.push(r),
  });
}

beforeEach(() => {
  cw.reset();
});

describe('CloudWatchMetricSource.listSeries', () => {
  it('sends the exact ListMetrics input and follows NextToken', async () => {
    cw.on(ListMetricsCommand)
      .resolvesOnce({
        Metrics: [
          {
            Namespace: 'ContainerInsights',
            MetricName: 'node_gpu_utilization',
            Dimensions: [
              { Name: 'ClusterName', Value: 'eks' },
              { Name: 'NodeName', Value: 'n1' },
              { Name: 'GpuDevice', Value: 'nvidia0' },
            ],
          },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        Metrics: [
          {
            Namespace: 'ContainerInsights',
            MetricName: 'node_gpu_utilization',
            Dimensions: [
              { Name: 'ClusterName', Value: 'eks' },
              { Name: 'NodeName', Value: 'n1' },
              { Name: 'GpuDevice', Value: 'nvidia1' },
            ],
          },
        ],
      });

    const out = await source().listSeries({
      region: 'us-east-1',
      namespace: 'ContainerInsights',
      metricName: 'node_gpu_utilization',
      match: { ClusterName: 'eks' },
    });

    const calls = cw.commandCalls(ListMetricsCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      {
        Namespace: 'ContainerInsights',
        MetricName: 'node_gpu_utilization',
        Dimensions: [{ Name: 'ClusterName', Value: 'eks' }],
        RecentlyActive: 'PT3H',
      },
      {
        Namespace: 'ContainerInsights',
        MetricName: 'node_gpu_utilization',
        Dimensions: [{ Name: 'ClusterName', Value: 'eks' }],
        RecentlyActive: 'PT3H',
        NextToken: 'page-2',
      },
    ]);
    expect(out.calls).toBe(2);
    expect(out.series).toEqual([
      {
        namespace: 'ContainerInsights',
        metricName: 'node_gpu_utilization',
        dimensions: { ClusterName: 'eks', NodeName: 'n1', GpuDevice: 'nvidia0' },
      },
      {
        namespace: 'ContainerInsights',
        metricName: 'node_gpu_utilization',
        dimensions: { ClusterName: 'eks', NodeName: 'n1', GpuDevice: 'nvidia1' },
      },
    ]);
  });

  it('omits Dimensions without a match, drops duplicates and series of another namespace', async () => {
    const m = (ns: string, dims: [string, string][]) => ({
      Namespace: ns,
      MetricName: 'DCGM_FI_DEV_GPU_UTIL',
      Dimensions: dims.map(([Name, Value]) => ({ Name, Value })),
    });
    cw.on(ListMetricsCommand).resolves({
      Metrics: [
        m('CWAgent/DCGM', [
          ['Hostname', 'a'],
          ['gpu', '0'],
        ]),
        m('CWAgent/DCGM', [
          ['Hostname', 'a'],
          ['gpu', '0'],
        ]),
        m('CWAgent/DCGM', [
          ['gpu', '0'],
          ['Hostname', 'a'],
        ]),
        m('Other', [
          ['Hostname', 'a'],
          ['gpu', '0'],
        ]),
      ],
    });
    const out = await source().listSeries({
      region: 'us-east-1',
      namespace: 'CWAgent/DCGM',
      metricName: 'DCGM_FI_DEV_GPU_UTIL',
      match: {},
    });
    expect(cw.commandCalls(ListMetricsCommand)[0]?.args[0].input).toEqual({
      Namespace: 'CWAgent/DCGM',
      MetricName: 'DCGM_FI_DEV_GPU_UTIL',
      RecentlyActive: 'PT3H',
    });
    expect(out.series).toEqual([
      {
        namespace: 'CWAgent/DCGM',
        metricName: 'DCGM_FI_DEV_GPU_UTIL',
        dimensions: { Hostname: 'a', gpu: '0' },
      },
    ]);
  });

  it('retries a throttled ListMetrics', async () => {
    cw.on(ListMetricsCommand)
      .rejectsOnce(awsError('Throttling', 400, 'Rate exceeded'))
      .resolves({ Metrics: [] });
    const retries: RetryInfo[] = [];
    const out = await source({ retries }).listSeries({
      region: 'eu-west-1',
      namespace: 'N',
      metricName: 'm',
      match: {},
    });
    expect(out).toEqual({ series: [], calls: 1 });
    expect(retries).toEqual([
      expect.objectContaining({ api: 'ListMetrics', region: 'eu-west-1', throttled: true }),
    ]);
  });
});

describe('CloudWatchMetricSource.fetch', () => {
  it('sends at most 500 queries per call: 1,234 queries make 3 calls', async () => {
    cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
      MetricDataResults: (input.MetricDataQueries ?? []).map((q) => ({
        Id: q.Id,
        Timestamps: [new Date(START)],
        Values: [Number(q.Id?.slice(1))],
        StatusCode: 'Complete',
      })),
    }));
    const out = await source().fetch({
      region: 'us-east-1',
      queries: queries(1_234),
      startMs: START,
      endMs: END,
    });

    const sent = cw.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    expect(sent.map((i) => i.MetricDataQueries?.length)).toEqual([500, 500, 234]);
    expect(out.calls).toBe(3);
    expect(out.metricsRequested).toBe(1_234);
    expect(out.data.size).toBe(1_234);
    // Wire ids are per call, valid for CloudWatch, and mapped back to ours.
    expect(sent[2]?.MetricDataQueries?.[233]?.Id).toBe('q233');
    for (const i of sent)
      for (const q of i.MetricDataQueries ?? []) expect(q.Id).toMatch(/^[a-z][a-zA-Z0-9_]*$/);
    expect(out.data.get('gpu/1233')).toEqual({ timestamps: [START], values: [233] });
    expect(out.data.get('gpu/500')).toEqual({ timestamps: [START], values: [0] });
  });

  it('sends the exact GetMetricData input', async () => {
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    await source().fetch({ region: 'us-east-1', queries: queries(1), startMs: START, endMs: END });
    expect(cw.commandCalls(GetMetricDataCommand)[0]?.args[0].input).toEqual({
      MetricDataQueries: [
        {
          Id: 'q0',
          MetricStat: {
            Metric: {
              Namespace: 'CWAgent/DCGM',
              MetricName: 'DCGM_FI_DEV_GPU_UTIL',
              Dimensions: [
                { Name: 'Hostname', Value: 'h0' },
                { Name: 'gpu', Value: '0' },
              ],
            },
            Period: 60,
            Stat: 'Average',
          },
          ReturnData: true,
        },
      ],
      StartTime: new Date(START),
      EndTime: new Date(END),
      ScanBy: 'TimestampAscending',
    });
  });

  it('follows NextToken, merging values per id in time order and counting every page as billed', async () => {
    const t = (m: number) => new Date(START + m * 60_000);
    cw.on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'q0', Timestamps: [t(0), t(1)], Values: [10, 11], StatusCode: 'PartialData' },
          { Id: 'q1', Timestamps: [t(0)], Values: [20], StatusCode: 'PartialData' },
        ],
        NextToken: 'more',
      })
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'q0', Timestamps: [t(3), t(2)], Values: [13, 12], StatusCode: 'Complete' },
          { Id: 'q1', Timestamps: [t(1)], Values: [21], StatusCode: 'Complete' },
        ],
      });
    const out = await source().fetch({
      region: 'us-east-1',
      queries: queries(2),
      startMs: START,
      endMs: END,
    });

    const sent = cw.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    expect(sent.map((i) => i.NextToken)).toEqual([undefined, 'more']);
    expect(sent[1]?.MetricDataQueries).toEqual(sent[0]?.MetricDataQueries);
    expect(out.calls).toBe(2);
    expect(out.metricsRequested).toBe(4);
    expect(out.incomplete).toEqual([]);
    expect(out.data.get('gpu/0')).toEqual({
      timestamps: [0, 1, 2, 3].map((m) => t(m).getTime()),
      values: [10, 11, 12, 13],
    });
    expect(out.data.get('gpu/1')).toEqual({ timestamps: [t(0).getTime(), t(1).getTime()], values: [20, 21] });
  });

  it('reports results that end neither Complete nor PartialData as incomplete', async () => {
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        {
          Id: 'q0',
          Timestamps: [],
          Values: [],
          StatusCode: 'InternalError',
          Messages: [{ Code: 'E', Value: 'boom' }],
        },
        { Id: 'q1', Timestamps: [], Values: [], StatusCode: 'Complete' },
      ],
    });
    const out = await source().fetch({
      region: 'us-east-1',
      queries: queries(2),
      startMs: START,
      endMs: END,
    });
    expect(out.incomplete).toEqual([{ id: 'gpu/0', status: 'InternalError', message: 'E boom' }]);
    expect(out.data.get('gpu/1')).toEqual({ timestamps: [], values: [] });
  });

  it.each([
    {
      name: 'ThrottlingException',
      err: awsError('ThrottlingException', 400, 'Rate exceeded'),
      throttled: true,
    },
    { name: 'HTTP 429', err: awsError('TooManyRequests', 429), throttled: true },
    { name: 'HTTP 500 InternalServiceFault', err: awsError('InternalServiceFault', 500), throttled: false },
    { name: 'HTTP 503', err: awsError('ServiceUnavailable', 503), throttled: false },
    {
      name: 'a dropped connection',
      err: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      throttled: false,
    },
  ])(
    'retries $name with exponential backoff and jitter (shared adapter policy), then succeeds',
    async ({ err, throttled }) => {
      cw.on(GetMetricDataCommand)
        .rejectsOnce(err)
        .rejectsOnce(err)
        .resolves({
          MetricDataResults: [
            { Id: 'q0', Timestamps: [new Date(START)], Values: [5], StatusCode: 'Complete' },
          ],
        });
      const sleeps: number[] = [];
      const retries: RetryInfo[] = [];
      const out = await source({ sleeps, retries }).fetch({
        region: 'us-east-1',
        queries: queries(1),
        startMs: START,
        endMs: END,
      });
      expect(out.data.get('gpu/0')?.values).toEqual([5]);
      expect(cw.commandCalls(GetMetricDataCommand)).toHaveLength(3);
      expect(out.calls).toBe(1); // only the answered call is billed
      expect(sleeps).toEqual([75, 150]); // cap 100·2^(attempt−1): half of it + random 0.5 × the other half
      expect(retries.map((r) => [r.api, r.attempt, r.throttled])).toEqual([
        ['GetMetricData', 1, throttled],
        ['GetMetricData', 2, throttled],
      ]);
    },
  );

  it('gives up after maxAttempts with an error naming the API, region and cause', async () => {
    cw.on(GetMetricDataCommand).rejects(awsError('ThrottlingException', 400, 'Rate exceeded'));
    const sleeps: number[] = [];
    const promise = source({ sleeps, maxAttempts: 3 }).fetch({
      region: 'ap-south-1',
      queries: queries(1),
      startMs: START,
      endMs: END,
    });
    await expect(promise).rejects.toThrowError(CloudWatchCallError);
    await expect(promise).rejects.toThrowError(
      'GetMetricData in ap-south-1 failed after 3 attempts (throttled or unavailable each time); last error ThrottlingException (HTTP 400): Rate exceeded',
    );
    expect(cw.commandCalls(GetMetricDataCommand)).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  it('does not retry a validation error', async () => {
    cw.on(GetMetricDataCommand).rejects(awsError('InvalidParameterValueException', 400, 'bad period'));
    const promise = source().fetch({ region: 'us-east-1', queries: queries(1), startMs: START, endMs: END });
    await expect(promise).rejects.toThrowError(
      'GetMetricData in us-east-1 failed with a non-retryable error: InvalidParameterValueException (HTTP 400): bad period',
    );
    expect(cw.commandCalls(GetMetricDataCommand)).toHaveLength(1);
  });

  it('keeps at most `concurrency` calls in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    cw.on(GetMetricDataCommand).callsFake(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return { MetricDataResults: [] };
    });
    const out = await source({ concurrency: 3 }).fetch({
      region: 'us-east-1',
      queries: queries(10 * 500),
      startMs: START,
      endMs: END,
    });
    expect(out.calls).toBe(10);
    expect(peak).toBe(3);
  });

  it('uses the client of the requested region', async () => {
    const regions: string[] = [];
    const perRegion = new CloudWatchMetricSource((region) => {
      regions.push(region);
      return client;
    });
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    await perRegion.fetch({ region: 'eu-central-1', queries: queries(1), startMs: START, endMs: END });
    expect(regions).toEqual(['eu-central-1']);
  });
});
