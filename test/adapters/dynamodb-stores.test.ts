import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbJobStore } from '../../lambdas/adapters/dynamodb/job-store';
import { DynamoDbStateStore } from '../../lambdas/adapters/dynamodb/state-store';
import type { TrainingJobState } from '../../lambdas/core/model';
import { DAY_MS, fixedClock } from '../../lambdas/core/time';

const docMock = mockClient(DynamoDBDocumentClient);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const NOW = Date.UTC(2024, 4, 14, 12, 0, 0);

function conditionFailed(item?: Record<string, unknown>): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: { httpStatusCode: 400 },
    ...(item ? { Item: item as never } : {}),
  });
}

beforeEach(() => {
  docMock.reset();
});

describe('DynamoDbStateStore', () => {
  const store = new DynamoDbStateStore(doc, 'fleetwatch-state', fixedClock(NOW));

  it('creates a key only if it does not exist yet', async () => {
    docMock.on(PutCommand).resolves({});
    expect(await store.put('watermark/us-east-1', { at: 5, nested: { a: [1, 2] } }, undefined)).toBe(1);
    expect(docMock.commandCalls(PutCommand)[0]?.args[0].input).toEqual({
      TableName: 'fleetwatch-state',
      Item: {
        pk: 'watermark/us-east-1',
        value: '{"at":5,"nested":{"a":[1,2]}}',
        version: 1,
        updatedAt: '2024-05-14T12:00:00.000Z',
      },
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': 'pk' },
    });
  });

  it('updates only the version it read', async () => {
    docMock.on(PutCommand).resolves({});
    expect(await store.put('k', 'v', 3)).toBe(4);
    expect(docMock.commandCalls(PutCommand)[0]?.args[0].input).toMatchObject({
      Item: { pk: 'k', value: '"v"', version: 4 },
      ConditionExpression: '#version = :expected',
      ExpressionAttributeNames: { '#version': 'version' },
      ExpressionAttributeValues: { ':expected': 3 },
    });
  });

  it('answers conflict, not an error, when another writer got there first', async () => {
    docMock.on(PutCommand).rejects(conditionFailed());
    expect(await store.put('k', 1, 3)).toBe('conflict');
  });

  it('lets other errors through', async () => {
    docMock.on(PutCommand).rejects(
      Object.assign(new Error('Throughput exceeds the current capacity'), {
        name: 'ProvisionedThroughputExceededException',
      }),
    );
    await expect(store.put('k', 1, undefined)).rejects.toThrow('Throughput exceeds');
  });

  it('refuses a value too big for one item, naming the key', async () => {
    await expect(store.put('inventory/big', 'x'.repeat(400_000), undefined)).rejects.toThrow(
      /State "inventory\/big" is \d+ bytes as JSON; DynamoDB items are limited to 400 KB/,
    );
    expect(docMock.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('reads consistently and returns the value with its version', async () => {
    docMock
      .on(GetCommand)
      .resolves({ Item: { pk: 'k', value: '{"watermark":42}', version: 7, updatedAt: 'x' } });
    expect(await store.get('k')).toEqual({ value: { watermark: 42 }, version: 7 });
    expect(docMock.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: 'fleetwatch-state',
      Key: { pk: 'k' },
      ConsistentRead: true,
    });
  });

  it('returns undefined for a missing key', async () => {
    docMock.on(GetCommand).resolves({});
    expect(await store.get('nope')).toBeUndefined();
  });
});

describe('DynamoDbJobStore', () => {
  const store = new DynamoDbJobStore(doc, 'fleetwatch-jobs', { retainDays: 30 });
  const running: TrainingJobState = {
    region: 'us-east-1',
    jobName: 'llama',
    arn: 'arn:aws:sagemaker:us-east-1:123456789012:training-job/llama',
    status: 'InProgress',
    secondaryStatus: 'Training',
    lastModifiedTime: NOW,
    creationTime: NOW - 600_000,
    trainingStartTime: NOW - 300_000,
    instanceType: 'ml.p4d.24xlarge',
    instanceCount: 4,
    tags: { team: 'nlp', 'workload-class': 'pretrain' },
    team: 'nlp',
    workloadClass: 'pretrain',
    transitions: [
      { status: 'Starting', startTime: NOW - 600_000, endTime: NOW - 300_000, message: 'Preparing' },
    ],
    checkpointS3Uri: 's3://b/ckpt/',
    metricNames: ['train:loss'],
  };

  it('writes the whole state if the job is new or the stored state is older', async () => {
    docMock.on(PutCommand).resolves({});
    expect(await store.apply(running)).toBe('applied');
    expect(docMock.commandCalls(PutCommand)[0]?.args[0].input).toEqual({
      TableName: 'fleetwatch-jobs',
      Item: {
        pk: 'us-east-1#llama',
        schemaVersion: 1,
        region: 'us-east-1',
        jobName: 'llama',
        arn: running.arn,
        status: 'InProgress',
        secondaryStatus: 'Training',
        lastModifiedTime: NOW,
        creationTime: NOW - 600_000,
        trainingStartTime: NOW - 300_000,
        instanceType: 'ml.p4d.24xlarge',
        instanceCount: 4,
        tags: { team: 'nlp', 'workload-class': 'pretrain' },
        team: 'nlp',
        workloadClass: 'pretrain',
        transitions: running.transitions,
        checkpointS3Uri: 's3://b/ckpt/',
        metricNames: ['train:loss'],
        active: 'Y',
        modifiedDay: '2024-05-14',
      },
      ConditionExpression: '(attribute_not_exists(#pk)) OR (#lm < :lm)',
      ExpressionAttributeNames: { '#pk': 'pk', '#lm': 'lastModifiedTime' },
      ExpressionAttributeValues: { ':lm': NOW },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('drops the active marker and sets the TTL once the job is terminal', async () => {
    docMock.on(PutCommand).resolves({});
    const end = NOW + 3_600_000;
    await store.apply({
      ...running,
      status: 'Completed',
      trainingEndTime: end,
      lastModifiedTime: end + 5_000,
    });
    const item = docMock.commandCalls(PutCommand)[0]?.args[0].input.Item ?? {};
    expect(item.active).toBeUndefined();
    expect(item.modifiedDay).toBe('2024-05-14');
    expect(item.expiresAt).toBe(Math.floor((end + 30 * DAY_MS) / 1000));
  });

  it('keeps the active marker while the job is Stopping (still holding GPUs)', async () => {
    docMock.on(PutCommand).resolves({});
    await store.apply({ ...running, status: 'Stopping', lastModifiedTime: NOW + 1 });
    expect(docMock.commandCalls(PutCommand)[0]?.args[0].input.Item?.active).toBe('Y');
  });

  it.each([
    ['the same LastModifiedTime is stored', NOW, 'duplicate'],
    ['a newer LastModifiedTime is stored', NOW + 1, 'stale'],
  ] as const)('tells from ALL_OLD that %s → %s', async (_label, storedLm, outcome) => {
    docMock
      .on(PutCommand)
      .rejects(conditionFailed({ pk: { S: 'us-east-1#llama' }, lastModifiedTime: { N: String(storedLm) } }));
    expect(await store.apply(running)).toBe(outcome);
    expect(docMock.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('reads the item when the failed condition came without ALL_OLD', async () => {
    docMock.on(PutCommand).rejects(conditionFailed());
    docMock
      .on(GetCommand)
      .resolves({ Item: { ...running, pk: 'us-east-1#llama', lastModifiedTime: NOW + 10 } });
    expect(await store.apply(running)).toBe('stale');
    expect(docMock.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: 'fleetwatch-jobs',
      Key: { pk: 'us-east-1#llama' },
      ConsistentRead: true,
    });
  });

  it('lets other errors through (the record is then retried)', async () => {
    docMock
      .on(PutCommand)
      .rejects(Object.assign(new Error('Internal server error'), { name: 'InternalServerError' }));
    await expect(store.apply(running)).rejects.toThrow('Internal server error');
  });

  it('reads a stored item back into a state, without the storage-only attributes', async () => {
    docMock.on(GetCommand).resolves({
      Item: { ...running, pk: 'us-east-1#llama', schemaVersion: 1, active: 'Y' },
    });
    expect(await store.get('us-east-1', 'llama')).toEqual(running);
  });

  it('refuses to invent a state from an item with an unknown status', async () => {
    docMock.on(GetCommand).resolves({ Item: { ...running, pk: 'us-east-1#llama', status: 'Paused' } });
    await expect(store.get('us-east-1', 'llama')).rejects.toThrow(/status "Paused"/);
  });
});
