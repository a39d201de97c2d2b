import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { EncryptionKey } from '../../../infra/constructs/encryption-key';
import { IncidentsTable } from '../../../infra/constructs/incidents-table';
import { NotificationTopics } from '../../../infra/constructs/notification-topics';
import { Remediation } from '../../../infra/constructs/remediation';
import {
  type NotificationsConfig,
  notificationsSchema,
} from '../../../lambdas/contracts/notifications-config';

export interface RemediationStackOptions {
  readonly notifications?: unknown;
  readonly reboot?: boolean;
  readonly verifyAfterSeconds?: number;
  readonly approvalTimeoutSeconds?: number;
  readonly approvalHeartbeatSeconds?: number;
  readonly retrainPipelineName?: string;
}

export interface RemediationStack {
  readonly stack: Stack;
  readonly template: Template;
  readonly topics: NotificationTopics;
  readonly incidents: IncidentsTable;
  readonly remediation: Remediation;
  readonly notifications: NotificationsConfig;
}

/**
 * The notification and remediation constructs alone in a small stack (no Lambda bundling, no
 * cdk-nag): what the construct tests assert on and what the moto execution test takes its
 * state machine definitions from.
 */
export function remediationStack(o: RemediationStackOptions = {}): RemediationStack {
  const app = new App();
  const stack = new Stack(app, 'RemediationTest', { env: { region: 'us-east-1', account: '123456789012' } });
  const key = new EncryptionKey(stack, 'EncryptionKey').key;
  const notifications = notificationsSchema.parse(o.notifications ?? {});
  const incidents = new IncidentsTable(stack, 'Incidents', { encryptionKey: key });
  const topics = new NotificationTopics(stack, 'Notifications', { encryptionKey: key, notifications });
  const remediation = new Remediation(stack, 'Remediation', {
    encryptionKey: key,
    incidentsTable: incidents.table,
    notifyTopic: topics.topic('page'),
    approvalTimeout: Duration.seconds(o.approvalTimeoutSeconds ?? 3600),
    ...(o.approvalHeartbeatSeconds === undefined
      ? {}
      : { approvalHeartbeat: Duration.seconds(o.approvalHeartbeatSeconds) }),
    quarantine: { reboot: o.reboot ?? false, verifyAfterSeconds: o.verifyAfterSeconds ?? 300 },
    ...(o.retrainPipelineName === undefined ? {} : { retrainPipelineName: o.retrainPipelineName }),
    logRetention: logs.RetentionDays.ONE_MONTH,
  });
  return { stack, template: Template.fromStack(stack), topics, incidents, remediation, notifications };
}

/** The logical id of a construct's CloudFormation resource. */
export function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as Parameters<Stack['getLogicalId']>[0]);
}

/** Resolves the Fn::Join/Ref of a synthesized DefinitionString against the given values. */
export function resolveDefinition(definition: unknown, refs: Record<string, string>): string {
  const resolve = (node: unknown): string => {
    if (typeof node === 'string') return node;
    const o = node as Record<string, unknown>;
    if (Array.isArray(o['Fn::Join'])) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(resolve).join(sep);
    }
    if (typeof o.Ref === 'string') {
      const value = refs[o.Ref];
      if (value === undefined)
        throw new Error(`definition refers to ${o.Ref}, which the caller does not provide`);
      return value;
    }
    throw new Error(`unexpected intrinsic in definition: ${JSON.stringify(node).slice(0, 200)}`);
  };
  return resolve(definition);
}

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/**
 * A state machine's synthesized definition with its references replaced: the partition by
 * `aws` and the page topic by `pageTopicArn`.
 */
export function synthesizedDefinition(
  src: RemediationStack,
  machine: { node: { defaultChild?: unknown } },
  pageTopicArn = 'arn:aws:sns:us-east-1:123456789012:page',
): string {
  const id = logicalId(src.stack, machine);
  const resource = (src.template.toJSON() as { Resources: Resources }).Resources[id];
  if (!resource) throw new Error(`no resource ${id} in the template`);
  return resolveDefinition(resource.Properties.DefinitionString, {
    'AWS::Partition': 'aws',
    'AWS::Region': 'us-east-1',
    'AWS::AccountId': '123456789012',
    [logicalId(src.stack, src.topics.topic('page'))]: pageTopicArn,
  });
}
