import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Workflow } from '../../lambdas/contracts/incident';
import { NOTIFICATION_ATTRIBUTES } from '../../lambdas/contracts/notification-attributes';
import {
  APPROVAL_DENIED_ERROR,
  REMEDIATION_ITEM_ATTRIBUTES as ITEM,
  QUARANTINE_TAG_KEY,
  type RemediationStatus,
  type RemediationWorkflow,
  STATE_MACHINE_OF_WORKFLOW,
} from '../../lambdas/contracts/notifications-config';
import { acknowledgeNag, iam5ResourceFinding } from '../nag';

/**
 * The remediation workflows as Amazon States Language, written out (not through the CDK task
 * classes) so that the definition is exactly what a reader, IAM and the moto execution test see.
 *
 * Every execution gets `{ incidentId, table, key, policy, summary, ... }` (`key`: the DynamoDB key
 * of the item to audit, in attribute-value form, e.g. `{"id":{"S":"<incident id>"}}`); each step
 * appends an audit entry to that item with UpdateItem, and an approval stores its task token on
 * it (`aws-sdk:dynamodb:updateItem.waitForTaskToken`) for the CLI.
 *
 *   policy automatic ─────────────────────────────┐
 *   policy approval ─► RequestApproval ─ success ─► RecordApproved ─► action ─► Record... ─► end
 *                           ├─ FleetWatch.Denied ─► RecordDenied ─► NotApproved
 *                           ├─ timeout/heartbeat ─► RecordApprovalTimedOut ─► Notify ─► NotApproved
 *                           └─ anything else ─────► RecordFailed ─► Failed
 *   policy notify ─► RecordNotifyOnly ─► end        (the router normally starts nothing for it)
 */
type Asl = Record<string, unknown>;
type States = Record<string, Asl>;

export interface DefinitionContext {
  /** AWS partition (a token in CDK). */
  readonly partition: string;
  /** Topic the workflows notify (the page topic). */
  readonly notifyTopicArn: string;
  readonly approvalTimeoutSeconds: number;
  /** @default - no heartbeat required */
  readonly approvalHeartbeatSeconds?: number;
}

const sdk = (ctx: DefinitionContext, service: string, action: string) =>
  `arn:${ctx.partition}:states:::aws-sdk:${service}:${action}`;

/** An audit entry: when, which workflow and execution, what happened, and optional JSON detail. */
function auditEntry(
  workflow: RemediationWorkflow,
  action: string,
  outcome: string,
  detailPath?: string,
): Asl {
  return {
    M: {
      at: { 'S.$': '$$.State.EnteredTime' },
      workflow: { S: workflow },
      action: { S: action },
      outcome: { S: outcome },
      execution: { 'S.$': '$$.Execution.Id' },
      ...(detailPath ? { detail: { 'S.$': `States.JsonToString(${detailPath})` } } : {}),
    },
  };
}

interface UpdateOptions {
  readonly status: RemediationStatus;
  readonly action: string;
  readonly outcome: string;
  readonly detailPath?: string;
  /** Store the task token (the approval request). */
  readonly storeToken?: boolean;
  /** Remove the stored task token (the approval is settled). */
  readonly removeToken?: boolean;
}

/**
 * UpdateItem parameters: set the status and workflow, append the audit entry. An upsert, so the
 * router may point `key` at the incident item or at a sibling item of its own.
 */
function updateParameters(workflow: RemediationWorkflow, o: UpdateOptions): Asl {
  const names: Record<string, string> = {
    '#status': ITEM.status,
    '#audit': ITEM.audit,
    '#workflow': ITEM.workflow,
  };
  const values: Record<string, unknown> = {
    ':status': { S: o.status },
    ':workflow': { S: workflow },
    ':none': { L: [] },
    ':entry': { L: [auditEntry(workflow, o.action, o.outcome, o.detailPath)] },
  };
  let expression =
    'SET #status = :status, #workflow = :workflow, #audit = list_append(if_not_exists(#audit, :none), :entry)';
  if (o.storeToken) {
    names['#token'] = ITEM.taskToken;
    values[':token'] = { 'S.$': '$$.Task.Token' };
    expression += ', #token = :token';
  }
  if (o.removeToken) {
    names['#token'] = ITEM.taskToken;
    expression += ' REMOVE #token';
  }
  return {
    'TableName.$': '$.table',
    'Key.$': '$.key',
    UpdateExpression: expression,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

function record(
  ctx: DefinitionContext,
  workflow: RemediationWorkflow,
  o: UpdateOptions,
  next: string | 'End',
): Asl {
  return {
    Type: 'Task',
    Resource: sdk(ctx, 'dynamodb', 'updateItem'),
    Parameters: updateParameters(workflow, o),
    ResultPath: null,
    ...(next === 'End' ? { End: true } : { Next: next }),
  };
}

function notify(
  ctx: DefinitionContext,
  workflow: RemediationWorkflow,
  subject: string,
  format: string,
  args: string[],
  next: string,
): Asl {
  return {
    Type: 'Task',
    Resource: `arn:${ctx.partition}:states:::sns:publish`,
    Parameters: {
      TopicArn: ctx.notifyTopicArn,
      Subject: subject,
      'Message.$': `States.Format('${format}', ${args.join(', ')})`,
      MessageAttributes: {
        [NOTIFICATION_ATTRIBUTES.severity]: { DataType: 'String', StringValue: 'page' },
        [NOTIFICATION_ATTRIBUTES.kind]: {
          DataType: 'String',
          StringValue: `remediation.${workflow.replace(/-/g, '_')}`,
        },
      },
    },
    ResultPath: null,
    Next: next,
  };
}

const catchAll = (next: string) => [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: next }];

const HOW_TO_DECIDE =
  ' — Approve: npx fleetwatch remediation approve {} — Deny: npx fleetwatch remediation deny {}';

/**
 * The approval part shared by all workflows: the policy choice, the approval request with its
 * token, and the three ways an approval ends without the action (denied, timed out, failed).
 */
function approvalStates(ctx: DefinitionContext, workflow: RemediationWorkflow, action: string): States {
  return {
    PolicyChoice: {
      Type: 'Choice',
      Choices: [
        { Variable: '$.policy', StringEquals: 'automatic', Next: action },
        { Variable: '$.policy', StringEquals: 'notify', Next: 'RecordNotifyOnly' },
      ],
      // "approval" and anything unexpected wait for a human: the safe default.
      Default: 'RequestApproval',
    },
    RequestApproval: {
      Type: 'Task',
      Resource: `${sdk(ctx, 'dynamodb', 'updateItem')}.waitForTaskToken`,
      Parameters: updateParameters(workflow, {
        status: 'awaiting-approval',
        action: 'approval',
        outcome: 'requested',
        storeToken: true,
      }),
      TimeoutSeconds: ctx.approvalTimeoutSeconds,
      ...(ctx.approvalHeartbeatSeconds === undefined
        ? {}
        : { HeartbeatSeconds: ctx.approvalHeartbeatSeconds }),
      ResultPath: '$.approval',
      Next: 'RecordApproved',
      Catch: [
        {
          ErrorEquals: ['States.Timeout', 'States.HeartbeatTimeout'],
          ResultPath: '$.error',
          Next: 'RecordApprovalTimedOut',
        },
        { ErrorEquals: [APPROVAL_DENIED_ERROR], ResultPath: '$.error', Next: 'RecordDenied' },
        ...catchAll('RecordFailed'),
      ],
    },
    RecordApproved: record(
      ctx,
      workflow,
      {
        status: 'approved',
        action: 'approval',
        outcome: 'approved',
        detailPath: '$.approval',
        removeToken: true,
      },
      action,
    ),
    RecordDenied: record(
      ctx,
      workflow,
      { status: 'denied', action: 'approval', outcome: 'denied', detailPath: '$.error', removeToken: true },
      'NotApproved',
    ),
    RecordApprovalTimedOut: record(
      ctx,
      workflow,
      { status: 'approval-timed-out', action: 'approval', outcome: 'approval timed out', removeToken: true },
      'NotifyApprovalTimedOut',
    ),
    NotifyApprovalTimedOut: notify(
      ctx,
      workflow,
      'FleetWatch remediation: approval timed out',
      `Nobody approved ${workflow} for incident {} in time; nothing was done.`,
      ['$.incidentId'],
      'NotApproved',
    ),
    NotApproved: { Type: 'Succeed' },
    RecordNotifyOnly: record(
      ctx,
      workflow,
      { status: 'done', action: 'notify', outcome: 'notified only (policy notify)' },
      'End',
    ),
    RecordFailed: record(
      ctx,
      workflow,
      { status: 'failed', action: 'error', outcome: 'failed', detailPath: '$.error' },
      'Failed',
    ),
    Failed: {
      Type: 'Fail',
      Error: 'FleetWatch.RemediationFailed',
      Cause: 'see the audit entry on the incident',
    },
  };
}

/** stop-training-job: input adds `trainingJobName`. */
export function stopTrainingJobDefinition(ctx: DefinitionContext): Asl {
  const w: RemediationWorkflow = 'stop-training-job';
  return {
    Comment:
      'FleetWatch: stop a stalled or hung SageMaker training job (after approval unless policy is automatic)',
    StartAt: 'RecordStarted',
    States: {
      RecordStarted: record(ctx, w, { status: 'running', action: 'start', outcome: 'started' }, 'Notify'),
      Notify: notify(
        ctx,
        w,
        'FleetWatch remediation: stop a training job',
        `FleetWatch proposes to stop training job {} (incident {}, policy {}). Evidence: {}${HOW_TO_DECIDE}`,
        ['$.trainingJobName', '$.incidentId', '$.policy', '$.summary', '$.incidentId', '$.incidentId'],
        'PolicyChoice',
      ),
      ...approvalStates(ctx, w, 'StopTrainingJob'),
      StopTrainingJob: {
        Type: 'Task',
        Resource: sdk(ctx, 'sagemaker', 'stopTrainingJob'),
        Parameters: { 'TrainingJobName.$': '$.trainingJobName' },
        ResultPath: null,
        Next: 'RecordStopped',
        Catch: catchAll('RecordFailed'),
      },
      RecordStopped: record(
        ctx,
        w,
        { status: 'done', action: 'stop-training-job', outcome: 'stop requested' },
        'End',
      ),
    },
  };
}

export interface QuarantineOptions {
  /** Reboot the instance (EC2 RebootInstances) after approval, or at once when automatic. */
  readonly reboot: boolean;
  /** Wait between the reboot and the health check. */
  readonly verifyAfterSeconds: number;
}

/** quarantine-node: input adds `instanceId`. The tag is applied at once; only the reboot waits. */
export function quarantineNodeDefinition(ctx: DefinitionContext, q: QuarantineOptions): Asl {
  const w: RemediationWorkflow = 'quarantine-node';
  const rebootStates: States = {
    ...approvalStates(ctx, w, 'RebootInstance'),
    RebootInstance: {
      Type: 'Task',
      Resource: sdk(ctx, 'ec2', 'rebootInstances'),
      Parameters: { 'InstanceIds.$': 'States.Array($.instanceId)' },
      ResultPath: null,
      Next: 'RecordRebooted',
      Catch: catchAll('RecordFailed'),
    },
    RecordRebooted: record(
      ctx,
      w,
      { status: 'running', action: 'reboot', outcome: 'reboot requested' },
      'WaitForBoot',
    ),
    WaitForBoot: { Type: 'Wait', Seconds: q.verifyAfterSeconds, Next: 'CheckHealth' },
    CheckHealth: {
      Type: 'Task',
      Resource: sdk(ctx, 'ec2', 'describeInstanceStatus'),
      Parameters: { 'InstanceIds.$': 'States.Array($.instanceId)', IncludeAllInstances: true },
      ResultSelector: { 'statuses.$': '$.InstanceStatuses' },
      ResultPath: '$.health',
      Next: 'IsHealthy',
      Catch: catchAll('RecordFailed'),
    },
    IsHealthy: {
      Type: 'Choice',
      Choices: [
        {
          And: [
            { Variable: '$.health.statuses[0].InstanceStatus.Status', IsPresent: true },
            { Variable: '$.health.statuses[0].InstanceStatus.Status', StringEquals: 'ok' },
          ],
          Next: 'RecordHealthy',
        },
      ],
      Default: 'RecordUnhealthy',
    },
    RecordHealthy: record(
      ctx,
      w,
      { status: 'done', action: 'verify', outcome: 'healthy', detailPath: '$.health' },
      'End',
    ),
    RecordUnhealthy: record(
      ctx,
      w,
      { status: 'failed', action: 'verify', outcome: 'not healthy after reboot', detailPath: '$.health' },
      'StillUnhealthy',
    ),
    StillUnhealthy: {
      Type: 'Fail',
      Error: 'FleetWatch.NodeUnhealthy',
      Cause: 'instance status is not ok after the reboot',
    },
  };
  return {
    Comment:
      'FleetWatch: quarantine a GPU node (tag), notify, optionally reboot after approval and verify health',
    StartAt: 'RecordStarted',
    States: {
      RecordStarted: record(
        ctx,
        w,
        { status: 'running', action: 'start', outcome: 'started' },
        'TagInstance',
      ),
      TagInstance: {
        Type: 'Task',
        Resource: sdk(ctx, 'ec2', 'createTags'),
        Parameters: {
          'Resources.$': 'States.Array($.instanceId)',
          Tags: [{ Key: QUARANTINE_TAG_KEY, 'Value.$': '$.incidentId' }],
        },
        ResultPath: null,
        Next: 'RecordQuarantined',
        Catch: catchAll(q.reboot ? 'RecordFailed' : 'RecordTagFailed'),
      },
      RecordQuarantined: record(
        ctx,
        w,
        { status: 'running', action: 'quarantine', outcome: 'tagged' },
        'Notify',
      ),
      Notify: notify(
        ctx,
        w,
        'FleetWatch remediation: node quarantined',
        q.reboot
          ? `Instance {} is quarantined (tag ${QUARANTINE_TAG_KEY}) for incident {}; reboot policy {}. Evidence: {}${HOW_TO_DECIDE}`
          : `Instance {} is quarantined (tag ${QUARANTINE_TAG_KEY}) for incident {}; policy {}. Evidence: {} — no reboot is configured.{}{}`,
        q.reboot
          ? ['$.instanceId', '$.incidentId', '$.policy', '$.summary', '$.incidentId', '$.incidentId']
          : ['$.instanceId', '$.incidentId', '$.policy', '$.summary', "''", "''"],
        q.reboot ? 'PolicyChoice' : 'RecordDone',
      ),
      ...(q.reboot
        ? rebootStates
        : {
            RecordDone: record(
              ctx,
              w,
              { status: 'done', action: 'quarantine', outcome: 'quarantined' },
              'End',
            ),
            RecordTagFailed: record(
              ctx,
              w,
              { status: 'failed', action: 'error', outcome: 'failed', detailPath: '$.error' },
              'Failed',
            ),
            Failed: {
              Type: 'Fail',
              Error: 'FleetWatch.RemediationFailed',
              Cause: 'see the audit entry on the incident',
            },
          }),
    },
  };
}

/** retrain-on-drift: starts the configured SageMaker Pipeline after approval. */
export function retrainOnDriftDefinition(ctx: DefinitionContext, pipelineName: string): Asl {
  const w: RemediationWorkflow = 'retrain-on-drift';
  return {
    Comment: `FleetWatch: start SageMaker Pipeline ${pipelineName} on sustained drift (after approval unless policy is automatic)`,
    StartAt: 'RecordStarted',
    States: {
      RecordStarted: record(ctx, w, { status: 'running', action: 'start', outcome: 'started' }, 'Notify'),
      Notify: notify(
        ctx,
        w,
        'FleetWatch remediation: retrain on drift',
        `FleetWatch proposes to start pipeline ${pipelineName} (incident {}, policy {}). Evidence: {}${HOW_TO_DECIDE}`,
        ['$.incidentId', '$.policy', '$.summary', '$.incidentId', '$.incidentId'],
        'PolicyChoice',
      ),
      ...approvalStates(ctx, w, 'StartPipeline'),
      StartPipeline: {
        Type: 'Task',
        Resource: sdk(ctx, 'sagemaker', 'startPipelineExecution'),
        Parameters: {
          PipelineName: pipelineName,
          PipelineExecutionDescription: 'Started by FleetWatch retrain-on-drift',
        },
        ResultSelector: { 'pipelineExecutionArn.$': '$.PipelineExecutionArn' },
        ResultPath: '$.pipeline',
        Next: 'RecordPipelineStarted',
        Catch: catchAll('RecordFailed'),
      },
      RecordPipelineStarted: record(
        ctx,
        w,
        { status: 'done', action: 'start-pipeline', outcome: 'started', detailPath: '$.pipeline' },
        'End',
      ),
    },
  };
}

export interface RemediationProps {
  readonly encryptionKey: kms.IKey;
  /** The incidents table; the workflows may update items of this table only. */
  readonly incidentsTable: dynamodb.ITable;
  /** Where the workflows notify (the page topic). */
  readonly notifyTopic: sns.ITopic;
  readonly approvalTimeout: Duration;
  /** @default - no heartbeat */
  readonly approvalHeartbeat?: Duration;
  readonly quarantine: QuarantineOptions;
  /**
   * SageMaker Pipeline started by retrain-on-drift.
   * @default - the retrain-on-drift workflow is not created
   */
  readonly retrainPipelineName?: string;
  readonly logRetention: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** Construct ids of the state machines (a contract: logical ids and outputs derive from them). */
export const STATE_MACHINE_IDS: Record<RemediationWorkflow, string> = {
  'stop-training-job': 'StopTrainingJob',
  'quarantine-node': 'QuarantineNode',
  'retrain-on-drift': 'RetrainOnDrift',
};

/**
 * The remediation workflows: Standard state machines (task tokens need Standard), X-Ray tracing,
 * every event logged to one encrypted log group (without execution data: inputs and outputs
 * carry task tokens, which would let anyone who reads the logs approve), and a hand-written,
 * least-privilege role per workflow.
 */
export class Remediation extends Construct {
  readonly logGroup: logs.LogGroup;
  readonly stopTrainingJob: sfn.StateMachine;
  readonly quarantineNode: sfn.StateMachine;
  /** Undefined without a configured retrain pipeline. */
  readonly retrainOnDrift: sfn.StateMachine | undefined;

  constructor(scope: Construct, id: string, props: RemediationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (props.approvalHeartbeat && props.approvalHeartbeat.toSeconds() >= props.approvalTimeout.toSeconds()) {
      throw new Error(
        `Remediation ${this.node.path}: approvalHeartbeat (${props.approvalHeartbeat.toSeconds()} s) must be shorter than approvalTimeout (${props.approvalTimeout.toSeconds()} s)`,
      );
    }
    const ctx: DefinitionContext = {
      partition: stack.partition,
      notifyTopicArn: props.notifyTopic.topicArn,
      approvalTimeoutSeconds: props.approvalTimeout.toSeconds(),
      ...(props.approvalHeartbeat ? { approvalHeartbeatSeconds: props.approvalHeartbeat.toSeconds() } : {}),
    };
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    const make = (workflow: RemediationWorkflow, definition: Asl, statements: iam.PolicyStatement[]) => {
      const machine = new sfn.StateMachine(this, STATE_MACHINE_IDS[workflow], {
        definitionBody: sfn.DefinitionBody.fromString(stack.toJsonString(definition)),
        stateMachineType: sfn.StateMachineType.STANDARD,
        tracingEnabled: true,
        logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
        // Nothing runs longer than the approval wait plus a few steps and the post-reboot wait.
        timeout: Duration.seconds(
          props.approvalTimeout.toSeconds() + props.quarantine.verifyAfterSeconds + 3600,
        ),
        comment: `FleetWatch remediation: ${workflow}`,
      });
      // Audit entries and the approval token: UpdateItem on the incidents table only.
      machine.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:UpdateItem'],
          resources: [props.incidentsTable.tableArn],
        }),
      );
      machine.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [props.notifyTopic.topicArn] }),
      );
      // The table and the topic are encrypted with the stack key.
      machine.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
          resources: [props.encryptionKey.keyArn],
        }),
      );
      for (const s of statements) machine.addToRolePolicy(s);
      acknowledgeNag(machine, {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Log delivery (logs:*LogDelivery, DescribeLogGroups...), X-Ray tracing and ec2:DescribeInstanceStatus have no resource-level permissions',
      });
      return machine;
    };

    const arn = (service: string, resource: string) =>
      `arn:${stack.partition}:${service}:${stack.region}:${stack.account}:${resource}`;

    const trainingJobs = arn('sagemaker', 'training-job/*');
    this.stopTrainingJob = make('stop-training-job', stopTrainingJobDefinition(ctx), [
      new iam.PolicyStatement({ actions: ['sagemaker:StopTrainingJob'], resources: [trainingJobs] }),
    ]);
    acknowledgeNag(this.stopTrainingJob, {
      id: iam5ResourceFinding(this, trainingJobs),
      reason:
        'The job to stop is chosen at run time by the router; only StopTrainingJob on training jobs of this account and region',
    });

    const instances = arn('ec2', 'instance/*');
    this.quarantineNode = make('quarantine-node', quarantineNodeDefinition(ctx, props.quarantine), [
      // Only the quarantine tag key can be written.
      new iam.PolicyStatement({
        actions: ['ec2:CreateTags'],
        resources: [instances],
        conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': [QUARANTINE_TAG_KEY] } },
      }),
      ...(props.quarantine.reboot
        ? [
            // Only instances that carry the quarantine tag can be rebooted.
            new iam.PolicyStatement({
              actions: ['ec2:RebootInstances'],
              resources: [instances],
              conditions: { StringLike: { [`ec2:ResourceTag/${QUARANTINE_TAG_KEY}`]: '?*' } },
            }),
            // DescribeInstanceStatus has no resource-level permissions.
            new iam.PolicyStatement({ actions: ['ec2:DescribeInstanceStatus'], resources: ['*'] }),
          ]
        : []),
    ]);
    acknowledgeNag(this.quarantineNode, {
      id: iam5ResourceFinding(this, instances),
      reason: `Any node may need quarantine; CreateTags may only write the ${QUARANTINE_TAG_KEY} key and RebootInstances only hits instances carrying it`,
    });

    this.retrainOnDrift =
      props.retrainPipelineName === undefined
        ? undefined
        : make('retrain-on-drift', retrainOnDriftDefinition(ctx, props.retrainPipelineName), [
            new iam.PolicyStatement({
              actions: ['sagemaker:StartPipelineExecution'],
              // SageMaker puts resource names into ARNs in lower case.
              resources: [arn('sagemaker', `pipeline/${props.retrainPipelineName.toLowerCase()}`)],
            }),
          ]);
  }

  /** The deployed workflows by name. */
  get stateMachines(): Partial<Record<RemediationWorkflow, sfn.StateMachine>> {
    return {
      'stop-training-job': this.stopTrainingJob,
      'quarantine-node': this.quarantineNode,
      ...(this.retrainOnDrift ? { 'retrain-on-drift': this.retrainOnDrift } : {}),
    };
  }

  /**
   * The state machine that runs a router workflow (STATE_MACHINE_OF_WORKFLOW), undefined when it
   * is not deployed (retrain without a configured pipeline).
   */
  stateMachineFor(workflow: Workflow): sfn.StateMachine | undefined {
    return this.stateMachines[STATE_MACHINE_OF_WORKFLOW[workflow]];
  }

  /** Lets `grantee` (the router) start every workflow. */
  grantStartExecution(grantee: iam.IGrantable): void {
    for (const m of Object.values(this.stateMachines)) m.grantStartExecution(grantee);
  }

  /** Lets `grantee` (the approval CLI's role) settle approvals of every workflow. */
  grantTaskResponse(grantee: iam.IGrantable): void {
    for (const m of Object.values(this.stateMachines)) m.grantTaskResponse(grantee);
  }
}
