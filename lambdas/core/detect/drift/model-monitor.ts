import type { z } from 'zod';
import {
  FINDING_SCHEMA_VERSION,
  type Finding,
  type FindingLabels,
  type Severity,
} from '../../../contracts/finding';
import {
  constraintViolationsSchemas,
  type MonitoringExecutionSummary,
  type MonitoringType,
} from '../../../contracts/model-monitor';
import { roundTo } from '../../numbers';
import { HOUR_MS, MINUTE_MS } from '../../time';
import { type DriftedItem, summarizeDrift } from './summary';

/**
 * SageMaker Model Monitor results → findings, for accounts that still have Model Monitor.
 *
 *   CompletedWithViolations  one finding per execution listing every violated feature / metric /
 *                            facet worst first, from the report (one ticket per endpoint and type)
 *   Failed                   model.monitor.execution_failed, with FailureReason
 *   latest execution missing model.monitor.stale
 *   or too old
 *   report unreadable        model.monitor.report_invalid: a report we cannot parse is a gap in
 *                            monitoring, never silently dropped
 *
 * Staleness of an hourly schedule (executions start 0–20 min after the hour):
 *
 *   scheduled ─┬─ buffer ─┬──── (k−1) × interval ────┬──► stale after k × interval + buffer
 *              └ 20 min ──┘
 */

export const DRIFT_KINDS = {
  DataQuality: 'model.drift.data_quality',
  ModelQuality: 'model.drift.model_quality',
  ModelBias: 'model.drift.bias',
  ModelExplainability: 'model.drift.feature_attribution',
} as const satisfies Record<MonitoringType, string>;

export const MONITOR_KINDS = {
  executionFailed: 'model.monitor.execution_failed',
  stale: 'model.monitor.stale',
  reportInvalid: 'model.monitor.report_invalid',
} as const;

export type ModelMonitorKind =
  | (typeof DRIFT_KINDS)[MonitoringType]
  | (typeof MONITOR_KINDS)[keyof typeof MONITOR_KINDS]
  | 'model.drift.insufficient_data'
  | 'model.drift.capture_invalid';

/** Model Monitor documents a 0–20 minute start buffer for hourly schedules. */
export const SCHEDULE_START_BUFFER_MS = 20 * MINUTE_MS;

export interface MonitorSchedule {
  readonly name: string;
  readonly endpoint: string;
  /** From the schedule's job definition; an execution's own MonitoringType wins when present. */
  readonly monitoringType?: MonitoringType;
  /** Cadence of the schedule's cron expression. @default 1 hour */
  readonly intervalMs?: number;
  readonly team?: string;
  /**
   * ScheduledTime of the schedule's LastMonitoringExecutionSummary (DescribeMonitoringSchedule),
   * so staleness is judged right even when no new execution arrived since the previous run.
   */
  readonly lastScheduledMs?: number;
}

export interface MonitorExecution {
  readonly summary: MonitoringExecutionSummary;
  /**
   * Parsed JSON of constraint_violations.json, for CompletedWithViolations. `undefined` means the
   * object was not found; JSON that did not parse should be passed as a string so it is reported.
   */
  readonly report?: unknown;
}

export interface ModelMonitorOptions {
  /** The latest execution is stale when older than k × interval + start buffer. @default 2 */
  readonly staleFactor?: number;
  /** Severity per kind. @default ticket for every kind: drift is worked on in hours, not minutes. */
  readonly severity?: Partial<Record<ModelMonitorKind, Severity>>;
}

export interface ModelMonitorInput {
  readonly schedules: readonly MonitorSchedule[];
  /** Executions since the previous run (any order); the newest per schedule also decides staleness. */
  readonly executions: readonly MonitorExecution[];
  readonly nowMs: number;
  readonly options?: ModelMonitorOptions;
}

const DEFAULT_STALE_FACTOR = 2;

export function modelMonitorFindings(input: ModelMonitorInput): Finding[] {
  const { nowMs, options = {} } = input;
  const schedules = new Map(input.schedules.map((s) => [s.name, s]));
  const findings: Finding[] = [];
  const latest = new Map<string, MonitoringExecutionSummary>();

  for (const { summary, report } of input.executions) {
    const prev = latest.get(summary.MonitoringScheduleName);
    if (!prev || summary.ScheduledTime > prev.ScheduledTime)
      latest.set(summary.MonitoringScheduleName, summary);

    const schedule = schedules.get(summary.MonitoringScheduleName) ?? {
      name: summary.MonitoringScheduleName,
      endpoint: summary.EndpointName ?? summary.MonitoringScheduleName,
    };
    const ctx = executionContext(schedule, summary, nowMs, options);
    if (summary.MonitoringExecutionStatus === 'Failed') findings.push(failedFinding(ctx));
    else if (summary.MonitoringExecutionStatus === 'CompletedWithViolations') {
      findings.push(...violationFindings(ctx, report));
    }
  }

  const factor = options.staleFactor ?? DEFAULT_STALE_FACTOR;
  for (const schedule of input.schedules) {
    const intervalMs = schedule.intervalMs ?? HOUR_MS;
    const limitMs = factor * intervalMs + SCHEDULE_START_BUFFER_MS;
    const last = latest.get(schedule.name);
    const lastMs = Math.max(
      last?.ScheduledTime ?? Number.NEGATIVE_INFINITY,
      schedule.lastScheduledMs ?? Number.NEGATIVE_INFINITY,
    );
    if (nowMs - lastMs <= limitMs) continue;
    const ageMin = Number.isFinite(lastMs) ? Math.round((nowMs - lastMs) / MINUTE_MS) : undefined;
    findings.push(
      buildFinding({
        kind: MONITOR_KINDS.stale,
        severity: options.severity?.[MONITOR_KINDS.stale],
        title: `Model Monitor schedule ${schedule.name} on ${schedule.endpoint} has ${ageMin === undefined ? 'no executions' : 'not run recently'}`,
        labels: labelsOf(schedule.endpoint, schedule.team),
        window: { startMs: Math.max(0, nowMs - limitMs), endMs: nowMs },
        values:
          ageMin === undefined
            ? { limit_min: limitMs / MINUTE_MS }
            : { age_min: ageMin, limit_min: limitMs / MINUTE_MS },
        detail: Number.isFinite(lastMs)
          ? `latest execution scheduled ${new Date(lastMs).toISOString()}${last?.ScheduledTime === lastMs ? ` (${last.MonitoringExecutionStatus})` : ''}, older than ${factor} × interval + ${SCHEDULE_START_BUFFER_MS / MINUTE_MS} min start buffer`
          : `no execution found within ${factor} × interval + ${SCHEDULE_START_BUFFER_MS / MINUTE_MS} min start buffer`,
        nowMs,
      }),
    );
  }
  return findings;
}

interface ExecutionContext {
  readonly schedule: MonitorSchedule;
  readonly summary: MonitoringExecutionSummary;
  readonly type: MonitoringType;
  readonly labels: FindingLabels;
  readonly window: { startMs: number; endMs: number };
  readonly nowMs: number;
  readonly options: ModelMonitorOptions;
}

function executionContext(
  schedule: MonitorSchedule,
  summary: MonitoringExecutionSummary,
  nowMs: number,
  options: ModelMonitorOptions,
): ExecutionContext {
  // Older schedules predate MonitoringType: they could only be data quality.
  const type = summary.MonitoringType ?? schedule.monitoringType ?? 'DataQuality';
  const intervalMs = schedule.intervalMs ?? HOUR_MS;
  return {
    schedule,
    summary,
    type,
    labels: labelsOf(summary.EndpointName ?? schedule.endpoint, schedule.team),
    // An execution analyses the interval of captured data that ends at its scheduled time.
    window: { startMs: Math.max(0, summary.ScheduledTime - intervalMs), endMs: summary.ScheduledTime },
    nowMs,
    options,
  };
}

function failedFinding(ctx: ExecutionContext): Finding {
  const { summary } = ctx;
  const reason = summary.FailureReason?.trim() || 'no FailureReason given';
  return buildFinding({
    kind: MONITOR_KINDS.executionFailed,
    severity: ctx.options.severity?.[MONITOR_KINDS.executionFailed],
    title: `Model Monitor ${ctx.type} execution failed for ${endpointOf(ctx)} (${summary.MonitoringScheduleName})`,
    labels: ctx.labels,
    window: ctx.window,
    detail: `${reason}${summary.ProcessingJobArn ? `; processing job ${summary.ProcessingJobArn}` : ''}`,
    nowMs: ctx.nowMs,
  });
}

function violationFindings(ctx: ExecutionContext, report: unknown): Finding[] {
  if (report === undefined) return [invalidReport(ctx, 'constraint_violations.json not found')];
  if (typeof report === 'string') return [invalidReport(ctx, `not JSON: ${truncate(report, 200)}`)];
  const parsed = constraintViolationsSchemas[ctx.type].safeParse(report);
  if (!parsed.success) return [invalidReport(ctx, describeIssues(parsed.error))];
  const violations = parsed.data.violations as readonly Violation[];
  // CompletedWithViolations with an empty list is self-contradictory: report it rather than stay quiet.
  if (violations.length === 0)
    return [invalidReport(ctx, 'status CompletedWithViolations but violations is empty')];
  return [violationsFinding(ctx, violations)];
}

interface Violation {
  readonly constraint_check_type: string;
  readonly description: string;
  readonly feature_name?: string;
  readonly metric_name?: string;
  readonly facet?: string;
  readonly facet_value?: string;
  readonly label?: string;
}

function subjectOf(type: MonitoringType, v: Violation): string {
  switch (type) {
    case 'DataQuality':
      return v.feature_name ?? '(no feature)';
    case 'ModelQuality':
      return v.metric_name ?? '(no metric)';
    case 'ModelBias':
      return `${v.metric_name} for facet ${v.facet}=${v.facet_value}`;
    case 'ModelExplainability':
      return `label ${v.label}`;
  }
}

const NOUNS: Record<MonitoringType, string> = {
  DataQuality: 'features',
  ModelQuality: 'metrics',
  ModelBias: 'bias metrics',
  ModelExplainability: 'attributions',
};

/**
 * One finding for all violations of one execution (one check of one endpoint), listing them worst
 * first: an on-call person gets one ticket per endpoint and monitoring type, not one per feature.
 * Several violations of the same subject (say a data_type_check and a baseline_drift_check of one
 * feature) are one entry.
 */
function violationsFinding(ctx: ExecutionContext, violations: readonly Violation[]): Finding {
  const kind = DRIFT_KINDS[ctx.type];
  const bySubject = new Map<string, Violation[]>();
  for (const v of violations) {
    const subject = subjectOf(ctx.type, v);
    bySubject.set(subject, [...(bySubject.get(subject) ?? []), v]);
  }
  const items: DriftedItem[] = [...bySubject].map(([name, vs]) => violationItem(name, vs));
  const summary = summarizeDrift({
    items,
    // The report lists violations only: how many were checked is not in it.
    noun: NOUNS[ctx.type],
    endpoint: endpointOf(ctx),
    check: `${ctx.type} schedule ${ctx.summary.MonitoringScheduleName}`,
    titlePrefix: `${ctx.type}: `,
  });
  return buildFinding({
    kind,
    severity: ctx.options.severity?.[kind],
    title: summary.title,
    labels: ctx.labels,
    window: ctx.window,
    values: summary.values,
    detail: summary.detail,
    nowMs: ctx.nowMs,
  });
}

/**
 * A violated subject with its numbers, scored by how far past its threshold it is (relative), so
 * the list is sorted by severity: |value − threshold| / |threshold| for distances, attribution and
 * metric values; the missing share for completeness / type checks; unknown (NaN, listed last) when
 * the description carries no numbers to compare.
 */
function violationItem(name: string, vs: readonly Violation[]): DriftedItem {
  const values: Record<string, number> = {};
  let score = Number.NaN;
  for (const v of vs) {
    const n = numbersFromDescription(v.description);
    for (const [k, x] of Object.entries(n)) if (!(k in values)) values[k] = x;
    const s = scoreOfNumbers(n);
    if (!Number.isNaN(s) && !(s <= score)) score = s;
  }
  const checks = [...new Set(vs.map((v) => v.constraint_check_type))].join(', ');
  const shown = values['distance'] ?? values['value'];
  const threshold = values['threshold'] === undefined ? '' : `, threshold ${values['threshold']}`;
  return {
    name,
    score,
    brief: shown === undefined ? checks : `${checks} ${roundTo(shown, 4)}${threshold}`,
    detail: vs.map((v) => `${v.constraint_check_type}: ${v.description}`).join(' | '),
    values,
  };
}

function scoreOfNumbers(n: Readonly<Record<string, number>>): number {
  const x = n['distance'] ?? n['value'];
  const t = n['threshold'];
  if (x !== undefined && t !== undefined) return Math.abs(x - t) / Math.max(Math.abs(t), 1e-9);
  const expected = n['expected_pct'];
  const observed = n['observed_pct'];
  if (expected !== undefined && observed !== undefined && expected > 0)
    return Math.max(0, expected - observed) / expected;
  return Number.NaN;
}

function invalidReport(ctx: ExecutionContext, problem: string): Finding {
  return buildFinding({
    kind: MONITOR_KINDS.reportInvalid,
    severity: ctx.options.severity?.[MONITOR_KINDS.reportInvalid],
    title: `Unreadable Model Monitor ${ctx.type} report for ${endpointOf(ctx)} (${ctx.summary.MonitoringScheduleName})`,
    labels: ctx.labels,
    window: ctx.window,
    detail: `${problem}${ctx.summary.ProcessingJobArn ? `; processing job ${ctx.summary.ProcessingJobArn}` : ''}`,
    nowMs: ctx.nowMs,
  });
}

const NUM = String.raw`(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)`;

/**
 * Numbers worth charting, pulled out of the container's description strings, e.g.
 *   "Baseline drift distance: 0.27 exceeds threshold: 0.1"           → distance, threshold
 *   "Numerical distance: 0.2701 exceeds numerical threshold: 0"      → distance, threshold
 *   "… Expected match: 100.0%. Observed: Only 0.0% of data is …"     → expected_pct, observed_pct
 *   "Value 0.0751 does not meet the constraint requirement"          → value (bias metric)
 *   "Feature attribution drift 0.7639 exceeds threshold 0.9"         → value (nDCG), threshold
 *   "Metric weightedF2 with 0.63 was LessThanThreshold '0.72'"       → value, threshold
 * First match per name wins; anything unrecognised yields nothing, the description itself is
 * always in the detail.
 */
const DESCRIPTION_NUMBERS: ReadonlyArray<readonly [string, RegExp]> = [
  ['distance', new RegExp(`distance:?\\s*${NUM}`, 'i')],
  ['threshold', new RegExp(`threshold:?\\s*${NUM}`, 'i')],
  ['threshold', new RegExp(`was\\s+\\w+\\s+'${NUM}'`, 'i')],
  ['expected_pct', new RegExp(`Expected (?:match|completeness):\\s*${NUM}\\s*%`, 'i')],
  ['observed_pct', new RegExp(`Only\\s+${NUM}\\s*%`, 'i')],
  ['value', new RegExp(`(?:Value|drift|with)\\s+${NUM}`, 'i')],
];

export function numbersFromDescription(description: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, re] of DESCRIPTION_NUMBERS) {
    if (name in out) continue;
    const m = re.exec(description);
    const n = m?.[1] === undefined ? Number.NaN : Number(m[1]);
    if (Number.isFinite(n)) out[name] = n;
  }
  return out;
}

export interface FindingParts {
  readonly kind: ModelMonitorKind;
  readonly severity?: Severity | undefined;
  readonly title: string;
  readonly labels: FindingLabels;
  readonly window: { startMs: number; endMs: number };
  readonly values?: Record<string, number> | undefined;
  readonly detail: string;
  readonly nowMs: number;
}

/** Shared by Model Monitor and our own drift checks, so both produce the same findings. */
export function buildFinding(p: FindingParts): Finding {
  return {
    schemaVersion: FINDING_SCHEMA_VERSION,
    kind: p.kind,
    severity: p.severity ?? 'ticket',
    cause: 'model',
    title: truncate(p.title, 200),
    labels: p.labels,
    evidence: {
      ...(p.values ? { values: p.values } : {}),
      window: p.window,
      detail: truncate(p.detail, 4_000),
    },
    runbook: `docs/runbooks/${p.kind}.md`,
    detectedAt: p.nowMs,
  };
}

export function labelsOf(endpoint: string, team: string | undefined): FindingLabels {
  return team
    ? { endpoint: truncate(endpoint, 256), team: truncate(team, 256) }
    : { endpoint: truncate(endpoint, 256) };
}

function endpointOf(ctx: ExecutionContext): string {
  return ctx.labels.endpoint ?? ctx.schedule.endpoint;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
