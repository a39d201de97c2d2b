import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchJobProgress } from '../../lambdas/adapters/cloudwatch/job-progress';

const cw = mockClient(CloudWatchClient);
const START = Date.parse('2025-03-10T11:00:00Z');
const END = START + 10 * 60_000;
const at = (minute: number) => new Date(START + minute * 60_000);

function awsError(name: string, status: number): Error {
  return Object.assign(new Error(name), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

beforeEach(() => cw.reset());

describe('CloudWatchJobProgress', () => {
  const clients = new Map<string, CloudWatchClient>();
  const clientFor = (region: string) => {
    const c = clients.get(region) ?? new CloudWatchClient({ region });
    clients.set(region, c);
    return c;
  };

  it('asks SampleCount of each metric on Host <job>/algo-1 and merges the timestamps per job', async () => {
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'q0', Timestamps: [at(3), at(1)], Values: [2, 1], StatusCode: 'Complete' },
        { Id: 'q1', Timestamps: [at(1), at(5)], Values: [1, 0], StatusCode: 'Complete' },
        { Id: 'q2', Timestamps: [], Values: [], StatusCode: 'Complete' },
      ],
    });
    const result = await new CloudWatchJobProgress(clientFor).progressTimestamps(
      [
        { region: 'us-east-1', jobName: 'llama', metricNames: ['train:loss', 'train:step'] },
        { region: 'us-east-1', jobName: 'bert', metricNames: ['train:loss'] },
      ],
      START,
      END,
    );
    // q1's minute 5 has SampleCount 0: no datapoint.
    expect(result).toEqual(
      new Map([
        ['us-east-1#llama', [at(1).getTime(), at(3).getTime()]],
        ['us-east-1#bert', []],
      ]),
    );
    const input = cw.commandCalls(GetMetricDataCommand)[0]?.args[0].input as GetMetricDataCommandInput;
    expect(input.StartTime).toEqual(new Date(START));
    expect(input.EndTime).toEqual(new Date(END));
    expect(input.MetricDataQueries?.[0]).toEqual({
      Id: 'q0',
      MetricStat: {
        Metric: {
          Namespace: '/aws/sagemaker/TrainingJobs',
          MetricName: 'train:loss',
          Dimensions: [{ Name: 'Host', Value: 'llama/algo-1' }],
        },
        Period: 60,
        Stat: 'SampleCount',
      },
      ReturnData: true,
    });
    expect(input.MetricDataQueries?.map((q) => q.MetricStat?.Metric?.Dimensions?.[0]?.Value)).toEqual([
      'llama/algo-1',
      'llama/algo-1',
      'bert/algo-1',
    ]);
  });

  it('splits into calls of at most 500 queries per region client and follows NextToken', async () => {
    cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) =>
      input.NextToken === undefined && input.MetricDataQueries?.length === 500
        ? { MetricDataResults: [{ Id: 'q499', Timestamps: [at(2)], Values: [1] }], NextToken: 'more' }
        : { MetricDataResults: [{ Id: 'q0', Timestamps: [at(4)], Values: [1] }] },
    );
    const calls: number[] = [];
    const jobs = Array.from({ length: 501 }, (_, i) => ({
      region: 'us-west-2',
      jobName: `j${i}`,
      metricNames: ['loss'],
    }));
    const result = await new CloudWatchJobProgress(clientFor, {
      onCall: (c) => calls.push(c.metricsRequested),
    }).progressTimestamps(jobs, START, END);
    const inputs = cw.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => [i.MetricDataQueries?.length, i.NextToken])).toEqual([
      [500, undefined],
      [500, 'more'],
      [1, undefined],
    ]);
    expect(calls).toEqual([500, 500, 1]);
    expect(result.get('us-west-2#j499')).toEqual([at(2).getTime()]);
    expect(result.get('us-west-2#j0')).toEqual([at(4).getTime()]);
    expect(result.get('us-west-2#j500')).toEqual([at(4).getTime()]);
  });

  it('queries algo-1..algo-k when hostsPerJob is set', async () => {
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    await new CloudWatchJobProgress(clientFor, { hostsPerJob: 3 }).progressTimestamps(
      [{ region: 'us-east-1', jobName: 'gpt', metricNames: ['loss'] }],
      START,
      END,
    );
    const hosts = cw
      .commandCalls(GetMetricDataCommand)[0]
      ?.args[0].input.MetricDataQueries?.map((q) => q.MetricStat?.Metric?.Dimensions?.[0]?.Value);
    expect(hosts).toEqual(['gpt/algo-1', 'gpt/algo-2', 'gpt/algo-3']);
  });

  it('retries throttling with backoff and fails with a specific message on a client error', async () => {
    cw.on(GetMetricDataCommand)
      .rejectsOnce(awsError('Throttling', 400))
      .resolvesOnce({ MetricDataResults: [{ Id: 'q0', Timestamps: [at(0)], Values: [1] }] })
      .rejects(awsError('InvalidParameterValue', 400));
    const retries: boolean[] = [];
    const source = new CloudWatchJobProgress(clientFor, {
      sleep: async () => {},
      onRetry: (r) => retries.push(r.throttled),
    });
    const q = [{ region: 'us-east-1', jobName: 'a', metricNames: ['loss'] }];
    expect(await source.progressTimestamps(q, START, END)).toEqual(new Map([['us-east-1#a', [START]]]));
    expect(retries).toEqual([true]);
    await expect(source.progressTimestamps(q, START, END)).rejects.toThrow(
      'GetMetricData (training job progress) in us-east-1 failed after 1 attempt(s): InvalidParameterValue',
    );
  });
});
