import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbJobQueries, daysCovering } from '../../lambdas/adapters/dynamodb/job-queries';
import { fixedClock } from '../../lambdas/core/time';

const docMock = mockClient(DynamoDBDocumentClient);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const NOW = Date.UTC(2024, 4, 14, 0, 30);

function item(jobName: string, status: string, lastModifiedTime: number) {
  return {
    pk: `us-east-1#${jobName}`,
    schemaVersion: 1,
    region: 'us-east-1',
    jobName,
    status,
    lastModifiedTime,
    creationTime: lastModifiedTime - 1000,
    tags: {},
    transitions: [],
  };
}

beforeEach(() => docMock.reset());

describe('DynamoDbJobQueries', () => {
  it('queries the active index and one modified-by-day query per UTC day since, paging each', async () => {
    const since = NOW - 3_600_000; // 23:30 the day before
    docMock
      .on(QueryCommand, { IndexName: 'active-jobs' })
      .resolvesOnce({ Items: [item('a', 'InProgress', NOW - 10)], LastEvaluatedKey: { pk: 'x' } })
      .resolvesOnce({ Items: [item('b', 'Stopping', NOW - 20)] });
    docMock
      .on(QueryCommand, { IndexName: 'modified-by-day' })
      .resolves({ Items: [item('c', 'Failed', NOW - 5), item('a', 'InProgress', NOW - 10)] });
    const jobs = await new DynamoDbJobQueries(doc, 'jobs', fixedClock(NOW)).recentAndActive(since);
    expect(jobs.map((j) => `${j.jobName}:${j.status}`).sort()).toEqual([
      'a:InProgress',
      'b:Stopping',
      'c:Failed',
    ]);
    const inputs = docMock.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(inputs[0]).toEqual({
      TableName: 'jobs',
      IndexName: 'active-jobs',
      KeyConditionExpression: '#active = :active',
      ExpressionAttributeNames: { '#active': 'active' },
      ExpressionAttributeValues: { ':active': 'Y' },
    });
    expect(inputs[1]?.ExclusiveStartKey).toEqual({ pk: 'x' });
    const byDay = inputs.filter((i) => i.IndexName === 'modified-by-day');
    expect(byDay.map((i) => i.ExpressionAttributeValues?.[':day'])).toEqual(['2024-05-13', '2024-05-14']);
    expect(byDay[0]).toMatchObject({
      KeyConditionExpression: '#day = :day AND #lm >= :since',
      ExpressionAttributeNames: { '#day': 'modifiedDay', '#lm': 'lastModifiedTime' },
      ExpressionAttributeValues: { ':since': since },
    });
  });

  it('keeps the newest state when the two indexes disagree', async () => {
    docMock
      .on(QueryCommand, { IndexName: 'active-jobs' })
      .resolves({ Items: [item('a', 'InProgress', NOW - 100)] });
    docMock
      .on(QueryCommand, { IndexName: 'modified-by-day' })
      .resolves({ Items: [item('a', 'Completed', NOW - 1)] });
    const jobs = await new DynamoDbJobQueries(doc, 'jobs', fixedClock(NOW)).recentAndActive(NOW - 60_000);
    expect(jobs.map((j) => j.status)).toEqual(['Completed']);
  });

  it('refuses a lookback longer than the limit, naming it', async () => {
    await expect(
      new DynamoDbJobQueries(doc, 'jobs', fixedClock(NOW), { maxLookbackDays: 3 }).recentAndActive(
        NOW - 5 * 86_400_000,
      ),
    ).rejects.toThrow(/spans 6 days; at most 3 are allowed/);
    expect(docMock.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('fails on an item with an unknown status rather than guessing', async () => {
    docMock.on(QueryCommand).resolves({ Items: [item('z', 'Paused', NOW)] });
    await expect(new DynamoDbJobQueries(doc, 'jobs', fixedClock(NOW)).recentAndActive(NOW)).rejects.toThrow(
      /status "Paused"/,
    );
  });
});

describe('daysCovering', () => {
  it.each([
    [Date.UTC(2024, 0, 1, 5), Date.UTC(2024, 0, 1, 6), ['2024-01-01']],
    [Date.UTC(2023, 11, 31, 23), Date.UTC(2024, 0, 1, 1), ['2023-12-31', '2024-01-01']],
    [Date.UTC(2024, 0, 2), Date.UTC(2024, 0, 1), ['2024-01-02']],
  ])('%i..%i', (since, now, expected) => expect(daysCovering(since, now)).toEqual(expected));
});
