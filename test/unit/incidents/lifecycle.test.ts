import { describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../../lambdas/core/incidents/fingerprint';
import {
  acknowledge,
  applyVerdict,
  type KindPolicy,
  observe,
  open,
  pendingExpired,
  policyFor,
  quietLongEnough,
  readyToOpen,
} from '../../../lambdas/core/incidents/lifecycle';
import { renotifyDue } from '../../../lambdas/core/incidents/renotify';
import { finding, incidentsConfig, MIN, T0 } from './fixtures';

const f = finding({ kind: 'stat.level_shift_down', labels: { cluster: 'train-a', node: 'i-1' } });
const fp = fingerprintOf(f.kind, f.labels);
const policy = (over: Partial<KindPolicy> = {}): KindPolicy => ({
  openAfter: 2,
  ofRuns: 3,
  resolve: 'clean-runs',
  cleanRuns: 3,
  cadenceMs: 5 * MIN,
  ...over,
});

/** Observes firing findings at the given run minutes; returns the incident. */
function observeAt(minutes: number[], p = policy()) {
  let inc = observe(
    undefined,
    {
      key: `k${minutes[0]}`,
      fingerprint: fp,
      finding: { ...f, detectedAt: T0 + (minutes[0] ?? 0) * MIN },
      resolved: false,
      nowMs: T0,
    },
    p,
  ).incident;
  for (const m of minutes.slice(1)) {
    inc =
      observe(
        inc,
        {
          key: `k${m}`,
          fingerprint: fp,
          finding: { ...f, detectedAt: T0 + m * MIN },
          resolved: false,
          nowMs: T0 + m * MIN,
        },
        p,
      ).incident ?? inc;
  }
  if (inc === undefined) throw new Error('no incident');
  return inc;
}

describe('flapping control: open after M of N runs', () => {
  const cases: {
    name: string;
    minutes: number[];
    p?: Partial<KindPolicy>;
    factor?: number;
    ready: boolean;
  }[] = [
    { name: '1 of 3 (need 2)', minutes: [0], ready: false },
    { name: '2 consecutive runs', minutes: [0, 5], ready: true },
    { name: '2 within 3 runs (one skipped)', minutes: [0, 10], ready: true },
    { name: '2 but further apart than 3 runs', minutes: [0, 15], ready: false },
    { name: 'M=1 opens at once', minutes: [0], p: { openAfter: 1, ofRuns: 1 }, ready: true },
    { name: 'seasonal factor 2: 2 runs are not enough', minutes: [0, 5], factor: 2, ready: false },
    { name: 'seasonal factor 2: 4 runs within 4', minutes: [0, 5, 10, 15], factor: 2, ready: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = policy(c.p);
      expect(readyToOpen(observeAt(c.minutes, p), p, c.factor)).toBe(c.ready);
    });
  }

  it('a redelivered finding is a duplicate and changes nothing', () => {
    const inc = observeAt([0]);
    const again = observe(
      inc,
      { key: 'k0', fingerprint: fp, finding: f, resolved: false, nowMs: T0 + MIN },
      policy(),
    );
    expect(again).toEqual({ event: 'duplicate', incident: undefined });
  });

  it('pending that never reaches M expires after N runs', () => {
    const inc = observeAt([0]);
    expect(pendingExpired(inc, policy(), T0 + 14 * MIN)).toBe(false);
    expect(pendingExpired(inc, policy(), T0 + 15 * MIN)).toBe(true);
  });
});

describe('resolution', () => {
  it('level-triggered: K clean runs after the last observation', () => {
    const inc = open(observeAt([0, 5]), T0 + 5 * MIN, 0);
    expect(quietLongEnough(inc, policy(), T0 + 19 * MIN)).toBe(false);
    expect(quietLongEnough(inc, policy(), T0 + 20 * MIN)).toBe(true);
  });
  it('edge-triggered (hardware) never resolves by quiet', () => {
    const cfg = incidentsConfig({});
    const p = policyFor('gpu.xid.fatal', cfg);
    expect(p.resolve).toBe('explicit');
    const inc = { ...open(observeAt([0], { ...p }), T0, 0), resolveMode: 'explicit' as const };
    expect(quietLongEnough(inc, p, T0 + 365 * 24 * 60 * MIN)).toBe(false);
  });
  it('policyFor: first matching kind rule, else the defaults', () => {
    const cfg = incidentsConfig({ openAfter: 3, ofRuns: 5, kinds: [{ match: ['stat.*'], openAfter: 1 }] });
    expect(policyFor('stat.spike', cfg)).toMatchObject({ openAfter: 1, ofRuns: 5, resolve: 'clean-runs' });
    expect(policyFor('job.hung', cfg)).toMatchObject({ openAfter: 3, ofRuns: 5 });
  });
});

describe('acknowledge and re-notify', () => {
  it('ack stops re-notification; history records who', () => {
    let inc = applyVerdict(open(observeAt([0, 5]), T0, 0), { muted: false, severity: 'page' }, T0);
    inc = {
      ...inc,
      severity: 'page',
      notifications: inc.notifications.map((n) => ({ ...n, status: 'sent' as const })),
    };
    expect(renotifyDue(inc, T0 + 60 * MIN, 60)).toBe(true);
    const acked = acknowledge(inc, T0 + 61 * MIN, 'ana', 'looking');
    expect(acked.status).toBe('acknowledged');
    expect(acked.history.at(-1)).toEqual({
      at: T0 + 61 * MIN,
      action: 'acknowledged',
      actor: 'ana',
      detail: 'looking',
    });
    expect(renotifyDue(acked, T0 + 120 * MIN, 60)).toBe(false);
  });
  it('tickets are not re-notified; interval 0 disables', () => {
    let inc = applyVerdict(open(observeAt([0, 5]), T0, 0), { muted: false, severity: 'page' }, T0);
    inc = { ...inc, notifications: inc.notifications.map((n) => ({ ...n, status: 'sent' as const })) };
    expect(renotifyDue({ ...inc, severity: 'ticket' }, T0 + 600 * MIN, 60)).toBe(false);
    expect(renotifyDue(inc, T0 + 600 * MIN, 0)).toBe(false);
  });
});
