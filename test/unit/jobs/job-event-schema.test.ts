import { describe, expect, it } from 'vitest';
import {
  parseSageMakerJobEvent,
  SAGEMAKER_EVENT_SOURCE,
  SAGEMAKER_JOB_EVENT_SCHEMA_VERSION,
  SAGEMAKER_TRAINING_JOB_STATE_CHANGE,
} from '../../../lambdas/contracts/events';
import { EVENT_FIXTURES, eventBody, eventJson } from '../../fixtures/sagemaker/fixtures';

describe('SageMaker training job event schema', () => {
  it('is versioned and names the rule pattern fields', () => {
    expect(SAGEMAKER_JOB_EVENT_SCHEMA_VERSION).toBe(1);
    expect(SAGEMAKER_EVENT_SOURCE).toBe('aws.sagemaker');
    expect(SAGEMAKER_TRAINING_JOB_STATE_CHANGE).toBe('SageMaker Training Job State Change');
  });

  it.each(EVENT_FIXTURES)(
    'accepts the real-shaped event %s and turns epoch-ms strings into numbers',
    (name) => {
      const parsed = parseSageMakerJobEvent(eventBody(name));
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) return;
      const raw = eventJson(name);
      expect(parsed.event.detail.LastModifiedTime).toBe(Number(raw.detail.LastModifiedTime));
      expect(parsed.event.detail.CreationTime).toBe(Number(raw.detail.CreationTime));
    },
  );

  it.each([
    ['a number', 1715694330000],
    ['a digit string', '1715694330000'],
    ['an ISO-8601 time', '2024-05-14T13:45:30.000Z'],
    ['an ISO-8601 time with offset', '2024-05-14T15:45:30+02:00'],
  ])('reads LastModifiedTime given as %s', (_label, value) => {
    const ev = eventJson('event-completed');
    ev.detail.LastModifiedTime = value;
    const parsed = parseSageMakerJobEvent(JSON.stringify(ev));
    expect(parsed.ok && parsed.event.detail.LastModifiedTime).toBe(1715694330000);
  });

  it('keeps unknown fields out of the way (AWS adds fields) and treats null as absent', () => {
    const ev = eventJson('event-in-progress-training');
    ev.detail.SomeFieldAwsAddedLater = { nested: true };
    ev.detail.TrainingEndTime = null;
    ev.detail.FailureReason = null;
    ev['replay-name'] = 'replay-1';
    const parsed = parseSageMakerJobEvent(JSON.stringify(ev));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.event.detail.TrainingEndTime).toBeUndefined();
    expect(parsed.event.detail.FailureReason).toBeUndefined();
  });

  it('accepts Tags as a map or as a [{Key, Value}] list', () => {
    const ev = eventJson('event-stopped');
    ev.detail.Tags = [{ Key: 'team', Value: 'nlp' }];
    const parsed = parseSageMakerJobEvent(JSON.stringify(ev));
    expect(parsed.ok && parsed.event.detail.Tags).toEqual({ team: 'nlp' });
  });

  const without = (field: string) => {
    const ev = eventJson('event-completed');
    delete ev.detail[field];
    return JSON.stringify(ev);
  };
  const withDetail = (field: string, value: unknown) => {
    const ev = eventJson('event-completed');
    ev.detail[field] = value;
    return JSON.stringify(ev);
  };
  const withTop = (field: string, value: unknown) => {
    const ev = eventJson('event-completed');
    ev[field] = value;
    return JSON.stringify(ev);
  };

  it.each([
    ['not JSON', '{"source": "aws.sagemaker",', 'malformed-json', 'message body is not JSON'],
    ['a JSON array', '[1,2]', 'malformed-json', 'JSON array, expected an EventBridge event object'],
    ['a JSON string', '"hello"', 'malformed-json', 'JSON string'],
    [
      'another SageMaker event',
      withTop('detail-type', 'SageMaker HyperPod Cluster State Change'),
      'unknown-event',
      'detail-type "SageMaker HyperPod Cluster State Change"; expected source "aws.sagemaker"',
    ],
    ['another source', withTop('source', 'aws.ec2'), 'unknown-event', 'source "aws.ec2"'],
    [
      'no LastModifiedTime',
      without('LastModifiedTime'),
      'invalid-event',
      'detail.LastModifiedTime: missing; expected epoch milliseconds',
    ],
    [
      'a LastModifiedTime that is no time',
      withDetail('LastModifiedTime', 'yesterday'),
      'invalid-event',
      'detail.LastModifiedTime: got "yesterday"; expected epoch milliseconds',
    ],
    [
      'an unknown status',
      withDetail('TrainingJobStatus', 'Paused'),
      'invalid-event',
      'detail.TrainingJobStatus: got "Paused"; allowed: "InProgress", "Completed"',
    ],
    ['no job name', without('TrainingJobName'), 'invalid-event', 'detail.TrainingJobName: missing'],
    [
      'a bad region',
      withTop('region', 'moon-1'),
      'invalid-event',
      'region: got "moon-1"; expected an AWS region code',
    ],
    [
      'a negative instance count',
      withDetail('ResourceConfig', { InstanceType: 'ml.p4d.24xlarge', InstanceCount: -1 }),
      'invalid-event',
      'detail.ResourceConfig.InstanceCount: got -1',
    ],
  ])('rejects %s with a precise reason', (_label, body, problem, fragment) => {
    const parsed = parseSageMakerJobEvent(body);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problem).toBe(problem);
    expect(parsed.detail).toContain(fragment);
  });
});
