import type { Incident, RemediationPolicy } from '../../contracts/incident';
import type { RemediationConfig, Workflow } from '../../contracts/incidents-config';
import { anyKindMatches } from './alert';
import { isActive } from './windows';

/**
 * Which incidents start which remediation workflow, under which policy, within the safety rails:
 *   stalled/hung job            → stop-job
 *   fatal Xid 79/48/95, DBE ECC → quarantine-node
 *   sustained drift             → retrain
 * 'notify' starts nothing; 'approval' starts the workflow, which waits for a person (task token);
 * 'automatic' starts it without the wait. Rails: no start during a change freeze, at most N
 * node quarantines per rolling hour. Every decision (including "no") is audited on the incident.
 */
export interface RemediationContext {
  readonly nowMs: number;
  /** Evidence values of the finding that opened the incident (e.g. { xid: 79 }). */
  readonly values: Readonly<Record<string, number>>;
  /** quarantine-node executions started in the last hour, fleet-wide. */
  readonly quarantinesLastHour: number;
}

export type RemediationDecision =
  | {
      readonly action: 'start';
      readonly workflow: Workflow;
      readonly policy: Exclude<RemediationPolicy, 'notify'>;
      readonly reason: string;
      /** Step Functions execution name: one execution per incident and workflow (idempotent). */
      readonly executionName: string;
    }
  | {
      readonly action: 'skip';
      readonly workflow: Workflow;
      readonly policy: RemediationPolicy;
      readonly reason: string;
    };

export function decideRemediation(
  incident: Incident,
  cfg: RemediationConfig,
  ctx: RemediationContext,
): RemediationDecision | undefined {
  const rule = cfg.rules.find(
    (r) =>
      anyKindMatches(r.kinds, incident.kind) &&
      (r.xids === undefined || (ctx.values['xid'] !== undefined && r.xids.includes(ctx.values['xid']))),
  );
  if (rule === undefined) return undefined;
  const base = { workflow: rule.workflow, policy: rule.policy };
  if (rule.policy === 'notify') {
    return { action: 'skip', ...base, reason: `policy for ${incident.kind} is notify only` };
  }
  const freeze = cfg.changeFreeze.find((w) => isActive(w, ctx.nowMs));
  if (freeze !== undefined) {
    return { action: 'skip', ...base, reason: `change freeze "${freeze.name ?? 'unnamed'}" is active` };
  }
  if (rule.workflow === 'quarantine-node') {
    if (incident.labels.node === undefined) {
      return { action: 'skip', ...base, reason: 'no node label: nothing to quarantine' };
    }
    if (ctx.quarantinesLastHour >= cfg.maxNodesQuarantinedPerHour) {
      return {
        action: 'skip',
        ...base,
        reason: `rail: ${ctx.quarantinesLastHour} node(s) quarantined in the last hour (max ${cfg.maxNodesQuarantinedPerHour})`,
      };
    }
  }
  if (rule.workflow === 'stop-job' && incident.labels.job === undefined) {
    return { action: 'skip', ...base, reason: 'no job label: nothing to stop' };
  }
  return {
    action: 'start',
    workflow: rule.workflow,
    policy: rule.policy,
    reason: rule.policy === 'approval' ? 'started; waits for approval' : 'started automatically by policy',
    executionName: `${incident.id}-${rule.workflow}`,
  };
}

/** quarantine-node starts recorded on incidents within the last hour. */
export function countRecentQuarantines(incidents: readonly Incident[], nowMs: number): number {
  const since = nowMs - 3_600_000;
  return incidents
    .flatMap((i) => i.remediations)
    .filter((r) => r.workflow === 'quarantine-node' && r.decision === 'started' && r.at >= since).length;
}
