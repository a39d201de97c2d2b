/**
 * Canonical GPU signals. Every metric source profile maps its own metric names onto these, so
 * detectors, the sink schema and dashboards speak one vocabulary whatever the telemetry path.
 *
 * `min`/`max` bound what a real device can report; a value outside is rejected at collection
 * (counted and logged), never written. `integer` signals are codes, bitmasks or counters.
 */
export const SIGNALS = {
  gpu_util: { unit: 'percent', min: 0, max: 100, description: 'Share of time one or more kernels ran' },
  sm_active: {
    unit: 'ratio',
    min: 0,
    max: 1,
    description: 'Fraction of cycles with a warp resident on an SM',
  },
  tensor_active: {
    unit: 'ratio',
    min: 0,
    max: 1,
    description: 'Fraction of cycles the tensor pipes were active',
  },
  fb_used: { unit: 'MiB', min: 0, max: 1_048_576, description: 'Frame buffer (device memory) in use' },
  fb_total: { unit: 'MiB', min: 0, max: 1_048_576, description: 'Frame buffer (device memory) size' },
  temperature: { unit: 'celsius', min: -40, max: 200, description: 'GPU die temperature' },
  power: { unit: 'watts', min: 0, max: 5_000, description: 'Board power draw' },
  xid: {
    unit: 'code',
    min: 0,
    max: 100_000,
    integer: true,
    description: 'Last Xid error code seen (0 = none)',
  },
  ecc_sbe: {
    unit: 'count',
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    description: 'Correctable (single-bit) ECC errors, volatile total',
  },
  ecc_dbe: {
    unit: 'count',
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    description: 'Uncorrectable (double-bit) ECC errors, volatile total',
  },
  clock_events: {
    unit: 'bitmask',
    min: 0,
    max: 0xffff_ffff,
    integer: true,
    description: 'Clock event (throttle) reasons bitmask',
  },
  pcie_replay: {
    unit: 'count',
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    description: 'PCIe replay (retry) counter',
  },
  nvlink_errors: {
    unit: 'count',
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    description: 'NVLink CRC/replay/recovery error counter',
  },
  remapped_rows: {
    unit: 'count',
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    description: 'Rows remapped after uncorrectable errors',
  },
  row_remap_failure: {
    unit: 'flag',
    min: 0,
    max: 1,
    integer: true,
    description: '1 when a row remap failed (GPU needs service)',
  },
} as const satisfies Record<string, SignalSpec>;

export interface SignalSpec {
  readonly unit: string;
  readonly min: number;
  readonly max: number;
  readonly integer?: boolean;
  readonly description: string;
}

export type Signal = keyof typeof SIGNALS;
export const SIGNAL_NAMES = Object.keys(SIGNALS) as Signal[];

export function isSignal(name: string): name is Signal {
  return Object.hasOwn(SIGNALS, name);
}
