import { MINUTE_MS } from '../../time';
import { allMatch, anyKindMatches } from '../alert';
import { NOT_MUTED, type Stage } from './stage';

/**
 * Post-change grace: kinds known to be noisy right after a change (deploy, driver upgrade) wait
 * `graceMinutes` after a change whose scope covers the alert.
 *
 *   change ──┬── grace ──┐
 *            muted        audible (if still there)
 */
export const postChangeStage: Stage = (alert, ctx) => {
  let best: { kind: string; atMs: number; untilMs: number } | undefined;
  for (const rule of ctx.calendar.postChangeRules) {
    if (!anyKindMatches(rule.kinds, alert.kind)) continue;
    for (const change of ctx.calendar.changes) {
      if (rule.changeKinds !== undefined && !rule.changeKinds.includes(change.kind)) continue;
      if (!allMatch(change.scope, alert)) continue;
      const atMs = Date.parse(change.at);
      const untilMs = atMs + rule.graceMinutes * MINUTE_MS;
      if (ctx.nowMs < atMs || ctx.nowMs >= untilMs) continue;
      if (best === undefined || untilMs > best.untilMs) best = { kind: change.kind, atMs, untilMs };
    }
  }
  if (best === undefined) return NOT_MUTED;
  return {
    muted: true,
    stage: 'post-change',
    reason: `grace after ${best.kind} at ${new Date(best.atMs).toISOString()} until ${new Date(best.untilMs).toISOString()}`,
    untilMs: best.untilMs,
  };
};
