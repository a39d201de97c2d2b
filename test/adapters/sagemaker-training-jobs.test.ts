import {
  DescribeTrainingJobCommand,
  ListTagsCommand,
  ListTrainingJobsCommand,
  type ListTrainingJobsCommandInput,
  SageMakerClient,
  SageMakerServiceException,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { RecordingLog, RecordingOpsMetrics } from '../../lambdas/adapters/memory/observability';
import {
  SageMakerTrainingJobApi,
  type SageMakerTrainingJobApiOptions,
} from '../../lambdas/adapters/sagemaker/training-jobs';
import { parseSageMakerJobEvent } from '../../lambdas/contracts/events';
import { TrainingJobNotFoundError } from '../../lambdas/core/jobs/errors';
import { jobStateFromEvent } from '../../lambdas/core/jobs/job-state';
import type { TrainingJobSummary } from '../../lambdas/core/ports';
import { describeOutput, eventBody, listTagsOutput } from '../fixtures/sagemaker/fixtures';

const smMock = mockClient(SageMakerClient);
const client = new SageMakerClient({ region: 'us-east-1' });
const T = Date.UTC(2024, 5, 1);

function summary(name: string, lmOffsetMs = 0, status = 'Completed') {
  return {
    TrainingJobName: name,
    TrainingJobArn: `arn:aws:sagemaker:us-east-1:123456789012:training-job/${name}`,
    CreationTime: new Date(T - 3_600_000),
    LastModifiedTime: new Date(T + lmOffsetMs),
    TrainingJobStatus: status as 'Completed',
  };
}

function throttled(): SageMakerServiceException {
  return new SageMakerServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    message: 'Rate exceeded',
    $metadata: { httpStatusCode: 400 },
  });
}

async function collect(it: AsyncIterable<TrainingJobSummary>): Promise<TrainingJobSummary[]> {
  const out: TrainingJobSummary[] = [];
  for await (const s of it) out.push(s);
  return out;
}

function listInputs(): ListTrainingJobsCommandInput[] {
  return smMock.commandCalls(ListTrainingJobsCommand).map((c) => c.args[0].input);
}

describe('SageMakerTrainingJobApi', () => {
  let clock: number;
  let sleeps: number[];
  let log: RecordingLog;
  let ops: RecordingOpsMetrics;
  const make = (options: SageMakerTrainingJobApiOptions = {}) =>
    new SageMakerTrainingJobApi(() => client, {
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
      random: () => 0.5,
      log,
      ops,
      ...options,
    });

  beforeEach(() => {
    smMock.reset();
    clock = T;
    sleeps = [];
    log = new RecordingLog();
    ops = new RecordingOpsMetrics();
  });

  it('follows NextToken through short and empty pages, without a status filter', async () => {
    smMock
      .on(ListTrainingJobsCommand)
      .resolvesOnce({ TrainingJobSummaries: [summary('a', 1), summary('b', 2)], NextToken: 'p2' })
      .resolvesOnce({ TrainingJobSummaries: [], NextToken: 'p3' })
      .resolvesOnce({ TrainingJobSummaries: [summary('c', 3, 'InProgress')], NextToken: 'p4' })
      .resolvesOnce({ TrainingJobSummaries: [] });

    const jobs = await collect(make().listModifiedSince('us-east-1', T - 600_000));

    expect(jobs).toEqual([
      { jobName: 'a', status: 'Completed', lastModifiedTime: T + 1 },
      { jobName: 'b', status: 'Completed', lastModifiedTime: T + 2 },
      { jobName: 'c', status: 'InProgress', lastModifiedTime: T + 3 },
    ]);
    expect(listInputs()).toEqual([
      { LastModifiedTimeAfter: new Date(T - 600_000), MaxResults: 100 },
      { LastModifiedTimeAfter: new Date(T - 600_000), MaxResults: 100, NextToken: 'p2' },
      { LastModifiedTimeAfter: new Date(T - 600_000), MaxResults: 100, NextToken: 'p3' },
      { LastModifiedTimeAfter: new Date(T - 600_000), MaxResults: 100, NextToken: 'p4' },
    ]);
    expect(ops.total('listTrainingJobsCalls')).toBe(4);
  });

  it('passes LastModifiedTimeBefore when the caller bounds the window', async () => {
    smMock.on(ListTrainingJobsCommand).resolves({ TrainingJobSummaries: [] });
    await collect(make().listModifiedSince('us-east-1', T - 10, T));
    expect(listInputs()[0]).toEqual({
      LastModifiedTimeAfter: new Date(T - 10),
      LastModifiedTimeBefore: new Date(T),
      MaxResults: 100,
    });
  });

  it('spaces ListTrainingJobs calls by the minimum interval (quota ~2 requests/s)', async () => {
    const callTimes: number[] = [];
    smMock.on(ListTrainingJobsCommand).callsFake((input: ListTrainingJobsCommandInput) => {
      callTimes.push(clock);
      const page = Number(input.NextToken ?? '0');
      return page < 4
        ? { TrainingJobSummaries: [], NextToken: String(page + 1) }
        : { TrainingJobSummaries: [] };
    });

    await collect(make().listModifiedSince('us-east-1', T));

    expect(callTimes).toHaveLength(5);
    const gaps = callTimes.slice(1).map((t, i) => t - (callTimes[i] as number));
    expect(gaps.every((g) => g >= 600)).toBe(true);
  });

  it('backs off on throttling, counts it, and resumes at the same page', async () => {
    smMock
      .on(ListTrainingJobsCommand)
      .resolvesOnce({ TrainingJobSummaries: [summary('a')], NextToken: 'p2' })
      .rejectsOnce(throttled())
      .rejectsOnce(throttled())
      .resolvesOnce({ TrainingJobSummaries: [summary('b')] });

    const jobs = await collect(make().listModifiedSince('us-east-1', T));

    expect(jobs.map((j) => j.jobName)).toEqual(['a', 'b']);
    expect(listInputs().map((i) => i.NextToken)).toEqual([undefined, 'p2', 'p2', 'p2']);
    expect(ops.total('apiThrottled', { Api: 'ListTrainingJobs' })).toBe(2);
    // Spacing 600 before page 2; backoff (500 ms base) 375, topped up to the 600 ms spacing by 225; then 750.
    expect(sleeps).toEqual([600, 375, 225, 750]);
    expect(log.find('warn', 'ListTrainingJobs failed transiently')).toHaveLength(2);
  });

  it('gives up after maxAttempts throttled calls', async () => {
    smMock.on(ListTrainingJobsCommand).rejects(throttled());
    await expect(collect(make({ maxAttempts: 3 }).listModifiedSince('us-east-1', T))).rejects.toThrow(
      'Rate exceeded',
    );
    expect(listInputs()).toHaveLength(3);
  });

  it('stops with a warning when the service repeats a NextToken (known paging loop)', async () => {
    smMock
      .on(ListTrainingJobsCommand)
      .resolvesOnce({ TrainingJobSummaries: [summary('a')], NextToken: 'loop' })
      .resolves({ TrainingJobSummaries: [], NextToken: 'loop' });

    const jobs = await collect(make().listModifiedSince('us-east-1', T));

    expect(jobs.map((j) => j.jobName)).toEqual(['a']);
    expect(listInputs()).toHaveLength(2);
    expect(ops.total('trainingJobListingsTruncated')).toBe(1);
    expect(log.find('warn', 'listing stopped early')[0]?.attributes).toMatchObject({
      reason: 'ListTrainingJobs returned a NextToken it had already returned',
    });
  });

  it('stops with a warning at maxPages', async () => {
    let n = 0;
    smMock.on(ListTrainingJobsCommand).callsFake(() => ({ TrainingJobSummaries: [], NextToken: `t${n++}` }));
    await collect(make({ maxPages: 5 }).listModifiedSince('us-east-1', T));
    expect(listInputs()).toHaveLength(5);
    expect(log.find('warn', 'listing stopped early')[0]?.attributes.reason).toBe(
      'reached the cap of 5 pages',
    );
  });

  it('describes a job with its tags through the same mapping as its EventBridge event', async () => {
    const name = 'llama-pretrain-2024-05-14-10-02-11-123';
    const tags = listTagsOutput('list-tags-completed').Tags;
    smMock.on(DescribeTrainingJobCommand).resolves(describeOutput('describe-completed'));
    smMock
      .on(ListTagsCommand)
      .resolvesOnce({ Tags: tags.slice(0, 2), NextToken: 'more' })
      .resolvesOnce({ Tags: tags.slice(2) });

    const state = await make().describe('us-east-1', name);

    const parsed = parseSageMakerJobEvent(eventBody('event-completed'));
    if (!parsed.ok) throw new Error(parsed.detail);
    expect(state).toEqual(
      jobStateFromEvent(parsed.event, { teamTag: 'team', workloadClassTag: 'workload-class' }),
    );
    expect(smMock.commandCalls(DescribeTrainingJobCommand)[0]?.args[0].input).toEqual({
      TrainingJobName: name,
    });
    expect(smMock.commandCalls(ListTagsCommand).map((c) => c.args[0].input)).toEqual([
      { ResourceArn: `arn:aws:sagemaker:us-east-1:123456789012:training-job/${name}`, MaxResults: 100 },
      {
        ResourceArn: `arn:aws:sagemaker:us-east-1:123456789012:training-job/${name}`,
        MaxResults: 100,
        NextToken: 'more',
      },
    ]);
    expect(ops.total('describeTrainingJobCalls')).toBe(1);
  });

  it('reads team and workload class from the configured tag keys', async () => {
    smMock.on(DescribeTrainingJobCommand).resolves(describeOutput('describe-completed'));
    smMock.on(ListTagsCommand).resolves(listTagsOutput('list-tags-completed'));
    const state = await make({ tagKeys: { teamTag: 'cost-center', workloadClassTag: 'team' } }).describe(
      'us-east-1',
      'x',
    );
    expect(state).toMatchObject({ team: '4711', workloadClass: 'nlp' });
  });

  it.each([
    ['ValidationException', 'Requested resource not found.'],
    ['ResourceNotFound', 'Training job not found'],
  ])('turns %s "%s" into TrainingJobNotFoundError', async (name, message) => {
    smMock.on(DescribeTrainingJobCommand).rejects(
      new SageMakerServiceException({
        name,
        $fault: 'client',
        message,
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expect(make().describe('us-east-1', 'gone')).rejects.toBeInstanceOf(TrainingJobNotFoundError);
  });

  it('lets other validation errors through unchanged', async () => {
    smMock.on(DescribeTrainingJobCommand).rejects(
      new SageMakerServiceException({
        name: 'ValidationException',
        $fault: 'client',
        message: '1 validation error detected: Value at trainingJobName failed to satisfy constraint',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expect(make().describe('us-east-1', '???')).rejects.toThrow(/failed to satisfy constraint/);
  });

  it('retries a throttled DescribeTrainingJob and counts it', async () => {
    smMock
      .on(DescribeTrainingJobCommand)
      .rejectsOnce(throttled())
      .resolves(describeOutput('describe-completed'));
    smMock.on(ListTagsCommand).resolves({ Tags: [] });
    const state = await make().describe('us-east-1', 'llama');
    expect(state.status).toBe('Completed');
    expect(ops.total('apiThrottled', { Api: 'DescribeTrainingJob' })).toBe(1);
    expect(ops.total('describeTrainingJobCalls')).toBe(2);
  });

  it('refuses a status FleetWatch does not know, naming it', async () => {
    smMock
      .on(DescribeTrainingJobCommand)
      .resolves({ ...describeOutput('describe-completed'), TrainingJobStatus: 'Paused' as never });
    smMock.on(ListTagsCommand).resolves({ Tags: [] });
    await expect(make().describe('us-east-1', 'llama')).rejects.toThrow(/TrainingJobStatus "Paused"/);
  });
});
