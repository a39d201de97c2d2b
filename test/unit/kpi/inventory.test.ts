import { describe, expect, it } from 'vitest';
import { gpuKey, type HardwareState } from '../../../lambdas/core/detect/hardware/state';
import { inventoryFromHardwareState } from '../../../lambdas/core/kpi/inventory';
import { windowUsage } from '../../../lambdas/core/kpi/window-usage';
import type { GpuSample } from '../../../lambdas/core/model';
import { MIN, T0 } from './fixtures';

/**
 * Issue 6 (S5), fix 4: capacity from the fleet inventory, not from who reported. A node lost to a
 * fatal Xid sends nothing; before the fix it vanished from capacity (goodput's denominator shrank).
 */

const W = { startMs: T0, endMs: T0 + 5 * MIN };
const FLEETS = [{ region: 'us-east-1', cluster: 'train-a', instanceType: 'p5.48xlarge' }];
const loc = (node: string, gpu: string) => ({ cluster: 'train-a', region: 'us-east-1', node, gpu });

function hardware(): HardwareState {
  return {
    version: 1,
    gpus: {
      // node-ok: healthy, reporting. node-lost: GPU 6 fell off the bus (Xid 79) and the node went
      // silent. node-quiet: healthy but sent nothing this window (a telemetry gap, not a fault).
      [gpuKey(loc('node-ok', '0'))]: { seen: T0 - MIN, xid: 0 },
      [gpuKey(loc('node-lost', '0'))]: { seen: T0 - 30 * MIN, xid: 0 },
      [gpuKey(loc('node-lost', '6'))]: { seen: T0 - 30 * MIN, xid: 79, open: ['fell_off_bus'] },
      [gpuKey(loc('node-quiet', '0'))]: { seen: T0 - 30 * MIN },
      // A cluster nobody configured: skipped, and counted.
      [gpuKey({ ...loc('node-x', '0'), cluster: 'gone' })]: { seen: T0 - 30 * MIN },
    },
  };
}

const okSamples: GpuSample[] = [0, 1, 2, 3, 4].map((m) => ({
  time: T0 + m * MIN,
  labels: { cluster: 'train-a', region: 'us-east-1', instanceType: 'p5.48xlarge', node: 'node-ok', gpu: '0' },
  values: { sm_active: 0 },
}));

describe('inventoryFromHardwareState', () => {
  it('lists every remembered node once, flags fatal faults, counts GPUs of unknown fleets', () => {
    const inv = inventoryFromHardwareState(hardware(), FLEETS);
    expect(inv.skipped).toBe(1);
    expect(inv.nodes.map((n) => [n.node, n.faulted]).sort()).toEqual([
      ['node-lost', true],
      ['node-ok', false],
      ['node-quiet', false],
    ]);
    expect(inv.nodes.every((n) => n.instanceType === 'p5.48xlarge')).toBe(true);
  });
});

describe('windowUsage with an inventory', () => {
  const nodesOf = (inventory?: ReturnType<typeof inventoryFromHardwareState>['nodes']) =>
    windowUsage({
      window: W,
      samples: okSamples,
      jobs: [],
      progress: new Map(),
      checkpoints: new Map(),
      maintenance: [],
      ...(inventory ? { inventory } : {}),
    }).nodes;

  it('without one, a silent node is not capacity at all (the old behaviour)', () => {
    expect(nodesOf().map((n) => n.node)).toEqual(['node-ok']);
  });

  it('counts a node lost to a fatal fault as present and unhealthy for the whole window', () => {
    const nodes = nodesOf(inventoryFromHardwareState(hardware(), FLEETS).nodes);
    const lost = nodes.find((n) => n.node === 'node-lost');
    expect(lost).toMatchObject({ gpus: 8, presentMinutes: 5, unhealthyMinutes: 5, hardwareFaults: 0 });
    // A silent node without a known fault is capacity (healthy), not unhealthy.
    expect(nodes.find((n) => n.node === 'node-quiet')).toMatchObject({
      gpus: 8,
      presentMinutes: 5,
      unhealthyMinutes: 0,
    });
    expect(nodes.find((n) => n.node === 'node-ok')).toMatchObject({ presentMinutes: 5, unhealthyMinutes: 0 });
  });

  it('keeps a faulted node in planned maintenance out of unhealthy', () => {
    const inventory = inventoryFromHardwareState(hardware(), FLEETS).nodes;
    const r = windowUsage({
      window: W,
      samples: [],
      jobs: [],
      progress: new Map(),
      checkpoints: new Map(),
      maintenance: [
        {
          start: new Date(T0).toISOString(),
          end: new Date(T0 + 2 * MIN).toISOString(),
          scope: [{ label: 'node', op: '=', value: 'node-lost' }],
        },
      ],
      inventory,
    });
    expect(r.nodes.find((n) => n.node === 'node-lost')).toMatchObject({
      maintenanceMinutes: 2,
      unhealthyMinutes: 3,
    });
  });
});
