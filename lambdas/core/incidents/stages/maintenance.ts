import { allMatch, describeMatchers } from '../alert';
import { activeOccurrence } from '../windows';
import { NOT_MUTED, type Stage } from './stage';

/** Maintenance windows (one-off and recurring, scoped by labels) mute what they cover. */
export const maintenanceStage: Stage = (alert, ctx) => {
  let best: { name: string; endMs: number; scope: string } | undefined;
  ctx.calendar.maintenance.forEach((w, i) => {
    if (!allMatch(w.scope, alert)) return;
    const occ = activeOccurrence(w, ctx.nowMs);
    if (occ === undefined || (best !== undefined && best.endMs >= occ.endMs)) return;
    best = { name: w.name ?? `maintenance[${i}]`, endMs: occ.endMs, scope: describeMatchers(w.scope) };
  });
  if (best === undefined) return NOT_MUTED;
  const b: { name: string; endMs: number; scope: string } = best;
  return {
    muted: true,
    stage: 'maintenance',
    reason: `maintenance window "${b.name}" (scope: ${b.scope}) until ${new Date(b.endMs).toISOString()}`,
    untilMs: b.endMs,
  };
};
