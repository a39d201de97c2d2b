import { describe, expect, it } from 'vitest';
import type { FaultTruth } from '../../lambdas/sim/faults';
import { escapeHtml, renderReport } from '../../lambdas/sim/report';
import {
  type ScoredIncident,
  type ScoredNotification,
  type ScoreInput,
  scoreRun,
} from '../../lambdas/sim/score';

/** scoreRun and renderReport on hand-made runs: matching, latency, false, duplicate, maintenance. */
const T0 = Date.parse('2026-09-15T00:00:00Z');
const MIN = 60_000;

const truth = (over: Partial<FaultTruth> & Pick<FaultTruth, 'id' | 'labels'>): FaultTruth => ({
  kind: 'xid',
  atMs: T0 + 60 * MIN,
  at: new Date(T0 + 60 * MIN).toISOString(),
  startedMs: T0 + 60 * MIN,
  status: 'ended',
  endedMs: T0 + 90 * MIN,
  expected: { cause: 'hardware', severity: 'page' },
  ...over,
});
const incident = (
  id: string,
  labels: ScoredIncident['labels'],
  firstSeenMin: number,
  over: Partial<ScoredIncident> = {},
) =>
  ({
    id,
    kind: 'gpu.xid.fatal',
    severity: 'page',
    cause: 'hardware',
    firstSeenMs: T0 + firstSeenMin * MIN,
    labels,
    status: 'open',
    ...over,
  }) satisfies ScoredIncident;
const note = (
  incidentId: string,
  atMin: number,
  event = 'open',
  kind = 'gpu.xid.fatal',
): ScoredNotification => ({
  atMs: T0 + atMin * MIN,
  severity: 'page',
  event,
  kind,
  incidentId,
});
const base = (over: Partial<ScoreInput>): ScoreInput => ({
  scenario: 's',
  truth: [],
  notifications: [],
  incidents: [],
  maintenance: [],
  apiCalls: { 'cloudwatch:GetMetricData': 3 },
  runtimeSeconds: 1.5,
  endMs: T0 + 240 * MIN,
  ...over,
});

const gpuFault = truth({ id: 'f1', labels: { cluster: 'a', nodes: ['n1'], node: 'n1', gpu: '3' } });

describe('scoreRun', () => {
  it('credits the first opening notification of a matching incident, with its latency, severity and cause', () => {
    const s = scoreRun(
      base({
        truth: [gpuFault],
        incidents: [incident('i1', { cluster: 'a', node: 'n1', gpu: '3' }, 63)],
        notifications: [note('i1', 70), note('i1', 130, 'renotify')],
      }),
    );
    expect(s.faults[0]).toMatchObject({
      id: 'f1',
      detected: true,
      firstNotificationAt: new Date(T0 + 70 * MIN).toISOString(),
      latencySeconds: 600,
      severity: 'page',
      incidentId: 'i1',
      cause: 'hardware',
    });
    expect(s.falseNotifications).toEqual([]);
    expect(s.duplicateNotifications).toBe(0);
    expect(s.apiCalls).toEqual({ 'cloudwatch:GetMetricData': 3 });
  });

  it('counts notifications about another GPU, or before the onset, as false; an undetected fault has nulls', () => {
    const s = scoreRun(
      base({
        truth: [gpuFault],
        incidents: [
          incident('other-gpu', { cluster: 'a', node: 'n1', gpu: '4' }, 65),
          incident('too-early', { cluster: 'a', node: 'n1', gpu: '3' }, 30),
        ],
        notifications: [note('other-gpu', 70), note('too-early', 35)],
      }),
    );
    expect(s.faults[0]).toMatchObject({
      detected: false,
      latencySeconds: null,
      incidentId: null,
      cause: null,
    });
    expect(s.falseNotifications.map((n) => n.at)).toEqual([
      new Date(T0 + 35 * MIN).toISOString(),
      new Date(T0 + 70 * MIN).toISOString(),
    ]);
  });

  it('counts a second incident opening for the same fault as a duplicate', () => {
    const s = scoreRun(
      base({
        truth: [gpuFault],
        incidents: [
          incident('xid', { cluster: 'a', node: 'n1', gpu: '3' }, 62),
          incident('bus', { cluster: 'a', node: 'n1', gpu: '3' }, 64, { kind: 'gpu.fell_off_bus' }),
        ],
        notifications: [note('xid', 65), note('bus', 70, 'open', 'gpu.fell_off_bus')],
      }),
    );
    expect(s.duplicateNotifications).toBe(1);
    expect(s.duplicates).toEqual([expect.objectContaining({ incidentId: 'bus', faultId: 'f1' })]);
    expect(s.faults[0]?.incidents).toEqual(['bus', 'xid']);
  });

  it('credits an incident to the fault it matches best (the Xid, not the cohort around it)', () => {
    const cohort = truth({
      id: 'driver',
      kind: 'driver_regression',
      atMs: T0 + 50 * MIN,
      startedMs: T0 + 50 * MIN,
      labels: { cluster: 'a', nodes: ['n1', 'n2'] },
    });
    const s = scoreRun(
      base({
        truth: [cohort, gpuFault],
        incidents: [incident('i1', { cluster: 'a', node: 'n1', gpu: '3' }, 63)],
        notifications: [note('i1', 70)],
      }),
    );
    expect(s.faults.find((f) => f.id === 'f1')?.detected).toBe(true);
    expect(s.faults.find((f) => f.id === 'driver')?.detected).toBe(false);
  });

  it('lists notifications inside a maintenance window of their node, not of another node or after it', () => {
    const s = scoreRun(
      base({
        truth: [gpuFault],
        maintenance: [
          {
            index: 0,
            cluster: 'a',
            node: 1,
            hostname: 'n1',
            startMs: T0 + 60 * MIN,
            endMs: T0 + 90 * MIN,
            recurring: false,
          },
        ],
        incidents: [
          incident('i1', { cluster: 'a', node: 'n1', gpu: '3' }, 61),
          incident('i2', { cluster: 'a', node: 'n9', gpu: '0' }, 61),
        ],
        notifications: [note('i1', 70), note('i2', 70), note('i1', 90, 'renotify')],
      }),
    );
    expect(s.notificationsDuringMaintenance).toEqual([
      { at: new Date(T0 + 70 * MIN).toISOString(), incidentId: 'i1' },
    ]);
  });

  it('lists suppression decisions from the incident history with stage and reason', () => {
    const s = scoreRun(
      base({
        truth: [gpuFault],
        incidents: [
          incident('i1', { cluster: 'a', node: 'n1', gpu: '3' }, 61, {
            history: [
              { at: T0 + 61 * MIN, action: 'suppressed', detail: 'maintenance: window "m" until 01:30' },
              { at: T0 + 90 * MIN, action: 'unsuppressed', detail: 'was maintenance' },
            ],
          }),
        ],
      }),
    );
    expect(s.suppressedIncidents).toEqual([
      expect.objectContaining({
        incidentId: 'i1',
        stage: 'maintenance',
        reason: 'window "m" until 01:30',
        faultId: 'f1',
      }),
    ]);
  });
});

describe('renderReport', () => {
  it('renders a self-contained page with the charts and escapes what came from input', () => {
    const summary = scoreRun(
      base({
        scenario: '<script>x</script>',
        truth: [gpuFault],
        incidents: [incident('i1', { cluster: 'a', node: 'n1', gpu: '3' }, 63)],
        notifications: [note('i1', 70)],
      }),
    );
    const html = renderReport({
      summary,
      startMs: T0,
      endMs: T0 + 240 * MIN,
      utilisation: [
        { tMs: T0, utilPercent: 40 },
        { tMs: T0 + MIN, utilPercent: 60 },
      ],
      notifications: [note('i1', 70)],
      incidents: [incident('i1', { cluster: 'a', node: 'n1', gpu: '3' }, 63)],
      maintenance: [],
      backend: 'memory',
    });
    expect(html).not.toContain('<script>');
    expect(html).toContain(escapeHtml('<script>x</script>'));
    expect(html).toContain('<svg id="utilisation"');
    expect(html).toContain('<svg id="fault-timeline"');
    expect(html).toContain('600 s, page');
    expect(html).not.toMatch(/(src|href)="https?:/);
  });
});
