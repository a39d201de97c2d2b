import { FINDING_SCHEMA_VERSION, type Finding } from '../../contracts/finding';
import type { GpuSample } from '../model';
import { roundTo } from '../numbers';
import { MINUTE_MS } from '../time';
import { type BusyRun, EFFICIENCY_DEFAULTS, isBusyNotWorking, longestRun } from './efficiency';
import { tdpOf } from './jobs';

/**
 * Busy-not-working load on GPUs that no training job can be credited with: gpu_util pinned high
 * while sm_active, tensor_active and power say the GPU does almost nothing.
 *
 * The per-job check (efficiency.ts) only sees samples attributed to a job. A utilisation burner
 * ("gaming" the utilisation KPI, or holding GPUs so that nobody else gets them) typically runs
 * OUTSIDE any training job, and with node-level dcgm-exporter profiles a GPU on a node shared by
 * several sub-node jobs cannot be attributed either; both are invisible to the per-job check.
 * This check judges those GPUs one by one.
 *
 *   ─ minute ─ busy-not-working? ─ run carried across windows (detection state) ─ ≥ minMinutes ─► finding
 *
 * Shorter than the per-job 15 minutes (10 by default): there is no job whose evaluation or
 * start-up phase could explain a quiet SM under a busy gpu_util, and real data-loader dips last a
 * minute or two, not ten. A job found hung or stalled on the same node in the same run is
 * reported by the job detectors instead (run-detectors drops the GPU finding then): a collective
 * deadlock spins exactly like a burner.
 */

export interface UnattributedLoadOptions {
  /** Consecutive minutes (gaps up to 2 min tolerated) a GPU must look busy-not-working. @default 10 */
  readonly minMinutes?: number;
}

export const UNATTRIBUTED_LOAD_DEFAULTS = { minMinutes: 10 } as const;

/** Key of one GPU in the carried runs: region, cluster, node, gpu. */
export function gpuRunKey(s: GpuSample): string {
  return JSON.stringify([s.labels.region, s.labels.cluster, s.labels.node, s.labels.gpu]);
}

export interface UnattributedLoadInput {
  /** Per-GPU samples of the window that no job was credited with. */
  readonly samples: readonly GpuSample[];
  /** Runs still going at the end of the last window, by gpuRunKey. */
  readonly carried: Readonly<Record<string, BusyRun>>;
  readonly window: { readonly startMs: number; readonly endMs: number };
  readonly nowMs: number;
  readonly options?: UnattributedLoadOptions;
}

export function detectUnattributedLoad(input: UnattributedLoadInput): {
  findings: Finding[];
  /** Runs going at the window's end, by gpuRunKey: the next run's `carried`. */
  runs: Record<string, BusyRun>;
} {
  const minMinutes = input.options?.minMinutes ?? UNATTRIBUTED_LOAD_DEFAULTS.minMinutes;
  const byGpu = new Map<string, GpuSample[]>();
  for (const s of input.samples) {
    if (s.labels.gpu === 'all') continue;
    const key = gpuRunKey(s);
    const list = byGpu.get(key);
    if (list) list.push(s);
    else byGpu.set(key, [s]);
  }
  const findings: Finding[] = [];
  const runs: Record<string, BusyRun> = {};
  for (const [key, series] of [...byGpu.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    series.sort((a, b) => a.time - b.time);
    const pred = (s: GpuSample) => isBusyNotWorking(s, EFFICIENCY_DEFAULTS);
    const r = longestRun(series, pred, input.carried[key]);
    if (r.open) runs[key] = r.open;
    if (r.minutes < minMinutes) continue;
    const hit = series.filter(pred);
    const last = series[series.length - 1] as GpuSample;
    const { region, cluster, node, gpu, instanceType } = last.labels;
    const tdp = tdpOf(last);
    const mean = (f: (s: GpuSample) => number | undefined) => {
      const xs = hit.map(f).filter((v): v is number => v !== undefined);
      return xs.length > 0 ? roundTo(xs.reduce((a, b) => a + b, 0) / xs.length, 3) : undefined;
    };
    const util = mean((s) => s.values.gpu_util);
    const sm = mean((s) => s.values.sm_active);
    const watts = mean((s) => s.values.power);
    const fromMs = r.open?.[0] ?? Math.max(input.window.startMs, input.nowMs - r.minutes * MINUTE_MS);
    findings.push({
      schemaVersion: FINDING_SCHEMA_VERSION,
      kind: 'efficiency.busy_not_working',
      severity: 'ticket',
      cause: 'efficiency',
      title:
        `GPU ${gpu} on ${node} busy (≥ ${EFFICIENCY_DEFAULTS.busyUtilMin} %) with idle SMs for ${r.minutes} min; no training job holds it`.slice(
          0,
          200,
        ),
      summary: `For ${r.minutes} consecutive minutes GPU ${gpu} of ${node} (${instanceType}, cluster ${cluster}) reported gpu_util ≥ ${EFFICIENCY_DEFAULTS.busyUtilMin} % with sm_active < ${EFFICIENCY_DEFAULTS.busySmMax}, tensor_active < ${EFFICIENCY_DEFAULTS.busyTensorMax}${tdp ? ` and < ${Math.round(EFFICIENCY_DEFAULTS.busyPowerShareMax * 100)} % of its ${tdp} W TDP` : ''}, and no running training job could be credited with this GPU. That is the signature of a utilisation burner (load that keeps the GPU "busy" without work). Check which process holds the GPU (nvidia-smi, DCGM per-process stats) and who owns it.`,
      labels: { region, cluster, node, gpu },
      evidence: {
        window: { startMs: Math.min(fromMs, input.nowMs), endMs: input.nowMs },
        values: {
          minutes: r.minutes,
          ...(util === undefined ? {} : { meanGpuUtil: util }),
          ...(sm === undefined ? {} : { meanSmActive: sm }),
          ...(watts === undefined ? {} : { meanPowerWatts: watts }),
          ...(tdp ? { tdpWatts: tdp } : {}),
        },
        detail: `not attributable to a training job (no job label; the node hosts no placed job, or several share it); threshold ${minMinutes} consecutive minutes`,
      },
      runbook: 'docs/runbooks/efficiency.busy_not_working.md',
      detectedAt: input.nowMs,
    });
  }
  return { findings, runs };
}
