import { describe, expect, it } from 'vitest';
import { INCIDENT_SCHEMA_VERSION, type Incident } from '../../../lambdas/contracts/incident';
import { remediationConfigSchema } from '../../../lambdas/contracts/incidents-config';
import {
  countRecentQuarantines,
  decideRemediation,
} from '../../../lambdas/core/incidents/remediation-policy';
import { MIN, T0 } from './fixtures';

const incident = (kind: string, labels: Incident['labels']): Incident => ({
  schemaVersion: INCIDENT_SCHEMA_VERSION,
  id: '0123456789abcdef-1',
  fingerprint: '0123456789abcdef',
  episode: 1,
  kind,
  severity: 'page',
  originalSeverity: 'page',
  cause: 'hardware',
  title: 't',
  labels,
  runbook: 'docs/runbooks/x.md',
  evidence: '',
  resolveMode: 'explicit',
  status: 'open',
  firstSeenMs: T0,
  lastSeenMs: T0,
  observations: [],
  history: [],
  notifications: [],
  remediations: [],
  version: 1,
});

const cfg = remediationConfigSchema.parse({});
const node = { cluster: 'a', node: 'i-1', gpu: '0' };

describe('remediation policy (defaults)', () => {
  const cases = [
    {
      name: 'hung job → stop-job (approval)',
      kind: 'job.hung',
      labels: { cluster: 'a', job: 'j' },
      values: {},
      want: { action: 'start', workflow: 'stop-job', policy: 'approval' },
    },
    {
      name: 'stalled job → stop-job',
      kind: 'job.progress_stalled',
      labels: { cluster: 'a', job: 'j' },
      values: {},
      want: { action: 'start', workflow: 'stop-job' },
    },
    ...[79, 48, 95].map((xid) => ({
      name: `Xid ${xid} → quarantine`,
      kind: 'gpu.xid.fatal',
      labels: node,
      values: { xid },
      want: { action: 'start', workflow: 'quarantine-node' },
    })),
    {
      name: 'Xid 31 is not a quarantine',
      kind: 'gpu.xid.fatal',
      labels: node,
      values: { xid: 31 },
      want: undefined,
    },
    {
      name: 'uncorrectable ECC → quarantine',
      kind: 'gpu.ecc.uncorrectable',
      labels: node,
      values: {},
      want: { action: 'start', workflow: 'quarantine-node' },
    },
    {
      name: 'drift → retrain',
      kind: 'model.drift.data_quality',
      labels: { endpoint: 'e' },
      values: {},
      want: { action: 'start', workflow: 'retrain' },
    },
    {
      name: 'efficiency → nothing',
      kind: 'job.gpus_idle',
      labels: { job: 'j' },
      values: {},
      want: undefined,
    },
    {
      name: 'stop-job without job label is skipped',
      kind: 'job.hung',
      labels: { cluster: 'a' },
      values: {},
      want: { action: 'skip', reason: 'no job label: nothing to stop' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = decideRemediation(incident(c.kind, c.labels), cfg, {
        nowMs: T0,
        values: c.values as Record<string, number>,
        quarantinesLastHour: 0,
      });
      if (c.want === undefined) expect(d).toBeUndefined();
      else expect(d).toMatchObject(c.want);
    });
  }

  it('execution name is per incident and workflow (idempotent start)', () => {
    const d = decideRemediation(incident('job.hung', { job: 'j' }), cfg, {
      nowMs: T0,
      values: {},
      quarantinesLastHour: 0,
    });
    expect(d?.action === 'start' && d.executionName).toBe('0123456789abcdef-1-stop-job');
  });

  it('rails: quarantines per hour, change freeze', () => {
    const limited = decideRemediation(incident('gpu.ecc.uncorrectable', node), cfg, {
      nowMs: T0,
      values: {},
      quarantinesLastHour: 2,
    });
    expect(limited).toMatchObject({ action: 'skip', reason: expect.stringContaining('max 2') });
    const frozen = remediationConfigSchema.parse({
      changeFreeze: [{ name: 'q4', cron: '0 0 * 12 *', duration: 'P1D', tz: 'UTC' }],
    });
    const dec = Date.parse('2026-12-01T12:00:00Z');
    expect(
      decideRemediation(incident('job.hung', { job: 'j' }), frozen, {
        nowMs: dec,
        values: {},
        quarantinesLastHour: 0,
      }),
    ).toMatchObject({ action: 'skip', reason: 'change freeze "q4" is active' });
    expect(
      decideRemediation(incident('job.hung', { job: 'j' }), frozen, {
        nowMs: T0,
        values: {},
        quarantinesLastHour: 0,
      })?.action,
    ).toBe('start');
  });

  it('counts quarantine starts of the last hour only', () => {
    const withAudit = (at: number, decision: 'started' | 'skipped') => ({
      ...incident('gpu.xid.fatal', node),
      remediations: [
        { at, workflow: 'quarantine-node' as const, policy: 'approval' as const, decision, reason: '' },
      ],
    });
    expect(
      countRecentQuarantines(
        [withAudit(T0 - 30 * MIN, 'started'), withAudit(T0 - 61 * MIN, 'started'), withAudit(T0, 'skipped')],
        T0,
      ),
    ).toBe(1);
  });
});
