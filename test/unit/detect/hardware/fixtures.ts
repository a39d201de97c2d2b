import { type Finding, findingSchema } from '../../../../lambdas/contracts/finding';
import type { Signal } from '../../../../lambdas/contracts/signals';
import {
  detectHardware,
  type HardwareOptions,
  type HardwareState,
} from '../../../../lambdas/core/detect/hardware';
import { hardwareStateSchema } from '../../../../lambdas/core/detect/hardware/state';
import type { GpuLabels, GpuSample } from '../../../../lambdas/core/model';
import { MINUTE_MS } from '../../../../lambdas/core/time';

/** 2026-03-02 10:00 UTC: the start of the first collected window in every test. */
export const T0 = Date.UTC(2026, 2, 2, 10);
export const min = (m: number): number => T0 + m * MINUTE_MS;

export const NODE = 'i-0a1b2c3d4e5f60718';
export const OTHER_NODE = 'i-0f9e8d7c6b5a49382';

export function gpuLabels(gpu: number, over: Partial<GpuLabels> = {}): GpuLabels {
  return {
    cluster: 'train-a',
    region: 'us-east-1',
    instanceType: 'p5.48xlarge',
    node: NODE,
    gpu: String(gpu),
    job: 'llm-pretrain-7b-0412',
    team: 'llm',
    ...over,
  };
}

type Values = Partial<Record<Signal, number>>;

/** A healthy H100 minute under training load. */
export const HEALTHY: Values = {
  gpu_util: 97,
  temperature: 71,
  power: 612,
  xid: 0,
  ecc_sbe: 3,
  ecc_dbe: 0,
  clock_events: 0,
  pcie_replay: 12,
  nvlink_errors: 0,
  row_remap_failure: 0,
};

/** `n` one-minute samples of one GPU from minute `from`; `at(i)` overrides the healthy values of minute i. */
export function minutes(
  gpu: number,
  from: number,
  n: number,
  at: (i: number) => Values = () => ({}),
  over: Partial<GpuLabels> = {},
): GpuSample[] {
  return Array.from({ length: n }, (_, i) => ({
    time: min(from + i),
    labels: gpuLabels(gpu, over),
    values: { ...HEALTHY, ...at(i) },
  }));
}

/** Healthy samples for GPUs `gpus` of a node over a window. */
export function node(
  gpus: readonly number[],
  from: number,
  n: number,
  over: Partial<GpuLabels> = {},
): GpuSample[] {
  return gpus.flatMap((g) => minutes(g, from, n, () => ({}), over));
}

export interface Run {
  readonly samples: readonly GpuSample[];
  /** Clock of the run; defaults to one minute after the newest sample. */
  readonly nowMs?: number;
}

/**
 * Runs the detector over consecutive windows, passing the state through JSON as the store would.
 * Every finding must satisfy the contract schema; returns the findings of each run.
 */
export function runAll(
  runs: readonly Run[],
  options?: HardwareOptions,
  initial?: HardwareState,
): { perRun: Finding[][]; state: HardwareState } {
  let state = initial;
  const perRun: Finding[][] = [];
  for (const r of runs) {
    const newest = Math.max(T0, ...r.samples.map((s) => s.time));
    const out = detectHardware({ samples: r.samples, state, nowMs: r.nowMs ?? newest + MINUTE_MS, options });
    for (const f of out.findings) findingSchema.parse(f);
    const json = JSON.parse(JSON.stringify(out.state)) as unknown;
    state = hardwareStateSchema.parse(json);
    perRun.push(out.findings);
  }
  return { perRun, state: state ?? { version: 1, gpus: {} } };
}

export const kinds = (fs: readonly Finding[]): string[] => fs.map((f) => f.kind);
