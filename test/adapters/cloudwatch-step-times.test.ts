import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchJobProgress } from '../../lambdas/adapters/cloudwatch/job-progress';

/** The step-time breakdown read of CloudWatchJobProgress (wire shape, merging per minute). */

const cw = mockClient(CloudWatchClient);
const START = Date.parse('2025-03-10T11:00:00Z');
const END = START + 30 * 60_000;
const at = (minute: number) => new Date(START + minute * 60_000);

beforeEach(() => cw.reset());

describe('CloudWatchJobProgress.stepTimes', () => {
  const client = new CloudWatchClient({ region: 'us-east-1' });

  it('asks Average of each declared role metric on <job>/algo-1 and merges them per minute', async () => {
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'q0', Timestamps: [at(4), at(1)], Values: [1.2, 1], StatusCode: 'Complete' },
        { Id: 'q1', Timestamps: [at(1)], Values: [0.25], StatusCode: 'Complete' },
        { Id: 'q2', Timestamps: [at(2)], Values: [0.8], StatusCode: 'Complete' },
        { Id: 'q3', Timestamps: [at(3), at(40)], Values: [0.1, 0.2], StatusCode: 'Complete' },
      ],
    });
    const got = await new CloudWatchJobProgress(() => client).stepTimes(
      [
        { region: 'us-east-1', jobName: 'llama', step: 'step_time', dataWait: 'data_time' },
        { region: 'us-east-1', jobName: 'bert', step: 'train:step_time', communication: 'comm_time' },
      ],
      START,
      END,
    );
    // q3's minute 40 is outside the range: dropped.
    expect(got).toEqual(
      new Map([
        [
          'us-east-1#llama',
          [
            { time: at(1).getTime(), stepSeconds: 1, dataWaitSeconds: 0.25 },
            { time: at(4).getTime(), stepSeconds: 1.2 },
          ],
        ],
        [
          'us-east-1#bert',
          [
            { time: at(2).getTime(), stepSeconds: 0.8 },
            { time: at(3).getTime(), commSeconds: 0.1 },
          ],
        ],
      ]),
    );
    const input = cw.commandCalls(GetMetricDataCommand)[0]?.args[0].input as GetMetricDataCommandInput;
    expect(input.MetricDataQueries).toHaveLength(4);
    expect(input.MetricDataQueries?.[1]).toEqual({
      Id: 'q1',
      MetricStat: {
        Metric: {
          Namespace: '/aws/sagemaker/TrainingJobs',
          MetricName: 'data_time',
          Dimensions: [{ Name: 'Host', Value: 'llama/algo-1' }],
        },
        Period: 60,
        Stat: 'Average',
      },
      ReturnData: true,
    });
  });

  it('a job whose metrics have no datapoints maps to []', async () => {
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const got = await new CloudWatchJobProgress(() => client).stepTimes(
      [{ region: 'us-east-1', jobName: 'quiet', step: 'step_time', dataWait: 'data_time' }],
      START,
      END,
    );
    expect(got).toEqual(new Map([['us-east-1#quiet', []]]));
  });
});
