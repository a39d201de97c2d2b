import { readFileSync } from 'node:fs';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { filterPolicyOf } from '../../infra/constructs/notification-topics';
import { DynamoDbCalendarStore, DynamoDbChangeLog } from '../../lambdas/adapters/dynamodb/calendar-store';
import { DynamoDbIncidentStore } from '../../lambdas/adapters/dynamodb/incident-store';
import { ENV } from '../../lambdas/contracts/env';
import { FINDING_SCHEMA_VERSION, type Finding } from '../../lambdas/contracts/finding';
import { INCIDENT_SCHEMA_VERSION, type Incident } from '../../lambdas/contracts/incident';
import { DEFAULT_KIND_LIFECYCLE } from '../../lambdas/contracts/incidents-config';
import { makeHandler as makeRouteHandler } from '../../lambdas/handlers/route-incidents';
import { makeHandler as makeSweepHandler } from '../../lambdas/handlers/sweep-incidents';
import { dynamoDocumentClient, resetClients, snsClient, sqsClient } from '../../lambdas/wiring/clients';
import { buildRouterRuntime, type RouterConfigInput, type RouterRuntime } from '../../lambdas/wiring/router';
import { uniqueSuffix, useMoto } from '../support/aws-env';
import { createIncidentsTable as createTableLikeTheStack } from '../support/operator-cli';

/**
 * The incident router on the real SDK against moto: the DynamoDB incident and calendar stores
 * on a table shaped like infra/constructs/incidents-table.ts (key `id`, GSI `status-index`), then
 * the route-incidents and sweep-incidents handlers with their real wiring: DynamoDB, SNS topics
 * with SQS subscribers (raw delivery, the filter policies the notification-topics construct
 * makes), the findings DLQ; Step Functions through aws-sdk-client-mock (StartExecution asserted).
 */
const { region } = useMoto();
resetClients();

const suffix = uniqueSuffix();
const doc = dynamoDocumentClient(region);

const createIncidentsTable = (name: string) => createTableLikeTheStack(region, name);

const T = Date.parse('2026-03-10T12:00:00Z');

function incident(fp: string, overrides: Partial<Incident> = {}): Incident {
  return {
    schemaVersion: INCIDENT_SCHEMA_VERSION,
    id: `${fp}-1`,
    fingerprint: fp,
    episode: 1,
    kind: 'gpu.xid_fatal',
    severity: 'page',
    originalSeverity: 'page',
    cause: 'hardware',
    title: 'Xid 79',
    labels: { cluster: 'train-a', node: 'i-1', gpu: '3' },
    runbook: 'docs/runbooks/gpu.xid_fatal.md',
    evidence: 'xid=79',
    resolveMode: 'explicit',
    status: 'open',
    firstSeenMs: T,
    lastSeenMs: T,
    observations: [],
    history: [{ at: T, action: 'opened', actor: 'router' }],
    notifications: [],
    remediations: [],
    version: 0,
    ...overrides,
  };
}

describe('DynamoDbIncidentStore and DynamoDbCalendarStore on moto', () => {
  const table = `fw-incidents-store-${suffix}`;
  beforeAll(() => createIncidentsTable(table));

  it('writes with optimistic versions, lists active and recent, keeps calendar items out', async () => {
    const store = new DynamoDbIncidentStore(doc, table);
    const calendar = new DynamoDbCalendarStore(doc, table);
    const a = await store.put(incident('aaaaaaaaaaaaaaaa'));
    expect(a).not.toBe('conflict');
    expect((a as Incident).version).toBe(1);
    expect(await store.put(incident('aaaaaaaaaaaaaaaa'))).toBe('conflict');
    const a2 = await store.put({ ...(a as Incident), status: 'acknowledged' });
    expect((a2 as Incident).version).toBe(2);
    expect(await store.put({ ...(a as Incident), status: 'resolved' })).toBe('conflict');

    // resolved with an unsent notification stays active; resolved and sent does not
    await store.put(
      incident('bbbbbbbbbbbbbbbb', {
        status: 'resolved',
        resolvedAtMs: T,
        notifications: [{ at: T, event: 'resolved', severity: 'page', status: 'pending' }],
      }),
    );
    await store.put(
      incident('cccccccccccccccc', { status: 'resolved', resolvedAtMs: T, lastSeenMs: T - 10_000 }),
    );
    await calendar.putSilence({
      id: 's1',
      matchers: [{ label: 'node', op: '=', value: 'i-1' }],
      start: new Date(T - 60_000).toISOString(),
      end: new Date(T + 3_600_000).toISOString(),
      author: 'ops',
      reason: 'reboot',
      createdAt: new Date(T - 60_000).toISOString(),
    });
    await calendar.putMaintenanceWindow('w1', {
      cron: '0 2 * * 6',
      duration: 'PT2H',
      tz: 'America/New_York',
      scope: [],
    });

    const active = await store.listActive();
    expect(active.map((i) => [i.fingerprint, i.status]).sort()).toEqual([
      ['aaaaaaaaaaaaaaaa', 'acknowledged'],
      ['bbbbbbbbbbbbbbbb', 'resolved'],
    ]);
    expect((await store.listRecent(T - 1)).map((i) => i.fingerprint).sort()).toEqual([
      'aaaaaaaaaaaaaaaa',
      'bbbbbbbbbbbbbbbb',
      'cccccccccccccccc',
    ]);
    expect((await store.listRecent(T + 1)).map((i) => i.fingerprint)).toEqual([]);
    expect(await store.get('aaaaaaaaaaaaaaaa')).toEqual(a2);

    const raw = await doc.send(
      new GetItemCommand({ TableName: table, Key: { id: { S: 'cccccccccccccccc' } } }),
    );
    expect(Number(raw.Item?.expiresAt?.N)).toBe(Math.floor((T + 90 * 86_400_000) / 1000));

    expect((await calendar.silences(T)).map((s) => s.id)).toEqual(['s1']);
    expect(await calendar.maintenanceWindows()).toEqual([
      { cron: '0 2 * * 6', duration: 'PT2H', tz: 'America/New_York', scope: [] },
    ]);
    expect(await calendar.expireSilence('s1', T + 1_000)).toBe(true);
    expect(await calendar.expireSilence('nope', T)).toBe(false);
    expect(await calendar.silences(T + 2_000)).toEqual([]);
    expect((await calendar.silences(T))[0]?.end).toBe(new Date(T + 1_000).toISOString());
  });

  it('records known changes and lists those since a time, apart from incidents', async () => {
    const log = new DynamoDbChangeLog(doc, table);
    await log.recordChange('d1', { at: new Date(T - 3_600_000).toISOString(), kind: 'deploy', scope: [] });
    await log.recordChange('d2', { at: new Date(T).toISOString(), kind: 'driver-upgrade', scope: [] });
    expect((await log.changesSince(T - 60_000)).map((c) => c.kind)).toEqual(['driver-upgrade']);
    const store = new DynamoDbIncidentStore(doc, table);
    expect((await store.listRecent(0)).every((i) => /^[0-9a-f]{16}$/.test(i.fingerprint))).toBe(true);
  });

  it('keeps what the remediation workflows wrote on the item when the router writes again', async () => {
    const store = new DynamoDbIncidentStore(doc, table);
    const first = (await store.put(incident('dddddddddddddddd'))) as Incident;
    // what the state machine's UpdateItem upsert writes
    await doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { id: 'dddddddddddddddd' },
        UpdateExpression: 'SET remediationStatus = :s',
        ExpressionAttributeValues: { ':s': 'awaiting-approval' },
      }),
    );
    await store.put({ ...first, status: 'acknowledged' });
    const raw = await doc.send(
      new GetItemCommand({ TableName: table, Key: { id: { S: 'dddddddddddddddd' } } }),
    );
    expect(raw.Item?.remediationStatus?.S).toBe('awaiting-approval');
    expect(raw.Item?.status?.S).toBe('acknowledged');
  });
});

// ---------------------------------------------------------------------------------------------
// The router end to end

const sqs = sqsClient(region);
const sns = snsClient(region);
const sfnMock = mockClient(SFNClient);

interface Subscriber {
  url: string;
}
const subs: Record<'page' | 'ticket' | 'info' | 'pageTrainB', Subscriber> = {
  page: { url: '' },
  ticket: { url: '' },
  info: { url: '' },
  pageTrainB: { url: '' },
};
let dlqUrl = '';
const routerTable = `fw-incidents-router-${suffix}`;

async function queue(name: string): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: QueueUrl ?? '', AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl ?? '', arn: attrs.Attributes?.QueueArn ?? '' };
}

/** Every message waiting on a queue (drains it). */
async function drain(url: string): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const res = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
        VisibilityTimeout: 300,
      }),
    );
    if (!res.Messages?.length) return out;
    out.push(...res.Messages);
  }
}

const routerConfig: RouterConfigInput = {
  stackName: 'FleetWatch',
  incidents: {
    groupWaitSeconds: 0,
    groupGpusPerNode: 8,
    kinds: [...DEFAULT_KIND_LIFECYCLE, { match: ['node.**'], openAfter: 1, ofRuns: 1, resolve: 'explicit' }],
  },
  anomalyAlarms: [
    {
      name: 'train-a-gpu-util',
      namespace: 'CWAgent',
      metricName: 'DCGM_FI_DEV_GPU_UTIL',
      dimensions: { ClusterName: 'train-a' },
      severity: 'page',
      cause: 'efficiency',
      runbook: 'docs/runbooks/fleet.utilisation_drop.md',
    },
  ],
  maintenance: [
    // Sundays 01:00 New York wall clock, two real hours: on 2026-11-01 (DST ends at 02:00 EDT)
    // it starts at the first 01:00 (05:00Z) and ends at 07:00Z, which is 02:00 EST.
    {
      name: 'sunday-maintenance',
      cron: '0 1 * * 0',
      duration: 'PT2H',
      tz: 'America/New_York',
      scope: [{ label: 'cluster', op: '=', value: 'maint' }],
    },
  ],
};

const T0 = Date.parse('2026-03-10T12:00:00Z');

function xid(node: string, gpu: string, at: number, over: Partial<Finding> = {}): Finding {
  return {
    schemaVersion: FINDING_SCHEMA_VERSION,
    kind: 'gpu.xid.fatal',
    severity: 'page',
    cause: 'hardware',
    title: `Xid 79 on ${node} GPU ${gpu}`,
    labels: { cluster: 'train-a', region, node, gpu, team: 'ml' },
    evidence: { values: { xid: 79 }, window: { startMs: at - 300_000, endMs: at } },
    runbook: 'docs/runbooks/gpu.xid.fatal.md',
    detectedAt: at,
    ...over,
  };
}

function nodeDown(node: string, at: number, cluster = 'train-a'): Finding {
  return {
    schemaVersion: FINDING_SCHEMA_VERSION,
    kind: 'node.unreachable',
    severity: 'page',
    cause: 'hardware',
    title: `Node ${node} stopped reporting`,
    labels: { cluster, region, node, team: 'ml' },
    evidence: { window: { startMs: at - 300_000, endMs: at } },
    runbook: 'docs/runbooks/node.unreachable.md',
    detectedAt: at,
  };
}

function sqsEvent(bodies: (Finding | string)[], prefix: string): SQSEvent {
  return {
    Records: bodies.map((b, i) => ({
      messageId: `${prefix}-${i}`,
      receiptHandle: `rh-${prefix}-${i}`,
      body: typeof b === 'string' ? b : JSON.stringify(b),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '0',
        SenderId: 'test',
        ApproximateFirstReceiveTimestamp: '0',
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:findings',
      awsRegion: region,
    })),
  };
}

/** Messages about the maintenance scenario's cluster (the sweep also re-notifies earlier tests' open pages). */
const maint = (messages: Message[]) =>
  messages.filter((m) => m.MessageAttributes?.cluster?.StringValue === 'maint');

describe('route-incidents and sweep-incidents on moto', () => {
  let runtime: RouterRuntime;
  let now = T0;
  const route = (bodies: (Finding | string)[], prefix: string) =>
    makeRouteHandler(() => ({ ...runtime, clock: { now: () => now } }))(sqsEvent(bodies, prefix));
  const sweep = () => makeSweepHandler(() => ({ ...runtime, clock: { now: () => now } }))();

  beforeAll(async () => {
    await createIncidentsTable(routerTable);
    const topicArn: Record<string, string> = {};
    for (const severity of ['page', 'ticket', 'info'] as const) {
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `fw-${severity}-${suffix}` }));
      topicArn[severity] = TopicArn ?? '';
      const q = await queue(`fw-${severity}-sub-${suffix}`);
      subs[severity].url = q.url;
      await sns.send(
        new SubscribeCommand({
          TopicArn,
          Protocol: 'sqs',
          Endpoint: q.arn,
          Attributes: { RawMessageDelivery: 'true' },
        }),
      );
    }
    // A filtered page subscriber, with the policy the construct generates for {cluster: [train-b]}.
    const filtered = await queue(`fw-page-train-b-${suffix}`);
    subs.pageTrainB.url = filtered.url;
    const policy = Object.fromEntries(
      Object.entries(filterPolicyOf({ cluster: ['train-b'] })).map(([k, f]) => [k, f.conditions]),
    );
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn.page,
        Protocol: 'sqs',
        Endpoint: filtered.arn,
        Attributes: { RawMessageDelivery: 'true', FilterPolicy: JSON.stringify(policy) },
      }),
    );
    dlqUrl = (await queue(`fw-findings-dlq-${suffix}`)).url;

    process.env[ENV.routerConfig] = JSON.stringify(routerConfig);
    process.env[ENV.incidentsTable] = routerTable;
    process.env[ENV.deadLetterQueueUrl] = dlqUrl;
    process.env[ENV.pageTopicArn] = topicArn.page;
    process.env[ENV.ticketTopicArn] = topicArn.ticket;
    process.env[ENV.infoTopicArn] = topicArn.info;
    const sm = (n: string) => `arn:aws:states:${region}:123456789012:stateMachine:${n}`;
    process.env[ENV.stopJobStateMachineArn] = sm('stop');
    process.env[ENV.quarantineNodeStateMachineArn] = sm('quarantine');
    delete process.env[ENV.retrainStateMachineArn];
    runtime = buildRouterRuntime('route-incidents-test');
  });

  beforeEach(async () => {
    sfnMock.reset();
    sfnMock.on(StartExecutionCommand).callsFake((input: { stateMachineArn: string; name: string }) => ({
      executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}`,
      startDate: new Date(),
    }));
    for (const s of Object.values(subs)) await drain(s.url);
    await drain(dlqUrl);
  });

  it('(a, f) an Xid 79 pages once with attributes, stores one incident, starts the quarantine workflow', async () => {
    now = T0;
    const res = await route([xid('i-a1', '3', T0)], 'a');
    expect(res.batchItemFailures).toEqual([]);
    const page = await drain(subs.page.url);
    expect(page).toHaveLength(1);
    const attrs = page[0]?.MessageAttributes ?? {};
    expect(Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, v.StringValue]))).toMatchObject({
      severity: 'page',
      category: 'hardware',
      cluster: 'train-a',
      team: 'ml',
      kind: 'gpu.xid.fatal',
      event: 'open',
    });
    expect(page[0]?.Body).toContain('i-a1');
    expect(await drain(subs.ticket.url)).toEqual([]);
    expect(await drain(subs.info.url)).toEqual([]);
    expect(await drain(subs.pageTrainB.url)).toEqual([]); // filter policy: cluster train-b only

    const active = await runtime.deps.store.listActive();
    const mine = active.filter((i) => i.labels.node === 'i-a1');
    expect(mine).toHaveLength(1);
    expect(mine[0]?.status).toBe('open');

    const starts = sfnMock.commandCalls(StartExecutionCommand);
    expect(starts).toHaveLength(1);
    const call = starts[0]?.args[0].input;
    expect(call?.stateMachineArn).toMatch(/:stateMachine:quarantine$/);
    const input = JSON.parse(call?.input ?? '{}');
    expect(input).toMatchObject({
      incidentId: mine[0]?.id,
      table: routerTable,
      key: { id: { S: mine[0]?.fingerprint } },
      policy: 'approval',
      instanceId: 'i-a1',
    });
    expect(mine[0]?.remediations[0]).toMatchObject({
      decision: 'started',
      executionId: expect.stringContaining(':execution:quarantine:'),
    });
  });

  it('(b) the same batch delivered twice sends one message', async () => {
    now = T0 + 60_000;
    const batch = [xid('i-b1', '1', now)];
    expect((await route(batch, 'b')).batchItemFailures).toEqual([]);
    expect((await route(batch, 'b')).batchItemFailures).toEqual([]);
    expect(await drain(subs.page.url)).toHaveLength(1);
  });

  for (const order of ['node first', 'GPUs first'] as const) {
    it(`(c) a node incident inhibits its GPU findings in the same batch (${order})`, async () => {
      now = T0 + (order === 'node first' ? 120_000 : 180_000);
      const node = order === 'node first' ? 'i-c1' : 'i-c2';
      const node0 = nodeDown(node, now);
      const gpus = [xid(node, '0', now), xid(node, '5', now)];
      const batch = order === 'node first' ? [node0, ...gpus] : [...gpus, node0];
      expect((await route(batch, `c-${node}`)).batchItemFailures).toEqual([]);
      const page = await drain(subs.page.url);
      expect(page.map((m) => m.MessageAttributes?.kind?.StringValue)).toEqual(['node.unreachable']);
      const recent = (await runtime.deps.store.listRecent(now - 1)).filter((i) => i.labels.node === node);
      const gpuIncidents = recent.filter((i) => i.labels.gpu !== undefined);
      expect(gpuIncidents).toHaveLength(2);
      for (const g of gpuIncidents) {
        expect(g.suppression?.stage).toBe('inhibition');
        expect(g.suppression?.reason).toMatch(/node/);
        expect(g.notifications.filter((n) => n.status === 'sent')).toEqual([]);
      }
    });
  }

  it('(d) a recurring New York maintenance window across the 2026-11-01 DST change mutes, then the sweep notifies', async () => {
    // 06:30Z on 2026-11-01 is 01:30 EST, the SECOND 01:30 of that night: inside the window
    // that started at the first 01:00 (EDT, 05:00Z) and lasts two real hours (to 07:00Z).
    now = Date.parse('2026-11-01T06:30:00Z');
    const finding = xid('i-d1', '2', now, {
      labels: { cluster: 'maint', region, node: 'i-d1', gpu: '2', team: 'ml' },
    });
    expect((await route([finding], 'd')).batchItemFailures).toEqual([]);
    expect(maint(await drain(subs.page.url))).toEqual([]);
    const [muted] = (await runtime.deps.store.listActive()).filter((i) => i.labels.node === 'i-d1');
    expect(muted?.suppression).toMatchObject({
      stage: 'maintenance',
      untilMs: Date.parse('2026-11-01T07:00:00Z'),
    });

    now = Date.parse('2026-11-01T06:55:00Z');
    await sweep();
    expect(maint(await drain(subs.page.url))).toEqual([]);

    now = Date.parse('2026-11-01T07:01:00Z');
    await sweep();
    const page = maint(await drain(subs.page.url));
    expect(page.map((m) => m.MessageAttributes?.event?.StringValue)).toEqual(['open']);
  });

  it('(e) a malformed message goes to the DLQ with a reason; the rest of the batch is routed', async () => {
    now = T0 + 240_000;
    const res = await route(
      [
        '{not json',
        { ...xid('i-e1', '1', now), severity: 'urgent' } as unknown as Finding,
        xid('i-e2', '1', now),
      ],
      'e',
    );
    expect(res.batchItemFailures).toEqual([]);
    const dlq = await drain(dlqUrl);
    expect(dlq).toHaveLength(2);
    expect(dlq.map((m) => m.Body)).toContain('{not json');
    for (const m of dlq)
      expect(m.MessageAttributes?.reason?.StringValue).toMatch(/invalid finding or alarm event: /);
    expect(dlq.map((m) => m.MessageAttributes?.reason?.StringValue).join(' ')).toMatch(/severity/);
    const page = await drain(subs.page.url);
    expect(page).toHaveLength(1);
    expect(page[0]?.Body).toContain('i-e2');
  });

  it('a failing SNS publish is a batch item failure and is sent on redelivery', async () => {
    now = T0 + 300_000;
    const failing = {
      ...runtime,
      deps: {
        ...runtime.deps,
        notifier: { publish: async () => Promise.reject(new Error('SNS unavailable')) },
      },
      clock: { now: () => now },
    };
    const res = await makeRouteHandler(() => failing)(sqsEvent([xid('i-f1', '1', now)], 'f'));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'f-0' }]);
    expect(await drain(subs.page.url)).toEqual([]);
    expect((await route([xid('i-f1', '1', now)], 'f')).batchItemFailures).toEqual([]);
    expect(await drain(subs.page.url)).toHaveLength(1);
  });

  // Last: a cluster-level page inhibits the GPU and node alerts of train-a for the tests after it.
  it('(g) a CloudWatch alarm state change becomes a finding and pages; a malformed one goes to the DLQ', async () => {
    const event = (name: string) =>
      readFileSync(
        new URL(`../fixtures/cloudwatch/alarm-state-change-${name}.json`, import.meta.url),
        'utf8',
      );
    now = Date.parse('2026-11-24T19:05:30Z');
    const res = await route([event('alarm'), event('malformed')], 'g');
    expect(res.batchItemFailures).toEqual([]);
    const page = await drain(subs.page.url);
    expect(page.map((m) => m.MessageAttributes?.kind?.StringValue)).toEqual(['alarm.train_a_gpu_util']);
    expect(page[0]?.MessageAttributes?.category?.StringValue).toBe('efficiency');
    const dlq = await drain(dlqUrl);
    expect(dlq).toHaveLength(1);
    expect(dlq[0]?.Body).toBe(event('malformed'));
  });
});
