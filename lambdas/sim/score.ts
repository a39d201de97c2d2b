import type { Cause, Severity } from '../contracts/finding';
import type { MaintenanceInterval } from './calendar';
import type { FaultTruth } from './faults';

/**
 * Scores a simulated run: matches the notifications people would have received to the injected
 * faults (ground truth), and produces the JSON summary of `fleetwatch simulate --json`, whose field
 * names are a contract (issue 5): scenario, faults[], falseNotifications[],
 * notificationsDuringMaintenance[], duplicateNotifications, apiCalls, runtimeSeconds. Extras:
 * suppressed incidents (stage and reason), duplicates in detail, unmatched notification counts.
 *
 * Matching (pure, by labels and time):
 *   an incident explains the fault its labels point at best (matchScore) — the same job; or
 *   one of the fault's nodes (and the same GPU when both name one); or, for a fault without nodes
 *   (cohort, cluster, scheduler), the same cluster; or the same endpoint — and it was first seen
 *   from the fault's onset up to `horizonMs` after the fault ended (or after onset, if it did not).
 *   A notification is explained when its incident explains some fault.
 *
 *   detected            the fault has an explaining incident that notified ('open')
 *   latencySeconds      first such notification minus onset
 *   duplicateNotifications  'open' notifications beyond the first one for the same fault (two
 *                       incidents paging for one broken GPU) plus 'open' sent twice for one incident
 */

/** The slice of a notification the score needs (lambdas/wiring/simulation.ts DeliveredNotification). */
export interface ScoredNotification {
  readonly atMs: number;
  readonly severity: Severity;
  readonly event: string;
  readonly kind: string;
  readonly incidentId: string;
}

/** The slice of an incident the score needs. */
export interface ScoredIncident {
  readonly id: string;
  readonly kind: string;
  readonly severity: Severity;
  readonly cause: Cause;
  readonly firstSeenMs: number;
  readonly labels: Readonly<Record<string, string | undefined>>;
  readonly status: string;
  readonly suppression?: { readonly stage: string; readonly reason: string } | undefined;
  /** Incident history; 'suppressed' entries read "<stage>: <reason>". */
  readonly history?: readonly {
    readonly at: number;
    readonly action: string;
    readonly detail?: string | undefined;
  }[];
}

export interface ScoreInput {
  readonly scenario: string;
  readonly truth: readonly FaultTruth[];
  readonly notifications: readonly ScoredNotification[];
  readonly incidents: readonly ScoredIncident[];
  readonly maintenance: readonly MaintenanceInterval[];
  readonly apiCalls: Readonly<Record<string, number>>;
  readonly runtimeSeconds: number;
  /** Run end, epoch ms (a fault still on at the end is matched until then plus the horizon). */
  readonly endMs: number;
  /** @default 30 minutes */
  readonly horizonMs?: number;
}

export interface FaultScore {
  id: string;
  kind: string;
  at: string;
  detected: boolean;
  firstNotificationAt: string | null;
  latencySeconds: number | null;
  severity: Severity | null;
  incidentId: string | null;
  cause: Cause | null;
  /** Extras: what the truth expected, and whether the fault took hold at all. */
  expectedSeverity: Severity;
  expectedCause: Cause;
  status: FaultTruth['status'];
  incidents: string[];
}

export interface RunSummary {
  scenario: string;
  faults: FaultScore[];
  falseNotifications: { at: string; kind: string; severity: Severity }[];
  notificationsDuringMaintenance: { at: string; incidentId: string }[];
  duplicateNotifications: number;
  apiCalls: Record<string, number>;
  runtimeSeconds: number;
  /** Extras. */
  suppressedIncidents: {
    incidentId: string;
    kind: string;
    stage: string;
    reason: string;
    at?: string;
    faultId?: string | undefined;
  }[];
  duplicates: { incidentId: string; at: string; kind: string; faultId?: string }[];
  notificationCount: number;
}

const DEFAULT_HORIZON_MS = 30 * 60_000;

/**
 * How specifically an incident's labels point at what a fault hit (times aside): 0 not at all,
 * 1 same cluster (faults without a node or job: cohorts, clusters, schedulers), 2 one of the
 * fault's nodes, 3 its job, 4 its node and GPU, 5 its endpoint. An incident explains the one fault
 * it matches best, so an Xid on a node of a driver-regression cohort is credited to the Xid.
 */
export function matchScore(truth: FaultTruth, labels: ScoredIncident['labels']): number {
  const t = truth.labels;
  if (t.endpoint !== undefined) return labels.endpoint === t.endpoint ? 5 : 0;
  const nodes = t.nodes ?? (t.node === undefined ? [] : [t.node]);
  if (labels.node !== undefined && nodes.includes(labels.node)) {
    if (t.gpu !== undefined && labels.gpu !== undefined) return labels.gpu === t.gpu ? 4 : 0;
    if (t.job !== undefined && labels.job === t.job) return 3;
    return 2;
  }
  if (t.job !== undefined && labels.job === t.job) return 3;
  const nodeLevel = t.job !== undefined || nodes.length === 1;
  if (nodeLevel) return 0;
  return labels.node === undefined &&
    labels.job === undefined &&
    t.cluster !== undefined &&
    labels.cluster === t.cluster
    ? 1
    : 0;
}

/** matchScore within the fault's time span (onset to end + horizon); 0 outside it. */
function explains(truth: FaultTruth, incident: ScoredIncident, endMs: number, horizonMs: number): number {
  if (truth.status === 'pending' || truth.status === 'unresolved') return 0;
  const onset = truth.startedMs ?? truth.atMs;
  const until = (truth.endedMs ?? endMs) + horizonMs;
  if (incident.firstSeenMs < onset || incident.firstSeenMs > until) return 0;
  return matchScore(truth, incident.labels);
}

function inMaintenance(
  atMs: number,
  incident: ScoredIncident | undefined,
  maintenance: readonly MaintenanceInterval[],
): boolean {
  return maintenance.some(
    (m) =>
      m.startMs <= atMs &&
      atMs < m.endMs &&
      (incident === undefined ||
        incident.labels.cluster === undefined ||
        (incident.labels.cluster === m.cluster &&
          (m.hostname === undefined ||
            incident.labels.node === undefined ||
            incident.labels.node === m.hostname))),
  );
}

const iso = (ms: number) => new Date(ms).toISOString();

export function scoreRun(input: ScoreInput): RunSummary {
  const horizonMs = input.horizonMs ?? DEFAULT_HORIZON_MS;
  const incidents = new Map(input.incidents.map((i) => [i.id, i]));
  const notifications = [...input.notifications].sort((a, b) => a.atMs - b.atMs);
  // The one fault each incident explains: best label match, then the latest onset before it.
  const faultOf = new Map<string, string>();
  const explaining = new Map<string, string[]>(input.truth.map((t) => [t.id, []]));
  for (const inc of input.incidents) {
    let best: { id: string; score: number; onset: number } | undefined;
    for (const truth of input.truth) {
      const score = explains(truth, inc, input.endMs, horizonMs);
      const onset = truth.startedMs ?? truth.atMs;
      if (score === 0) continue;
      if (best === undefined || score > best.score || (score === best.score && onset > best.onset)) {
        best = { id: truth.id, score, onset };
      }
    }
    if (best === undefined) continue;
    faultOf.set(inc.id, best.id);
    explaining.get(best.id)?.push(inc.id);
  }

  const faults: FaultScore[] = input.truth.map((truth) => {
    const ids = new Set(explaining.get(truth.id) ?? []);
    const first = notifications.find((n) => n.event === 'open' && ids.has(n.incidentId));
    const inc = first === undefined ? undefined : incidents.get(first.incidentId);
    return {
      id: truth.id,
      kind: truth.kind,
      at: truth.at,
      detected: first !== undefined,
      firstNotificationAt: first === undefined ? null : iso(first.atMs),
      latencySeconds:
        first === undefined ? null : Math.round((first.atMs - (truth.startedMs ?? truth.atMs)) / 1000),
      // An incident that escalated (ticket, then page) is routed at the severity it rose to.
      severity: first === undefined ? null : highestNotified(notifications, first),
      incidentId: first?.incidentId ?? null,
      cause: inc?.cause ?? null,
      expectedSeverity: truth.expected.severity,
      expectedCause: truth.expected.cause,
      status: truth.status,
      incidents: [...ids].sort(),
    };
  });

  const falseNotifications = notifications
    .filter((n) => !faultOf.has(n.incidentId))
    .map((n) => ({ at: iso(n.atMs), kind: n.kind, severity: n.severity }));

  const notificationsDuringMaintenance = notifications
    .filter(
      (n) => n.event !== 'resolved' && inMaintenance(n.atMs, incidents.get(n.incidentId), input.maintenance),
    )
    .map((n) => ({ at: iso(n.atMs), incidentId: n.incidentId }));

  const duplicates: RunSummary['duplicates'] = [];
  const openedIncidents = new Set<string>();
  const notifiedFaults = new Set<string>();
  for (const n of notifications) {
    if (n.event !== 'open') continue;
    const faultId = faultOf.get(n.incidentId);
    const again = openedIncidents.has(n.incidentId);
    const sameFault = faultId !== undefined && notifiedFaults.has(faultId);
    if (again || sameFault) {
      duplicates.push({
        incidentId: n.incidentId,
        at: iso(n.atMs),
        kind: n.kind,
        ...(faultId === undefined ? {} : { faultId }),
      });
    }
    openedIncidents.add(n.incidentId);
    if (faultId !== undefined) notifiedFaults.add(faultId);
  }

  // Every suppression decision, current or past (the router records "<stage>: <reason>").
  const suppressedIncidents: RunSummary['suppressedIncidents'] = [];
  for (const i of input.incidents) {
    const seen = new Set<string>();
    const add = (stage: string, reason: string, atMs: number | undefined) => {
      const key = `${stage}|${reason}`;
      if (seen.has(key)) return;
      seen.add(key);
      suppressedIncidents.push({
        incidentId: i.id,
        kind: i.kind,
        stage,
        reason,
        ...(atMs === undefined ? {} : { at: iso(atMs) }),
        ...(faultOf.has(i.id) ? { faultId: faultOf.get(i.id) } : {}),
      });
    };
    for (const h of i.history ?? []) {
      if (h.action !== 'suppressed' || h.detail === undefined) continue;
      const colon = h.detail.indexOf(':');
      add(colon < 0 ? 'unknown' : h.detail.slice(0, colon), h.detail.slice(colon + 1).trim(), h.at);
    }
    if (i.suppression !== undefined) add(i.suppression.stage, i.suppression.reason, undefined);
  }

  return {
    scenario: input.scenario,
    faults,
    falseNotifications,
    notificationsDuringMaintenance,
    duplicateNotifications: duplicates.length,
    apiCalls: { ...input.apiCalls },
    runtimeSeconds: input.runtimeSeconds,
    suppressedIncidents,
    duplicates,
    notificationCount: notifications.length,
  };
}

/** The most severe of an incident's 'open' and 'escalated' notifications. */
function highestNotified(all: readonly ScoredNotification[], first: ScoredNotification): Severity {
  const order: readonly Severity[] = ['page', 'ticket', 'info'];
  let best = first.severity;
  for (const n of all) {
    if (n.incidentId !== first.incidentId || n.event !== 'escalated') continue;
    if (order.indexOf(n.severity) < order.indexOf(best)) best = n.severity;
  }
  return best;
}
