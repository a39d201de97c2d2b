import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../lambdas/contracts/finding';
import { notificationSchema } from '../../../lambdas/contracts/notification';
import { fingerprintOf } from '../../../lambdas/core/incidents/fingerprint';
import {
  applyVerdict,
  type KindPolicy,
  markSent,
  observe,
  open,
} from '../../../lambdas/core/incidents/lifecycle';
import { buildNotification, escalatedFrom, subjectOf } from '../../../lambdas/core/incidents/message';
import { renotifyDue } from '../../../lambdas/core/incidents/renotify';
import { finding, MIN, T0 } from './fixtures';

/** Issue 4 (driver_regression): a ticket that later findings make a page notifies at once. */
const policy: KindPolicy = {
  openAfter: 1,
  ofRuns: 1,
  resolve: 'clean-runs',
  cleanRuns: 3,
  cadenceMs: 5 * MIN,
};
const base = finding({
  kind: 'software.cohort_failure_spike',
  severity: 'ticket',
  cause: 'software',
  title: 'Jobs on driver 550 failing',
  labels: { cluster: 'train-a' },
});
const fp = fingerprintOf(base.kind, base.labels);
const audible = { muted: false as const, severity: 'ticket' as const };

function see(inc: Parameters<typeof observe>[0], f: Finding, atMin: number) {
  const r = observe(
    inc,
    {
      key: `k${atMin}`,
      fingerprint: fp,
      finding: { ...f, detectedAt: T0 + atMin * MIN },
      resolved: false,
      nowMs: T0 + atMin * MIN,
    },
    policy,
  );
  if (r.incident === undefined) throw new Error(`no incident at ${atMin}`);
  return r.incident;
}

/** Opened and notified ('open' sent) as a ticket at minute 0. */
function openedTicket() {
  let inc = open(see(undefined, base, 0), T0, 0);
  inc = applyVerdict(inc, audible, T0);
  return markSent(inc, 0, 'm-open', T0);
}

describe('severity escalation', () => {
  it('queues an escalated notification at the new severity when a later finding raises it, and records it', () => {
    const raised = see(openedTicket(), { ...base, severity: 'page' }, 5);
    const next = applyVerdict(raised, { muted: false, severity: 'page' }, T0 + 5 * MIN);
    const last = next.notifications.at(-1);
    expect(last).toMatchObject({ event: 'escalated', severity: 'page', status: 'pending', at: T0 + 5 * MIN });
    expect(next.history.at(-1)).toMatchObject({ action: 'escalated', detail: 'ticket to page' });
  });

  it('escalates once: the next run at the same severity queues nothing more', () => {
    const raised = see(openedTicket(), { ...base, severity: 'page' }, 5);
    const once = applyVerdict(raised, { muted: false, severity: 'page' }, T0 + 5 * MIN);
    const again = applyVerdict(
      see(once, { ...base, severity: 'page' }, 10),
      { muted: false, severity: 'page' },
      T0 + 10 * MIN,
    );
    expect(again.notifications.filter((n) => n.event === 'escalated')).toHaveLength(1);
  });

  it('does not notify when severity stays or drops', () => {
    const same = applyVerdict(see(openedTicket(), base, 5), audible, T0 + 5 * MIN);
    expect(same.notifications.map((n) => n.event)).toEqual(['open']);
    const milder = applyVerdict(see(openedTicket(), { ...base, severity: 'info' }, 5), audible, T0 + 5 * MIN);
    expect(milder.notifications.map((n) => n.event)).toEqual(['open']);
  });

  it('does not escalate an incident never notified, nor a suppressed one', () => {
    const pending = see(undefined, base, 0);
    const raised = see(pending, { ...base, severity: 'page' }, 5);
    expect(raised.notifications).toEqual([]);
    const muted = applyVerdict(
      see(openedTicket(), { ...base, severity: 'page' }, 5),
      { muted: true, stage: 'silence', reason: 'silenced by ops' },
      T0 + 5 * MIN,
    );
    expect(muted.notifications.map((n) => n.event)).toEqual(['open']);
  });

  it('the message says it escalated and from what, on the page topic; re-notification counts from it', () => {
    const raised = see(openedTicket(), { ...base, severity: 'page' }, 5);
    const next = applyVerdict(raised, { muted: false, severity: 'page' }, T0 + 5 * MIN);
    expect(escalatedFrom(next)).toBe('ticket');
    expect(subjectOf(next, 'escalated')).toBe(
      '[PAGE] escalated from ticket: Jobs on driver 550 failing (train-a)',
    );
    const msg = buildNotification(next, 'escalated', T0 + 5 * MIN);
    expect(notificationSchema.parse(msg).attributes).toMatchObject({ event: 'escalated', severity: 'page' });
    expect(msg.body.split('\n')[0]).toBe('ESCALATED from ticket to page: Jobs on driver 550 failing');
    const sent = markSent(next, next.notifications.length - 1, 'm-esc', T0 + 5 * MIN);
    expect(renotifyDue(sent, T0 + 64 * MIN, 60)).toBe(false);
    expect(renotifyDue(sent, T0 + 65 * MIN, 60)).toBe(true);
  });
});
