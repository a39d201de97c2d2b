import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Every finding links to docs/runbooks/<kind>.md, and a notification renders that link for the
 * person on call. This test finds the kinds the code can emit (dotted string literals of the known
 * families in lambdas/) and fails when one has no runbook, so a new detector cannot ship a dead link.
 */
const ROOT = process.cwd();
const FAMILIES = ['gpu', 'job', 'efficiency', 'software', 'scheduling', 'model', 'fleet', 'stat', 'kpi'];
const KIND_LITERAL = new RegExp(`'((?:${FAMILIES.join('|')})\\.[a-z0-9_]+(?:\\.[a-z0-9_]+)*)'`, 'g');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function kindsInCode(): Set<string> {
  const kinds = new Set<string>();
  for (const file of sourceFiles(join(ROOT, 'lambdas'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(KIND_LITERAL)) {
      if (m[1] !== undefined) kinds.add(m[1]);
    }
  }
  return kinds;
}

describe('runbooks', () => {
  const kinds = kindsInCode();

  it('finds the finding kinds the detectors emit', () => {
    // Guards the scan itself: if the pattern broke, the next test would pass vacuously.
    for (const k of ['gpu.xid.fatal', 'job.hung', 'fleet.utilisation_drop', 'model.drift.data_quality']) {
      expect(kinds).toContain(k);
    }
  });

  it('has docs/runbooks/<kind>.md for every kind in the code', () => {
    const missing = [...kinds].filter((k) => !existsSync(join(ROOT, 'docs', 'runbooks', `${k}.md`)));
    expect(missing).toEqual([]);
  });

  it('has the fixed runbooks that alarms and unknown findings link to', () => {
    for (const f of ['unknown-alarm.md', 'anomaly-alarm.md', 'fleetwatch.pipeline.md', 'xid.md']) {
      expect(existsSync(join(ROOT, 'docs', 'runbooks', f)), f).toBe(true);
    }
  });
});
