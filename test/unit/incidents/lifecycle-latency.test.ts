import { describe, expect, it } from 'vitest';
import { FATAL_HARDWARE_KINDS } from '../../../lambdas/contracts/incidents-config';
import { fingerprintOf } from '../../../lambdas/core/incidents/fingerprint';
import { groupWaitMsOf, observe, open, policyFor } from '../../../lambdas/core/incidents/lifecycle';
import { finding, incidentsConfig, T0 } from './fixtures';

/**
 * Latency of the first notification: fatal hardware opens and notifies on its first sighting, and
 * only what grouping can fold waits for siblings.
 */

function pendingOf(f: ReturnType<typeof finding>) {
  const cfg = incidentsConfig({ groupWaitSeconds: 60 });
  const r = observe(
    undefined,
    { key: 'k1', fingerprint: fingerprintOf(f.kind, f.labels), finding: f, resolved: false, nowMs: T0 },
    policyFor(f.kind, cfg),
  );
  if (r.incident === undefined) throw new Error('expected a pending incident');
  return { incident: r.incident, cfg };
}

describe('per-kind group wait', () => {
  it.each(FATAL_HARDWARE_KINDS)('%s: opens after one sighting and is not held by the group wait', (kind) => {
    const cfg = incidentsConfig({ groupWaitSeconds: 60 });
    expect(policyFor(kind, cfg)).toMatchObject({ openAfter: 1, ofRuns: 1, resolve: 'explicit' });
    expect(groupWaitMsOf(cfg, kind)).toBe(0);
  });

  it.each([
    ['gpu.throttle.thermal', 0],
    ['gpu.temperature.over_limit', 0],
    ['gpu.ecc.correctable_rate', 60_000],
    ['stat.level_shift_down', 60_000],
  ])('%s waits %i ms with groupWaitSeconds 60', (kind, ms) => {
    expect(groupWaitMsOf(incidentsConfig({ groupWaitSeconds: 60 }), kind)).toBe(ms);
  });

  it('a kind rule can set its own wait, and without a kind the config default applies', () => {
    const cfg = incidentsConfig({
      groupWaitSeconds: 30,
      kinds: [{ match: ['gpu.**'], groupWaitSeconds: 120 }],
    });
    expect(groupWaitMsOf(cfg, 'gpu.xid.fatal')).toBe(120_000);
    expect(groupWaitMsOf(cfg, 'job.hung')).toBe(30_000);
    expect(groupWaitMsOf(cfg)).toBe(30_000);
  });

  it('rejects a negative per-kind wait with the field named', () => {
    expect(() => incidentsConfig({ kinds: [{ match: ['gpu.**'], groupWaitSeconds: -1 }] })).toThrow(
      /groupWaitSeconds/,
    );
  });
});

describe('open(): which incidents the group wait holds', () => {
  it('a GPU incident waits for siblings', () => {
    const { incident } = pendingOf(finding({ kind: 'gpu.ecc.correctable_rate' }));
    expect(open(incident, T0, 60_000).notBeforeMs).toBe(T0 + 60_000);
  });

  it('a node incident without a job waits for siblings', () => {
    const { incident } = pendingOf(
      finding({ kind: 'node.down', labels: { cluster: 'train-a', region: 'us-east-1', node: 'i-1' } }),
    );
    expect(open(incident, T0, 60_000).notBeforeMs).toBe(T0 + 60_000);
  });

  it('a job on one node (node label present) never groups, so it is not held', () => {
    const { incident } = pendingOf(
      finding({
        kind: 'job.progress_stalled',
        severity: 'ticket',
        cause: 'software',
        labels: { cluster: 'train-a', region: 'us-east-1', node: 'i-1', job: 'bert-ft' },
      }),
    );
    expect(open(incident, T0, 60_000).notBeforeMs).toBeUndefined();
  });
});
