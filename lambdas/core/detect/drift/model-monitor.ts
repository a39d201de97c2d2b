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
import { HOUR_MS, MINUTE_MS } from '../../time';

/**
 * SageMaker Model Monitor results → findings, for accounts that still have Model Monitor.
 *
 *   CompletedWithViolations  one finding per violated feature / metric / facet, from the report
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
  return violations.map((v) => violationFinding(ctx, v));
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
      return `feature ${v.feature_name}`;
    case 'ModelQuality':
      return `metric ${v.metric_name}`;
    case 'ModelBias':
      return `${v.metric_name} for facet ${v.facet}=${v.facet_value}`;
    case 'ModelExplainability':
      return `SHAP attribution of label ${v.label}`;
  }
}

function violationFinding(ctx: ExecutionContext, v: Violation): Finding {
  const kind = DRIFT_KINDS[ctx.type];
  const subject = subjectOf(ctx.type, v);
  const values = numbersFromDescription(v.description);
  return buildFinding({
    kind,
    severity: ctx.options.severity?.[kind],
    title: `${ctx.type} violation on ${endpointOf(ctx)}: ${subject} (${v.constraint_check_type})`,
    labels: { ...ctx.labels, feature: subject },
    window: ctx.window,
    values: Object.keys(values).length > 0 ? values : undefined,
    detail: `${v.constraint_check_type}: ${subject}: ${v.description} [schedule ${ctx.summary.MonitoringScheduleName}]`,
    nowMs: ctx.nowMs,
  });
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
