import type { CalendarInput, LabelMatcher } from '../../../lambdas/contracts/calendar';
import { calendarSchema } from '../../../lambdas/contracts/calendar';
import { FINDING_SCHEMA_VERSION, type Finding } from '../../../lambdas/contracts/finding';
import {
  type IncidentsConfigInput,
  incidentsConfigSchema,
} from '../../../lambdas/contracts/incidents-config';
import type { Alert } from '../../../lambdas/core/incidents/alert';
import { fingerprintOf } from '../../../lambdas/core/incidents/fingerprint';
import type {
  ActiveIncident,
  CalendarView,
  SuppressionContext,
} from '../../../lambdas/core/incidents/stages/stage';

export const T0 = Date.parse('2026-03-10T12:00:00Z');
export const MIN = 60_000;

export function alert(overrides: Partial<Alert> = {}): Alert {
  const base = {
    kind: 'gpu.xid.fatal',
    severity: 'page' as const,
    cause: 'hardware' as const,
    labels: { cluster: 'train-a', region: 'us-east-1', node: 'i-1', gpu: '3', team: 'ml' },
    ...overrides,
  };
  return { fingerprint: fingerprintOf(base.kind, base.labels), ...base, ...overrides };
}

export function calendarView(input: CalendarInput = {}): CalendarView {
  const c = calendarSchema.parse(input);
  return {
    silences: c.silences,
    maintenance: c.maintenance,
    seasonal: c.seasonal,
    inhibition: c.inhibition,
    changes: c.postChange.changes,
    postChangeRules: c.postChange.rules,
  };
}

export function ctx(
  input: CalendarInput = {},
  nowMs = T0,
  active: ActiveIncident[] = [],
): SuppressionContext {
  return { nowMs, calendar: calendarView(input), active };
}

export const eq = (label: LabelMatcher['label'], value: string): LabelMatcher => ({ label, op: '=', value });

export function finding(overrides: Partial<Finding> = {}): Finding {
  return {
    schemaVersion: FINDING_SCHEMA_VERSION,
    kind: 'gpu.xid.fatal',
    severity: 'page',
    cause: 'hardware',
    title: 'Xid 79: GPU has fallen off the bus',
    labels: { cluster: 'train-a', region: 'us-east-1', node: 'i-1', gpu: '3', team: 'ml' },
    evidence: { values: { xid: 79 }, window: { startMs: T0 - 5 * MIN, endMs: T0 } },
    runbook: 'docs/runbooks/gpu.xid.fatal.md',
    detectedAt: T0,
    ...overrides,
  };
}

export function incidentsConfig(input: IncidentsConfigInput = {}) {
  return incidentsConfigSchema.parse(input);
}

export const isoAt = (ms: number) => new Date(ms).toISOString();
