import type { Finding, Severity } from '../../contracts/finding';
import {
  type HistoryEntry,
  INCIDENT_SCHEMA_VERSION,
  type Incident,
  incidentId,
  keepLast,
  MAX_HISTORY,
  MAX_NOTIFICATIONS,
  MAX_OBSERVATIONS,
  type NotificationEvent,
} from '../../contracts/incident';
import type { IncidentsConfig } from '../../contracts/incidents-config';
import { MINUTE_MS, SECOND_MS } from '../time';
import { anyKindMatches } from './alert';
import { renderEvidence } from './message';
import type { Verdict } from './pipeline';

/**
 * The incident lifecycle, pure: observations in, a new incident value and what happened out.
 *
 *   (none) ──finding──► pending ──M of N runs──► open ──ack──► acknowledged
 *                          │                      │               │
 *                          └── quiet ──► (dropped) └───► resolved ◄┘
 *
 * Resolution: level-triggered kinds after K runs without the finding (sweep); edge-triggered
 * kinds (hardware: reported once per episode) only on an explicit resolved outcome or a person.
 */

export interface KindPolicy {
  readonly openAfter: number;
  readonly ofRuns: number;
  readonly resolve: 'clean-runs' | 'explicit';
  readonly cleanRuns: number;
  readonly cadenceMs: number;
}

export function policyFor(kind: string, cfg: IncidentsConfig): KindPolicy {
  const rule = cfg.kinds.find((k) => anyKindMatches(k.match, kind));
  const openAfter = rule?.openAfter ?? cfg.openAfter;
  return {
    openAfter,
    ofRuns: Math.max(openAfter, rule?.ofRuns ?? cfg.ofRuns),
    resolve: rule?.resolve ?? 'clean-runs',
    cleanRuns: rule?.cleanRuns ?? cfg.cleanRuns,
    cadenceMs: cfg.runCadenceMinutes * MINUTE_MS,
  };
}

/** A finding as applied to an incident. `key` identifies the finding, not its delivery. */
export interface ObservationInput {
  readonly key: string;
  readonly fingerprint: string;
  readonly finding: Finding;
  readonly resolved: boolean;
  readonly nowMs: number;
}

export type ObserveEvent =
  | 'duplicate' // this finding was applied before (redelivery): nothing changes
  | 'ignored' // a resolved outcome with nothing open
  | 'pending' // counted, not yet M of N
  | 'opened'
  | 'updated'
  | 'resolved';

export interface ObserveResult {
  readonly event: ObserveEvent;
  /** undefined when nothing is to be written. */
  readonly incident: Incident | undefined;
}

export const ROUTER = 'router';

export function observe(
  current: Incident | undefined,
  input: ObservationInput,
  policy: KindPolicy,
): ObserveResult {
  const { finding, nowMs } = input;
  if (current?.observations.some((o) => o.key === input.key))
    return { event: 'duplicate', incident: undefined };
  const obs = { key: input.key, atMs: finding.detectedAt, resolved: input.resolved };

  if (input.resolved) {
    if (current === undefined || current.status === 'resolved')
      return { event: 'ignored', incident: undefined };
    // An OK older than the newest firing observation is stale (late delivery): it resolves nothing.
    if (finding.detectedAt < current.lastSeenMs) return { event: 'ignored', incident: undefined };
    const withObs = { ...current, observations: keepLast([...current.observations, obs], MAX_OBSERVATIONS) };
    return {
      event: 'resolved',
      incident: resolve(withObs, nowMs, ROUTER, `resolved outcome: ${finding.title}`),
    };
  }

  if (current !== undefined && (current.status === 'open' || current.status === 'acknowledged')) {
    return {
      event: 'updated',
      incident: addHistory(
        {
          ...refresh(current, finding),
          lastSeenMs: Math.max(current.lastSeenMs, finding.detectedAt),
          observations: keepLast([...current.observations, obs], MAX_OBSERVATIONS),
        },
        { at: nowMs, action: 'observed', actor: ROUTER },
      ),
    };
  }

  // New episode (none yet, or the last one resolved) or still pending.
  const base: Incident =
    current === undefined || current.status === 'resolved'
      ? {
          ...newIncident(input, policy, (current?.episode ?? 0) + 1),
          version: current?.version ?? 0,
          // Dedup keys outlive the episode: a redelivered finding of the last one must stay a duplicate.
          observations: current?.observations ?? [],
        }
      : current;
  const pending: Incident = {
    ...refresh(base, finding),
    lastSeenMs: Math.max(base.lastSeenMs, finding.detectedAt),
    observations: keepLast([...base.observations, obs], MAX_OBSERVATIONS),
  };
  return { event: 'pending', incident: pending };
}

/** How many firing observations in the last N runs (ending at the newest); with a seasonal factor. */
export function readyToOpen(incident: Incident, policy: KindPolicy, minRunsFactor = 1): boolean {
  const m = Math.ceil(policy.openAfter * minRunsFactor);
  const n = Math.max(policy.ofRuns, m);
  // Observations carried over from an earlier episode (dedup keys) do not count.
  const firing = incident.observations.filter((o) => !o.resolved && o.atMs >= incident.firstSeenMs);
  const newest = Math.max(...firing.map((o) => o.atMs));
  // N runs end at the newest observation: (newest - N × cadence, newest].
  const inWindow = firing.filter((o) => o.atMs > newest - n * policy.cadenceMs);
  return inWindow.length >= m;
}

export function open(incident: Incident, nowMs: number, groupWaitMs: number): Incident {
  // Only what grouping can fold waits for siblings (grouping.ts isMember): GPU findings, and node
  // findings that are not about a job (a job on one node carries a node label, but never groups).
  const { gpu, node, job } = incident.labels;
  const groupable = gpu !== undefined || (node !== undefined && job === undefined);
  return addHistory(
    {
      ...incident,
      status: 'open',
      openedAtMs: nowMs,
      ...(groupable && groupWaitMs > 0 ? { notBeforeMs: nowMs + groupWaitMs } : {}),
    },
    { at: nowMs, action: 'opened', actor: ROUTER },
  );
}

export function resolve(incident: Incident, nowMs: number, actor: string, detail: string): Incident {
  const wasNotified = hasNotified(incident, 'open');
  let next: Incident = addHistory(
    { ...incident, status: 'resolved', resolvedAtMs: nowMs, suppression: undefined },
    { at: nowMs, action: 'resolved', actor, detail },
  );
  if (wasNotified) next = queueNotification(next, 'resolved', nowMs);
  // A pending 'open' notification that never went out has nothing left to say.
  return {
    ...next,
    notifications: next.notifications.filter((n) => !(n.status === 'pending' && n.event === 'open')),
  };
}

export function acknowledge(incident: Incident, nowMs: number, actor: string, note?: string): Incident {
  if (incident.status !== 'open') return incident;
  return addHistory(
    { ...incident, status: 'acknowledged' },
    { at: nowMs, action: 'acknowledged', actor, ...(note ? { detail: note } : {}) },
  );
}

/** Level-triggered incidents with no finding for K runs are resolved by the sweep. */
export function quietLongEnough(incident: Incident, policy: KindPolicy, nowMs: number): boolean {
  return (
    incident.resolveMode === 'clean-runs' &&
    nowMs - incident.lastSeenMs >= policy.cleanRuns * policy.cadenceMs
  );
}

/** Pending incidents that did not reach M within N runs are dropped (never were incidents). */
export function pendingExpired(incident: Incident, policy: KindPolicy, nowMs: number): boolean {
  return incident.status === 'pending' && nowMs - incident.lastSeenMs >= policy.ofRuns * policy.cadenceMs;
}

/**
 * Applies the suppression verdict to an open incident: records a (changed) suppression with its
 * reason, or lifts it, and queues the 'open' notification when one is owed and due.
 */
export function applyVerdict(incident: Incident, verdict: Verdict, nowMs: number, actor = ROUTER): Incident {
  let next = incident;
  if (verdict.relax?.severity !== undefined && next.severity !== verdict.relax.severity) {
    next = addHistory(
      { ...next, severity: verdict.relax.severity },
      { at: nowMs, action: 'severity-relaxed', actor, detail: verdict.relax.reason },
    );
  } else if (
    verdict.relax?.severity === undefined &&
    next.severity !== next.originalSeverity &&
    !verdict.muted
  ) {
    next = { ...next, severity: next.originalSeverity };
  }
  if (verdict.muted) {
    const same = next.suppression?.stage === verdict.stage && next.suppression.reason === verdict.reason;
    if (same) return next;
    return addHistory(
      {
        ...next,
        suppression: {
          stage: verdict.stage,
          reason: verdict.reason.slice(0, 1_024),
          sinceMs: nowMs,
          ...(verdict.untilMs !== undefined ? { untilMs: verdict.untilMs } : {}),
        },
      },
      { at: nowMs, action: 'suppressed', actor, detail: `${verdict.stage}: ${verdict.reason}` },
    );
  }
  if (next.suppression !== undefined && next.suppression.stage !== 'grouped') {
    next = addHistory(
      { ...next, suppression: undefined },
      {
        at: nowMs,
        action: 'unsuppressed',
        actor,
        detail: `was ${next.suppression.stage}: ${next.suppression.reason}`,
      },
    );
  }
  if (next.suppression !== undefined) return next; // grouped into another incident
  if (next.status === 'open' && !hasNotified(next, 'open') && (next.notBeforeMs ?? 0) <= nowMs) {
    next = queueNotification(next, 'open', nowMs);
  }
  return escalate(next, nowMs, actor);
}

/**
 * An incident already notified whose severity ROSE above what the last message said (a ticket
 * that later findings made a page) notifies at once on the new severity's topic: waiting for the
 * hourly re-notification would leave a page sitting in the ticket queue. A drop (a seasonal
 * relaxation, or findings getting milder) says nothing: nobody needs waking up for good news.
 */
export function escalate(incident: Incident, nowMs: number, actor = ROUTER): Incident {
  if (incident.status !== 'open' && incident.status !== 'acknowledged') return incident;
  if (incident.suppression !== undefined) return incident;
  const last = lastAudible(incident);
  if (last === undefined || severityRank(incident.severity) >= severityRank(last.severity)) return incident;
  return addHistory(queueNotification(incident, 'escalated', nowMs), {
    at: nowMs,
    action: 'escalated',
    actor,
    detail: `${last.severity} to ${incident.severity}`,
  });
}

/** The newest open/renotify/escalated notification (owed or sent): what people were last told. */
export function lastAudible(incident: Incident): Incident['notifications'][number] | undefined {
  return incident.notifications.filter((n) => n.event !== 'resolved').at(-1);
}

/** 0 page, 1 ticket, 2 info: lower is more severe. */
export function severityRank(s: Severity): number {
  return SEVERITY_ORDER.indexOf(s);
}

const SEVERITY_ORDER: readonly Severity[] = ['page', 'ticket', 'info'];

export function hasNotified(incident: Incident, event: NotificationEvent): boolean {
  return incident.notifications.some((n) => n.event === event);
}

export function queueNotification(incident: Incident, event: NotificationEvent, nowMs: number): Incident {
  return {
    ...incident,
    notifications: keepLast(
      [
        ...incident.notifications,
        { at: nowMs, event, severity: incident.severity, status: 'pending' as const },
      ],
      MAX_NOTIFICATIONS,
    ),
  };
}

export function markSent(incident: Incident, index: number, messageId: string, nowMs: number): Incident {
  const n = incident.notifications[index];
  if (n === undefined) return incident;
  const notifications = incident.notifications.map((x, i) =>
    i === index ? { ...x, status: 'sent' as const, messageId } : x,
  );
  return addHistory(
    { ...incident, notifications },
    { at: nowMs, action: 'notified', actor: ROUTER, detail: `${n.event} to ${n.severity} (${messageId})` },
  );
}

export function addHistory(incident: Incident, entry: HistoryEntry): Incident {
  const bounded =
    entry.detail !== undefined && entry.detail.length > 2_000
      ? { ...entry, detail: entry.detail.slice(0, 2_000) }
      : entry;
  return { ...incident, history: keepLast([...incident.history, bounded], MAX_HISTORY) };
}

function newIncident(input: ObservationInput, policy: KindPolicy, episode: number): Incident {
  const f = input.finding;
  return {
    schemaVersion: INCIDENT_SCHEMA_VERSION,
    id: incidentId(input.fingerprint, episode),
    fingerprint: input.fingerprint,
    episode,
    kind: f.kind,
    severity: f.severity,
    originalSeverity: f.severity,
    cause: f.cause,
    title: f.title,
    labels: f.labels,
    runbook: f.runbook,
    evidence: '',
    resolveMode: policy.resolve,
    status: 'pending',
    firstSeenMs: f.detectedAt,
    lastSeenMs: f.detectedAt,
    observations: [],
    history: [
      {
        at: input.nowMs,
        action: 'pending',
        actor: ROUTER,
        ...(episode > 1 ? { detail: `episode ${episode}` } : {}),
      },
    ],
    notifications: [],
    remediations: [],
    version: 0,
  };
}

/** The latest finding's words and evidence; severity only upwards (a later page outranks a ticket). */
function refresh(incident: Incident, f: Finding): Incident {
  const severity: Severity = rankUp(incident.originalSeverity, f.severity);
  const { summary: _drop, ...rest } = incident;
  return {
    ...rest,
    title: f.title,
    ...(f.summary !== undefined ? { summary: f.summary } : {}),
    labels: { ...incident.labels, ...(f.labels.team !== undefined ? { team: f.labels.team } : {}) },
    runbook: f.runbook,
    evidence: renderEvidence(f).slice(0, 16_000),
    originalSeverity: severity,
    severity: incident.severity === incident.originalSeverity ? severity : incident.severity,
  };
}

function rankUp(a: Severity, b: Severity): Severity {
  return severityRank(a) <= severityRank(b) ? a : b;
}

/** The group wait of a kind: its lifecycle rule's override, else config.groupWaitSeconds. */
export const groupWaitMsOf = (cfg: IncidentsConfig, kind?: string): number => {
  const rule = kind === undefined ? undefined : cfg.kinds.find((k) => anyKindMatches(k.match, kind));
  return (rule?.groupWaitSeconds ?? cfg.groupWaitSeconds) * SECOND_MS;
};
