import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbIncidentStore } from '../../lambdas/adapters/dynamodb/incident-store';
import { runRemediation } from '../../lambdas/cli/remediation';
import {
  APPROVAL_DENIED_ERROR,
  REMEDIATION_ITEM_ATTRIBUTES as ITEM,
} from '../../lambdas/contracts/notifications-config';
import { dynamoDocumentClient } from '../../lambdas/wiring/clients';
import { uniqueSuffix, useMoto } from '../support/aws-env';
import { capturedCli, createIncidentsTable, openIncident } from '../support/operator-cli';

/**
 * The incident items live in moto's DynamoDB, written as the router (incident) and the workflow's
 * approval step (task token, status, workflow) write them. Step Functions is mocked: moto can only
 * mint a waiting token by executing a whole state machine (done for the workflows themselves in
 * test/integration/remediation.test.ts); here the point is which token and payload the CLI sends.
 */
const { region } = useMoto();
const NOW = Date.parse('2026-11-24T12:00:00Z');
const sfn = mockClient(SFNClient);

const WAITING = 'cccccccccccccccc';
const NO_REMEDIATION = 'cccccccccccccccd';
const SETTLED = 'ccccccccccccccce';
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAeXampleTaskToken==';

describe('fleetwatch remediation approve|deny (moto DynamoDB, mocked Step Functions)', () => {
  const table = `fw-incidents-remed-${uniqueSuffix()}`;
  const cli = () => capturedCli({ table, region, nowMs: NOW, user: 'alice' });
  const doc = () => dynamoDocumentClient(region);

  /** What RequestApproval's UpdateItem (infra/constructs/remediation.ts) leaves on the item. */
  async function awaitApproval(fingerprint: string, status: string, token?: string): Promise<void> {
    await doc().send(
      new UpdateCommand({
        TableName: table,
        Key: { id: fingerprint },
        UpdateExpression: `SET #status = :status, #workflow = :workflow${token ? ', #token = :token' : ''}`,
        ExpressionAttributeNames: {
          '#status': ITEM.status,
          '#workflow': ITEM.workflow,
          ...(token ? { '#token': ITEM.taskToken } : {}),
        },
        ExpressionAttributeValues: {
          ':status': status,
          ':workflow': 'quarantine-node',
          ...(token ? { ':token': token } : {}),
        },
      }),
    );
  }

  beforeAll(async () => {
    await createIncidentsTable(region, table);
    const store = new DynamoDbIncidentStore(doc(), table);
    for (const fp of [WAITING, NO_REMEDIATION, SETTLED]) {
      expect(await store.put(openIncident(NOW, { fingerprint: fp, id: `${fp}-1` }))).not.toBe('conflict');
    }
    await awaitApproval(WAITING, 'awaiting-approval', TOKEN);
    await awaitApproval(SETTLED, 'approved');
  });
  beforeEach(() => {
    sfn.reset();
  });
  afterAll(() => {
    sfn.restore();
  });

  it('approve: SendTaskSuccess with the stored token and who approved', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    const c = cli();
    expect(await runRemediation(['approve', `${WAITING}-1`, '--note', 'node drained'], c.ctx.io, c.ctx)).toBe(
      0,
    );
    expect(c.err()).toBe('');
    expect(c.out()).toBe(`Approved quarantine-node for incident ${WAITING}-1 (alice).\n`);
    const calls = sfn.commandCalls(SendTaskSuccessCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input.taskToken).toBe(TOKEN);
    expect(JSON.parse(calls[0]?.args[0].input.output ?? '')).toEqual({
      approvedBy: 'alice',
      at: '2026-11-24T12:00:00Z',
      note: 'node drained',
    });
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('deny: SendTaskFailure with FleetWatch.Denied, the reason and who denied', async () => {
    sfn.on(SendTaskFailureCommand).resolves({});
    const c = cli();
    expect(
      await runRemediation(
        ['deny', `${WAITING}-1`, '--reason', 'training run about to checkpoint', '--actor', 'bob'],
        c.ctx.io,
        c.ctx,
      ),
    ).toBe(0);
    expect(c.out()).toBe(`Denied quarantine-node for incident ${WAITING}-1 (bob).\n`);
    const calls = sfn.commandCalls(SendTaskFailureCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.taskToken).toBe(TOKEN);
    expect(input?.error).toBe(APPROVAL_DENIED_ERROR);
    expect(JSON.parse(input?.cause ?? '')).toEqual({
      deniedBy: 'bob',
      at: '2026-11-24T12:00:00Z',
      reason: 'training run about to checkpoint',
    });
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('a token Step Functions no longer waits on (timed out / settled): exit 2 saying so', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    const c = cli();
    expect(await runRemediation(['approve', `${WAITING}-1`], c.ctx.io, c.ctx)).toBe(2);
    expect(c.err()).toContain(
      `approve ${WAITING}-1: the approval is no longer waiting (TaskTimedOut): it timed out or was already settled`,
    );
  });

  it.each([
    {
      args: ['approve', `${NO_REMEDIATION}-1`],
      message: `approve ${NO_REMEDIATION}-1: no remediation is waiting for approval (remediation status: none)`,
    },
    {
      args: ['deny', `${SETTLED}-1`, '--reason', 'r'],
      message: `deny ${SETTLED}-1: no remediation is waiting for approval (remediation status: approved)`,
    },
    {
      args: ['approve', 'dddddddddddddddd-1'],
      message: `approve dddddddddddddddd-1: no such incident in table ${table}`,
    },
    // The item holds episode 1; episode 2's approval cannot be on it.
    {
      args: ['approve', `${WAITING}-2`],
      message: `approve ${WAITING}-2: no such incident in table ${table}`,
    },
    { args: ['deny', `${WAITING}-1`], message: '--reason: required to deny' },
    { args: ['approve', `${WAITING}-1`, '--reason', 'x'], message: '--reason: only for deny' },
    { args: ['approve', 'i-123'], message: 'i-123: not an incident id' },
    { args: ['approve'], message: 'approve: missing <incidentId>' },
    { args: ['cancel', `${WAITING}-1`], message: 'unknown subcommand "cancel"; allowed: approve, deny' },
  ])('bad input: $message (exit 2, Step Functions not called)', async ({ args, message }) => {
    const c = cli();
    expect(await runRemediation(args, c.ctx.io, c.ctx)).toBe(2);
    expect(c.err()).toContain(`fleetwatch remediation: ${message}`);
    expect(c.out()).toBe('');
    expect(sfn.calls()).toHaveLength(0);
  });
});
