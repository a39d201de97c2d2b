import type { ApplyOutcome } from '../ports';

/**
 * LastModifiedTime is the version of a job's state. EventBridge may deliver a state change more
 * than once and out of order; the newest LastModifiedTime wins:
 *
 *   stored ──────────────●  (lm = S)
 *   incoming  ●  lm < S  → 'stale'      (older, out of order: ignored)
 *   incoming        ●  lm = S → 'duplicate' (already applied: ignored)
 *   incoming              ●  lm > S → 'applied'
 */
export function newestWins(
  storedLastModified: number | undefined,
  incomingLastModified: number,
): ApplyOutcome {
  if (storedLastModified === undefined || incomingLastModified > storedLastModified) return 'applied';
  return incomingLastModified === storedLastModified ? 'duplicate' : 'stale';
}
