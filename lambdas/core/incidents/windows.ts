import { type Occurrence, occurrencesOf, type WindowSpec } from '../../contracts/calendar';
import { DAY_MS } from '../time';

/**
 * Time-window questions the stages ask, over the calendar's expansion (contracts/calendar.ts,
 * where the DST rules are decided). Half-open: a window [start, end) is active at start, not at end.
 *
 *   ──────[start ········ end)──────
 *          ^ active        ^ not active
 */

/** The occurrence of `w` containing `tMs` (the one ending last if occurrences overlap). */
export function activeOccurrence(w: WindowSpec, tMs: number): Occurrence | undefined {
  // A batch asks the same (window, now) once per alert: remember the last answer per window.
  const hit = lastAnswer.get(w);
  if (hit !== undefined && hit.tMs === tMs) return hit.occ;
  const occ = computeActive(w, tMs);
  lastAnswer.set(w, { tMs, occ });
  return occ;
}

const lastAnswer = new WeakMap<WindowSpec, { tMs: number; occ: Occurrence | undefined }>();

function computeActive(w: WindowSpec, tMs: number): Occurrence | undefined {
  let best: Occurrence | undefined;
  for (const o of occurrencesOf(w, tMs, tMs + 1)) {
    if (o.startMs <= tMs && tMs < o.endMs && (best === undefined || o.endMs > best.endMs)) best = o;
  }
  return best;
}

/**
 * The occurrence of `w` whose span extended by `afterMs` past its end contains `tMs` (a seasonal
 * window's drain: [start, end + afterMs)); activeOccurrence when afterMs is 0.
 */
export function occurrenceOrDrain(w: WindowSpec, tMs: number, afterMs: number): Occurrence | undefined {
  if (afterMs <= 0) return activeOccurrence(w, tMs);
  let best: Occurrence | undefined;
  for (const o of occurrencesOf(w, tMs - afterMs, tMs + 1)) {
    if (o.startMs <= tMs && tMs < o.endMs + afterMs && (best === undefined || o.endMs > best.endMs)) best = o;
  }
  return best;
}

export function isActive(w: WindowSpec, tMs: number): boolean {
  return activeOccurrence(w, tMs) !== undefined;
}

/** The first occurrence starting after `tMs`, looking at most `horizonMs` ahead. */
export function nextOccurrence(w: WindowSpec, tMs: number, horizonMs = 400 * DAY_MS): Occurrence | undefined {
  return occurrencesOf(w, tMs, tMs + horizonMs).find((o) => o.startMs > tMs);
}
