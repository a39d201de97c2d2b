import type { Cause, Severity } from '../contracts/finding';
import { classifyXid } from '../contracts/xid';
import type { SimFleet, SimNode } from './fleet';
import type { FaultKind, FaultSpec } from './scenario';
import type { JobClass } from './workload';

/**
 * Fault semantics that do not need the running simulation: which GPUs a hardware target covers,
 * the per-GPU effects the telemetry model reads, and the ground truth a benchmark scores against
 * (expected cause category and severity per fault).
 *
 * Expected severity (our call, documented in docs/scenarios.md):
 *   page   — the GPU or a big job is lost or burning money now: fatal Xid (per contracts/xid.ts),
 *            ecc_dbe, gpu_fell_off_bus, driver_regression (a fleet-wide failure spike), job_stall
 *            and job_idle of distributed jobs (many GPUs doing nothing).
 *   ticket — degraded but working: SBE storms, thermal and power throttling, stalls and idling of
 *            single-node jobs, checkpoint stalls, data-loader and network slow-downs, scheduler
 *            contention, gaming load, fleet utilisation drops, model drift.
 *   info   — non-fatal application Xids (13, 31, 43, ...).
 */

export type GpuEffectKind =
  | 'xid'
  | 'ecc_dbe'
  | 'sbe_storm'
  | 'thermal'
  | 'power_cap'
  | 'missing'
  | 'gaming'
  | 'nvlink';

export interface GpuEffect {
  readonly faultId: string;
  readonly kind: GpuEffectKind;
  readonly fromMs: number;
  /** Exclusive end; Infinity while open. Counter bumps (ecc_dbe) persist regardless. */
  toMs: number;
  readonly value: number;
}

export interface Expectation {
  readonly cause: Cause;
  readonly severity: Severity;
}

export function expectationFor(
  kind: FaultKind,
  params: Readonly<Record<string, unknown>>,
  jobClass?: JobClass,
): Expectation {
  switch (kind) {
    case 'xid': {
      const info = classifyXid(Number(params.code));
      return { cause: info.action === 'restart-app' ? 'software' : 'hardware', severity: info.severity };
    }
    case 'ecc_dbe':
    case 'gpu_fell_off_bus':
      return { cause: 'hardware', severity: 'page' };
    case 'ecc_sbe_storm':
    case 'thermal_throttle':
    case 'power_cap':
      return { cause: 'hardware', severity: 'ticket' };
    case 'job_stall':
      return { cause: 'software', severity: jobClass === 'distributed' ? 'page' : 'ticket' };
    case 'job_idle':
      return { cause: 'efficiency', severity: jobClass === 'distributed' ? 'page' : 'ticket' };
    case 'checkpoint_stall':
    case 'dataloader_bottleneck':
      return { cause: 'data-io', severity: 'ticket' };
    case 'network_degradation':
      return { cause: 'network', severity: 'ticket' };
    case 'driver_regression':
      return { cause: 'software', severity: 'page' };
    case 'scheduler_contention':
      return { cause: 'scheduling', severity: 'ticket' };
    case 'gaming_dummy_load':
    case 'fleet_utilisation_drop':
      return { cause: 'efficiency', severity: 'ticket' };
    case 'model_drift':
      return { cause: 'model', severity: 'ticket' };
  }
}

/** Whether a fault kind kills the job on the GPUs it hits. */
export function killsJob(spec: FaultSpec): string | undefined {
  switch (spec.kind) {
    case 'xid': {
      const code = Number(spec.params.code);
      const info = classifyXid(code);
      return info.fatal
        ? `AlgorithmError: RuntimeError: CUDA error: Xid ${code} (${info.mnemonic}) on a GPU of this job`
        : undefined;
    }
    case 'ecc_dbe':
      return 'AlgorithmError: RuntimeError: CUDA error: uncorrectable ECC error encountered';
    case 'gpu_fell_off_bus':
      return 'InternalServerError: an instance of the training cluster became unhealthy (GPU not reachable)';
    default:
      return undefined;
  }
}

/** GPUs (dense indexes) a hardware-style target covers: one GPU, a node, or a whole cluster. */
export function gpusOfTarget(fleet: SimFleet, target: FaultSpec['target']): number[] {
  const cluster = target.cluster === undefined ? undefined : fleet.clusters.get(target.cluster);
  if (cluster === undefined) return [];
  const nodes: readonly SimNode[] =
    target.node === undefined ? cluster.nodes : cluster.nodes.filter((n) => n.nodeInCluster === target.node);
  const out: number[] = [];
  for (const n of nodes) {
    if (target.gpu !== undefined) out.push(n.firstGpu + target.gpu);
    else for (let g = 0; g < n.gpuCount; g++) out.push(n.firstGpu + g);
  }
  return out;
}

/** Ground truth for one injected fault, resolved to concrete labels. */
export interface FaultTruth {
  readonly id: string;
  readonly kind: FaultKind;
  readonly atMs: number;
  readonly at: string;
  /** When the fault actually took hold (a job target waits for a matching running job). */
  startedMs?: number;
  /** When its effect ended (planned duration, or the job it hit ended); undefined: still on at run end. */
  endedMs?: number;
  /** 'unresolved': no matching target existed (e.g. no distributed job ran within 30 minutes). */
  status: 'pending' | 'active' | 'ended' | 'unresolved';
  readonly expected: Expectation;
  readonly labels: TruthLabels;
  note?: string;
}

export interface TruthLabels {
  cluster?: string;
  region?: string;
  /** Hostnames hit (one for a node or GPU target, several for a job or cohort). */
  nodes?: string[];
  /** Single node, when exactly one. */
  node?: string;
  /** GPU index within the node, when exactly one GPU. */
  gpu?: string;
  job?: string;
  team?: string;
  jobClass?: JobClass;
  endpoint?: string;
}

export function labelsForGpus(fleet: SimFleet, gpus: readonly number[]): TruthLabels {
  const nodes = [...new Set(gpus.map((g) => fleet.nodeOfGpu[g] as SimNode))];
  const first = nodes[0];
  if (first === undefined) return {};
  const labels: TruthLabels = {
    cluster: first.cluster,
    region: first.region,
    nodes: nodes.map((n) => n.hostname),
  };
  if (nodes.length === 1) labels.node = first.hostname;
  if (gpus.length === 1) labels.gpu = String((gpus[0] as number) - first.firstGpu);
  return labels;
}
