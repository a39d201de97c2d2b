import { FINDING_SCHEMA_VERSION, type Finding } from '../../lambdas/contracts/finding';

/** A valid finding (a fatal Xid on node i-<i>), with overrides; shared by adapter and integration tests. */
export function finding(i: number, overrides: Partial<Finding> = {}): Finding {
  return {
    schemaVersion: FINDING_SCHEMA_VERSION,
    kind: 'gpu.xid_fatal',
    severity: 'page',
    cause: 'hardware',
    title: `Xid 79 on node ${i}`,
    labels: { cluster: 'train-a', region: 'us-east-1', node: `i-${i}`, gpu: '3' },
    evidence: { values: { xid: 79 }, window: { startMs: 1_000, endMs: 61_000 } },
    runbook: 'docs/runbooks/gpu.xid_fatal.md',
    detectedAt: 120_000,
    ...overrides,
  };
}
