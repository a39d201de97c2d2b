import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { CloudWatchAlarmMuteRules } from '../adapters/cloudwatch/alarm-mute-rules';
import { DynamoDbCalendarStore } from '../adapters/dynamodb/calendar-store';
import { DynamoDbIncidentStore } from '../adapters/dynamodb/incident-store';
import { ENV } from '../contracts/env';
import { fingerprintOfId } from '../contracts/incident';
import { REMEDIATION_ITEM_ATTRIBUTES as ITEM } from '../contracts/notifications-config';
import type { CalendarStore, IncidentStore } from '../core/ports';
import { cloudWatchClient, dynamoDocumentClient, sfnClient } from './clients';
import { readEnv } from './env';

/**
 * Composition root of the operator CLI (`fleetwatch silence|maintenance|incidents|remediation`):
 * the stores over the deployed incidents table, and the task-token approvals of the remediation
 * workflows. Clients honour AWS_ENDPOINT_URL (clients.ts), so the same commands run against moto.
 */

/** A pending remediation approval as the workflows left it on the incident item. */
export interface PendingApproval {
  readonly taskToken: string;
  /** The workflow waiting (stop-training-job, ...), when recorded. */
  readonly workflow?: string;
}

/** Reads and settles Step Functions task-token approvals (infra/constructs/remediation.ts). */
export interface RemediationApprovals {
  /** The approval status and token stored on the item of `incidentId`; undefined: no such item. */
  pending(incidentId: string): Promise<{ status?: string; approval?: PendingApproval } | undefined>;
  approve(taskToken: string, output: Readonly<Record<string, unknown>>): Promise<void>;
  deny(taskToken: string, error: string, cause: string): Promise<void>;
}

export interface OperatorDeps {
  readonly incidents: IncidentStore;
  readonly calendar: CalendarStore;
  readonly approvals: RemediationApprovals;
  /**
   * CloudWatch alarm mute rules for the anomaly alarms of a stack (`maintenance add`): the stack
   * named by --stack, else $FLEETWATCH_STACK_NAME; undefined when neither names one.
   */
  readonly alarmMutes?: (stackName: string | undefined) => AlarmMuter | undefined;
}

/** Puts the mute rules of a run-time maintenance window (adapters/cloudwatch/alarm-mute-rules.ts). */
export type AlarmMuter = Pick<CloudWatchAlarmMuteRules, 'muteWindow'>;

export interface OperatorTarget {
  readonly table: string;
  readonly region: string;
}

/** Defaults the CLI takes from the environment (flags override them). */
export function operatorEnv(): { table?: string; region?: string; user?: string } {
  const table = readEnv(ENV.incidentsTable);
  const region = readEnv(ENV.awsRegion);
  const user = readEnv(ENV.user);
  return {
    ...(table !== undefined ? { table } : {}),
    ...(region !== undefined ? { region } : {}),
    ...(user !== undefined ? { user } : {}),
  };
}

export function makeOperatorDeps(target: OperatorTarget): OperatorDeps {
  const doc = dynamoDocumentClient(target.region);
  return {
    incidents: new DynamoDbIncidentStore(doc, target.table),
    calendar: new DynamoDbCalendarStore(doc, target.table),
    approvals: new SfnTaskTokenApprovals(doc, sfnClient(target.region), target.table),
    alarmMutes: (stackName) => {
      const stack = stackName ?? readEnv(ENV.stackName);
      return stack === undefined || stack === ''
        ? undefined
        : new CloudWatchAlarmMuteRules(cloudWatchClient(target.region), stack, target.region);
    },
  };
}

/**
 * The approval step of a remediation workflow stores its task token on the incident item (key
 * `id` = the fingerprint, see DynamoDbIncidentStore) as `remediationTaskToken`; approving is
 * SendTaskSuccess with that token, denying SendTaskFailure. The workflow itself removes the token
 * and records the outcome, so this class writes nothing to the table.
 *
 * It lives here rather than in adapters/ because it is CLI-only glue of two services (DynamoDB
 * read + Step Functions callback) with no port in core; move it to adapters/sfn/ if a second
 * caller (a chat-ops Lambda) appears.
 */
export class SfnTaskTokenApprovals implements RemediationApprovals {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly sfn: SFNClient,
    private readonly tableName: string,
  ) {}

  async pending(incidentId: string): Promise<{ status?: string; approval?: PendingApproval } | undefined> {
    const key = fingerprintOfId(incidentId);
    if (key === undefined) return undefined;
    const res = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { id: key }, ConsistentRead: true }),
    );
    const item = res.Item;
    if (item === undefined) return undefined;
    // The item holds the CURRENT episode; an approval for an older episode is gone with it.
    if (typeof item.incidentId === 'string' && item.incidentId !== incidentId) return undefined;
    const status = typeof item[ITEM.status] === 'string' ? (item[ITEM.status] as string) : undefined;
    const token = item[ITEM.taskToken];
    const workflow = item[ITEM.workflow];
    return {
      ...(status !== undefined ? { status } : {}),
      ...(typeof token === 'string' && token !== ''
        ? { approval: { taskToken: token, ...(typeof workflow === 'string' ? { workflow } : {}) } }
        : {}),
    };
  }

  async approve(taskToken: string, output: Readonly<Record<string, unknown>>): Promise<void> {
    await this.sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
  }

  async deny(taskToken: string, error: string, cause: string): Promise<void> {
    await this.sfn.send(new SendTaskFailureCommand({ taskToken, error, cause }));
  }
}
