import { describe, expect, it } from 'vitest';
import { INCIDENT_SCHEMA_VERSION, type Incident } from '../../../lambdas/contracts/incident';
import { MAX_SNS_BYTES, notificationSchema, snsSizeBytes } from '../../../lambdas/contracts/notification';
import {
  buildNotification,
  cutUtf8,
  renderEvidence,
  subjectOf,
  TRUNCATION_MARKER,
} from '../../../lambdas/core/incidents/message';
import { finding, T0 } from './fixtures';

function incident(over: Partial<Incident> = {}): Incident {
  return {
    schemaVersion: INCIDENT_SCHEMA_VERSION,
    id: '0123456789abcdef-1',
    fingerprint: '0123456789abcdef',
    episode: 1,
    kind: 'gpu.xid.fatal',
    severity: 'page',
    originalSeverity: 'page',
    cause: 'hardware',
    title: 'Xid 79: GPU has fallen off the bus',
    labels: { cluster: 'train-a', region: 'us-east-1', node: 'i-1', gpu: '3', team: 'ml' },
    runbook: 'docs/runbooks/gpu.xid.fatal.md',
    evidence: renderEvidence(finding()),
    resolveMode: 'explicit',
    status: 'open',
    firstSeenMs: T0,
    lastSeenMs: T0,
    openedAtMs: T0,
    observations: [],
    history: [],
    notifications: [],
    remediations: [],
    version: 1,
    ...over,
  };
}

describe('notification message', () => {
  it('says what, where, since when, evidence, cause, runbook and incident id', () => {
    const n = buildNotification(incident(), 'open', T0, {
      runbookBaseUrl: 'https://git.example.com/fleetwatch/blob/main/docs/runbooks/',
    });
    expect(notificationSchema.parse(n)).toEqual(n);
    expect(n.subject).toBe('[PAGE] Xid 79: GPU has fallen off the bus (i-1)');
    for (const part of [
      'What: gpu.xid.fatal (page)',
      'Where: cluster=train-a region=us-east-1 node=i-1 gpu=3 team=ml',
      `Since: ${new Date(T0).toISOString()}`,
      'xid = 79',
      'Suspected cause: hardware',
      'Runbook: https://git.example.com/fleetwatch/blob/main/docs/runbooks/gpu.xid.fatal.md',
      'Incident: 0123456789abcdef-1',
    ]) {
      expect(n.body).toContain(part);
    }
    expect(n.attributes).toEqual({
      severity: 'page',
      category: 'hardware',
      cluster: 'train-a',
      team: 'ml',
      kind: 'gpu.xid.fatal',
      incidentId: '0123456789abcdef-1',
      event: 'open',
    });
  });

  it('runbook links: an http(s) runbookBaseUrl replaces docs/runbooks/; the repository default and URLs stay as they are', () => {
    const body = (runbook: string, runbookBaseUrl?: string) =>
      buildNotification(
        incident({ runbook }),
        'open',
        T0,
        runbookBaseUrl === undefined ? {} : { runbookBaseUrl },
      ).body;
    expect(body('docs/runbooks/xid.md#79', 'https://wiki.example.com/gpu')).toContain(
      'Runbook: https://wiki.example.com/gpu/xid.md#79',
    );
    expect(body('docs/runbooks/xid.md#79', 'docs/runbooks')).toContain('Runbook: docs/runbooks/xid.md#79');
    expect(body('docs/runbooks/xid.md#79')).toContain('Runbook: docs/runbooks/xid.md#79');
    expect(body('https://runbooks.example.com/a', 'https://wiki.example.com/gpu')).toContain(
      'Runbook: https://runbooks.example.com/a',
    );
  });

  it('resolved messages say so', () => {
    const n = buildNotification(
      incident({ status: 'resolved', resolvedAtMs: T0 + 60_000 }),
      'resolved',
      T0 + 60_000,
    );
    expect(n.subject.startsWith('[RESOLVED] ')).toBe(true);
    expect(n.body).toContain('RESOLVED: Xid 79');
    expect(n.attributes.event).toBe('resolved');
  });

  it('subject: at most 100 printable ASCII characters, even from long non-ASCII titles', () => {
    const s = subjectOf(
      incident({ title: `Überhitzung — ${'温度'.repeat(80)}\nline two ${'x'.repeat(120)}` }),
      'renotify',
    );
    expect(s.length).toBeLessThanOrEqual(100);
    expect(s).toMatch(/^[\x20-\x7e]+$/);
    expect(s.startsWith('[STILL PAGE] Uberhitzung')).toBe(true);
  });

  it('long multi-byte evidence is cut below the byte budget, on a code point, with a marker', () => {
    const evidence = '🔥温'.repeat(60_000); // 7 bytes per pair: ~420 KB
    const n = buildNotification(incident({ evidence }), 'open', T0);
    expect(snsSizeBytes(n)).toBeLessThanOrEqual(MAX_SNS_BYTES);
    expect(n.body).toContain(TRUNCATION_MARKER.trim());
    expect(n.body).toContain('Incident: 0123456789abcdef-1'); // the tail survives the cut
    expect(n.body).not.toMatch(/\uFFFD/);
    expect(Buffer.from(n.body, 'utf8').toString('utf8')).toBe(n.body); // no lone surrogate
  });

  it('cuts exactly at the budget given', () => {
    const n = buildNotification(incident({ evidence: 'é'.repeat(5_000) }), 'open', T0, { maxBytes: 3_000 });
    expect(snsSizeBytes(n)).toBeLessThanOrEqual(3_000);
    expect(snsSizeBytes(n)).toBeGreaterThan(2_900);
  });

  it('short evidence is untouched', () => {
    expect(buildNotification(incident(), 'open', T0).body).not.toContain(TRUNCATION_MARKER.trim());
  });

  it('cutUtf8 never splits a character', () => {
    expect(cutUtf8('a🔥b', 2)).toBe('a');
    expect(cutUtf8('a🔥b', 5)).toBe('a🔥');
    expect(cutUtf8('ab', 10)).toBe('ab');
  });
});
