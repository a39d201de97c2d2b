import { allMatch, describeMatchers } from '../alert';
import { NOT_MUTED, type Stage } from './stage';

/**
 * Silences: ad hoc, by label matchers, between start and end. Expired or future silences do
 * nothing (they expire by themselves: no cleanup needed for correctness). Of several matching
 * silences the one ending last is reported, so `untilMs` is when the alert really becomes audible.
 */
export const silenceStage: Stage = (alert, ctx) => {
  let best: { id: string; author: string; reason: string; endMs: number; matchers: string } | undefined;
  for (const s of ctx.calendar.silences) {
    const startMs = Date.parse(s.start);
    const endMs = Date.parse(s.end);
    if (ctx.nowMs < startMs || ctx.nowMs >= endMs || !allMatch(s.matchers, alert)) continue;
    if (best === undefined || endMs > best.endMs) {
      best = { id: s.id, author: s.author, reason: s.reason, endMs, matchers: describeMatchers(s.matchers) };
    }
  }
  if (best === undefined) return NOT_MUTED;
  return {
    muted: true,
    stage: 'silence',
    reason: `silence ${best.id} by ${best.author} (${best.matchers}): ${best.reason}`,
    untilMs: best.endMs,
  };
};
