import { z } from 'zod';
import { DAY_MS, MINUTE_MS } from '../../time';

/**
 * Per-GPU memory of the hardware detectors, carried from one run to the next. It is read and
 * written once per run (single writer), so it stays small: a few numbers per GPU, JSON-safe.
 */

const epochMs = z.int().min(0);

/** Last reading of a monotonic counter, so the next run can measure the increase across the boundary. */
const counterSchema = z.strictObject({ v: z.number().min(0), t: epochMs });

/** A run of consecutive affected minutes: first minute, last minute, already reported. */
const episodeSchema = z.strictObject({ s: epochMs, l: epochMs, r: z.boolean() });

export const COUNTER_SIGNALS = ['ecc_dbe', 'ecc_sbe', 'pcie_replay', 'nvlink_errors'] as const;
export type CounterSignal = (typeof COUNTER_SIGNALS)[number];

export const EPISODE_NAMES = ['thermal', 'power', 'hw_slowdown', 'temperature'] as const;
export type EpisodeName = (typeof EPISODE_NAMES)[number];

/** Conditions that were reported and are still present: reported once, re-armed when they clear. */
export const OPEN_CONDITIONS = [
  'row_remap_failure',
  'ecc_correctable_rate',
  'pcie_replay',
  'nvlink_errors',
  'fell_off_bus',
] as const;
export type OpenCondition = (typeof OPEN_CONDITIONS)[number];

export const gpuStateSchema = z.strictObject({
  /** Last minute a sample of this GPU was seen. */
  seen: epochMs,
  team: z.string().min(1).optional(),
  /** Last Xid code reported (0 once the gauge cleared), so a code that stays on the gauge is reported once. */
  xid: z.int().min(0).optional(),
  counters: z.partialRecord(z.enum(COUNTER_SIGNALS), counterSchema).optional(),
  /** Smoothed recent correctable-ECC rate per hour, the yardstick for "rising". */
  sbeRate: z.number().min(0).optional(),
  episodes: z.partialRecord(z.enum(EPISODE_NAMES), episodeSchema).optional(),
  open: z.array(z.enum(OPEN_CONDITIONS)).optional(),
});
export type GpuState = z.output<typeof gpuStateSchema>;
export type Episode = z.output<typeof episodeSchema>;
export type CounterReading = z.output<typeof counterSchema>;

export const HARDWARE_STATE_VERSION = 1;

export const hardwareStateSchema = z.strictObject({
  version: z.literal(HARDWARE_STATE_VERSION),
  /** Keyed by gpuKey(): cluster, region, node and GPU index. */
  gpus: z.record(z.string().min(1), gpuStateSchema),
});
export type HardwareState = z.output<typeof hardwareStateSchema>;

export function emptyHardwareState(): HardwareState {
  return { version: HARDWARE_STATE_VERSION, gpus: {} };
}

export interface GpuLocation {
  readonly cluster: string;
  readonly region: string;
  readonly node: string;
  readonly gpu: string;
}

// A JSON array, not a joined string: node names and clusters may contain any separator.
export function gpuKey(l: GpuLocation): string {
  return JSON.stringify([l.cluster, l.region, l.node, l.gpu]);
}

export function nodeKey(l: Omit<GpuLocation, 'gpu'>): string {
  return JSON.stringify([l.cluster, l.region, l.node]);
}

const keySchema = z.tuple([z.string(), z.string(), z.string(), z.string()]);

export function parseGpuKey(key: string): GpuLocation | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(key);
  } catch {
    return undefined;
  }
  const r = keySchema.safeParse(raw);
  if (!r.success) return undefined;
  const [cluster, region, node, gpu] = r.data;
  return { cluster, region, node, gpu };
}

export interface HardwareOptions {
  /** Correctable ECC errors per hour that open a ticket on their own. @default 100 */
  readonly eccCorrectablePerHour?: number;
  /** "Rising": this many times the GPU's recent rate... @default 5 */
  readonly eccCorrectableRiseFactor?: number;
  /** ...and at least this many per hour, so 0 → 2/h is not news. @default 20 */
  readonly eccCorrectableRiseMinPerHour?: number;
  /** Weight of the newest run in the recent correctable rate (exponential smoothing). @default 0.1 */
  readonly eccRateSmoothing?: number;
  /** Counter data must span at least this long before a rate is judged. @default 3 minutes */
  readonly minRateSpanMs?: number;
  /** PCIe replays per minute that open a ticket (DCGM's health watch uses 8/min). @default 8 */
  readonly pcieReplayPerMinute?: number;
  /** NVLink CRC/replay/recovery errors per minute that open a ticket. @default 10 */
  readonly nvlinkErrorsPerMinute?: number;
  /** Throttling shorter than this is normal boost behaviour, not a ticket. @default 5 minutes */
  readonly throttleMinMs?: number;
  /** Temperature above the GPU's slowdown limit for at least this long. @default 3 minutes */
  readonly temperatureMinMs?: number;
  /** Slowdown temperature per instance type, overriding the GPU catalogue. @default - the catalogue */
  readonly slowdownTempC?: Readonly<Record<string, number>>;
  /** A gap up to this long (missing minutes) does not end a throttle/temperature episode. @default 2 minutes */
  readonly maxEpisodeGapMs?: number;
  /** A GPU not seen for this long is forgotten (no more "fell off the bus"). @default 24 hours */
  readonly forgetAfterMs?: number;
}

export const DEFAULT_HARDWARE_OPTIONS = {
  eccCorrectablePerHour: 100,
  eccCorrectableRiseFactor: 5,
  eccCorrectableRiseMinPerHour: 20,
  eccRateSmoothing: 0.1,
  minRateSpanMs: 3 * MINUTE_MS,
  pcieReplayPerMinute: 8,
  nvlinkErrorsPerMinute: 10,
  throttleMinMs: 5 * MINUTE_MS,
  temperatureMinMs: 3 * MINUTE_MS,
  slowdownTempC: {} as Readonly<Record<string, number>>,
  maxEpisodeGapMs: 2 * MINUTE_MS,
  forgetAfterMs: DAY_MS,
} satisfies Required<HardwareOptions>;

export type ResolvedHardwareOptions = typeof DEFAULT_HARDWARE_OPTIONS;

export function resolveHardwareOptions(options: HardwareOptions | undefined): ResolvedHardwareOptions {
  const defined = Object.fromEntries(Object.entries(options ?? {}).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_HARDWARE_OPTIONS, ...defined };
}
