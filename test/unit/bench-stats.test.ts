import { describe, expect, it } from 'vitest';
import { rowsByKind } from '../../bench/lib/latency-table';
import type { RunOutcome } from '../../bench/lib/run-outcome';
import { latencyStats, percentile, tally } from '../../bench/lib/stats';

describe('percentile (nearest rank)', () => {
  it('returns an observed value, whatever the input order', () => {
    const values = [300, 60, 900, 120, 600];
    expect(percentile(values, 50)).toBe(300);
    expect(percentile(values, 95)).toBe(900);
    expect(percentile(values, 0)).toBe(60);
    expect(percentile(values, 100)).toBe(900);
    expect(percentile([...values].reverse(), 50)).toBe(300);
  });

  it('p95 of 20 values is the 19th smallest, not the largest', () => {
    const values = Array.from({ length: 20 }, (_, i) => (i + 1) * 10);
    expect(percentile(values, 95)).toBe(190);
  });

  it('is undefined for no values and rejects p outside 0..100', () => {
    expect(percentile([], 50)).toBeUndefined();
    expect(() => percentile([1], 101)).toThrow(/p must be within 0..100, got 101/);
  });
});

describe('latencyStats', () => {
  it('counts missed runs in runs and detected %, and judges p95 against the limit', () => {
    const s = latencyStats([120, null, 480, 960, null], 900);
    expect(s).toMatchObject({
      runs: 5,
      detected: 3,
      detectedPercent: 60,
      p50Seconds: 480,
      p95Seconds: 960,
      maxSeconds: 960,
    });
    expect(s.meetsLimit).toBe(false);
    expect(latencyStats([120, 480], 900).meetsLimit).toBe(true);
  });

  it('never meets the limit when nothing was detected', () => {
    const s = latencyStats([null, null], 900);
    expect(s).toMatchObject({ runs: 2, detected: 0, detectedPercent: 0, meetsLimit: false });
    expect(s.p95Seconds).toBeUndefined();
  });
});

describe('tally', () => {
  it('orders by count, then name, and names missing values', () => {
    expect(tally(['ticket', 'page', 'ticket', null])).toBe('ticket ×2, none ×1, page ×1');
  });
});

function outcome(
  kind: string,
  latency: number | null,
  status: RunOutcome['fault']['status'] = 'ended',
): RunOutcome {
  return {
    task: { kind, seedIndex: 0, cadenceMinutes: null },
    scenario: `s-${kind}`,
    fault: {
      detected: latency !== null,
      latencySeconds: latency,
      severity: latency === null ? null : 'page',
      cause: latency === null ? null : 'hardware',
      status,
      expectedSeverity: 'page',
      expectedCause: 'hardware',
    },
    falseNotifications: 1,
    duplicateNotifications: 0,
    apiCalls: {},
    runtimeSeconds: 1,
  };
}

describe('rowsByKind', () => {
  it('keeps undetected and run-less kinds as rows and sets unresolved runs apart', () => {
    const rows = rowsByKind(
      [
        outcome('xid', 300),
        outcome('xid', null),
        outcome('job_stall', null, 'unresolved'),
        outcome('job_stall', null),
      ],
      ['xid', 'job_stall', 'model_drift'],
    );
    expect(rows.map((r) => [r.kind, r.runs, r.unresolved, r.detected])).toEqual([
      ['xid', 2, 0, 1],
      ['job_stall', 1, 1, 0],
      ['model_drift', 0, 0, 0],
    ]);
    expect(rows[0]).toMatchObject({
      detectedPercent: 50,
      p95Seconds: 300,
      severities: 'page ×1',
      falseNotifications: 2,
    });
  });
});
