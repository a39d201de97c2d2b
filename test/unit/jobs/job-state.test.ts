import { describe, expect, it } from 'vitest';
import { parseSageMakerJobEvent } from '../../../lambdas/contracts/events';
import {
  isTerminalStatus,
  type JobTagKeys,
  jobKey,
  jobStateFromEvent,
  toTrainingJobState,
} from '../../../lambdas/core/jobs/job-state';
import type { TrainingJobState, TrainingJobStatus } from '../../../lambdas/core/model';
import { type EventFixture, eventBody } from '../../fixtures/sagemaker/fixtures';

const TAGS: JobTagKeys = { teamTag: 'team', workloadClassTag: 'workload-class' };

function stateOf(name: EventFixture, tagKeys: JobTagKeys = TAGS): TrainingJobState {
  const parsed = parseSageMakerJobEvent(eventBody(name));
  if (!parsed.ok) throw new Error(parsed.detail);
  return jobStateFromEvent(parsed.event, tagKeys);
}

describe('event → TrainingJobState', () => {
  it.each<[EventFixture, Partial<TrainingJobState>]>([
    [
      'event-in-progress-starting',
      {
        region: 'us-east-1',
        jobName: 'llama-pretrain-2024-05-14-10-02-11-123',
        status: 'InProgress',
        secondaryStatus: 'Starting',
        lastModifiedTime: 1715680933000,
        creationTime: 1715680931123,
        instanceType: 'ml.p4d.24xlarge',
        instanceCount: 4,
        team: 'nlp',
        workloadClass: 'pretrain',
        checkpointS3Uri: 's3://ml-team-nlp/checkpoints/llama-pretrain/',
        metricNames: ['train:loss', 'train:tokens_per_sec'],
      },
    ],
    [
      'event-completed',
      {
        status: 'Completed',
        secondaryStatus: 'Completed',
        trainingStartTime: 1715681205000,
        trainingEndTime: 1715694325000,
        lastModifiedTime: 1715694330000,
        trainingTimeSeconds: 13120,
        billableTimeSeconds: 13120,
      },
    ],
    [
      'event-failed',
      {
        region: 'us-west-2',
        status: 'Failed',
        instanceType: 'ml.g5.12xlarge',
        instanceCount: 1,
        team: 'vision',
        workloadClass: 'hpo',
      },
    ],
    [
      'event-stopped',
      { status: 'Stopped', team: 'nlp', billableTimeSeconds: 1440, trainingTimeSeconds: 3600 },
    ],
  ])('maps %s', (name, expected) => {
    expect(stateOf(name)).toMatchObject(expected);
  });

  it('keeps the failure reason whole (the sink truncates, the store does not)', () => {
    expect(stateOf('event-failed').failureReason).toMatch(
      /^AlgorithmError: ExecuteUserScriptError:\nExitCode 1\nErrorMessage "RuntimeError: CUDA error: an illegal memory access/,
    );
    expect(stateOf('event-completed').failureReason).toBeUndefined();
  });

  it('keeps the cumulative transition history of the newest event', () => {
    const s = stateOf('event-completed');
    expect(s.transitions.map((t) => t.status)).toEqual([
      'Starting',
      'Downloading',
      'Training',
      'Uploading',
      'Completed',
    ]);
    expect(s.transitions[2]).toEqual({
      status: 'Training',
      startTime: 1715681205000,
      endTime: 1715694110000,
      message: 'Training image download completed. Training in progress.',
    });
    // The open transition has no end time, and no undefined field either.
    expect(Object.keys(stateOf('event-in-progress-starting').transitions[0] ?? {})).toEqual([
      'status',
      'startTime',
      'message',
    ]);
  });

  it('reads team and workload class from the configured tag keys', () => {
    const s = stateOf('event-completed', { teamTag: 'cost-center', workloadClassTag: 'absent' });
    expect(s.team).toBe('4711');
    expect(s.workloadClass).toBeUndefined();
    expect(s.tags).toEqual({ team: 'nlp', 'workload-class': 'pretrain', 'cost-center': '4711' });
  });

  it('leaves out absent and empty fields instead of storing undefined or ""', () => {
    const s = toTrainingJobState('eu-west-1', {
      TrainingJobName: 'j',
      TrainingJobArn: 'arn:aws:sagemaker:eu-west-1:1:training-job/j',
      TrainingJobStatus: 'InProgress',
      SecondaryStatus: '',
      CreationTime: 1,
      LastModifiedTime: 2,
      AlgorithmSpecification: { MetricDefinitions: [] },
      SecondaryStatusTransitions: [],
      Tags: { team: '  ' },
    });
    expect(s).toEqual({
      region: 'eu-west-1',
      jobName: 'j',
      arn: 'arn:aws:sagemaker:eu-west-1:1:training-job/j',
      status: 'InProgress',
      lastModifiedTime: 2,
      creationTime: 1,
      tags: { team: '  ' },
      transitions: [],
    });
  });
});

describe('job status helpers', () => {
  it.each<[TrainingJobStatus, boolean]>([
    ['InProgress', false],
    ['Stopping', false],
    ['Completed', true],
    ['Failed', true],
    ['Stopped', true],
    ['Deleting', true],
  ])('%s is terminal: %s', (status, terminal) => {
    expect(isTerminalStatus(status)).toBe(terminal);
  });

  it('keys jobs by region and name (names are unique per region only)', () => {
    expect(jobKey('us-east-1', 'a')).toBe('us-east-1#a');
    expect(jobKey('us-east-1', 'a')).not.toBe(jobKey('us-west-2', 'a'));
  });
});
