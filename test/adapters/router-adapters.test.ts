import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbCalendarStore } from '../../lambdas/adapters/dynamodb/calendar-store';
import { DynamoDbIncidentStore } from '../../lambdas/adapters/dynamodb/incident-store';
import { SfnRemediationStarter } from '../../lambdas/adapters/sfn/remediation-starter';
import { SnsNotifier } from '../../lambdas/adapters/sns/notifier';
import { INCIDENT_SCHEMA_VERSION, type Incident } from '../../lambdas/contracts/incident';
import { NOTIFICATION_SCHEMA_VERSION, type Notification } from '../../lambdas/contracts/notification';

/** Wire shapes of the router's adapters (SNS Publish, StartExecution, incident/calendar writes). */
const snsMock = mockClient(SNSClient);
const sfnMock = mockClient(SFNClient);
const ddbMock = mockClient(DynamoDBDocumentClient);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));

const TOPICS = {
  page: 'arn:aws:sns:us-east-1:123456789012:page',
  ticket: 'arn:aws:sns:us-east-1:123456789012:ticket',
  info: 'arn:aws:sns:us-east-1:123456789012:info',
};

const notification = (over: Partial<Notification['attributes']> = {}): Notification => ({
  schemaVersion: NOTIFICATION_SCHEMA_VERSION,
  subject: '[PAGE] Xid 79 on train-a/i-1 GPU 3',
  body: 'what, where, since when',
  attributes: {
    severity: 'ticket',
    category: 'hardware',
    cluster: 'train-a',
    kind: 'gpu.xid.fatal',
    incidentId: '0123456789abcdef-1',
    event: 'open',
    ...over,
  },
});

const throttled = () =>
  Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });

describe('SnsNotifier', () => {
  beforeEach(() => snsMock.reset());

  it('publishes to the severity topic with subject, message and string attributes (absent labels left out)', async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: 'sns-1' });
    const id = await new SnsNotifier(new SNSClient({ region: 'us-east-1' }), TOPICS).publish(notification());
    expect(id).toBe('sns-1');
    expect(snsMock.commandCalls(PublishCommand)[0]?.args[0].input).toEqual({
      TopicArn: TOPICS.ticket,
      Subject: '[PAGE] Xid 79 on train-a/i-1 GPU 3',
      Message: 'what, where, since when',
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'ticket' },
        category: { DataType: 'String', StringValue: 'hardware' },
        cluster: { DataType: 'String', StringValue: 'train-a' },
        kind: { DataType: 'String', StringValue: 'gpu.xid.fatal' },
        incidentId: { DataType: 'String', StringValue: '0123456789abcdef-1' },
        event: { DataType: 'String', StringValue: 'open' },
      },
    });
  });

  it('retries throttling with backoff, and gives up on other errors at once', async () => {
    const sleeps: number[] = [];
    const notifier = new SnsNotifier(new SNSClient({ region: 'us-east-1' }), TOPICS, {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0,
    });
    snsMock
      .on(PublishCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(throttled())
      .resolves({ MessageId: 'sns-2' });
    expect(await notifier.publish(notification({ severity: 'page' }))).toBe('sns-2');
    expect(sleeps).toEqual([100, 200]);

    snsMock.reset();
    snsMock
      .on(PublishCommand)
      .rejects(Object.assign(new Error('Topic does not exist'), { name: 'NotFound' }));
    await expect(notifier.publish(notification())).rejects.toThrow(
      /SNS Publish to arn:aws:sns:us-east-1:123456789012:ticket \(incident 0123456789abcdef-1\) failed after 1 attempt\(s\): Topic does not exist/,
    );
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(1);
  });
});

describe('SfnRemediationStarter', () => {
  const machines = {
    'stop-job': 'arn:aws:states:us-east-1:123456789012:stateMachine:stop',
    'quarantine-node': 'arn:aws:states:us-east-1:123456789012:stateMachine:quarantine',
  };
  const starter = () =>
    new SfnRemediationStarter(new SFNClient({ region: 'us-east-1' }), machines, 'incidents');
  beforeEach(() => sfnMock.reset());

  it('starts the named execution with the input the state machine reads', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec:1', startDate: new Date() });
    const res = await starter().start('stop-job', '0123456789abcdef-1-stop-job', {
      incidentId: '0123456789abcdef-1',
      fingerprint: '0123456789abcdef',
      labels: { job: 'llama-pretrain' },
      approvalRequired: true,
      title: 'Job stalled',
    });
    expect(res).toEqual({ executionId: 'arn:exec:1' });
    const input = sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(input?.stateMachineArn).toBe(machines['stop-job']);
    expect(input?.name).toBe('0123456789abcdef-1-stop-job');
    expect(JSON.parse(input?.input ?? '')).toMatchObject({
      table: 'incidents',
      key: { id: { S: '0123456789abcdef' } },
      policy: 'approval',
      summary: 'Job stalled',
      trainingJobName: 'llama-pretrain',
    });
  });

  it('answers ExecutionAlreadyExists with the existing execution ARN; other errors propagate', async () => {
    sfnMock
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error('exists'), { name: 'ExecutionAlreadyExists' }));
    expect(
      await starter().start('quarantine-node', 'abc-1-quarantine-node', { labels: { node: 'i-1' } }),
    ).toEqual({
      executionId: 'arn:aws:states:us-east-1:123456789012:execution:quarantine:abc-1-quarantine-node',
    });
    sfnMock
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(starter().start('stop-job', 'x', {})).rejects.toThrow('denied');
    await expect(starter().start('retrain', 'x', {})).rejects.toThrow(
      /No state machine for remediation workflow "retrain"/,
    );
  });
});

const incident = (over: Partial<Incident> = {}): Incident => ({
  schemaVersion: INCIDENT_SCHEMA_VERSION,
  id: '0123456789abcdef-1',
  fingerprint: '0123456789abcdef',
  episode: 1,
  kind: 'gpu.xid.fatal',
  severity: 'page',
  originalSeverity: 'page',
  cause: 'hardware',
  title: 'Xid 79',
  labels: { cluster: 'train-a' },
  runbook: 'docs/runbooks/gpu.xid.fatal.md',
  evidence: '',
  resolveMode: 'explicit',
  status: 'open',
  firstSeenMs: 1_000,
  lastSeenMs: 2_000,
  observations: [],
  history: [],
  notifications: [],
  remediations: [],
  version: 3,
  ...over,
});

describe('DynamoDbIncidentStore', () => {
  beforeEach(() => ddbMock.reset());

  it('writes with UpdateItem conditioned on the version it read; a failed condition is a conflict', async () => {
    ddbMock
      .on(UpdateCommand)
      .resolvesOnce({})
      .rejectsOnce(Object.assign(new Error('no'), { name: 'ConditionalCheckFailedException' }));
    const store = new DynamoDbIncidentStore(doc, 'incidents');
    expect(await store.put(incident())).toMatchObject({ version: 4 });
    const input = ddbMock.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.Key).toEqual({ id: '0123456789abcdef' });
    expect(input?.ConditionExpression).toBe('#version = :expected');
    expect(input?.ExpressionAttributeValues).toMatchObject({
      ':expected': 3,
      ':version': 4,
      ':status': 'open',
      ':lastSeenMs': 2_000,
    });
    expect(input?.UpdateExpression).toMatch(/REMOVE #outbox, #expiresAt$/);
    expect(await store.put(incident())).toBe('conflict');
  });

  it('lists active incidents from every status partition, all pages, and reports invalid items', async () => {
    const body = (i: Incident) => ({ id: i.fingerprint, body: JSON.stringify(i) });
    ddbMock.on(QueryCommand).resolves({ Items: [] });
    ddbMock
      .on(QueryCommand, { ExpressionAttributeValues: { ':status': 'open' } })
      .resolvesOnce({ Items: [body(incident())], LastEvaluatedKey: { id: 'x' } })
      .resolvesOnce({
        Items: [
          body(incident({ fingerprint: 'fedcba9876543210', id: 'fedcba9876543210-1' })),
          { id: 'bad', body: '{}' },
        ],
      });
    const invalid: string[] = [];
    const store = new DynamoDbIncidentStore(doc, 'incidents', { onInvalidItem: (id) => invalid.push(id) });
    const active = await store.listActive();
    expect(active.map((i) => i.fingerprint)).toEqual(['0123456789abcdef', 'fedcba9876543210']);
    expect(invalid).toEqual(['bad']);
    const statuses = ddbMock
      .commandCalls(QueryCommand)
      .map((c) => c.args[0].input.ExpressionAttributeValues?.[':status']);
    expect(statuses).toEqual(['pending', 'open', 'open', 'acknowledged', 'resolved']);
    // Without onInvalidItem, an invalid item stops the listing with its key in the message.
    ddbMock.reset();
    ddbMock.on(QueryCommand).resolves({ Items: [{ id: 'bad', body: '{}' }] });
    await expect(new DynamoDbIncidentStore(doc, 'incidents').listActive()).rejects.toThrow(
      /Incident item bad in table incidents is not a valid incident/,
    );
  });
});

describe('DynamoDbCalendarStore', () => {
  beforeEach(() => ddbMock.reset());

  it('queries silences ending after now in their own index partition', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [] });
    await new DynamoDbCalendarStore(doc, 'incidents').silences(5_000);
    const input = ddbMock.commandCalls(QueryCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      IndexName: 'status-index',
      KeyConditionExpression: '#status = :partition AND #end > :after',
      ExpressionAttributeValues: { ':partition': 'calendar#silence', ':after': 5_000 },
    });
  });

  it('names the stored item when it is not a valid silence', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [{ id: 'silence#s1', body: '{"id":"s1"}' }] });
    await expect(new DynamoDbCalendarStore(doc, 'incidents').silences(0)).rejects.toThrow(
      /Calendar item silence#s1 is not a valid silence: matchers/,
    );
  });
});
