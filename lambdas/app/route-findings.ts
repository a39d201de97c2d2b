import type { KnownChange, MaintenanceWindow } from '../contracts/calendar';
import { type Finding, findingSchema, type Severity } from '../contracts/finding';
import {
  fingerprintOfId,
  type Incident,
  keepLast,
  MAX_REMEDIATIONS,
  type RemediationAudit,
} from '../contracts/incident';
import type { IncidentsConfig } from '../contracts/incidents-config';
import type { Alert } from '../core/incidents/alert';
import { fingerprintOf, type HashFn } from '../core/incidents/fingerprint';
import { groupItems, type RoutedItem } from '../core/incidents/grouping';
import {
  acknowledge,
  addHistory,
  applyVerdict,
  groupWaitMsOf,
  markSent,
  type ObserveEvent,
  observe,
  open,
  pendingExpired,
  policyFor,
  queueNotification,
  quietLongEnough,
  readyToOpen,
  resolve,
} from '../core/incidents/lifecycle';
import { buildNotification, type MessageOptions } from '../core/incidents/message';
import { evaluate } from '../core/incidents/pipeline';
import { countRecentQuarantines, decideRemediation } from '../core/incidents/remediation-policy';
import { renotifyDue } from '../core/incidents/renotify';
import { type ResolutionTiming, resolutionTiming } from '../core/incidents/resolution-timing';
import type { ActiveIncident, CalendarView, SuppressionContext } from '../core/incidents/stages/stage';
import type {
  CalendarStore,
  ChangeLog,
  IncidentStore,
  Log,
  Notifier,
  RemediationStarter,
} from '../core/ports';
import { HOUR_MS, MINUTE_MS } from '../core/time';

/**
 * The incident router's use cases:
 *   routeFindings   one SQS batch of findings → incidents, suppression decisions, notifications
 *   sweepIncidents  the scheduled run: resolve quiet incidents, drop stale pending ones, notify
 *                   when a suppression ended and the problem is still there, flush group waits,
 *                   re-notify open pages, retry unsent notifications
 *
 * Safe to run twice: every finding has a key (fingerprint + detectedAt + outcome) recorded on the
 * incident; a redelivered finding changes nothing. Notifications go through an outbox on the
 * incident (written in the same conditional write as the state change), so a crash re-sends at
 * worst, never loses a page. Conditional-write conflicts are retried a bounded number of times.
 */
export interface RouteDeps {
  readonly store: IncidentStore;
  readonly calendar: CalendarStore;
  readonly notifier: Notifier;
  readonly remediation: RemediationStarter;
  readonly changes?: ChangeLog;
  readonly config: IncidentsConfig;
  /** config.maintenance: the one calendar's windows (stored ones come from `calendar`). */
  readonly maintenance: readonly MaintenanceWindow[];
  readonly log: Log;
  readonly messageOptions?: MessageOptions;
  /** Attempts per incident write before the message is reported failed. @default 4 */
  readonly maxAttempts?: number;
  readonly hash?: HashFn;
}

export interface RouteInput {
  /** id: the SQS message id; finding: the parsed message body (validated here). */
  readonly findings: readonly { readonly id: string; readonly finding: unknown }[];
  readonly nowMs: number;
}

export type MessageResult =
  | {
      readonly id: string;
      readonly status: 'ok';
      readonly event: ObserveEvent;
      readonly incidentId?: string;
      readonly suppressed?: string;
      /** The incident's severity after this finding (for IncidentsOpened by Severity). */
      readonly severity?: Severity;
      /** The suppression stage that muted the incident with this finding (it was not muted by it before). */
      readonly newlySuppressedBy?: string;
    }
  /** Retry later (SQS partial batch failure): conflicts exhausted, a notification not yet sent. */
  | { readonly id: string; readonly status: 'failed'; readonly reason: string }
  /** Never processable (DLQ with the problems). */
  | { readonly id: string; readonly status: 'invalid'; readonly problems: readonly string[] };

export interface RouteResult {
  readonly results: MessageResult[];
  readonly notificationsSent: number;
  /** Notifications published, by severity (NotificationsSent by Severity). */
  readonly sentBySeverity: Readonly<Partial<Record<Severity, number>>>;
  /** Notifications the notifier did not accept (retried later). */
  readonly notificationsFailed: number;
  /** Time to detect / resolve of notified incidents whose resolved message went out in this run. */
  readonly resolutions: readonly ResolutionTiming[];
}

const DEFAULT_ATTEMPTS = 4;

export async function routeFindings(deps: RouteDeps, input: RouteInput): Promise<RouteResult> {
  const { nowMs } = input;
  const results = new Map<string, MessageResult>();
  const items: RoutedItem[] = [];
  for (const { id, finding } of input.findings) {
    const parsed = findingSchema.safeParse(finding);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(finding)'}: ${i.message}`);
      deps.log.warn('invalid finding', { messageId: id, problems });
      results.set(id, { id, status: 'invalid', problems });
      continue;
    }
    items.push(routedItem(id, parsed.data, deps.hash));
  }

  const run = await loadRun(deps, nowMs);
  const grouped = groupItems(
    items,
    run.activeList(),
    { gpusPerNode: deps.config.groupGpusPerNode, nodesPerCluster: deps.config.groupNodesPerCluster },
    await appliedKeys(deps, items),
  );
  // Sources before targets: cluster-level, then node-level, then GPU/job-level incidents, so
  // inhibition inside one batch does not depend on arrival order.
  const ordered = [...grouped].sort(
    (a, b) =>
      specificity(a.finding) - specificity(b.finding) ||
      cmp(a.fingerprint, b.fingerprint) ||
      a.finding.detectedAt - b.finding.detectedAt ||
      Number(a.resolved) - Number(b.resolved),
  );
  for (const item of ordered) {
    try {
      results.set(item.messageId, await routeOne(deps, run, item, nowMs));
    } catch (e) {
      deps.log.error('routing failed', { messageId: item.messageId, error: (e as Error).message });
      results.set(item.messageId, { id: item.messageId, status: 'failed', reason: (e as Error).message });
    }
  }
  return {
    results: input.findings.map(
      ({ id }) => results.get(id) ?? { id, status: 'failed', reason: 'not processed (internal error)' },
    ),
    notificationsSent: Object.values(run.sentBySeverity).reduce((a, n) => a + (n ?? 0), 0),
    sentBySeverity: run.sentBySeverity,
    notificationsFailed: run.failedSends,
    resolutions: run.resolutions,
  };
}

export interface SweepResult {
  readonly resolved: number;
  readonly dropped: number;
  readonly notified: number;
  readonly renotified: number;
  readonly failed: number;
  /** Notifications published, by severity, and those the notifier did not accept. */
  readonly sentBySeverity: Readonly<Partial<Record<Severity, number>>>;
  readonly notificationsFailed: number;
  /** Time to detect / resolve of notified incidents whose resolved message went out in this run. */
  readonly resolutions: readonly ResolutionTiming[];
}

export async function sweepIncidents(
  deps: RouteDeps,
  input: { readonly nowMs: number },
): Promise<SweepResult> {
  const { nowMs } = input;
  const run = await loadRun(deps, nowMs);
  const counts = { resolved: 0, dropped: 0, notified: 0, renotified: 0, failed: 0 };
  const ordered = run
    .activeList()
    .sort((a, b) => specificity(a) - specificity(b) || cmp(a.fingerprint, b.fingerprint));
  for (const start of ordered) {
    let current: Incident | undefined = start;
    let done = false;
    for (
      let attempt = 0;
      attempt < (deps.maxAttempts ?? DEFAULT_ATTEMPTS) && current !== undefined;
      attempt++
    ) {
      const { next, outcome } = sweepOne(deps, run, current, nowMs);
      const openQueued = next.notifications.filter(
        (n) => n.status === 'pending' && n.event === 'open',
      ).length;
      const written = next === current ? current : await deps.store.put(next);
      if (written === 'conflict') {
        current = await deps.store.get(start.fingerprint);
        continue;
      }
      run.remember(written);
      if (outcome !== undefined) counts[outcome]++;
      counts.notified += openQueued;
      if (!(await flush(deps, run, written, nowMs))) counts.failed++;
      done = true;
      break;
    }
    if (!done && current !== undefined) counts.failed++;
  }
  return {
    ...counts,
    sentBySeverity: run.sentBySeverity,
    notificationsFailed: run.failedSends,
    resolutions: run.resolutions,
  };
}

/** What the sweep does to one incident (pure given the run's context). */
function sweepOne(
  deps: RouteDeps,
  run: Run,
  current: Incident,
  nowMs: number,
): { next: Incident; outcome?: 'resolved' | 'dropped' | 'renotified' } {
  const policy = policyFor(current.kind, deps.config);
  const live = current.status === 'open' || current.status === 'acknowledged';
  if (current.groupedInto !== undefined && current.status !== 'resolved') {
    const group = run.activeList().find((i) => i.fingerprint === current.groupedInto);
    if (group === undefined || group.status === 'resolved') {
      // Its group incident is over: the member (never notified on its own) ends with it.
      return {
        next: resolve(current, nowMs, 'sweep', `group incident ${current.groupedInto} resolved`),
        outcome: 'resolved',
      };
    }
    return { next: current };
  }
  if (pendingExpired(current, policy, nowMs)) {
    const why = `dropped: fewer than ${policy.openAfter} of ${policy.ofRuns} runs`;
    return { next: resolve(current, nowMs, 'sweep', why), outcome: 'dropped' };
  }
  if (live && quietLongEnough(current, policy, nowMs)) {
    const why = `no finding for ${policy.cleanRuns} runs`;
    return { next: resolve(current, nowMs, 'sweep', why), outcome: 'resolved' };
  }
  if (!live) return { next: current };
  const next = decide(deps, run, current, nowMs, 'sweep');
  if (renotifyDue(next, nowMs, deps.config.renotifyMinutes)) {
    return { next: queueNotification(next, 'renotify', nowMs), outcome: 'renotified' };
  }
  return { next };
}

export type HumanAction = 'acknowledge' | 'resolve';

export type HumanActionResult =
  | {
      readonly status: 'done';
      readonly incident: Incident;
      /** Set when this resolve sent the resolved message of a notified incident. */
      readonly resolutions: readonly ResolutionTiming[];
    }
  | { readonly status: 'not_found' | 'not_open' | 'conflict'; readonly detail: string };

/**
 * A person acknowledges or resolves an incident by id (CLI). Resolving a notified incident sends
 * the resolved notification. Conflicts are retried like the router's writes.
 */
export async function actOnIncident(
  deps: RouteDeps,
  input: {
    readonly id: string;
    readonly action: HumanAction;
    readonly actor: string;
    readonly note?: string;
    readonly nowMs: number;
  },
): Promise<HumanActionResult> {
  const fingerprint = fingerprintOfId(input.id);
  if (fingerprint === undefined)
    return { status: 'not_found', detail: `"${input.id}" is not an incident id (<16 hex digits>-<episode>)` };
  const run = await loadRun(deps, input.nowMs);
  for (let attempt = 0; attempt < (deps.maxAttempts ?? DEFAULT_ATTEMPTS); attempt++) {
    const current = await deps.store.get(fingerprint);
    if (current === undefined || current.id !== input.id) {
      return {
        status: 'not_found',
        detail: `no incident ${input.id}${current ? ` (the current episode is ${current.id})` : ''}`,
      };
    }
    const allowed =
      input.action === 'acknowledge'
        ? current.status === 'open'
        : current.status === 'open' || current.status === 'acknowledged' || current.status === 'pending';
    if (!allowed) return { status: 'not_open', detail: `incident ${input.id} is ${current.status}` };
    const next =
      input.action === 'acknowledge'
        ? acknowledge(current, input.nowMs, input.actor, input.note)
        : resolve(current, input.nowMs, input.actor, input.note ?? 'resolved by hand');
    const written = await deps.store.put(next);
    if (written === 'conflict') continue;
    await flush(deps, run, written, input.nowMs);
    return {
      status: 'done',
      incident: (await deps.store.get(fingerprint)) ?? written,
      resolutions: run.resolutions,
    };
  }
  return { status: 'conflict', detail: `incident ${input.id} kept changing; try again` };
}

// ---------------------------------------------------------------------------------------------

interface Run {
  readonly ctx: SuppressionContext;
  activeList(): Incident[];
  remember(incident: Incident): void;
  quarantinesLastHour: number;
  readonly sentBySeverity: Partial<Record<Severity, number>>;
  failedSends: number;
  /** Filled by flush: one entry per incident whose 'resolved' notification it sent. */
  readonly resolutions: ResolutionTiming[];
}

async function loadRun(deps: RouteDeps, nowMs: number): Promise<Run> {
  const [stored, storedWindows, active, recent, loggedChanges] = await Promise.all([
    deps.calendar.silences(nowMs),
    deps.calendar.maintenanceWindows(),
    deps.store.listActive(),
    deps.store.listRecent(nowMs - HOUR_MS),
    deps.changes?.changesSince(nowMs - maxGraceMs(deps.config)) ?? Promise.resolve([] as KnownChange[]),
  ]);
  const cfg = deps.config;
  const calendar: CalendarView = {
    silences: [...cfg.silences, ...stored],
    maintenance: [...deps.maintenance, ...storedWindows],
    seasonal: cfg.seasonal,
    inhibition: cfg.inhibition,
    changes: [...cfg.postChange.changes, ...loggedChanges],
    postChangeRules: cfg.postChange.rules,
  };
  const byFp = new Map(active.map((i) => [i.fingerprint, i]));
  const activeView = (): ActiveIncident[] =>
    [...byFp.values()]
      .filter((i) => i.status !== 'resolved')
      .map((i) => ({ ...alertOf(i), status: i.status }));
  const ctx = {
    nowMs,
    calendar,
    get active() {
      return activeView();
    },
  };
  return {
    ctx,
    activeList: () => [...byFp.values()],
    remember: (i) => {
      byFp.set(i.fingerprint, i);
    },
    quarantinesLastHour: countRecentQuarantines(recent, nowMs),
    sentBySeverity: {},
    failedSends: 0,
    resolutions: [],
  };
}

/** Items whose finding an incident of their own fingerprint already holds (even resolved ones). */
async function appliedKeys(deps: RouteDeps, items: readonly RoutedItem[]): Promise<Map<string, string>> {
  const applied = new Map<string, string>();
  const fps = [...new Set(items.map((i) => i.fingerprint))];
  const incidents = await Promise.all(fps.map((fp) => deps.store.get(fp)));
  for (const inc of incidents)
    for (const o of inc?.observations ?? []) applied.set(o.key, inc?.fingerprint ?? '');
  return applied;
}

function maxGraceMs(cfg: IncidentsConfig): number {
  return Math.max(0, ...cfg.postChange.rules.map((r) => r.graceMinutes)) * MINUTE_MS;
}

function routedItem(messageId: string, finding: Finding, hash: HashFn | undefined): RoutedItem {
  const resolved = finding.evidence.values?.['resolved'] === 1;
  const fingerprint = fingerprintOf(finding.kind, finding.labels, hash);
  return {
    messageId,
    finding,
    resolved,
    fingerprint,
    key: `${fingerprint}:${finding.detectedAt}:${resolved ? 'r' : 'f'}`,
  };
}

async function routeOne(deps: RouteDeps, run: Run, item: RoutedItem, nowMs: number): Promise<MessageResult> {
  const attempts = deps.maxAttempts ?? DEFAULT_ATTEMPTS;
  const policy = policyFor(item.finding.kind, deps.config);
  for (let attempt = 0; attempt < attempts; attempt++) {
    const current = await deps.store.get(item.fingerprint);
    const observed = observe(
      current,
      { key: item.key, fingerprint: item.fingerprint, finding: item.finding, resolved: item.resolved, nowMs },
      policy,
    );
    if (observed.incident === undefined) {
      // Duplicate delivery: finish what the first delivery may not have (its outbox).
      if (current !== undefined && !(await flush(deps, run, current, nowMs))) {
        return { id: item.messageId, status: 'failed', reason: 'notification still pending' };
      }
      return {
        id: item.messageId,
        status: 'ok',
        event: observed.event,
        ...(current ? { incidentId: current.id } : {}),
      };
    }
    let next = observed.incident;
    let event = observed.event;
    if (item.group !== undefined) next = mergeGroup(next, item.group);
    if (next.status === 'pending') {
      const verdict = evaluate(alertOf(next), run.ctx);
      if (readyToOpen(next, policy, verdict.relax?.minRunsFactor)) {
        next = open(next, nowMs, groupWaitMsOf(deps.config, next.kind));
        event = 'opened';
      }
    }
    if (next.status === 'open' || next.status === 'acknowledged')
      next = decide(deps, run, next, nowMs, 'router', item.finding);
    const written = await deps.store.put(next);
    if (written === 'conflict') continue;
    run.remember(written);
    for (const fp of item.folds ?? []) await fold(deps, run, fp, written, nowMs);
    const flushed = await flush(deps, run, written, nowMs);
    if (!flushed) return { id: item.messageId, status: 'failed', reason: 'notification not published yet' };
    return {
      id: item.messageId,
      status: 'ok',
      event,
      incidentId: written.id,
      severity: written.severity,
      ...(written.suppression
        ? { suppressed: `${written.suppression.stage}: ${written.suppression.reason}` }
        : {}),
      ...(written.suppression !== undefined &&
      (current?.id !== written.id || current.suppression?.stage !== written.suppression.stage)
        ? { newlySuppressedBy: written.suppression.stage }
        : {}),
    };
  }
  deps.log.warn('incident write conflicts exhausted', {
    messageId: item.messageId,
    fingerprint: item.fingerprint,
  });
  return { id: item.messageId, status: 'failed', reason: `write conflict after ${attempts} attempts` };
}

/**
 * Suppression verdict for an open incident; when it becomes audible for the first time, the
 * remediation decision too (audited; 'start' decisions are started by flush, idempotently).
 */
function decide(
  deps: RouteDeps,
  run: Run,
  incident: Incident,
  nowMs: number,
  actor: string,
  finding?: Finding,
): Incident {
  if (incident.groupedInto !== undefined) return incident;
  const before = incident.notifications.filter((n) => n.event === 'open').length;
  let next = applyVerdict(incident, evaluate(alertOf(incident), run.ctx), nowMs, actor);
  const becameAudible = next.notifications.filter((n) => n.event === 'open').length > before;
  if (!becameAudible) return next;
  const decision = decideRemediation(next, deps.config.remediation, {
    nowMs,
    values: finding?.evidence.values ?? {},
    quarantinesLastHour: run.quarantinesLastHour,
  });
  if (decision === undefined) return next;
  const audit: RemediationAudit = {
    at: nowMs,
    workflow: decision.workflow,
    policy: decision.policy,
    decision: decision.action === 'start' ? 'started' : 'skipped',
    reason:
      decision.action === 'start'
        ? `${decision.reason} (execution ${decision.executionName})`
        : decision.reason,
  };
  if (decision.action === 'start' && decision.workflow === 'quarantine-node') run.quarantinesLastHour++;
  next = { ...next, remediations: keepLast([...next.remediations, audit], MAX_REMEDIATIONS) };
  return addHistory(next, {
    at: nowMs,
    action: 'remediation',
    actor,
    detail: `${audit.workflow}: ${audit.decision}, ${audit.reason}`,
  });
}

/**
 * Sends what the incident's outbox holds (pending notifications, started remediations without an
 * execution id) and records the outcome. Returns false when something is still pending.
 */
async function flush(deps: RouteDeps, run: Run, incident: Incident, nowMs: number): Promise<boolean> {
  let next = incident;
  let complete = true;
  for (let i = 0; i < next.notifications.length; i++) {
    const n = next.notifications[i];
    if (n === undefined || n.status !== 'pending') continue;
    try {
      const message = buildNotification(
        { ...next, severity: n.severity },
        n.event,
        nowMs,
        deps.messageOptions,
      );
      const messageId = await deps.notifier.publish(message);
      next = markSent(next, i, messageId, nowMs);
      run.sentBySeverity[n.severity] = (run.sentBySeverity[n.severity] ?? 0) + 1;
    } catch (e) {
      complete = false;
      run.failedSends++;
      deps.log.error('notification not published', {
        incidentId: next.id,
        event: n.event,
        error: (e as Error).message,
      });
    }
  }
  // The resolved message going out is the once-per-incident moment of its TTD/TTR sample.
  const timing = resolutionTiming(incident, next);
  if (timing !== undefined) run.resolutions.push(timing);
  const remediations = [...next.remediations];
  for (let i = 0; i < remediations.length; i++) {
    const r = remediations[i];
    if (r === undefined || r.decision !== 'started' || r.executionId !== undefined) continue;
    try {
      const { executionId } = await deps.remediation.start(r.workflow, `${next.id}-${r.workflow}`, {
        incidentId: next.id,
        fingerprint: next.fingerprint,
        kind: next.kind,
        labels: next.labels,
        approvalRequired: r.policy === 'approval',
        title: next.title,
      });
      remediations[i] = { ...r, executionId };
    } catch (e) {
      remediations[i] = {
        ...r,
        decision: 'failed',
        reason: `start failed: ${(e as Error).message}`.slice(0, 1024),
      };
      deps.log.error('remediation not started', {
        incidentId: next.id,
        workflow: r.workflow,
        error: (e as Error).message,
      });
    }
  }
  next = { ...next, remediations };
  if (JSON.stringify(next) === JSON.stringify(incident)) return complete;
  // Record the outcome; on a conflict re-apply the sent marks to the fresh copy once.
  let written = await deps.store.put(next);
  if (written === 'conflict') {
    const fresh = await deps.store.get(incident.fingerprint);
    if (fresh !== undefined && fresh.id === incident.id) {
      written = await deps.store.put(carryOutcome(fresh, next));
    }
  }
  if (written === 'conflict') {
    deps.log.warn('outbox outcome not recorded (conflict); may be sent again', { incidentId: incident.id });
    return complete;
  }
  run.remember(written);
  return complete;
}

function carryOutcome(fresh: Incident, done: Incident): Incident {
  const sent = new Map(
    done.notifications.filter((n) => n.status === 'sent').map((n) => [`${n.event}@${n.at}`, n]),
  );
  return {
    ...fresh,
    notifications: fresh.notifications.map((n) => sent.get(`${n.event}@${n.at}`) ?? n),
    remediations: fresh.remediations.map(
      (r) => done.remediations.find((d) => d.at === r.at && d.workflow === r.workflow) ?? r,
    ),
    history: done.history.length > fresh.history.length ? done.history : fresh.history,
  };
}

/** Folds an existing member incident into its group incident: suppressed (stage 'grouped'), never notified on its own. */
async function fold(
  deps: RouteDeps,
  run: Run,
  fingerprint: string,
  group: Incident,
  nowMs: number,
): Promise<void> {
  for (let attempt = 0; attempt < (deps.maxAttempts ?? DEFAULT_ATTEMPTS); attempt++) {
    const member = await deps.store.get(fingerprint);
    if (member === undefined || member.status === 'resolved' || member.groupedInto !== undefined) return;
    const reason = `grouped into ${group.group?.level ?? 'group'} incident ${group.id}`;
    const next = addHistory(
      {
        ...member,
        groupedInto: group.fingerprint,
        suppression: { stage: 'grouped', reason, sinceMs: nowMs },
        notifications: member.notifications.filter((n) => !(n.status === 'pending' && n.event === 'open')),
      },
      { at: nowMs, action: 'grouped', actor: ROUTER_ACTOR, detail: reason },
    );
    const written = await deps.store.put(next);
    if (written !== 'conflict') {
      run.remember(written);
      return;
    }
  }
  deps.log.warn('member not folded (conflicts)', { fingerprint, group: group.id });
}

const ROUTER_ACTOR = 'router';

function mergeGroup(incident: Incident, group: NonNullable<RoutedItem['group']>): Incident {
  const members = [...new Set([...(incident.group?.members ?? []), ...group.members])].sort();
  return { ...incident, group: { level: group.level, members: members.slice(0, 256) } };
}

function alertOf(i: Incident): Alert {
  return {
    fingerprint: i.fingerprint,
    kind: i.kind,
    severity: i.originalSeverity,
    cause: i.cause,
    labels: i.labels,
  };
}

/** 0 fleet/cluster-level, 1 node-level, 2 GPU/job-level. */
function specificity(x: { labels: Finding['labels'] }): number {
  const l = x.labels;
  if (l.gpu !== undefined || l.job !== undefined) return 2;
  if (l.node !== undefined || l.endpoint !== undefined) return 1;
  return 0;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
