import { classifyXid } from '../../contracts/xid';
import { type HardwareState, parseGpuKey } from '../detect/hardware/state';

/**
 * The node inventory of a usage record: every node the fleet has, not just the nodes that sent a
 * sample this window. A node lost to a fatal fault (a GPU fallen off the bus, a dead node) stops
 * reporting; counted only from samples it would drop out of capacity and the fleet would look
 * healthier (goodput's denominator shrinks) exactly when it is not (issue 6, fix 4).
 */
export interface InventoryNode {
  readonly region: string;
  readonly cluster: string;
  readonly node: string;
  readonly instanceType: string;
  /** GPUs of the node when the instance type is not in the GPU catalogue (fleet gpusPerNode). */
  readonly gpus?: number;
  readonly team?: string;
  /**
   * The node's last known state carries a fatal fault (fatal Xid still on the gauge, GPU fallen
   * off the bus, row-remap failure): a window in which it sends nothing counts as unhealthy.
   */
  readonly faulted: boolean;
}

/** Configured fleet fields the inventory needs (lambdas/contracts/config.ts fleetSchema). */
export interface InventoryFleet {
  readonly region: string;
  readonly cluster: string;
  readonly instanceType: string;
  readonly gpusPerNode?: number;
  readonly team?: string;
}

const FATAL_OPEN = new Set(['fell_off_bus', 'row_remap_failure']);

/**
 * Every node the detection run remembers (hardware state: each GPU seen within its pruning
 * horizon), with instance type and team from the configured fleet of its region and cluster.
 * GPUs whose key does not parse, or whose cluster is not configured, are returned in `skipped`
 * (counted by the caller, never silently dropped).
 */
export function inventoryFromHardwareState(
  hardware: HardwareState,
  fleets: readonly InventoryFleet[],
): { nodes: InventoryNode[]; skipped: number } {
  const fleetOf = new Map(fleets.map((f) => [`${f.region}|${f.cluster}`, f]));
  const nodes = new Map<string, { node: InventoryNode; faulted: boolean }>();
  let skipped = 0;
  for (const [key, gpu] of Object.entries(hardware.gpus)) {
    const at = parseGpuKey(key);
    const fleet = at === undefined ? undefined : fleetOf.get(`${at.region}|${at.cluster}`);
    if (at === undefined || fleet === undefined) {
      skipped++;
      continue;
    }
    const fatal =
      (gpu.xid !== undefined && gpu.xid > 0 && classifyXid(gpu.xid).fatal) ||
      (gpu.open ?? []).some((c) => FATAL_OPEN.has(c));
    const nodeKey = JSON.stringify([at.region, at.cluster, at.node]);
    const had = nodes.get(nodeKey);
    if (had) {
      had.faulted ||= fatal;
      continue;
    }
    nodes.set(nodeKey, {
      faulted: fatal,
      node: {
        region: at.region,
        cluster: at.cluster,
        node: at.node,
        instanceType: fleet.instanceType,
        ...(fleet.gpusPerNode !== undefined ? { gpus: fleet.gpusPerNode } : {}),
        ...(fleet.team !== undefined ? { team: fleet.team } : {}),
        faulted: false,
      },
    });
  }
  return { nodes: [...nodes.values()].map((n) => ({ ...n.node, faulted: n.faulted })), skipped };
}
