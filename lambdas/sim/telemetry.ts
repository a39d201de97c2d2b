import type { Signal } from '../contracts/signals';
import type { GpuEffect } from './faults';
import type { SimNode } from './fleet';
import { noise, noiseNormal } from './rng';
import { CLASS_PROFILES, type SecondaryStatus, type SimJob } from './workload';

/**
 * The GPU telemetry model: the value of every DCGM field for one GPU in one minute, computed on
 * demand from what the GPU was doing (idle, a job in some phase, faults) and stateless noise, so
 * any minute within retention can be produced lazily and identically.
 *
 * Power follows activity between an idle floor (~10 % TDP) and ~95 % TDP; temperature follows
 * power from a per-GPU ambient towards a few degrees under the slowdown temperature. Counters
 * (ECC, PCIe replay, NVLink) are closed-form sums over fault intervals, so they are monotonic
 * without carrying state.
 */

/** Clock event reason bits (DCGM_FI_DEV_CLOCKS_EVENT_REASONS). */
export const CLOCK_EVENT = {
  gpuIdle: 0x1,
  swPowerCap: 0x4,
  hwSlowdown: 0x8,
  swThermal: 0x20,
  hwThermal: 0x40,
  hwPowerBrake: 0x80,
} as const;

export type GpuValues = Partial<Record<Signal, number>>;

/**
 * What a data-loader bottleneck and a network degradation leave of a training job's SM activity
 * (the share of step time spent computing shrinks by this factor). The step-time breakdown the
 * simulated jobs publish (step-time.ts) uses the same factors, so both signals tell one story.
 */
export const DATALOADER_SM_FACTOR = 0.35;
export const NETWORK_SM_FACTOR = 0.6;

export interface GpuMinuteContext {
  readonly seedKey: number;
  readonly node: SimNode;
  /** Dense GPU index. */
  readonly gpu: number;
  readonly minute: number;
  readonly tMs: number;
  readonly job?: SimJob;
  readonly phase?: SecondaryStatus;
  readonly effects: readonly GpuEffect[];
}

/** Third noise coordinate for per-GPU constants (ambient temperature, base counters). */
const PER_GPU = 0x7fffffff;

const SIG = {
  util: 1,
  sm: 2,
  tensor: 3,
  fb: 4,
  temp: 5,
  power: 6,
  clock: 7,
  ambient: 8,
  sbeBase: 9,
  pcieBase: 10,
  nvlinkBase: 11,
  healthy: 12,
} as const;

/** Values for one GPU-minute; undefined when the GPU does not report (fallen off the bus). */
export function gpuMinute(ctx: GpuMinuteContext): GpuValues | undefined {
  const { seedKey, node, gpu, minute, tMs, job, phase } = ctx;
  // n(): per-minute noise, nn(): per-minute normal noise, g(): per-GPU constants (inlined calls:
  // closures here would be allocated for every GPU-minute).

  let xid = 0;
  let dbe = 0;
  let sbe =
    noise(seedKey, gpu, PER_GPU, SIG.sbeBase) < 0.75
      ? 0
      : Math.floor(noise(seedKey, gpu, PER_GPU, SIG.sbeBase + 100) * 40);
  let nvlink =
    noise(seedKey, gpu, PER_GPU, SIG.nvlinkBase) < 0.9
      ? 0
      : Math.floor(noise(seedKey, gpu, PER_GPU, SIG.nvlinkBase + 100) * 12);
  const pcie =
    noise(seedKey, gpu, PER_GPU, SIG.pcieBase) < 0.85
      ? 0
      : Math.floor(noise(seedKey, gpu, PER_GPU, SIG.pcieBase + 100) * 30);
  let thermal: GpuEffect | undefined;
  let powerCap: GpuEffect | undefined;
  let gaming = false;
  for (const e of ctx.effects) {
    const open = tMs >= e.fromMs && tMs < e.toMs;
    switch (e.kind) {
      case 'missing':
        if (open) return undefined;
        break;
      case 'xid':
        if (open) xid = e.value;
        break;
      case 'ecc_dbe':
        if (tMs >= e.fromMs) dbe += e.value;
        break;
      case 'sbe_storm':
        sbe += Math.floor(e.value * overlapMinutes(e, tMs));
        break;
      case 'nvlink':
        nvlink += Math.floor(e.value * overlapMinutes(e, tMs));
        break;
      case 'thermal':
        if (open) thermal = e;
        break;
      case 'power_cap':
        if (open) powerCap = e;
        break;
      case 'gaming':
        if (open) gaming = true;
        break;
    }
  }

  const spec = node.spec;
  let util = 0;
  let sm = 0;
  let tensor = 0;
  let memShare = 0.006;
  // The dummy load runs on GPUs no job holds (they are reserved from the onset).
  const dummy = gaming && job === undefined;
  if (dummy) {
    util = 99 + noise(seedKey, gpu, minute, SIG.util);
    sm = 0.03 + 0.02 * noise(seedKey, gpu, minute, SIG.sm);
    tensor = 0;
    memShare = 0.05;
  } else if (job !== undefined && phase !== undefined) {
    const p = CLASS_PROFILES[job.cls];
    memShare = phase === 'Training' ? job.memoryShare : 0.02;
    if (phase === 'Training') {
      const k = job.intensity;
      util = lerp(p.util[0], p.util[1], k) + 2 * noiseNormal(seedKey, gpu, minute, SIG.util);
      sm = lerp(p.sm[0], p.sm[1], k) + 0.03 * noiseNormal(seedKey, gpu, minute, SIG.sm);
      tensor = lerp(p.tensor[0], p.tensor[1], k) + 0.03 * noiseNormal(seedKey, gpu, minute, SIG.tensor);
      if (minute % job.dipEveryMinutes === 0) {
        // Data-loader dip (epoch boundary, evaluation, shard switch).
        util *= 0.55;
        sm *= 0.45;
        tensor *= 0.4;
      }
      for (const logged of job.effectLog) {
        if (tMs < logged.fromMs || tMs >= logged.toMs) continue;
        const e = logged.effect;
        if (e.kind === 'stall') {
          util = 98 + 2 * noise(seedKey, gpu, minute, SIG.util);
          sm = 0.08 + 0.04 * noise(seedKey, gpu, minute, SIG.sm);
          tensor = 0.002 * noise(seedKey, gpu, minute, SIG.tensor);
        } else if (e.kind === 'idle') {
          util = 0;
          sm = 0;
          tensor = 0;
        } else if (e.kind === 'dataloader') {
          util = 35 + 35 * noise(seedKey, gpu, minute, SIG.util);
          sm *= DATALOADER_SM_FACTOR;
          tensor *= 0.3;
        } else if (e.kind === 'network') {
          util *= 0.75;
          sm *= NETWORK_SM_FACTOR;
          tensor *= 0.55;
        }
      }
    } else if (phase === 'Downloading' || phase === 'Uploading') {
      util = 2 * noise(seedKey, gpu, minute, SIG.util);
      sm = 0.01 * noise(seedKey, gpu, minute, SIG.sm);
    }
  }
  if (thermal) sm *= 0.8;
  if (powerCap) sm *= 0.85;
  util = clamp(util, 0, 100);
  sm = clamp(sm, 0, 1);
  tensor = clamp(Math.min(tensor, sm), 0, 1);

  const idleW = 0.1 * spec.tdpWatts;
  let power = idleW + (0.95 * spec.tdpWatts - idleW) * clamp(0.25 * (util / 100) + 0.75 * sm, 0, 1);
  if (dummy) power = 0.32 * spec.tdpWatts;
  power *= 1 + 0.02 * noiseNormal(seedKey, gpu, minute, SIG.power);
  let clock = util < 1 ? CLOCK_EVENT.gpuIdle : 0;
  if (power > 0.9 * spec.tdpWatts && noise(seedKey, gpu, minute, SIG.clock) < 0.3)
    clock |= CLOCK_EVENT.swPowerCap;
  if (powerCap) {
    const cap = powerCap.value > 0 ? powerCap.value : 0.55 * spec.tdpWatts;
    power = Math.min(power, cap * (1 + 0.01 * noiseNormal(seedKey, gpu, minute, SIG.power)));
    clock |= CLOCK_EVENT.hwPowerBrake | CLOCK_EVENT.swPowerCap;
    clock &= ~CLOCK_EVENT.gpuIdle;
  }

  const ambient = 27 + 6 * noise(seedKey, gpu, PER_GPU, SIG.ambient);
  const hot = spec.slowdownTempC - 8;
  let temp =
    ambient + (hot - ambient) * (power / spec.tdpWatts) + 0.8 * noiseNormal(seedKey, gpu, minute, SIG.temp);
  if (thermal) {
    const target = thermal.value > 0 ? thermal.value : spec.slowdownTempC + 3;
    temp = target + noiseNormal(seedKey, gpu, minute, SIG.temp);
    clock |= CLOCK_EVENT.swThermal | CLOCK_EVENT.hwThermal;
    clock &= ~CLOCK_EVENT.gpuIdle;
  }

  return {
    gpu_util: Math.round(util),
    sm_active: round(sm, 4),
    tensor_active: round(tensor, 4),
    fb_used: Math.round(spec.memoryMiB * memShare * (1 + 0.01 * noise(seedKey, gpu, minute, SIG.fb))),
    fb_total: spec.memoryMiB,
    temperature: Math.round(temp),
    power: round(Math.max(0, power), 2),
    xid,
    ecc_sbe: sbe,
    ecc_dbe: dbe,
    clock_events: clock,
    pcie_replay: pcie,
    nvlink_errors: nvlink,
    remapped_rows: dbe,
    row_remap_failure: 0,
  };
}

/** Minutes of an effect's interval up to and including minute t. */
function overlapMinutes(e: GpuEffect, tMs: number): number {
  const end = Math.min(e.toMs, tMs + 60_000);
  return end > e.fromMs ? (end - e.fromMs) / 60_000 : 0;
}

function lerp(a: number, b: number, k: number): number {
  return a + (b - a) * k;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
