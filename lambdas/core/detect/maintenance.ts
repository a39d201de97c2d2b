import {
  expandWindows,
  type LabelMatcher,
  type MaintenanceWindow,
  valueMatches,
} from '../../contracts/calendar';
import type { GpuLabels, GpuSample } from '../model';

/**
 * Maintenance windows as the statistical detectors see them: periods whose telemetry must not
 * train a baseline (a drained node is not next week's normal). The ONE calendar (contracts/
 * calendar.ts) expands one-off and recurring windows; a window's scope matchers decide which GPUs
 * it covers. Matchers on labels a GPU sample does not have (kind, severity, cause, endpoint,
 * feature) are about alerts, not telemetry: such a window mutes notifications only and is not
 * applied here.
 *
 *   ───[start ······ end)───   half-open, as everywhere in the calendar
 */

export interface MaintenancePeriod {
  readonly startMs: number;
  readonly endMs: number;
  /** Empty: the whole fleet. */
  readonly scope: readonly LabelMatcher[];
}

const SAMPLE_LABELS = new Set(['cluster', 'region', 'node', 'gpu', 'job', 'team']);

/** Concrete periods overlapping [fromMs, toMs) of the windows that can apply to GPU telemetry. */
export function maintenancePeriods(
  windows: readonly MaintenanceWindow[],
  fromMs: number,
  toMs: number,
): MaintenancePeriod[] {
  const out: MaintenancePeriod[] = [];
  for (const w of windows) {
    const scope = w.scope ?? [];
    if (!scope.every((m) => SAMPLE_LABELS.has(m.label))) continue;
    for (const o of expandWindows([w], fromMs, toMs)) out.push({ startMs: o.startMs, endMs: o.endMs, scope });
  }
  return out;
}

function matches(m: LabelMatcher, labels: GpuLabels): boolean {
  return valueMatches(m, (labels as unknown as Record<string, string | undefined>)[m.label] ?? '');
}

export function inMaintenance(s: GpuSample, periods: readonly MaintenancePeriod[]): boolean {
  for (const p of periods) {
    if (s.time < p.startMs || s.time >= p.endMs) continue;
    if (p.scope.every((m) => matches(m, s.labels))) return true;
  }
  return false;
}

/** The samples outside every maintenance period, and how many were held back. */
export function withoutMaintenance(
  samples: readonly GpuSample[],
  periods: readonly MaintenancePeriod[],
): { kept: readonly GpuSample[]; excluded: number } {
  if (periods.length === 0) return { kept: samples, excluded: 0 };
  const kept = samples.filter((s) => !inMaintenance(s, periods));
  return { kept, excluded: samples.length - kept.length };
}
