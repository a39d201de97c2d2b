import { z } from 'zod';
import { CAUSES, SEVERITIES } from './finding';
import type { Workflow } from './incident';

/**
 * The `notifications` section of the FleetWatch configuration: who receives which severity, with
 * optional filters on the message attributes (notification-attributes.ts), and the settings of
 * the remediation state machines (infra/constructs/remediation.ts).
 */

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const HTTPS_URL = /^https:\/\/[^\s/]+[^\s]*$/;
const SQS_ARN = /^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$/;
const LAMBDA_ARN =
  /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$/;
const LABEL = z.string().min(1).max(256);
/** A SageMaker Pipeline name (CreatePipeline: PipelineName pattern). */
const PIPELINE_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$/;

export const SUBSCRIPTION_PROTOCOLS = ['email', 'https', 'sqs', 'lambda'] as const;
export type SubscriptionProtocol = (typeof SUBSCRIPTION_PROTOCOLS)[number];

/** What each protocol's endpoint must look like, for the error message. */
const ENDPOINT_RULES: Record<SubscriptionProtocol, { pattern: RegExp; expected: string }> = {
  email: { pattern: EMAIL, expected: 'an e-mail address' },
  https: { pattern: HTTPS_URL, expected: 'an https:// URL' },
  sqs: { pattern: SQS_ARN, expected: 'an SQS queue ARN (arn:aws:sqs:<region>:<account>:<name>)' },
  lambda: {
    pattern: LAMBDA_ARN,
    expected: 'a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)',
  },
};

/** Optional attribute filter: a message must match every listed attribute (any listed value). */
export const subscriptionFilterSchema = z
  .strictObject({
    cluster: z.array(LABEL).min(1).max(100).optional(),
    team: z.array(LABEL).min(1).max(100).optional(),
    category: z.array(z.enum(CAUSES)).min(1).optional(),
    kind: z.array(LABEL).min(1).max(100).optional(),
  })
  .refine((f) => Object.keys(f).length > 0, {
    message: 'give at least one of cluster, team, category, kind',
  });

export const subscriptionSchema = z
  .strictObject({
    protocol: z.enum(SUBSCRIPTION_PROTOCOLS),
    endpoint: z.string().min(1).max(2048),
    /** The topics (one per severity) this endpoint subscribes to. */
    severities: z.array(z.enum(SEVERITIES)).min(1).max(3),
    filter: subscriptionFilterSchema.optional(),
  })
  .superRefine((s, ctx) => {
    const rule = ENDPOINT_RULES[s.protocol];
    if (!rule.pattern.test(s.endpoint)) {
      ctx.addIssue({
        code: 'custom',
        path: ['endpoint'],
        message: `expected ${rule.expected} for protocol "${s.protocol}"`,
      });
    }
    if (new Set(s.severities).size !== s.severities.length) {
      ctx.addIssue({ code: 'custom', path: ['severities'], message: 'lists a severity twice' });
    }
  });

/**
 * Settings of the remediation state machines. Which workflow runs for which finding, its policy
 * (notify | approval | automatic) and the safety rails (nodes per hour, change freeze) are the
 * router's: config `incidents.remediation` (incidents-config.ts).
 */
export const remediationSchema = z.strictObject({
  /** Total time an approval may wait before the workflow records "approval timed out" and ends. */
  approvalTimeoutSeconds: z
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .default(4 * 3600),
  /** If set, the approver's tooling must send a heartbeat this often (SendTaskHeartbeat). */
  approvalHeartbeatSeconds: z
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .optional(),
  quarantine: z
    .strictObject({
      /** Reboot the node through SSM after approval (policy approval) or at once (automatic). */
      reboot: z.boolean().default(false),
      /** Wait after the reboot command before the health check. */
      verifyAfterSeconds: z.int().min(30).max(3600).default(300),
    })
    .default({ reboot: false, verifyAfterSeconds: 300 }),
  /** SageMaker Pipeline started by retrain-on-drift; without it that workflow is not deployed. */
  retrainPipelineName: z
    .string()
    .regex(PIPELINE_NAME, 'a SageMaker Pipeline name (letters, digits, "-", at most 256)')
    .optional(),
});

const emailList = z.array(z.string().regex(EMAIL, 'an e-mail address')).default([]);

export const notificationsSchema = z
  .strictObject({
    /** Shorthand: e-mail subscribers of the page topic (no filter). */
    page: z.strictObject({ emails: emailList }).default({ emails: [] }),
    ticket: z.strictObject({ emails: emailList }).default({ emails: [] }),
    info: z.strictObject({ emails: emailList }).default({ emails: [] }),
    /** Subscriptions with any protocol and an optional attribute filter. */
    subscriptions: z.array(subscriptionSchema).max(100).default([]),
    remediation: remediationSchema.default(remediationSchema.parse({})),
  })
  .superRefine((n, ctx) => {
    if (n.remediation.approvalHeartbeatSeconds !== undefined) {
      if (n.remediation.approvalHeartbeatSeconds >= n.remediation.approvalTimeoutSeconds) {
        ctx.addIssue({
          code: 'custom',
          path: ['remediation', 'approvalHeartbeatSeconds'],
          message: `must be less than approvalTimeoutSeconds (${n.remediation.approvalTimeoutSeconds})`,
        });
      }
    }
  });

export type NotificationsConfig = z.output<typeof notificationsSchema>;
export type SubscriptionConfig = z.output<typeof subscriptionSchema>;
export type SubscriptionFilter = z.output<typeof subscriptionFilterSchema>;
export type RemediationConfig = z.output<typeof remediationSchema>;

/** Every subscription of one severity's topic: the e-mail shorthand first, then `subscriptions`. */
export function subscriptionsFor(
  n: NotificationsConfig,
  severity: (typeof SEVERITIES)[number],
): SubscriptionConfig[] {
  return [
    ...n[severity].emails.map((endpoint) => ({
      protocol: 'email' as const,
      endpoint,
      severities: [severity],
    })),
    ...n.subscriptions.filter((s) => s.severities.includes(severity)),
  ];
}

/**
 * What the remediation workflows write on the item named by the execution input (`table`, `key`:
 * the incident item, or a sibling item the router creates for the remediation). The CLI reads `taskToken` to approve (SendTaskSuccess) or deny
 * (SendTaskFailure with APPROVAL_DENIED_ERROR).
 */
export const REMEDIATION_ITEM_ATTRIBUTES = {
  /** Current step: running, awaiting-approval, approved, denied, approval-timed-out, done, failed. */
  status: 'remediationStatus',
  /** The pending approval's task token; removed once approved, denied or timed out. */
  taskToken: 'remediationTaskToken',
  /** Name of the workflow that owns the pending approval (stop-training-job, ...). */
  workflow: 'remediationWorkflow',
  /** List of { at, workflow, action, outcome, execution, detail? } maps, oldest first. */
  audit: 'remediationAudit',
} as const;

export const REMEDIATION_STATUSES = [
  'running',
  'awaiting-approval',
  'approved',
  'denied',
  'approval-timed-out',
  'done',
  'failed',
] as const;
export type RemediationStatus = (typeof REMEDIATION_STATUSES)[number];

/** The `error` a denial sends with SendTaskFailure; the workflows record it as "denied". */
export const APPROVAL_DENIED_ERROR = 'FleetWatch.Denied';

/** The remediation workflows, by the name used in state machine ids, audit entries and docs. */
export const REMEDIATION_WORKFLOWS = ['stop-training-job', 'quarantine-node', 'retrain-on-drift'] as const;
export type RemediationWorkflow = (typeof REMEDIATION_WORKFLOWS)[number];

/**
 * The ONE mapping from the router's workflow names (incident.ts WORKFLOWS: remediation policies,
 * incident audit) to the state machine that runs each (REMEDIATION_WORKFLOWS), and the
 * environment variable (env.ts ENV) carrying that machine's ARN to the router. Infra
 * (Remediation.stateMachineFor) and the wiring read it; test/infra/remediation-names.test.ts
 * checks every policy workflow has its state machine and ARN in the stack.
 */
export const STATE_MACHINE_OF_WORKFLOW = {
  'stop-job': 'stop-training-job',
  'quarantine-node': 'quarantine-node',
  retrain: 'retrain-on-drift',
} as const satisfies Record<Workflow, RemediationWorkflow>;

/** ENV keys (env.ts) of the state machine ARN of each router workflow. */
export const STATE_MACHINE_ARN_ENV_OF_WORKFLOW = {
  'stop-job': 'stopJobStateMachineArn',
  'quarantine-node': 'quarantineNodeStateMachineArn',
  retrain: 'retrainStateMachineArn',
} as const satisfies Record<Workflow, string>;

/** Tag key put on a quarantined instance; its value is the incident id. */
export const QUARANTINE_TAG_KEY = 'fleetwatch:quarantine';
