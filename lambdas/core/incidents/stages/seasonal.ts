import { SEVERITIES, type Severity } from '../../../contracts/finding';
import { MINUTE_MS } from '../../time';
import { allMatch, anyKindMatches } from '../alert';
import { occurrenceOrDrain } from '../windows';
import { NOT_MUTED, type Stage } from './stage';

/**
 * Seasonal windows: expected load (weekday retrains) RELAXES the kinds a window names instead of
 * muting: severity capped (page → ticket) and/or more runs needed before an incident opens, during
 * the window and for `drainMinutes` after it (the backlog of the peak). Of several active windows
 * the strongest relaxation of each kind wins (lowest cap, largest factor).
 */
export const seasonalStage: Stage = (alert, ctx) => {
  let severity: Severity | undefined;
  let factor: number | undefined;
  const names: string[] = [];
  ctx.calendar.seasonal.forEach((w, i) => {
    if (!anyKindMatches(w.relax.kinds, alert.kind) || !allMatch(w.scope, alert)) return;
    if (occurrenceOrDrain(w, ctx.nowMs, (w.relax.drainMinutes ?? 0) * MINUTE_MS) === undefined) return;
    names.push(w.name ?? `seasonal[${i}]`);
    const cap = w.relax.severityCap;
    if (cap !== undefined && rank(cap) > rank(severity ?? alert.severity)) severity = cap;
    if (w.relax.minRunsFactor !== undefined) factor = Math.max(factor ?? 1, w.relax.minRunsFactor);
  });
  if (names.length === 0) return NOT_MUTED;
  const parts = [
    severity !== undefined ? `severity ${alert.severity} → ${severity}` : undefined,
    factor !== undefined ? `needs ${factor}× the runs` : undefined,
  ].filter((p) => p !== undefined);
  if (parts.length === 0) return NOT_MUTED; // the cap is not below the alert's own severity
  return {
    muted: false,
    relax: {
      ...(severity !== undefined ? { severity } : {}),
      ...(factor !== undefined ? { minRunsFactor: factor } : {}),
      reason: `seasonal window ${names.map((n) => `"${n}"`).join(', ')}: ${parts.join(', ')}`,
    },
  };
};

/** page 0, ticket 1, info 2: a cap only ever lowers. */
function rank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}
