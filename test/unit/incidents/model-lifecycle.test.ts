import { describe, expect, it } from 'vitest';
import { driftSchema } from '../../../lambdas/contracts/drift-config';
import { fingerprintOf } from '../../../lambdas/core/incidents/fingerprint';
import {
  groupWaitMsOf,
  observe,
  open,
  pendingExpired,
  policyFor,
  quietLongEnough,
  readyToOpen,
} from '../../../lambdas/core/incidents/lifecycle';
import { finding, incidentsConfig, MIN, T0 } from './fixtures';

/**
 * model.** findings come from check-drift, which runs hourly (drift.scheduleMinutes) and gates
 * drift with its own statistical tests over a sliding window: the router opens them on the first
 * sighting and resolves them only after clean runs spanning two missed drift checks. The default
 * M of N over five-minute runs could never be met by an hourly finding.
 */

const cfg = incidentsConfig({ groupWaitSeconds: 60, openAfter: 2, ofRuns: 3, cleanRuns: 3 });
const drift = finding({
  kind: 'model.drift.data_quality',
  cause: 'model',
  severity: 'ticket',
  labels: { endpoint: 'ranker-prod' },
});
const fp = fingerprintOf(drift.kind, drift.labels);

describe('default lifecycle of model.** kinds', () => {
  it.each([
    'model.drift.data_quality',
    'model.drift.model_quality',
    'model.drift.bias',
    'model.drift.feature_attribution',
    'model.monitor.stale',
  ])('%s opens on its first sighting, without a group wait, and resolves on clean runs', (kind) => {
    expect(policyFor(kind, cfg)).toMatchObject({
      openAfter: 1,
      ofRuns: 1,
      resolve: 'clean-runs',
      cleanRuns: 25,
    });
    expect(groupWaitMsOf(cfg, kind)).toBe(0);
  });

  it('the clean-run span outlasts two missed drift checks at the default drift schedule', () => {
    const p = policyFor('model.drift.data_quality', cfg);
    const scheduleMs = driftSchema.parse({}).scheduleMinutes * MIN;
    expect(p.cleanRuns * p.cadenceMs).toBeGreaterThan(2 * scheduleMs);
  });

  it('a single hourly sighting opens an incident that stays open across the next hourly check', () => {
    const p = policyFor(drift.kind, cfg);
    const first = observe(
      undefined,
      { key: 'run-1', fingerprint: fp, finding: { ...drift, detectedAt: T0 }, resolved: false, nowMs: T0 },
      p,
    ).incident;
    if (first === undefined) throw new Error('no incident');
    expect(readyToOpen(first, p)).toBe(true);
    const opened = open(first, T0, groupWaitMsOf(cfg, drift.kind));
    expect(opened.notBeforeMs).toBeUndefined();
    // No finding between hourly checks: not resolved at 60 min, nor after one missed check.
    expect(quietLongEnough(opened, p, T0 + 60 * MIN)).toBe(false);
    expect(quietLongEnough(opened, p, T0 + 120 * MIN)).toBe(false);
    // Two missed checks: resolved.
    expect(quietLongEnough(opened, p, T0 + 125 * MIN)).toBe(true);
    // The next hourly sighting updates the same incident.
    const next = observe(
      opened,
      {
        key: 'run-2',
        fingerprint: fp,
        finding: { ...drift, detectedAt: T0 + 60 * MIN },
        resolved: false,
        nowMs: T0 + 60 * MIN,
      },
      p,
    );
    expect(next.event).toBe('updated');
  });

  it('with the old default (2 of 3 five-minute runs) an hourly finding would expire pending', () => {
    const p = policyFor('unmatched.kind', cfg);
    const pending = observe(
      undefined,
      { key: 'run-1', fingerprint: fp, finding: { ...drift, detectedAt: T0 }, resolved: false, nowMs: T0 },
      p,
    ).incident;
    if (pending === undefined) throw new Error('no incident');
    expect(readyToOpen(pending, p)).toBe(false);
    expect(pendingExpired(pending, p, T0 + 60 * MIN)).toBe(true);
  });
});
