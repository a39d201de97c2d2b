import { describe, expect, it } from 'vitest';
import { FINDING_SCHEMA_VERSION, type FindingInput, findingSchema } from '../../../lambdas/contracts/finding';
import { classifyXid, KNOWN_XID_CODES, UNKNOWN_XID, XID_ACTIONS } from '../../../lambdas/contracts/xid';

const valid: FindingInput = {
  schemaVersion: FINDING_SCHEMA_VERSION,
  kind: 'stat.level_shift_down',
  severity: 'ticket',
  cause: 'efficiency',
  title: 'GPU utilisation of p5.48xlarge/pretrain dropped 9 % below its baseline',
  labels: { cluster: 'train-a', region: 'us-east-1', node: 'i-0abc', gpu: '3', team: 'llm' },
  evidence: {
    values: { value: 41.2, z: -9.3 },
    window: { startMs: 1_700_000_000_000, endMs: 1_700_000_300_000 },
    baseline: { median: 88, mad: 5, n: 2016 },
    detail: 'CUSUM down 14.2 > 10',
  },
  runbook: 'docs/runbooks/gpu-utilisation.md#drops',
  detectedAt: 1_700_000_360_000,
};

describe('finding schema (v1)', () => {
  it('accepts a complete finding', () => {
    expect(findingSchema.parse(valid)).toEqual(valid);
  });

  it('accepts the minimum: no labels, window only', () => {
    const minimal = { ...valid, labels: {}, evidence: { window: { startMs: 0, endMs: 0 } } };
    expect(findingSchema.safeParse(minimal).success).toBe(true);
  });

  it.each([
    { name: 'an unknown severity', patch: { severity: 'critical' }, path: 'severity' },
    { name: 'an unknown cause', patch: { cause: 'cosmic-rays' }, path: 'cause' },
    { name: 'another schema version', patch: { schemaVersion: 2 }, path: 'schemaVersion' },
    { name: 'a kind that is not dotted lower case', patch: { kind: 'Level Shift' }, path: 'kind' },
    { name: 'an absolute runbook path', patch: { runbook: '/etc/passwd' }, path: 'runbook' },
    { name: 'a parent-directory runbook path', patch: { runbook: 'docs/../../secret.md' }, path: 'runbook' },
    { name: 'an empty title', patch: { title: '' }, path: 'title' },
    { name: 'an unknown label', patch: { labels: { rack: 'r1' } }, path: 'labels' },
    { name: 'a fingerprint (the router adds it)', patch: { fingerprint: 'abc' }, path: '' },
    {
      name: 'a window that ends before it starts',
      patch: { evidence: { window: { startMs: 10, endMs: 5 } } },
      path: 'evidence.window',
    },
    {
      name: 'a non-finite evidence value',
      patch: { evidence: { window: { startMs: 0, endMs: 1 }, values: { z: Number.POSITIVE_INFINITY } } },
      path: 'evidence.values.z',
    },
    {
      name: 'a negative baseline MAD',
      patch: { evidence: { window: { startMs: 0, endMs: 1 }, baseline: { median: 1, mad: -1 } } },
      path: 'evidence.baseline.mad',
    },
  ])('rejects $name', ({ patch, path }) => {
    const r = findingSchema.safeParse({ ...valid, ...patch });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });

  it.each(['https://wiki.example.com/runbooks/xid#48', 'docs/runbooks/xid.md', 'docs/runbooks/xid.md#fatal'])(
    'accepts runbook %s',
    (runbook) => {
      expect(findingSchema.safeParse({ ...valid, runbook }).success).toBe(true);
    },
  );
});

describe('Xid classification (aws-facts §3(d))', () => {
  it.each([
    { code: 13, action: 'restart-app', fatal: false, severity: 'info' },
    { code: 31, action: 'restart-app', fatal: false, severity: 'info' },
    { code: 43, action: 'ignore', fatal: false, severity: 'info' },
    { code: 45, action: 'ignore', fatal: false, severity: 'info' },
    { code: 46, action: 'drain-reset-gpu', fatal: true, severity: 'page' },
    { code: 48, action: 'drain-reset-gpu', fatal: true, severity: 'page' },
    { code: 63, action: 'trend', fatal: false, severity: 'info' },
    { code: 64, action: 'drain-reset-gpu', fatal: true, severity: 'page' },
    { code: 74, action: 'drain-reset-gpu', fatal: true, severity: 'page' },
    { code: 79, action: 'drain-reboot-host', fatal: true, severity: 'page' },
    { code: 92, action: 'trend', fatal: false, severity: 'info' },
    { code: 94, action: 'restart-app', fatal: false, severity: 'ticket' },
    { code: 95, action: 'drain-reset-gpu', fatal: true, severity: 'page' },
    { code: 119, action: 'drain-reset-gpu', fatal: true, severity: 'page' },
    { code: 120, action: 'drain-reset-gpu', fatal: true, severity: 'page' },
    { code: 140, action: 'drain-reset-gpu', fatal: true, severity: 'page' },
    { code: 62, action: 'drain-reset-gpu', fatal: false, severity: 'ticket' },
    { code: 147, action: 'drain-reset-gpu', fatal: false, severity: 'ticket' },
  ])('Xid $code → $action, fatal $fatal, $severity', ({ code, action, fatal, severity }) => {
    expect(classifyXid(code)).toMatchObject({ code, action, fatal, severity });
  });

  it('names the mnemonics NVIDIA uses for the codes that matter most', () => {
    expect(classifyXid(48).mnemonic).toBe('ROBUST_CHANNEL_GPU_ECC_DBE');
    expect(classifyXid(79).mnemonic).toBe('GPU_HAS_FALLEN_OFF_THE_BUS');
  });

  it.each([0, 1, 999, -5])('an unknown code (%s) is a ticket to trend, never ignored or paged', (code) => {
    expect(classifyXid(code)).toEqual({ code, ...UNKNOWN_XID });
    expect(UNKNOWN_XID).toMatchObject({ action: 'trend', severity: 'ticket', fatal: false });
  });

  it('every fatal code pages and drains; no non-fatal code pages', () => {
    for (const code of KNOWN_XID_CODES) {
      const x = classifyXid(code);
      expect(XID_ACTIONS).toContain(x.action);
      if (x.fatal) {
        expect(x.severity).toBe('page');
        expect(x.action.startsWith('drain-')).toBe(true);
      } else {
        expect(x.severity).not.toBe('page');
      }
    }
  });
});
