import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../lambdas/contracts/finding';
import { fingerprintOf } from '../../../lambdas/core/incidents/fingerprint';
import { groupItems, type RoutedItem } from '../../../lambdas/core/incidents/grouping';
import { finding } from './fixtures';

const item = (f: Finding, i: number): RoutedItem => {
  const fingerprint = fingerprintOf(f.kind, f.labels);
  return {
    messageId: `m${i}`,
    key: `${fingerprint}:${f.detectedAt}:f`,
    finding: f,
    resolved: false,
    fingerprint,
  };
};
const gpu = (node: string, g: string, kind = 'gpu.xid.fatal') =>
  finding({ kind, labels: { cluster: 'a', node, gpu: g } });
const cfg = { gpusPerNode: 2, nodesPerCluster: 3 };

describe('grouping', () => {
  it('GPUs of one node at or above the threshold become one node item; others stay', () => {
    const out = groupItems([gpu('n1', '0'), gpu('n1', '1'), gpu('n2', '0')].map(item), [], cfg);
    const nodeFp = fingerprintOf('gpu.xid.fatal', { cluster: 'a', node: 'n1' });
    expect(out.map((o) => o.fingerprint)).toEqual([
      nodeFp,
      nodeFp,
      fingerprintOf('gpu.xid.fatal', { cluster: 'a', node: 'n2', gpu: '0' }),
    ]);
    expect(out[0]?.group).toEqual({ level: 'node', members: ['0', '1'] });
    expect(out[0]?.finding.labels.gpu).toBeUndefined();
  });

  it('different kinds do not group together', () => {
    const out = groupItems([gpu('n1', '0'), gpu('n1', '1', 'gpu.ecc.uncorrectable')].map(item), [], cfg);
    expect(out.every((o) => o.group === undefined)).toBe(true);
  });

  it('deterministic: input order does not change the result', () => {
    const items = [gpu('n1', '2'), gpu('n1', '0'), gpu('n1', '1')].map(item);
    const a = groupItems(items, [], cfg);
    const b = groupItems([...items].reverse(), [], cfg);
    expect(a.map((x) => x.group)).toEqual(b.map((x) => x.group));
  });

  it('nodes of one cluster group at the cluster threshold', () => {
    const nodes = ['n1', 'n2', 'n3'].map((n) =>
      finding({ kind: 'node.unreachable', labels: { cluster: 'a', node: n } }),
    );
    const out = groupItems(nodes.map(item), [], cfg);
    expect(new Set(out.map((o) => o.fingerprint)).size).toBe(1);
    expect(out[0]?.group).toEqual({ level: 'cluster', members: ['n1', 'n2', 'n3'] });
    expect(groupItems(nodes.slice(0, 2).map(item), [], cfg).every((o) => o.group === undefined)).toBe(true);
  });

  it('already-applied findings are routed back to their holder, never regrouped', () => {
    const items = [gpu('n1', '0'), gpu('n1', '1')].map(item);
    const holder = new Map([[items[0]?.key ?? '', 'ffffffffffffffff']]);
    const out = groupItems(items, [], cfg, holder);
    expect(out[0]?.fingerprint).toBe('ffffffffffffffff');
    expect(out[1]?.group).toBeUndefined(); // alone below the threshold now
  });
});
