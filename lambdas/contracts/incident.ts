import { z } from 'zod';
import { CAUSES, findingLabelsSchema, RUNBOOK, SEVERITIES } from './finding';

/**
 * An incident: what the router made of the findings with one fingerprint. One record per
 * fingerprint (the table key, the dedup key and the idempotency key); a fingerprint that fires
 * again after its incident resolved starts a new episode (`episode` + 1, a new `id`).
 *
 * Status:
 *   pending       observed, not yet M of N runs (flapping control); never notified
 *   open          notified, or suppressed with a recorded reason
 *   acknowledged  a person took it (no re-notification)
 *   resolved      K clean runs, an explicit resolved outcome, or a person
 *
 * Versioned twice: `schemaVersion` is the shape, `version` the optimistic-write counter.
 */
export const INCIDENT_SCHEMA_VERSION = 1;

export const INCIDENT_STATUSES = ['pending', 'open', 'acknowledged', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** Bounds keep an incident well inside DynamoDB's 400 KB item limit however long it lives. */
export const MAX_OBSERVATIONS = 50;
export const MAX_HISTORY = 100;
export const MAX_NOTIFICATIONS = 50;
export const MAX_REMEDIATIONS = 20;
export const MAX_GROUP_MEMBERS = 256;

const epochMs = z.int().min(0);

export const SUPPRESSION_STAGES = [
  'silence',
  'maintenance',
  'seasonal',
  'inhibition',
  'post-change',
  'grouped',
] as const;
export type SuppressionStage = (typeof SUPPRESSION_STAGES)[number];

export const suppressionSchema = z.strictObject({
  stage: z.enum(SUPPRESSION_STAGES),
  reason: z.string().min(1).max(1024),
  /** When the mute is known to end (a silence's end, a window's end); absent: re-checked every sweep. */
  untilMs: epochMs.optional(),
  sinceMs: epochMs,
});
export type Suppression = z.output<typeof suppressionSchema>;

/** One finding applied to the incident: `key` identifies the finding (not the SQS delivery) for dedup. */
export const observationSchema = z.strictObject({
  key: z.string().min(1).max(128),
  atMs: epochMs,
  resolved: z.boolean().default(false),
});
export type Observation = z.output<typeof observationSchema>;

export const HISTORY_ACTIONS = [
  'observed',
  'pending',
  'opened',
  'suppressed',
  'unsuppressed',
  'severity-relaxed',
  'escalated',
  'grouped',
  'notified',
  'acknowledged',
  'resolved',
  'reopened',
  'remediation',
] as const;

export const historyEntrySchema = z.strictObject({
  at: epochMs,
  action: z.enum(HISTORY_ACTIONS),
  /** 'router', 'sweep', or the person (CLI user). */
  actor: z.string().min(1).max(256),
  detail: z.string().max(2_000).optional(),
});
export type HistoryEntry = z.output<typeof historyEntrySchema>;

/**
 * `escalated`: an open incident's severity rose (a ticket became a page); sent at once on the new
 * severity's topic. Added within schema version 1: additive, no existing record changes meaning.
 */
export const NOTIFICATION_EVENTS = ['open', 'renotify', 'escalated', 'resolved'] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/**
 * A notification owed or sent. `pending` entries are the outbox: written with the state change
 * (one conditional write), published, then marked sent. A crash in between re-publishes on the
 * next delivery or sweep (at least once) rather than losing the page.
 */
export const notificationRecordSchema = z.strictObject({
  at: epochMs,
  event: z.enum(NOTIFICATION_EVENTS),
  severity: z.enum(SEVERITIES),
  status: z.enum(['pending', 'sent']),
  messageId: z.string().max(256).optional(),
});
export type NotificationRecord = z.output<typeof notificationRecordSchema>;

export const REMEDIATION_POLICIES = ['notify', 'approval', 'automatic'] as const;
export type RemediationPolicy = (typeof REMEDIATION_POLICIES)[number];

/** Remediation workflows (Step Functions state machines): stop a job, quarantine a node, retrain a model. */
export const WORKFLOWS = ['stop-job', 'quarantine-node', 'retrain'] as const;
export type Workflow = (typeof WORKFLOWS)[number];

export const remediationAuditSchema = z.strictObject({
  at: epochMs,
  workflow: z.enum(WORKFLOWS),
  policy: z.enum(REMEDIATION_POLICIES),
  /** started: an execution exists; skipped: policy/rails said no (reason says which). */
  decision: z.enum(['started', 'skipped', 'failed']),
  reason: z.string().max(1_024),
  executionId: z.string().max(2_048).optional(),
});
export type RemediationAudit = z.output<typeof remediationAuditSchema>;

export const groupSchema = z.strictObject({
  /** 'node': member GPUs of one node; 'cluster': member nodes of one cluster. */
  level: z.enum(['node', 'cluster']),
  members: z.array(z.string().min(1).max(256)).max(MAX_GROUP_MEMBERS),
});

export const incidentSchema = z.strictObject({
  schemaVersion: z.literal(INCIDENT_SCHEMA_VERSION),
  /** `<fingerprint>-<episode>`: what people quote (CLI, messages). */
  id: z.string().regex(/^[0-9a-f]{16}-\d+$/),
  fingerprint: z.string().regex(/^[0-9a-f]{16}$/),
  episode: z.int().min(1),
  kind: z.string().min(1).max(200),
  severity: z.enum(SEVERITIES),
  /** Severity as the finding said it, before a seasonal window capped it. */
  originalSeverity: z.enum(SEVERITIES),
  cause: z.enum(CAUSES),
  title: z.string().min(1).max(200),
  summary: z.string().max(4_000).optional(),
  labels: findingLabelsSchema,
  runbook: z.string().regex(RUNBOOK),
  /** The latest evidence, rendered (bounded): what the message shows. */
  evidence: z.string().max(16_000),
  /** Level-triggered incidents resolve after K clean runs; edge-triggered ones only explicitly. */
  resolveMode: z.enum(['clean-runs', 'explicit']),
  status: z.enum(INCIDENT_STATUSES),
  firstSeenMs: epochMs,
  lastSeenMs: epochMs,
  openedAtMs: epochMs.optional(),
  resolvedAtMs: epochMs.optional(),
  /** Group wait: the first notification waits until then, so siblings can join a group incident. */
  notBeforeMs: epochMs.optional(),
  observations: z.array(observationSchema).max(MAX_OBSERVATIONS),
  history: z.array(historyEntrySchema).max(MAX_HISTORY),
  suppression: suppressionSchema.optional(),
  group: groupSchema.optional(),
  /** Fingerprint of the group incident this one was folded into. */
  groupedInto: z.string().optional(),
  notifications: z.array(notificationRecordSchema).max(MAX_NOTIFICATIONS),
  remediations: z.array(remediationAuditSchema).max(MAX_REMEDIATIONS),
  /** Optimistic-write counter: a put must name the version it read. */
  version: z.int().min(0),
});
export type Incident = z.output<typeof incidentSchema>;

export function incidentId(fingerprint: string, episode: number): string {
  return `${fingerprint}-${episode}`;
}

/** The table key of an incident id (CLI `incidents ack <id>`). */
export function fingerprintOfId(id: string): string | undefined {
  const m = /^([0-9a-f]{16})-\d+$/.exec(id);
  return m?.[1];
}

/** Keeps the newest `max` entries of a bounded list. */
export function keepLast<T>(list: readonly T[], max: number): T[] {
  return list.length <= max ? [...list] : list.slice(list.length - max);
}
