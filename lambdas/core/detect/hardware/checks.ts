import type { Cause, Finding } from '../../../contracts/finding';
import { gpuInstanceSpec } from '../../../contracts/gpu-catalogue';
import { classifyXid, KNOWN_XID_CODES, type XidInfo } from '../../../contracts/xid';
import type { GpuLabels, GpuSample } from '../../model';
import { HOUR_MS, MINUTE_MS } from '../../time';
import { type HardwareFindingSpec, hardwareFinding } from './finding';
import { advanceEpisode, counterChange, episodeDurationMs } from './series';
import type {
  CounterReading,
  CounterSignal,
  Episode,
  EpisodeName,
  GpuState,
  OpenCondition,
  ResolvedHardwareOptions,
} from './state';

/** Clock event reason bits (DCGM_FI_DEV_CLOCKS_EVENT_REASONS) grouped by cause; idle (0x1) and app clocks (0x2) are not faults. */
export const THROTTLE_CLASSES = [
  { name: 'thermal', kind: 'gpu.throttle.thermal', bits: 0x20 | 0x40, what: 'thermally throttled' },
  { name: 'power', kind: 'gpu.throttle.power', bits: 0x04 | 0x80, what: 'power throttled' },
  { name: 'hw_slowdown', kind: 'gpu.throttle.hw_slowdown', bits: 0x08, what: 'in hardware slowdown' },
] as const satisfies readonly { name: EpisodeName; kind: string; bits: number; what: string }[];

const CLOCK_EVENT_NAMES: readonly [number, string][] = [
  [0x1, 'gpu_idle'],
  [0x2, 'clocks_setting'],
  [0x4, 'sw_power_cap'],
  [0x8, 'hw_slowdown'],
  [0x10, 'sync_boost'],
  [0x20, 'sw_thermal'],
  [0x40, 'hw_thermal'],
  [0x80, 'hw_power_brake'],
  [0x100, 'display_clocks'],
];

export function decodeClockEvents(mask: number): string[] {
  return CLOCK_EVENT_NAMES.filter(([bit]) => (mask & bit) !== 0).map(([, name]) => name);
}

/** Counters judged as a rate per minute against a threshold. */
const RATE_CHECKS = [
  {
    signal: 'pcie_replay',
    kind: 'gpu.pcie_replay.rate',
    open: 'pcie_replay',
    limit: (o: ResolvedHardwareOptions) => o.pcieReplayPerMinute,
    what: 'PCIe replays',
    why: 'the link retries transfers: check seating, riser and the PCIe switch',
    cause: 'hardware',
  },
  {
    signal: 'nvlink_errors',
    kind: 'gpu.nvlink.error_rate',
    open: 'nvlink_errors',
    limit: (o: ResolvedHardwareOptions) => o.nvlinkErrorsPerMinute,
    what: 'NVLink errors',
    why: 'collective bandwidth drops and a link may fail: check the NVSwitch/NVLink health',
    // NVLink/NVSwitch is the GPU communication fabric: its errors slow training through the
    // collectives (all-reduce retries), the question 'network or not?' is about exactly that, and
    // the fix belongs to whoever owns the interconnect (fabric manager, NVSwitch trays), not to a
    // GPU swap. PCIe replays stay 'hardware': the host link of one GPU.
    cause: 'network',
  },
] as const satisfies readonly {
  signal: CounterSignal;
  kind: string;
  open: OpenCondition;
  limit: (o: ResolvedHardwareOptions) => number;
  what: string;
  why: string;
  cause: Cause;
}[];

type Out = HardwareFindingSpec;

/** The sample series of one GPU in one window (time-ordered, non-empty) with its state from the last run. */
export interface GpuWindow {
  readonly samples: readonly GpuSample[];
  readonly prev: GpuState | undefined;
  readonly options: ResolvedHardwareOptions;
}

export function checkGpu(w: GpuWindow, nowMs: number): { findings: Finding[]; state: GpuState } {
  const { samples, prev, options: o } = w;
  const last = samples[samples.length - 1] as GpuSample;
  const labels = last.labels;
  const window = { startMs: (samples[0] as GpuSample).time, endMs: last.time + MINUTE_MS };
  const where = `GPU ${labels.gpu} on node ${labels.node}`;
  const open = new Set<OpenCondition>(prev?.open ?? []);
  const out: Out[] = [];

  // Xid: the gauge holds the last code seen, so only a change is news.
  let xid = prev?.xid;
  for (const s of samples) {
    const v = s.values.xid;
    if (v === undefined) continue;
    const code = Math.trunc(v);
    if (code !== 0 && code !== xid) {
      out.push(xidFinding(classifyXid(code), s.labels, { startMs: s.time, endMs: window.endMs }));
    }
    xid = code;
  }

  // Counters: extend each with the previous run's last reading so an increase at the boundary counts.
  const counters: Partial<Record<CounterSignal, CounterReading>> = { ...prev?.counters };
  const change = (signal: CounterSignal) => {
    const before = prev?.counters?.[signal];
    const readings: CounterReading[] = before ? [before] : [];
    for (const s of samples) {
      const v = s.values[signal];
      // A re-collected minute (backfill overlap) was already counted.
      if (v !== undefined && (before === undefined || s.time > before.t)) readings.push({ v, t: s.time });
    }
    const c = counterChange(readings);
    if (c) counters[signal] = c.last;
    return c;
  };

  const dbe = change('ecc_dbe');
  if (dbe && dbe.increase > 0) {
    out.push({
      kind: 'gpu.ecc.uncorrectable',
      severity: 'page',
      cause: 'hardware',
      title: `Drain node ${labels.node}: ${dbe.increase} uncorrectable ECC error(s) on GPU ${labels.gpu}`,
      summary: `${where} counted ${dbe.increase} uncorrectable (double-bit) ECC error(s). Drain node ${labels.node}, then reset GPU ${labels.gpu}; if errors return, replace it.`,
      labels,
      window: { startMs: dbe.first.t, endMs: dbe.last.t + MINUTE_MS },
      values: { increase: dbe.increase, counter: dbe.last.v },
    });
  }

  let sbeRate = prev?.sbeRate;
  const sbe = change('ecc_sbe');
  if (sbe && sbe.spanMs >= o.minRateSpanMs) {
    const perHour = sbe.increase / (sbe.spanMs / HOUR_MS);
    const rising =
      sbeRate !== undefined &&
      perHour >= o.eccCorrectableRiseMinPerHour &&
      perHour > o.eccCorrectableRiseFactor * sbeRate;
    const high = perHour > o.eccCorrectablePerHour || rising;
    if (high && !open.has('ecc_correctable_rate')) {
      out.push({
        kind: 'gpu.ecc.correctable_rate',
        severity: 'ticket',
        cause: 'hardware',
        title: `${where}: correctable ECC errors at ${Math.round(perHour)}/h`,
        summary: `${where} corrects ${Math.round(perHour)} single-bit ECC errors per hour (limit ${o.eccCorrectablePerHour}/h${sbeRate !== undefined ? `, recent ${Math.round(sbeRate)}/h` : ''}). A rising correctable rate often precedes uncorrectable errors; schedule a reset and watch for Xid 92/63.`,
        labels,
        window: { startMs: sbe.first.t, endMs: sbe.last.t + MINUTE_MS },
        values: {
          perHour,
          limitPerHour: o.eccCorrectablePerHour,
          ...(sbeRate !== undefined ? { recentPerHour: sbeRate } : {}),
        },
      });
    }
    setOpen(open, 'ecc_correctable_rate', high);
    sbeRate = sbeRate === undefined ? perHour : sbeRate + o.eccRateSmoothing * (perHour - sbeRate);
  }

  for (const r of RATE_CHECKS) {
    const c = change(r.signal);
    if (!c || c.spanMs < o.minRateSpanMs) continue;
    const perMinute = c.increase / (c.spanMs / MINUTE_MS);
    const high = perMinute > r.limit(o);
    if (high && !open.has(r.open)) {
      out.push({
        kind: r.kind,
        severity: 'ticket',
        cause: r.cause,
        title: `${where}: ${r.what} at ${round1(perMinute)}/min`,
        summary: `${where} counted ${c.increase} ${r.what} in ${round1(c.spanMs / MINUTE_MS)} min (${round1(perMinute)}/min, limit ${r.limit(o)}/min); ${r.why}.`,
        labels,
        window: { startMs: c.first.t, endMs: c.last.t + MINUTE_MS },
        values: { perMinute, limitPerMinute: r.limit(o), increase: c.increase },
      });
    }
    setOpen(open, r.open, high);
  }

  // Row remap failure is a gauge: page when it turns on, re-arm when it clears (after service).
  const remap = samples.filter((s) => s.values.row_remap_failure !== undefined);
  const remapOn = remap.some((s) => (s.values.row_remap_failure ?? 0) >= 1);
  if (remapOn && !open.has('row_remap_failure')) {
    out.push({
      kind: 'gpu.row_remap_failure',
      severity: 'page',
      cause: 'hardware',
      title: `Drain node ${labels.node}: row remap failed on GPU ${labels.gpu}`,
      summary: `${where} could not remap a faulty memory row, so uncorrectable errors will recur. Drain node ${labels.node} and have GPU ${labels.gpu} serviced (RMA).`,
      labels,
      window,
      values: { rowRemapFailure: 1 },
    });
  }
  const remapLast = remap[remap.length - 1]?.values.row_remap_failure;
  if (remapLast !== undefined) setOpen(open, 'row_remap_failure', remapOn || remapLast >= 1);

  // Throttling and heat: how long, in consecutive minutes carried across runs.
  const episodes: Partial<Record<EpisodeName, Episode>> = { ...prev?.episodes };
  const episodeOpts = { maxGapMs: o.maxEpisodeGapMs, minMs: o.throttleMinMs };
  for (const t of THROTTLE_CLASSES) {
    let mask = 0;
    const runs = runEpisode(episodes, t.name, samples, episodeOpts, (s) => {
      const m = s.values.clock_events;
      if (m === undefined) return undefined;
      if ((m & t.bits) !== 0) mask = m;
      return (m & t.bits) !== 0;
    });
    for (const ep of runs) {
      const minutes = episodeDurationMs(ep) / MINUTE_MS;
      out.push({
        kind: t.kind,
        severity: 'ticket',
        cause: 'hardware',
        title: `${where} ${t.what} for ${minutes} min`,
        summary: `${where} was ${t.what} for ${minutes} consecutive minutes (limit ${o.throttleMinMs / MINUTE_MS} min); reasons: ${decodeClockEvents(mask).join(', ')}. Its clocks are reduced, so the whole job runs at its pace.`,
        labels,
        window: { startMs: ep.s, endMs: ep.l + MINUTE_MS },
        values: { minutes, clockEvents: mask },
        detail: `clock event reasons 0x${mask.toString(16)}`,
      });
    }
  }

  const limitC = o.slowdownTempC[labels.instanceType] ?? gpuInstanceSpec(labels.instanceType)?.slowdownTempC;
  if (limitC !== undefined) {
    let maxC = Number.NEGATIVE_INFINITY;
    const tempOpts = { maxGapMs: o.maxEpisodeGapMs, minMs: o.temperatureMinMs };
    const runs = runEpisode(episodes, 'temperature', samples, tempOpts, (s) => {
      const c = s.values.temperature;
      if (c === undefined) return undefined;
      if (c > limitC) maxC = Math.max(maxC, c);
      return c > limitC;
    });
    for (const ep of runs) {
      const minutes = episodeDurationMs(ep) / MINUTE_MS;
      out.push({
        kind: 'gpu.temperature.over_limit',
        severity: 'ticket',
        cause: 'hardware',
        title: `${where} above its ${limitC} °C slowdown limit for ${minutes} min`,
        summary: `${where} (${labels.instanceType}) ran above its slowdown temperature of ${limitC} °C for ${minutes} minutes${Number.isFinite(maxC) ? ` (peak ${maxC} °C in this window)` : ''}. Check airflow, fans and the rack inlet temperature.`,
        labels,
        window: { startMs: ep.s, endMs: ep.l + MINUTE_MS },
        values: { limitC, minutes, ...(Number.isFinite(maxC) ? { maxTempC: maxC } : {}) },
      });
    }
  }

  oneHeatFinding(out, episodes, last.time, o.maxEpisodeGapMs);

  open.delete('fell_off_bus'); // it reports again
  const state: GpuState = {
    seen: last.time,
    ...(labels.team ? { team: labels.team } : {}),
    ...(xid !== undefined ? { xid } : {}),
    ...(Object.keys(counters).length > 0 ? { counters } : {}),
    ...(sbeRate !== undefined ? { sbeRate: Math.round(sbeRate * 1000) / 1000 } : {}),
    ...(Object.keys(episodes).length > 0 ? { episodes } : {}),
    ...(open.size > 0 ? { open: [...open].sort() } : {}),
  };
  return { findings: out.map((f) => hardwareFinding(f, nowMs)), state };
}

/**
 * One heat problem, one finding. A GPU above its slowdown temperature is thermally throttled by
 * design, so a thermal fault raises both `gpu.throttle.thermal` and `gpu.temperature.over_limit`;
 * two tickets for one hot node would be a duplicate notification (they are different kinds, so
 * grouping cannot merge them). While a thermal-throttle episode is going on, the throttle finding
 * speaks for the heat (it carries the peak temperature); the temperature finding stands alone only
 * when the GPU is hot without being throttled. If the temperature ticket was already raised in an
 * earlier run, a throttle finding for the same ongoing heat is not raised again.
 */
function oneHeatFinding(
  out: Out[],
  episodes: Partial<Record<EpisodeName, Episode>>,
  lastMs: number,
  maxGapMs: number,
): void {
  const ongoing = (e: Episode | undefined): e is Episode => e !== undefined && e.l >= lastMs - maxGapMs;
  const thermal = episodes.thermal;
  const hot = episodes.temperature;
  const tempIdx = out.findIndex((f) => f.kind === 'gpu.temperature.over_limit');
  const throttleIdx = out.findIndex((f) => f.kind === 'gpu.throttle.thermal');
  const temp = out[tempIdx];
  const throttle = out[throttleIdx];
  if (temp !== undefined && ongoing(thermal)) {
    if (throttle !== undefined) {
      const { limitC, maxTempC } = temp.values;
      out[throttleIdx] = {
        ...throttle,
        summary: `${throttle.summary} It also ran above its ${limitC ?? '?'} °C slowdown temperature${maxTempC !== undefined ? ` (peak ${maxTempC} °C)` : ''}: check airflow, fans and the rack inlet temperature.`,
        values: {
          ...throttle.values,
          ...(limitC !== undefined ? { limitC } : {}),
          ...(maxTempC !== undefined ? { maxTempC } : {}),
        },
      };
    } else if (!thermal.r && hot !== undefined) {
      // Throttling not long enough yet: report the heat next run (with the throttle, or alone).
      episodes.temperature = { ...hot, r: false };
    }
    out.splice(tempIdx, 1);
    return;
  }
  // The temperature ticket went out in an earlier run and the heat continues: same problem.
  if (throttle !== undefined && temp === undefined && ongoing(hot) && hot.r) out.splice(throttleIdx, 1);
}

/**
 * Runs the samples through one episode and returns the runs to report: each run that reached
 * minMs, once, with its length when it ended or, if it is still going, its length so far.
 * `affected` returns undefined when the minute has no reading (it neither extends nor ends a run).
 */
function runEpisode(
  episodes: Partial<Record<EpisodeName, Episode>>,
  name: EpisodeName,
  samples: readonly GpuSample[],
  opts: { readonly maxGapMs: number; readonly minMs: number },
  affected: (s: GpuSample) => boolean | undefined,
): Episode[] {
  const due = (e: Episode | undefined): e is Episode =>
    e !== undefined && !e.r && episodeDurationMs(e) >= opts.minMs;
  const report: Episode[] = [];
  let ep = episodes[name];
  for (const s of samples) {
    const a = affected(s);
    if (a === undefined) continue;
    const next = advanceEpisode(ep, s.time, a, opts.maxGapMs);
    if (next?.s !== ep?.s && due(ep)) report.push({ ...ep, r: true });
    ep = next;
  }
  if (due(ep)) {
    ep = { ...ep, r: true };
    report.push(ep);
  }
  if (ep) episodes[name] = ep;
  else delete episodes[name];
  return report;
}

function xidFinding(x: XidInfo, labels: GpuLabels, window: Out['window']): Out {
  const base = { labels, window, values: { xid: x.code } };
  const id = `Xid ${x.code} ${x.mnemonic}`;
  const where = `GPU ${labels.gpu} on node ${labels.node}`;
  if (x.fatal) {
    const fix = x.action === 'drain-reboot-host' ? 'reboot (or replace) the host' : `reset GPU ${labels.gpu}`;
    return {
      ...base,
      kind: 'gpu.xid.fatal',
      severity: 'page',
      cause: 'hardware',
      title: `Drain node ${labels.node}: ${id} on GPU ${labels.gpu}`,
      summary: `${where} reported fatal ${id} (${x.note}). Drain node ${labels.node}, then ${fix}.`,
    };
  }
  if (x.action === 'restart-app' || x.action === 'ignore') {
    return {
      ...base,
      kind: 'gpu.xid.application',
      severity: x.severity,
      cause: 'software',
      title: `${labels.job ? `Job ${labels.job}` : 'Application'}: ${id} on ${where}`,
      summary: `${where} reported ${id} (${x.note}). This is usually the application's fault, not the GPU's: look at the job${labels.job ? ` ${labels.job}` : ''} and restart it.`,
    };
  }
  if (x.action === 'drain-reset-gpu') {
    return {
      ...base,
      kind: 'gpu.xid.reset_required',
      severity: 'ticket',
      cause: 'hardware',
      title: `${where}: ${id} calls for a GPU reset`,
      summary: `${where} reported ${id} (${x.note}). Schedule a drain of node ${labels.node} and a reset of GPU ${labels.gpu}.`,
    };
  }
  const known = KNOWN_XID_CODES.includes(x.code);
  return {
    ...base,
    kind: known ? 'gpu.xid.trend' : 'gpu.xid.unknown',
    // Known warnings (63, 92) are trended (info in the Xid table); an unknown code is a ticket, so a
    // human classifies it. The table in contracts/xid.ts is the one source of both severities.
    severity: x.severity,
    cause: 'hardware',
    title: `${where}: ${id}`,
    summary: `${where} reported ${id} (${x.note}).`,
  };
}

function setOpen(open: Set<OpenCondition>, c: OpenCondition, on: boolean): void {
  if (on) open.add(c);
  else open.delete(c);
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
