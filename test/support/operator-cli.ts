import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import type { CliIo } from '../../lambdas/cli/detect';
import type { OperatorContext, OperatorDeps } from '../../lambdas/cli/operator';
import { INCIDENT_SCHEMA_VERSION, type Incident } from '../../lambdas/contracts/incident';
import { makeOperatorDeps } from '../../lambdas/wiring/cli';
import { dynamoDocumentClient } from '../../lambdas/wiring/clients';

/**
 * Shared by the operator CLI tests (test/cli/{silence,maintenance,incidents,remediation}.test.ts):
 * the incidents table as infra/constructs/incidents-table.ts creates it, and a CLI context with
 * captured output, a fixed clock and the real (moto-backed) stores.
 */

/** Key `id`, GSI `status-index` (status, lastSeenMs), as IncidentsTable. */
export async function createIncidentsTable(region: string, table: string): Promise<void> {
  await dynamoDocumentClient(region).send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [
        { AttributeName: 'id', AttributeType: 'S' },
        { AttributeName: 'status', AttributeType: 'S' },
        { AttributeName: 'lastSeenMs', AttributeType: 'N' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'status-index',
          KeySchema: [
            { AttributeName: 'status', KeyType: 'HASH' },
            { AttributeName: 'lastSeenMs', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
}

export interface CapturedCli {
  readonly ctx: OperatorContext;
  readonly out: () => string;
  readonly err: () => string;
  /** Clears captured output between commands. */
  readonly clear: () => void;
  /** Moves the fixed clock. */
  setNow(ms: number): void;
}

export function capturedCli(options: {
  table?: string;
  region: string;
  nowMs: number;
  user?: string;
  makeDeps?: (target: { table: string; region: string }) => OperatorDeps;
}): CapturedCli {
  let out = '';
  let err = '';
  let now = options.nowMs;
  const io: CliIo = {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    readFile: async () => {
      throw new Error('not used');
    },
  };
  return {
    ctx: {
      io,
      nowMs: () => now,
      env: { table: options.table, region: options.region, user: options.user ?? 'alice' },
      makeDeps: options.makeDeps ?? makeOperatorDeps,
    },
    out: () => out,
    err: () => err,
    clear: () => {
      out = '';
      err = '';
    },
    setNow: (ms) => {
      now = ms;
    },
  };
}

/** A valid open page incident (fields as the router writes them). */
export function openIncident(nowMs: number, over: Partial<Incident> = {}): Incident {
  const fingerprint = over.fingerprint ?? '0123456789abcdef';
  return {
    schemaVersion: INCIDENT_SCHEMA_VERSION,
    id: `${fingerprint}-1`,
    fingerprint,
    episode: 1,
    kind: 'gpu.xid.fatal',
    severity: 'page',
    originalSeverity: 'page',
    cause: 'hardware',
    title: 'Xid 79: GPU has fallen off the bus',
    labels: { cluster: 'train-a', region: 'us-east-1', node: 'i-1', gpu: '3', team: 'ml' },
    runbook: 'docs/runbooks/gpu.xid.fatal.md',
    evidence: 'xid = 79',
    resolveMode: 'explicit',
    status: 'open',
    firstSeenMs: nowMs - 600_000,
    lastSeenMs: nowMs - 60_000,
    openedAtMs: nowMs - 600_000,
    observations: [],
    history: [{ at: nowMs - 600_000, action: 'opened', actor: 'router' }],
    notifications: [
      { at: nowMs - 600_000, event: 'open', severity: 'page', status: 'sent', messageId: 'm-1' },
    ],
    remediations: [],
    version: 0,
    ...over,
  };
}
