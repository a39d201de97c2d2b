import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../lambdas/contracts/finding';
import type { Incident } from '../../../lambdas/contracts/incident';
import { fingerprintOf } from '../../../lambdas/core/incidents/fingerprint';
import {
  addHistory,
  applyVerdict,
  markSent,
  observe,
  open,
  policyFor,
  queueNotification,
  resolve,
} from '../../../lambdas/core/incidents/lifecycle';
import type { Verdict } from '../../../lambdas/core/incidents/pipeline';
import { resolutionTiming, timingDatapoints } from '../../../lambdas/core/incidents/resolution-timing';
import { finding, incidentsConfig, MIN, T0 } from './fixtures';

const SEC = 1_000;
const policy = policyFor('gpu.xid.fatal', incidentsConfig({ openAfter: 1, ofRuns: 1, groupWaitSeconds: 0 }));
const audible: Verdict = { muted: false, severity: 'page' };
const muted: Verdict = { muted: true, stage: 'maintenance', reason: 'window "patching"' };

/** An incident opened at `atMs` from one finding detected at `detectedAt`, not yet notified. */
function opened(detectedAt: number, atMs: number, over: Partial<Finding> = {}): Incident {
  const f = finding({ detectedAt, ...over });
  const fingerprint = fingerprintOf(f.kind, f.labels);
  const observed = observe(
    undefined,
    { key: `${fingerprint}:${detectedAt}:f`, fingerprint, finding: f, resolved: false, nowMs: atMs },
    policy,
  ).incident;
  if (observed === undefined) throw new Error('observe wrote nothing');
  return open(observed, atMs, 0);
}

/** Marks every pending notification sent at `atMs` (what the router's flush does). */
function sendAll(i: Incident, atMs: number): Incident {
  let next = i;
  next.notifications.forEach((n, idx) => {
    if (n.status === 'pending') next = markSent(next, idx, `msg-${idx}`, atMs);
  });
  return next;
}

/** Notified at `notifyAt`, resolved at `resolveAt`; returns the incident before and after the resolved message is sent. */
function notifiedThenResolved(detectedAt: number, notifyAt: number, resolveAt: number) {
  const notified = sendAll(applyVerdict(opened(detectedAt, notifyAt), audible, notifyAt), notifyAt);
  const before = resolve(notified, resolveAt, 'sweep', 'no finding for 3 runs');
  return { before, after: sendAll(before, resolveAt) };
}

describe('resolutionTiming: onset, detect and resolve times', () => {
  it('measures from the first finding to the first open sent and to resolution (hand-computed)', () => {
    // Detected at T0-2m, opened at T0; SNS failed, so the open went out on the retry at T0+1m.
    const queued = applyVerdict(opened(T0 - 2 * MIN, T0), audible, T0);
    const notified = sendAll(queued, T0 + MIN);
    const before = resolve(notified, T0 + 30 * MIN, 'sweep', 'quiet');
    const t = resolutionTiming(before, sendAll(before, T0 + 30 * MIN));
    expect(t).toEqual({
      incidentId: before.id,
      severity: 'page',
      cause: 'hardware',
      onsetMs: T0 - 2 * MIN,
      notifiedAtMs: T0 + MIN, // the send time, not the queue time T0
      resolvedAtMs: T0 + 30 * MIN,
      timeToDetectSeconds: 180,
      timeToResolveSeconds: 32 * 60,
    });
  });

  it('clamps onset to the first notification when the detector clock ran ahead', () => {
    const { before, after } = notifiedThenResolved(T0 + 5 * SEC, T0, T0 + 10 * MIN);
    expect(resolutionTiming(before, after)).toMatchObject({
      onsetMs: T0,
      timeToDetectSeconds: 0,
      timeToResolveSeconds: 600,
    });
  });

  it('falls back to the open record when the history no longer holds the send', () => {
    const { before, after } = notifiedThenResolved(T0 - MIN, T0, T0 + 5 * MIN);
    const trimmed = (i: Incident): Incident => ({
      ...i,
      history: i.history.filter((h) => !(h.action === 'notified' && h.detail?.startsWith('open'))),
    });
    expect(resolutionTiming(trimmed(before), trimmed(after))).toMatchObject({
      notifiedAtMs: T0,
      timeToDetectSeconds: 60,
      timeToResolveSeconds: 360,
    });
  });

  it('reports the highest severity of the findings, not a seasonal cap, and the cause', () => {
    const relaxed: Verdict = {
      muted: false,
      severity: 'ticket',
      relax: { severity: 'ticket', reason: 'weekday retrains' },
    };
    const notified = sendAll(applyVerdict(opened(T0, T0), relaxed, T0), T0);
    expect(notified.severity).toBe('ticket');
    const before = resolve(notified, T0 + MIN, 'ana', 'fixed');
    expect(resolutionTiming(before, sendAll(before, T0 + MIN))).toMatchObject({
      severity: 'page',
      cause: 'hardware',
    });
  });

  it('without any record of the open send, TTR is still measured but TTD is unknown', () => {
    const { before, after } = notifiedThenResolved(T0 - MIN, T0, T0 + 5 * MIN);
    // 50 hourly re-notifications later the bounded lists kept neither the open record nor its history.
    const lost = (i: Incident): Incident => ({
      ...i,
      history: i.history.filter((h) => h.action !== 'notified'),
      notifications: i.notifications.map((n) => (n.event === 'open' ? { ...n, event: 'renotify' } : n)),
    });
    const t = resolutionTiming(lost(before), lost(after));
    expect(t).toMatchObject({ notifiedAtMs: undefined, timeToDetectSeconds: undefined });
    expect(t?.timeToResolveSeconds).toBe(360);
  });
});

describe('resolutionTiming: which incidents count, and only once', () => {
  it('never notified (muted all its life): nothing, and no resolved message either', () => {
    const mutedOpen = applyVerdict(opened(T0, T0), muted, T0);
    const before = resolve(mutedOpen, T0 + 20 * MIN, 'sweep', 'quiet');
    const after = sendAll(before, T0 + 20 * MIN);
    expect(after.notifications).toEqual([]);
    expect(resolutionTiming(before, after)).toBeUndefined();
  });

  it('an open that never went out does not count, even though the resolved message did', () => {
    // SNS failed for the open (still pending) when the incident resolved; resolve() still owes a resolved message.
    const pendingOpen = applyVerdict(opened(T0, T0), audible, T0);
    const before = resolve(pendingOpen, T0 + 2 * MIN, 'sweep', 'quiet');
    const after = sendAll(before, T0 + 2 * MIN);
    expect(after.notifications.map((n) => `${n.event}:${n.status}`)).toEqual(['resolved:sent']);
    expect(resolutionTiming(before, after)).toBeUndefined();
  });

  it('a grouped member does not count even if it had paged before it was folded', () => {
    const notified = sendAll(applyVerdict(opened(T0, T0), audible, T0), T0);
    const member = addHistory(
      {
        ...notified,
        groupedInto: '0123456789abcdef',
        suppression: { stage: 'grouped', reason: 'grouped into node incident', sinceMs: T0 + MIN },
      },
      { at: T0 + MIN, action: 'grouped', actor: 'router' },
    );
    const before = resolve(member, T0 + 10 * MIN, 'sweep', 'group incident resolved');
    const after = sendAll(before, T0 + 10 * MIN);
    expect(after.notifications.some((n) => n.event === 'resolved' && n.status === 'sent')).toBe(true);
    expect(resolutionTiming(before, after)).toBeUndefined();
  });

  it('counts when the resolved message goes out, not before, and never again', () => {
    const { before, after } = notifiedThenResolved(T0, T0, T0 + 5 * MIN);
    // Resolved, message still owed (SNS down): nothing yet.
    expect(resolutionTiming(before, before)).toBeUndefined();
    expect(resolutionTiming(before, after)).toBeDefined();
    // A later flush/sweep looking at the resolved, notified incident: nothing more.
    expect(resolutionTiming(after, after)).toBeUndefined();
    // A resolved message that is re-queued and sent (e.g. re-resolve) is not a second sample.
    const again = sendAll(queueNotification(after, 'resolved', T0 + 6 * MIN), T0 + 6 * MIN);
    expect(resolutionTiming(after, again)).toBeUndefined();
  });

  it('a new episode of the same fingerprint is not confused with the previous one', () => {
    const { after: first } = notifiedThenResolved(T0, T0, T0 + 5 * MIN);
    const second = { ...first, id: first.id.replace(/-1$/, '-2') };
    expect(resolutionTiming(first, second)).toBeUndefined();
  });
});

describe('timingDatapoints', () => {
  it('one TTD and one TTR data point per timing, with Severity and Cause; TTR only when TTD is unknown', () => {
    const base = {
      incidentId: 'x-1',
      onsetMs: T0,
      resolvedAtMs: T0 + MIN,
      timeToResolveSeconds: 60,
    };
    expect(
      timingDatapoints([
        { ...base, severity: 'page', cause: 'hardware', notifiedAtMs: T0 + SEC, timeToDetectSeconds: 1 },
        {
          ...base,
          severity: 'ticket',
          cause: 'data-io',
          notifiedAtMs: undefined,
          timeToDetectSeconds: undefined,
        },
      ]),
    ).toEqual([
      { metric: 'incidentTimeToDetect', value: 1, dimensions: { Severity: 'page', Cause: 'hardware' } },
      { metric: 'incidentTimeToResolve', value: 60, dimensions: { Severity: 'page', Cause: 'hardware' } },
      { metric: 'incidentTimeToResolve', value: 60, dimensions: { Severity: 'ticket', Cause: 'data-io' } },
    ]);
  });
});
