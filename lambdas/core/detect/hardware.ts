import type { Finding } from '../../contracts/finding';
import type { GpuSample } from '../model';
import { MINUTE_MS } from '../time';
import { checkGpu } from './hardware/checks';
import { hardwareFinding } from './hardware/finding';
import {
  emptyHardwareState,
  type GpuState,
  gpuKey,
  type HardwareOptions,
  type HardwareState,
  nodeKey,
  parseGpuKey,
  resolveHardwareOptions,
} from './hardware/state';

export { decodeClockEvents, THROTTLE_CLASSES } from './hardware/checks';
export {
  DEFAULT_HARDWARE_OPTIONS,
  emptyHardwareState,
  type GpuState,
  gpuKey,
  type HardwareOptions,
  type HardwareState,
  hardwareStateSchema,
} from './hardware/state';

/**
 * GPU hardware faults over one collected window: Xid codes by NVIDIA's recommended action, ECC
 * (uncorrectable, correctable rate), row remap failure, throttling and heat with their duration,
 * PCIe replay and NVLink error rates, and GPUs that fell off the bus.
 *
 * Each condition is reported once when it starts (state remembers what was reported) and re-armed
 * when it clears; the router dedups anyway, but one page per fault keeps the audit trail honest.
 */
export interface HardwareInput {
  /** One collected window, any order, usually several minutes. */
  readonly samples: readonly GpuSample[];
  readonly state: HardwareState | undefined;
  /** The run's clock (epoch ms): stamps findings and ages out forgotten GPUs. */
  readonly nowMs: number;
  readonly options?: HardwareOptions;
}

export function detectHardware(input: HardwareInput): { findings: Finding[]; state: HardwareState } {
  const o = resolveHardwareOptions(input.options);
  const prev = input.state ?? emptyHardwareState();
  const byGpu = new Map<string, GpuSample[]>();
  // Any series of a node, per-host ones ('all') included, proves that the node still reports.
  const reporting = new Map<string, number>();
  // The collector hands out one labels object per series, shared by its samples: build the two
  // JSON keys once per labels object, not twice per sample (this loop sees every sample).
  const keysOf = new Map<GpuSample['labels'], { node: string; gpu: string | undefined }>();
  for (const s of input.samples) {
    let keys = keysOf.get(s.labels);
    if (keys === undefined) {
      keys = { node: nodeKey(s.labels), gpu: s.labels.gpu === 'all' ? undefined : gpuKey(s.labels) };
      keysOf.set(s.labels, keys);
    }
    const n = keys.node;
    reporting.set(n, Math.max(reporting.get(n) ?? 0, s.time + MINUTE_MS));
    if (keys.gpu === undefined) continue;
    const k = keys.gpu;
    const list = byGpu.get(k);
    if (list) list.push(s);
    else byGpu.set(k, [s]);
  }

  const findings: Finding[] = [];
  const gpus: Record<string, GpuState> = {};
  for (const [key, samples] of byGpu) {
    samples.sort((a, b) => a.time - b.time);
    const r = checkGpu({ samples, prev: prev.gpus[key], options: o }, input.nowMs);
    findings.push(...r.findings);
    gpus[key] = r.state;
  }

  for (const [key, old] of Object.entries(prev.gpus)) {
    if (byGpu.has(key) || input.nowMs - old.seen > o.forgetAfterMs) continue;
    const loc = parseGpuKey(key);
    if (!loc) continue;
    const nodeEnd = reporting.get(nodeKey(loc));
    // Silent with the rest of its node: the node is down or unreachable, a different finding.
    if (nodeEnd === undefined || old.open?.includes('fell_off_bus')) {
      gpus[key] = old;
      continue;
    }
    const lastSeen = old.seen + MINUTE_MS;
    findings.push(
      hardwareFinding(
        {
          kind: 'gpu.fell_off_bus',
          severity: 'page',
          cause: 'hardware',
          title: `Drain node ${loc.node}: GPU ${loc.gpu} stopped reporting (fell off the bus?)`,
          summary: `GPU ${loc.gpu} on node ${loc.node} has sent no samples for ${Math.round((nodeEnd - lastSeen) / MINUTE_MS)} min while the node's other series still report. This is how Xid 79 (GPU fallen off the bus) looks from outside. Drain node ${loc.node} and reboot or replace the host.`,
          labels: { ...loc, ...(old.team ? { team: old.team } : {}) },
          window: { startMs: lastSeen, endMs: nodeEnd },
          values: { silentMinutes: Math.max(0, Math.round((nodeEnd - lastSeen) / MINUTE_MS)) },
        },
        input.nowMs,
      ),
    );
    gpus[key] = { ...old, open: [...(old.open ?? []), 'fell_off_bus'] };
  }

  return { findings, state: { version: prev.version, gpus } };
}
