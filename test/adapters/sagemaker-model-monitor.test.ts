import {
  DescribeMonitoringScheduleCommand,
  DescribeProcessingJobCommand,
  ListMonitoringExecutionsCommand,
  ListMonitoringSchedulesCommand,
  SageMakerClient,
  SageMakerServiceException,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { RecordingLog, RecordingOpsMetrics } from '../../lambdas/adapters/memory/observability';
import { SageMakerModelMonitorApi } from '../../lambdas/adapters/sagemaker/model-monitor';

/**
 * Wire shapes of the Model Monitor calls. moto 5.2.1 answers HTTP 500 to ListMonitoringSchedules,
 * DescribeMonitoringSchedule and ListMonitoringExecutions (probed), so they are mocked here;
 * DescribeProcessingJob works on moto and is also covered by test/integration/check-drift.test.ts.
 */
const smMock = mockClient(SageMakerClient);
const client = new SageMakerClient({ region: 'us-east-1' });
const T = new Date(Date.UTC(2026, 10, 24, 12));

function throttled(): SageMakerServiceException {
  return new SageMakerServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    message: 'Rate exceeded',
    $metadata: { httpStatusCode: 400 },
  });
}

describe('SageMakerModelMonitorApi', () => {
  let ops: RecordingOpsMetrics;
  let log: RecordingLog;
  let sleeps: number[];
  let api: SageMakerModelMonitorApi;

  beforeEach(() => {
    smMock.reset();
    ops = new RecordingOpsMetrics();
    log = new RecordingLog();
    sleeps = [];
    api = new SageMakerModelMonitorApi(() => client, {
      ops,
      log,
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
  });

  it('lists the schedules of an endpoint (every page) and describes each', async () => {
    smMock
      .on(ListMonitoringSchedulesCommand)
      .resolvesOnce({
        MonitoringScheduleSummaries: [
          {
            MonitoringScheduleName: 'churn-dq',
            MonitoringScheduleArn: 'arn:x',
            CreationTime: T,
            LastModifiedTime: T,
            MonitoringScheduleStatus: 'Scheduled',
          },
        ],
        NextToken: 'p2',
      })
      .resolvesOnce({
        MonitoringScheduleSummaries: [
          {
            MonitoringScheduleName: 'churn-bias',
            MonitoringScheduleArn: 'arn:y',
            CreationTime: T,
            LastModifiedTime: T,
            MonitoringScheduleStatus: 'Stopped',
          },
        ],
      });
    smMock
      .on(DescribeMonitoringScheduleCommand, { MonitoringScheduleName: 'churn-dq' })
      .resolves({
        MonitoringScheduleName: 'churn-dq',
        MonitoringScheduleArn: 'arn:x',
        MonitoringScheduleStatus: 'Scheduled',
        MonitoringType: 'DataQuality',
        EndpointName: 'churn',
        CreationTime: T,
        LastModifiedTime: T,
        MonitoringScheduleConfig: { ScheduleConfig: { ScheduleExpression: 'cron(0 * ? * * *)' } },
        LastMonitoringExecutionSummary: {
          MonitoringScheduleName: 'churn-dq',
          ScheduledTime: T,
          CreationTime: T,
          LastModifiedTime: T,
          MonitoringExecutionStatus: 'Completed',
        },
      })
      .on(DescribeMonitoringScheduleCommand, { MonitoringScheduleName: 'churn-bias' })
      .resolves({
        MonitoringScheduleName: 'churn-bias',
        MonitoringScheduleArn: 'arn:y',
        MonitoringScheduleStatus: 'Stopped',
        MonitoringType: 'ModelBias',
        CreationTime: T,
        LastModifiedTime: T,
      });

    expect(await api.schedulesOf('us-east-1', 'churn')).toEqual([
      {
        name: 'churn-dq',
        endpoint: 'churn',
        status: 'Scheduled',
        monitoringType: 'DataQuality',
        scheduleExpression: 'cron(0 * ? * * *)',
        lastScheduledMs: T.getTime(),
      },
      { name: 'churn-bias', endpoint: 'churn', status: 'Stopped', monitoringType: 'ModelBias' },
    ]);
    const lists = smMock.commandCalls(ListMonitoringSchedulesCommand).map((c) => c.args[0].input);
    expect(lists).toEqual([
      { EndpointName: 'churn', MaxResults: 100 },
      { EndpointName: 'churn', MaxResults: 100, NextToken: 'p2' },
    ]);
    expect(ops.total('modelMonitorCalls', { Api: 'DescribeMonitoringSchedule' })).toBe(2);
  });

  it('lists executions newest first since a time, following NextToken, retrying throttling', async () => {
    const exec = (hour: number) => ({
      MonitoringScheduleName: 'churn-dq',
      ScheduledTime: new Date(T.getTime() - hour * 3_600_000),
      CreationTime: T,
      LastModifiedTime: T,
      MonitoringExecutionStatus: 'Completed' as const,
    });
    smMock
      .on(ListMonitoringExecutionsCommand)
      .rejectsOnce(throttled())
      .resolvesOnce({ MonitoringExecutionSummaries: [exec(0), exec(1)], NextToken: 't2' })
      .resolvesOnce({ MonitoringExecutionSummaries: [exec(2)] });

    const since = T.getTime() - 24 * 3_600_000;
    const out = await api.executionsSince('us-east-1', 'churn-dq', since);
    expect(out).toEqual([exec(0), exec(1), exec(2)]);
    const inputs = smMock.commandCalls(ListMonitoringExecutionsCommand).map((c) => c.args[0].input);
    expect(inputs[0]).toEqual({
      MonitoringScheduleName: 'churn-dq',
      ScheduledTimeAfter: new Date(since),
      SortBy: 'ScheduledTime',
      SortOrder: 'Descending',
      MaxResults: 100,
    });
    expect(inputs[2]).toMatchObject({ NextToken: 't2' });
    expect(sleeps).toEqual([225]); // half of the 300 ms base plus half of the other half (random 0.5)
    expect(ops.total('apiThrottled', { Api: 'ListMonitoringExecutions' })).toBe(1);
  });

  it('stops a listing that repeats its NextToken, with a warning', async () => {
    smMock
      .on(ListMonitoringExecutionsCommand)
      .resolves({ MonitoringExecutionSummaries: [], NextToken: 'same' });
    await api.executionsSince('us-east-1', 'churn-dq', 0);
    expect(smMock.commandCalls(ListMonitoringExecutionsCommand)).toHaveLength(2);
    expect(log.find('warn', 'listing stopped early')[0]?.attributes['reason']).toBe('repeated NextToken');
  });

  it('gives up on a non-transient error at once', async () => {
    smMock.on(ListMonitoringSchedulesCommand).rejects(
      new SageMakerServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        message: 'not authorized',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expect(api.schedulesOf('us-east-1', 'churn')).rejects.toThrow('not authorized');
    expect(sleeps).toEqual([]);
  });

  it('finds where the report is: the processing job S3 output (job name from the ARN)', async () => {
    smMock.on(DescribeProcessingJobCommand).resolves({
      ProcessingJobName: 'model-monitoring-202611241200-abc',
      ProcessingOutputConfig: {
        Outputs: [
          {
            OutputName: 'result',
            S3Output: {
              S3Uri: 's3://reports/churn/churn-dq/2026/11/24/12/',
              LocalPath: '/opt/ml/processing/resultdata',
              S3UploadMode: 'EndOfJob',
            },
          },
        ],
      },
    } as never);
    expect(
      await api.reportLocationOf(
        'us-east-1',
        'arn:aws:sagemaker:us-east-1:123456789012:processing-job/model-monitoring-202611241200-abc',
      ),
    ).toBe('s3://reports/churn/churn-dq/2026/11/24/12');
    expect(smMock.commandCalls(DescribeProcessingJobCommand)[0]?.args[0].input).toEqual({
      ProcessingJobName: 'model-monitoring-202611241200-abc',
    });
  });

  it('has no report location for a processing job without S3 output', async () => {
    smMock.on(DescribeProcessingJobCommand).resolves({ ProcessingJobName: 'x' } as never);
    expect(
      await api.reportLocationOf('us-east-1', 'arn:aws:sagemaker:us-east-1:1:processing-job/x'),
    ).toBeUndefined();
  });
});
