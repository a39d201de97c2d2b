import type { Finding, FindingLabels } from '../../contracts/finding';
import type { Incident } from '../../contracts/incident';
import { fingerprintOf } from './fingerprint';

/**
 * Grouping: many GPUs of one node become ONE node incident, many nodes of one cluster ONE
 * cluster incident, so a failing node pages once, not eight times. Applies to firing findings of
 * the same kind:
 *
 *   GPU level   ≥ gpusPerNode distinct GPUs of one node (this batch + incidents still active),
 *               or a node incident of that kind already active       → node incident
 *   node level  ≥ nodesPerCluster distinct nodes of one cluster (same rule)  → cluster incident
 *
 * Member incidents that already exist are folded (suppressed with stage 'grouped'); group wait
 * (lifecycle.open) holds the first notification of node/GPU incidents so siblings arriving a
 * little later still fold in. Deterministic: buckets and members are sorted.
 */
export interface GroupingConfig {
  readonly gpusPerNode: number;
  readonly nodesPerCluster: number;
}

export interface RoutedItem {
  /** SQS message id of the finding. */
  readonly messageId: string;
  /** Identifies the finding (dedup), unchanged by grouping. */
  readonly key: string;
  readonly finding: Finding;
  readonly resolved: boolean;
  readonly fingerprint: string;
  /** Set when this item was lifted into a group incident. */
  readonly group?: { readonly level: 'node' | 'cluster'; readonly members: readonly string[] };
  /** Fingerprints of existing member incidents to fold into this item's incident. */
  readonly folds?: readonly string[];
}

type Level = 'node' | 'cluster';

export function groupItems(
  items: readonly RoutedItem[],
  active: readonly Incident[],
  cfg: GroupingConfig,
  /** Finding keys already applied, to the fingerprint of the incident holding them (any status). */
  applied: ReadonlyMap<string, string> = new Map(),
): RoutedItem[] {
  // A finding applied before (redelivery) goes back to the incident that holds it, ungrouped:
  // grouping it again against today's incidents could move it elsewhere (not idempotent).
  const holder = new Map<string, string>(applied);
  for (const i of active) for (const o of i.observations) holder.set(o.key, i.fingerprint);
  const fresh = items.filter((i) => !holder.has(i.key));
  const afterNodes = groupLevel(fresh, active, 'node', cfg.gpusPerNode);
  const afterClusters = groupLevel(afterNodes, active, 'cluster', cfg.nodesPerCluster);
  const grouped = new Map(fresh.map((item, idx) => [item, afterClusters[idx]]));
  return items.map((i) => {
    const fp = holder.get(i.key);
    if (fp !== undefined) return { ...i, fingerprint: fp };
    return grouped.get(i) ?? i;
  });
}

function groupLevel(
  items: readonly RoutedItem[],
  active: readonly Incident[],
  level: Level,
  threshold: number,
) {
  const memberLabel = level === 'node' ? 'gpu' : 'node';
  const isMember = (labels: FindingLabels) =>
    level === 'node'
      ? labels.gpu !== undefined && labels.node !== undefined
      : labels.node !== undefined && labels.gpu === undefined && labels.job === undefined;
  const bucketOf = (kind: string, labels: FindingLabels) =>
    `${kind}|${fingerprintOf(kind, groupLabels(labels, level))}`;

  const buckets = new Map<string, RoutedItem[]>();
  for (const item of items) {
    if (item.resolved || !isMember(item.finding.labels)) continue;
    const key = bucketOf(item.finding.kind, item.finding.labels);
    buckets.set(key, [...(buckets.get(key) ?? []), item]);
  }
  const replaced = new Map<RoutedItem, RoutedItem>();
  for (const key of [...buckets.keys()].sort()) {
    const bucket = buckets.get(key) ?? [];
    const first = bucket[0];
    if (first === undefined) continue;
    const kind = first.finding.kind;
    const labels = groupLabels(first.finding.labels, level);
    const groupFp = fingerprintOf(kind, labels);
    const live = (i: Incident) => i.status !== 'resolved';
    const activeMembers = active.filter(
      (i) =>
        live(i) &&
        i.kind === kind &&
        isMember(i.labels) &&
        i.groupedInto === undefined &&
        bucketOf(i.kind, i.labels) === key,
    );
    const existingGroup = active.find((i) => live(i) && i.fingerprint === groupFp);
    const members = new Set<string>([
      ...bucket.map((i) => i.finding.labels[memberLabel] ?? ''),
      ...activeMembers.map((i) => i.labels[memberLabel] ?? ''),
      ...(existingGroup?.group?.members ?? []),
    ]);
    if (members.size < threshold && existingGroup === undefined) continue;
    const sortedMembers = [...members].filter((m) => m !== '').sort();
    const folds = [...new Set([...activeMembers.map((i) => i.fingerprint)])].sort();
    for (const item of bucket) {
      replaced.set(item, {
        ...item,
        fingerprint: groupFp,
        finding: {
          ...item.finding,
          labels,
          title: groupTitle(item.finding.title, level, sortedMembers.length, labels),
        },
        group: { level, members: sortedMembers },
        folds,
      });
    }
  }
  return items.map((i) => replaced.get(i) ?? i);
}

/** The labels of the group incident: the member label (and below) dropped. */
function groupLabels(labels: FindingLabels, level: Level): FindingLabels {
  const { gpu: _gpu, ...nodeLabels } = labels;
  if (level === 'node') return nodeLabels;
  const { node: _node, job: _job, ...clusterLabels } = nodeLabels;
  return clusterLabels;
}

function groupTitle(title: string, level: Level, count: number, labels: FindingLabels): string {
  const what =
    level === 'node'
      ? `${count} GPUs on node ${labels.node ?? '?'}`
      : `${count} nodes in cluster ${labels.cluster ?? '?'}`;
  return `${what}: ${title}`.slice(0, 200);
}
