import type { Cause, Severity } from '../../contracts/finding';
import type { Incident } from '../../contracts/incident';
import type { OpsMetricKey } from '../../contracts/metrics';
import { SECOND_MS } from '../time';

/**
 * Mean time to detect and to resolve (docs/metrics.md, "Supporting KPIs"), one sample per
 * incident, taken when the incident's "resolved" notification goes out.
 *
 *   onset ───── TTD ─────► first 'open' sent ─────────► resolvedAtMs
 *     └───────────────────── TTR ─────────────────────────┘
 *
 * Onset is `incident.firstSeenMs`: the `detectedAt` of the episode's first firing finding. That is
 * the earliest evidence time the incident keeps. A finding's `evidence.window.startMs` would reach
 * further back (into the detector's own lag), but the incident does not store it, so TTD here is
 * "first detection to first alert": M-of-N confirmation, group wait, suppression and SNS retries.
 * Onset is clamped to the first notification, so a detector clock ahead of the router's clock
 * cannot make TTD negative.
 *
 * Which incidents count: only those an alert reached. That means a sent 'open' notification (or,
 * if the bounded lists dropped it, some other sent open/renotify/escalated one). Excluded:
 *   - never notified: suppressed or muted for their whole life, dropped while pending, or
 *     resolved inside the group wait;
 *   - grouped members (`groupedInto`): the group incident speaks for them and is counted itself.
 *
 * Once per incident: the sample is taken at the transition where the 'resolved' notification
 * becomes sent (`before` has none sent, `after` has one). This covers every path: a resolved
 * finding, the sweep, and a person (the CLI writes the resolution and the next sweep sends the
 * notification). Looking at an incident that is already resolved and notified again yields
 * nothing. The one double count is at-least-once delivery itself: if SNS took the message but
 * the "sent" mark was never stored, the message and the sample are both repeated.
 */
export interface ResolutionTiming {
  readonly incidentId: string;
  /** The highest severity its findings reached (`originalSeverity`, before any seasonal cap). */
  readonly severity: Severity;
  readonly cause: Cause;
  readonly onsetMs: number;
  /** When the first 'open' notification was sent; undefined if the bounded lists dropped it. */
  readonly notifiedAtMs: number | undefined;
  readonly resolvedAtMs: number;
  /** Undefined when the first notification's time is no longer known (see notifiedAtMs). */
  readonly timeToDetectSeconds: number | undefined;
  readonly timeToResolveSeconds: number;
}

export function resolutionTiming(before: Incident, after: Incident): ResolutionTiming | undefined {
  if (after.status !== 'resolved' || after.resolvedAtMs === undefined) return undefined;
  if (after.groupedInto !== undefined) return undefined;
  if (before.id !== after.id || resolvedSent(before) || !resolvedSent(after)) return undefined;
  const notifiedAtMs = firstOpenSentAt(after);
  if (notifiedAtMs === undefined && !anyAudibleSent(after)) return undefined;
  const onsetMs = Math.min(after.firstSeenMs, notifiedAtMs ?? after.firstSeenMs, after.resolvedAtMs);
  return {
    incidentId: after.id,
    severity: after.originalSeverity,
    cause: after.cause,
    onsetMs,
    notifiedAtMs,
    resolvedAtMs: after.resolvedAtMs,
    timeToDetectSeconds: notifiedAtMs === undefined ? undefined : (notifiedAtMs - onsetMs) / SECOND_MS,
    timeToResolveSeconds: (after.resolvedAtMs - onsetMs) / SECOND_MS,
  };
}

/** One EMF data point: an ops metric key, its value in the catalogue unit, its dimensions. */
export interface TimingDatapoint {
  readonly metric: Extract<OpsMetricKey, 'incidentTimeToDetect' | 'incidentTimeToResolve'>;
  readonly value: number;
  readonly dimensions: { readonly Severity: Severity; readonly Cause: Cause };
}

/** The data points the handlers emit for some timings (TTD only where it is known). */
export function timingDatapoints(timings: readonly ResolutionTiming[]): TimingDatapoint[] {
  return timings.flatMap((t) => {
    const dimensions = { Severity: t.severity, Cause: t.cause };
    const resolve: TimingDatapoint = {
      metric: 'incidentTimeToResolve',
      value: t.timeToResolveSeconds,
      dimensions,
    };
    return t.timeToDetectSeconds === undefined
      ? [resolve]
      : [{ metric: 'incidentTimeToDetect', value: t.timeToDetectSeconds, dimensions }, resolve];
  });
}

function resolvedSent(i: Incident): boolean {
  return i.notifications.some((n) => n.event === 'resolved' && n.status === 'sent');
}

function anyAudibleSent(i: Incident): boolean {
  return i.notifications.some((n) => n.event !== 'resolved' && n.status === 'sent');
}

/**
 * When the first 'open' notification was sent. markSent (lifecycle.ts) records the send as a
 * 'notified' history entry, `open to <severity> (<message id>)`, at the send time. The record's own
 * `at` is when it was queued, which is earlier if SNS failed and a later run re-sent it. The
 * history entry is used first and the record is the fallback. Both lists are bounded (keepLast),
 * so either can have dropped it on a very long incident.
 */
function firstOpenSentAt(i: Incident): number | undefined {
  const fromHistory = i.history.find((h) => h.action === 'notified' && h.detail?.startsWith('open to '));
  if (fromHistory !== undefined) return fromHistory.at;
  return i.notifications.find((n) => n.event === 'open' && n.status === 'sent')?.at;
}
