import {
  type AlarmReasonData,
  type AlarmStateChangeEvent,
  type AlarmStateValue,
  alarmReasonDataSchema,
  alarmStateChangeEventSchema,
  anomalyAlarmName,
  parseAlarmTimestamp,
} from '../../contracts/alarm-event';
import type { AnomalyAlarmConfig } from '../../contracts/config';
import { FINDING_SCHEMA_VERSION, type Finding, type FindingLabels } from '../../contracts/finding';
import { SECOND_MS } from '../time';

/**
 * CloudWatch alarm state changes (EventBridge, via FindingsQueue) → findings in the same schema
 * as the pull detectors.
 *
 * The result says what the state change means for an incident, so the router needs no
 * CloudWatch knowledge:
 *   - 'firing'      ALARM: a finding with the configured severity, cause and runbook.
 *   - 'resolved'    OK: a finding with the SAME kind and labels as the firing one (so the same
 *                   fingerprint), severity 'info' and evidence.values.resolved = 1. The router
 *                   resolves the open incident with that fingerprint; with none open, it drops it.
 *   - 'no_data'     INSUFFICIENT_DATA: an info finding of kind `<kind>.insufficient_data` (its own
 *                   fingerprint: a silent metric is worth knowing about, but it neither opens
 *                   nor resolves the anomaly incident).
 * A malformed event is a value too ({ ok: false, problems }), never a thrown error: the consumer
 * sends it to the DLQ with the problems as the reason.
 */
export type AlarmOutcome = 'firing' | 'resolved' | 'no_data';

export interface AlarmEventProblem {
  /** Dotted path into the event, e.g. "detail.state.value". */
  readonly field: string;
  readonly problem: string;
}

export type AlarmEventResult =
  | { readonly ok: true; readonly outcome: AlarmOutcome; readonly finding: Finding }
  | { readonly ok: false; readonly problems: readonly AlarmEventProblem[] };

export interface AlarmEventInput {
  /** The EventBridge event as received (unknown: validated here). */
  readonly event: unknown;
  /** config.anomalyAlarms: severity, cause and runbook by alarm. */
  readonly alarms: readonly AnomalyAlarmConfig[];
  /** The home stack's name (config.name): alarm names are `<stackName>-anomaly-<name>`. */
  readonly stackName: string;
  /** The run's clock (epoch ms): stamps detectedAt. */
  readonly nowMs: number;
}

export const UNKNOWN_ALARM_RUNBOOK = 'docs/runbooks/unknown-alarm.md';
const DEFAULT_ANOMALY_RUNBOOK = 'docs/runbooks/anomaly-alarm.md';
const DEFAULT_PERIOD_SECONDS = 300;

export function findingFromAlarmEvent(input: AlarmEventInput): AlarmEventResult {
  const parsed = alarmStateChangeEventSchema.safeParse(input.event);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((i) => ({ field: formatPath(i.path), problem: i.message })),
    };
  }
  const event = parsed.data;
  const reason = parseReasonData(event.detail.state.reasonData);
  if (!reason.ok) return { ok: false, problems: [reason.problem] };

  const configured = input.alarms.find(
    (a) => anomalyAlarmName(input.stackName, a.name) === event.detail.alarmName,
  );
  const state = event.detail.state;
  const endMs = parseAlarmTimestamp(state.timestamp);
  const periodSeconds =
    configured?.periodSeconds ?? reason.data.period ?? firstMetricPeriod(event) ?? DEFAULT_PERIOD_SECONDS;
  const periods = configured?.evaluationPeriods ?? Math.max(1, reason.data.recentDatapoints.length);
  const window = { startMs: Math.max(0, endMs - periods * periodSeconds * SECOND_MS), endMs };
  const baseKind = configured ? `alarm.${configured.name.replace(/-/g, '_')}` : 'alarm.unknown';
  const outcome = OUTCOMES[state.value];
  const labels = labelsOf(event, configured);
  const detail = [
    configured
      ? undefined
      : `alarm "${event.detail.alarmName}" is not in config.anomalyAlarms (removed or renamed?)`,
    state.reason || undefined,
  ]
    .filter((s): s is string => s !== undefined)
    .join(' — ')
    .slice(0, 4_000);

  const finding: Finding = {
    schemaVersion: FINDING_SCHEMA_VERSION,
    kind: outcome === 'no_data' ? `${baseKind}.insufficient_data` : baseKind,
    severity: outcome === 'firing' ? (configured?.severity ?? 'ticket') : 'info',
    cause: configured?.cause ?? 'software',
    title: titleOf(outcome, event.detail.alarmName).slice(0, 200),
    ...(event.detail.configuration.description
      ? { summary: event.detail.configuration.description.slice(0, 4_000) }
      : {}),
    labels,
    evidence: {
      values: valuesOf(reason.data, outcome),
      window,
      ...(detail ? { detail } : {}),
    },
    runbook: configured ? (configured.runbook ?? DEFAULT_ANOMALY_RUNBOOK) : UNKNOWN_ALARM_RUNBOOK,
    detectedAt: input.nowMs,
  };
  return { ok: true, outcome, finding };
}

const OUTCOMES: Record<AlarmStateValue, AlarmOutcome> = {
  ALARM: 'firing',
  OK: 'resolved',
  INSUFFICIENT_DATA: 'no_data',
};

function titleOf(outcome: AlarmOutcome, alarmName: string): string {
  switch (outcome) {
    case 'firing':
      return `Anomaly: ${alarmName} is outside its expected band`;
    case 'resolved':
      return `Resolved: ${alarmName} is back inside its expected band`;
    case 'no_data':
      return `No data: ${alarmName} has insufficient data to evaluate`;
  }
}

/** Fleet-level labels: the event's region, and the cluster when the alarm's metric names one. */
function labelsOf(event: AlarmStateChangeEvent, configured: AnomalyAlarmConfig | undefined): FindingLabels {
  const dims =
    configured?.dimensions ??
    event.detail.configuration.metrics.find((m) => m.metricStat)?.metricStat?.metric.dimensions;
  const cluster = dims?.['ClusterName'] ?? dims?.['cluster'];
  return { region: event.region, ...(cluster ? { cluster } : {}) };
}

function valuesOf(reason: AlarmReasonData, outcome: AlarmOutcome): Record<string, number> {
  const values: Record<string, number> = {};
  const last = <T>(list: readonly T[] | undefined): T | undefined => list?.[list.length - 1];
  const value = last(reason.recentDatapoints);
  if (value !== undefined) values['value'] = value;
  reason.recentDatapoints.forEach((v, i) => {
    values[`datapoint_${i + 1}`] = v;
  });
  if (reason.threshold !== undefined) values['threshold'] = reason.threshold;
  const lower = last(reason.recentLowerThresholds);
  const upper = last(reason.recentUpperThresholds);
  if (lower !== undefined) values['band_lower'] = lower;
  if (upper !== undefined) values['band_upper'] = upper;
  if (outcome === 'resolved') values['resolved'] = 1;
  return values;
}

function firstMetricPeriod(event: AlarmStateChangeEvent): number | undefined {
  return event.detail.configuration.metrics.find((m) => m.metricStat)?.metricStat?.period;
}

type ReasonResult = { ok: true; data: AlarmReasonData } | { ok: false; problem: AlarmEventProblem };

function parseReasonData(text: string | undefined): ReasonResult {
  const field = 'detail.state.reasonData';
  if (text === undefined || text === '') return { ok: true, data: alarmReasonDataSchema.parse({}) };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: { field, problem: 'not a JSON string' } };
  }
  const parsed = alarmReasonDataSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const sub = first ? formatPath(first.path) : '';
    return {
      ok: false,
      problem: { field: sub ? `${field}.${sub}` : field, problem: first?.message ?? 'invalid' },
    };
  }
  return { ok: true, data: parsed.data };
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return acc ? `${acc}.${String(key)}` : String(key);
  }, '');
}
