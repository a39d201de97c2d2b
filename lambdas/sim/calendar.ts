import { Cron } from 'croner';
import { DateTime } from 'luxon';
import { DAY_MS, MINUTE_MS } from './duration';
import type { SimFleet } from './fleet';
import type { MaintenanceSpec, Scenario, SeasonalWindow, Weekday } from './scenario';

/**
 * Time-dependent parts of a scenario: maintenance windows resolved to concrete intervals, and the
 * load curve that shapes job arrivals (a daily rhythm, quieter weekends, and the scenario's
 * seasonal windows such as weekday retrains in a given time zone).
 */

export interface MaintenanceInterval {
  /** Index in the scenario's maintenance list. */
  readonly index: number;
  readonly cluster: string;
  /** Absent: the whole cluster. */
  readonly node?: number;
  readonly hostname?: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly recurring: boolean;
}

/**
 * Every maintenance interval that overlaps the run. A recurring window whose occurrence started
 * before the run but is still open at the start is included (clipped to nothing: it keeps its
 * real start so consumers can see it began earlier).
 */
export function resolveMaintenance(
  scenario: Pick<Scenario, 'maintenance' | 'startMs' | 'endMs'>,
  fleet: SimFleet,
): MaintenanceInterval[] {
  const out: MaintenanceInterval[] = [];
  scenario.maintenance.forEach((m, index) => {
    const node = m.scope.node;
    const hostname =
      node === undefined ? undefined : fleet.clusters.get(m.scope.cluster)?.nodes[node]?.hostname;
    const base = {
      index,
      cluster: m.scope.cluster,
      ...(node !== undefined ? { node } : {}),
      ...(hostname !== undefined ? { hostname } : {}),
    };
    for (const startMs of occurrences(m, scenario.startMs - m.durationMs, scenario.endMs)) {
      const endMs = startMs + m.durationMs;
      if (endMs <= scenario.startMs || startMs >= scenario.endMs) continue;
      out.push({ ...base, startMs, endMs, recurring: !('startMs' in m) });
    }
  });
  return out.sort((a, b) => a.startMs - b.startMs || a.index - b.index);
}

function occurrences(m: MaintenanceSpec, fromMs: number, toMs: number): number[] {
  if ('startMs' in m) return [m.startMs];
  const cron = new Cron(m.cron, { paused: true, timezone: m.tz });
  const out: number[] = [];
  let cursor = new Date(fromMs - 1);
  for (;;) {
    const next = cron.nextRun(cursor);
    if (next === null || next.getTime() >= toMs) break;
    out.push(next.getTime());
    cursor = next;
    if (out.length > 100_000) break; // "* * * * *" over a long run: enough is enough
  }
  return out;
}

export function inMaintenance(
  windows: readonly MaintenanceInterval[],
  cluster: string,
  node: number,
  tMs: number,
): boolean {
  for (const w of windows) {
    if (w.startMs > tMs) break;
    if (tMs < w.endMs && w.cluster === cluster && (w.node === undefined || w.node === node)) return true;
  }
  return false;
}

const LUXON_WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** The scenario's seasonal factor at t: the largest loadFactor of the windows open at t, else 1. */
export function seasonalFactor(windows: readonly SeasonalWindow[], tMs: number): number {
  let factor: number | undefined;
  for (const w of windows) {
    const local = DateTime.fromMillis(tMs, { zone: w.tz });
    const minuteOfDay = local.hour * 60 + local.minute;
    const from = hhmm(w.from);
    const to = hhmm(w.to);
    // A window like 22:00-02:00 wraps midnight: its early part belongs to the previous day's entry.
    const wraps = to <= from;
    const today = LUXON_WEEKDAYS[local.weekday - 1] as Weekday;
    const yesterday = LUXON_WEEKDAYS[(local.weekday + 5) % 7] as Weekday;
    const open = wraps
      ? (minuteOfDay >= from && w.days.includes(today)) || (minuteOfDay < to && w.days.includes(yesterday))
      : minuteOfDay >= from && minuteOfDay < to && w.days.includes(today);
    if (open) factor = Math.max(factor ?? 0, w.loadFactor);
  }
  return factor ?? 1;
}

function hhmm(text: string): number {
  const [h, m] = text.split(':');
  return Number(h) * 60 + Number(m);
}

/**
 * Baseline rhythm in UTC: busier in the (European/American) working day, quieter at night and at
 * weekends. Mean over a week is close to 1 but not exactly; LoadCurve normalises.
 */
export function dailyRhythm(tMs: number): number {
  const day = new Date(tMs).getUTCDay(); // 0 = Sunday
  const hour = (tMs % DAY_MS) / 3_600_000;
  const diurnal = 1 + 0.25 * Math.sin(((hour - 9) / 24) * 2 * Math.PI);
  const weekly = day === 0 || day === 6 ? 0.75 : 1.1;
  return diurnal * weekly;
}

/**
 * Arrival-rate multiplier at each minute, normalised so its mean over the first week of the run is
 * 1: `jobsPerDay` is the average over a week, seasonal peaks and quiet weekends included.
 */
export class LoadCurve {
  private readonly norm: number;

  constructor(
    private readonly seasonal: readonly SeasonalWindow[],
    startMs: number,
  ) {
    let sum = 0;
    let n = 0;
    const step = 5 * MINUTE_MS;
    for (let t = startMs; t < startMs + 7 * DAY_MS; t += step) {
      sum += this.raw(t);
      n++;
    }
    this.norm = sum / n;
  }

  raw(tMs: number): number {
    return dailyRhythm(tMs) * seasonalFactor(this.seasonal, tMs);
  }

  at(tMs: number): number {
    return this.raw(tMs) / this.norm;
  }
}
