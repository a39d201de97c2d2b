import type { DataCaptureConfig, DriftConfig, DriftEndpointConfig } from '../contracts/drift-config';
import type { Finding } from '../contracts/finding';
import {
  type MonitoringExecutionSummary,
  monitoringExecutionSummarySchema,
} from '../contracts/model-monitor';
import {
  type BadLine,
  checkDrift,
  type FeatureRow,
  parseDataCapture,
} from '../core/detect/drift/data-capture';
import {
  buildFinding,
  labelsOf,
  MONITOR_KINDS,
  type MonitorSchedule,
  modelMonitorFindings,
} from '../core/detect/drift/model-monitor';
import type {
  FindingsPublisher,
  Log,
  ModelMonitorApi,
  MonitoringScheduleInfo,
  ObjectReader,
  OpsMetrics,
  StateStore,
} from '../core/ports';
import { type Clock, DAY_MS, HOUR_MS } from '../core/time';
import { isCsvBaseline, parseBaselineDataset } from './drift-baseline';

/**
 * check-drift: model drift findings for the configured SageMaker endpoints, on a schedule.
 *
 * Per endpoint, two independent paths (one failing does not stop the other, nor other endpoints):
 *
 *   Model Monitor  schedules of the endpoint → executions scheduled in the last lookbackHours
 *                  → new terminal ones only (state 'drift/state' remembers those already handled)
 *                  → CompletedWithViolations: its constraint_violations.json is read once
 *                  → one finding per execution listing its violated features worst first;
 *                  Failed → a finding; stale schedule → a finding
 *   own check      Data Capture JSONL of the last windowHours vs the baseline dataset → KS / PSI
 *                  per feature → one 'model.drift.data_quality' finding per endpoint listing the
 *                  drifted features (one drifted model is one incident). Re-judged every
 *                  run over a sliding window; repeated findings share a fingerprint, so the router
 *                  deduplicates them.
 *
 * An execution is remembered only once all its findings reached the queue, so a failed send is
 * retried by the next run rather than lost, and a report is never sent twice by runs that succeed.
 */
export interface DriftLimits {
  /** Largest constraint_violations.json read. @default 5 MiB */
  readonly reportMaxBytes: number;
  /** Largest baseline dataset read. @default 50 MiB */
  readonly baselineMaxBytes: number;
  /** Largest single Data Capture object read. @default 20 MiB */
  readonly captureObjectMaxBytes: number;
  /** Data Capture bytes read per endpoint and run. @default 200 MiB */
  readonly captureTotalMaxBytes: number;
  /** Data Capture objects listed per endpoint and run. @default 5000 */
  readonly captureMaxObjects: number;
}

export const DEFAULT_DRIFT_LIMITS: DriftLimits = {
  reportMaxBytes: 5 * 1024 * 1024,
  baselineMaxBytes: 50 * 1024 * 1024,
  captureObjectMaxBytes: 20 * 1024 * 1024,
  captureTotalMaxBytes: 200 * 1024 * 1024,
  captureMaxObjects: 5_000,
};

export interface CheckDriftDeps {
  readonly monitor: ModelMonitorApi;
  readonly objects: ObjectReader;
  readonly publisher: FindingsPublisher;
  readonly state: StateStore;
  readonly clock: Clock;
  readonly log: Log;
  readonly ops: OpsMetrics;
  /** The drift config with every endpoint's region resolved (resolveDriftConfig). */
  readonly drift: DriftConfig;
  readonly limits?: Partial<DriftLimits>;
}

export interface CheckDriftOptions {
  /** Epoch ms after which no new work starts. */
  readonly deadline: number;
}

export const DRIFT_STATE_KEY = 'drift/state';

/** Stored under DRIFT_STATE_KEY: executions already handled, by `<region>/<schedule>@<ScheduledTime>`. */
export interface DriftState {
  readonly seen: Record<string, number>;
}

/** Entries kept in the state, at most (a DynamoDB item holds 400 KB). */
const MAX_SEEN = 5_000;

export type PathOutcome = 'ok' | 'error' | 'deadline' | 'skipped';

export interface EndpointSummary {
  readonly endpoint: string;
  readonly region: string;
  modelMonitor: PathOutcome;
  dataCapture: PathOutcome;
  error?: string;
  executionsNew: number;
  reportsRead: number;
  captureObjects: number;
  captureRows: number;
  badLines: number;
  findings: number;
}

export interface CheckDriftSummary {
  readonly endpoints: EndpointSummary[];
  readonly findings: number;
  readonly published: number;
  readonly unpublished: number;
  readonly stateSaved: boolean;
}

class DeadlineReached extends Error {
  override readonly name = 'DeadlineReached';
}

/** A finding and the execution it reports (remembered once the finding is sent). */
interface Pending {
  readonly finding: Finding;
  readonly executionKey?: string;
}

/** The report's file name, then the spelling a BYOC example uses. */
const REPORT_FILES = ['constraint_violations.json', 'constraints_violations.json'];

const TERMINAL = new Set(['Completed', 'CompletedWithViolations', 'Failed', 'Stopped']);

export async function checkDriftRun(
  deps: CheckDriftDeps,
  options: CheckDriftOptions,
): Promise<CheckDriftSummary> {
  const limits = { ...DEFAULT_DRIFT_LIMITS, ...deps.limits };
  const stored = await deps.state.get<DriftState>(DRIFT_STATE_KEY);
  const seen = new Map(Object.entries(stored?.value.seen ?? {}));
  const handled = new Set<string>();
  const pending: Pending[] = [];
  const endpoints: EndpointSummary[] = [];

  for (const endpoint of deps.drift.endpoints) {
    const region = endpoint.region ?? 'us-east-1';
    const s: EndpointSummary = {
      endpoint: endpoint.name,
      region,
      modelMonitor: 'skipped',
      dataCapture: 'skipped',
      executionsNew: 0,
      reportsRead: 0,
      captureObjects: 0,
      captureRows: 0,
      badLines: 0,
      findings: 0,
    };
    endpoints.push(s);
    const runPath = async (path: 'modelMonitor' | 'dataCapture', work: () => Promise<Pending[]>) => {
      if (deps.clock.now() >= options.deadline) {
        s[path] = 'deadline';
        deps.ops.count('driftEndpointsFailed', 1, { Path: path, Reason: 'deadline' });
        return;
      }
      try {
        const found = await work();
        pending.push(...found);
        s.findings += found.length;
        s[path] = 'ok';
        deps.ops.count('driftEndpointsChecked', 1, { Path: path });
        if (found.length > 0) deps.ops.count('driftFindings', found.length, { Path: path });
      } catch (err) {
        const deadline = err instanceof DeadlineReached;
        s[path] = deadline ? 'deadline' : 'error';
        const message = `${(err as Error).name}: ${(err as Error).message}`;
        s.error = s.error ? `${s.error} | ${message}` : message;
        deps.ops.count('driftEndpointsFailed', 1, { Path: path, Reason: deadline ? 'deadline' : 'error' });
        const line = { endpoint: endpoint.name, region, path, error: message };
        if (deadline) deps.log.warn('Drift check of an endpoint stopped at the deadline', line);
        else deps.log.error('Drift check of an endpoint failed; the other endpoints go on', line);
      }
    };
    if (endpoint.modelMonitor) {
      await runPath('modelMonitor', () =>
        modelMonitorPath(deps, limits, endpoint, region, seen, handled, s, options.deadline, pending),
      );
    }
    const capture = endpoint.dataCapture;
    if (capture) {
      await runPath('dataCapture', () =>
        dataCapturePath(deps, limits, endpoint, capture, region, s, options.deadline),
      );
    }
  }

  const findings = pending.map((p) => p.finding);
  let published = 0;
  const failedExecutions = new Set<string>();
  if (findings.length > 0) {
    const result = await deps.publisher.publish(findings);
    published = result.published;
    for (const f of result.failed) {
      const key = pending[f.index]?.executionKey;
      if (key !== undefined) failedExecutions.add(key);
      deps.log.warn('Drift finding not published; retried next run', {
        kind: pending[f.index]?.finding.kind,
        labels: pending[f.index]?.finding.labels,
        reason: f.reason,
      });
    }
    if (result.failed.length > 0) deps.ops.count('driftFindingsUnpublished', result.failed.length);
  }

  const stateSaved = await saveState(deps, stored?.version, seen, handled, failedExecutions);
  const summary: CheckDriftSummary = {
    endpoints,
    findings: findings.length,
    published,
    unpublished: findings.length - published,
    stateSaved,
  };
  deps.log.info('Drift check finished', { ...summary });
  return summary;
}

async function saveState(
  deps: CheckDriftDeps,
  version: number | undefined,
  seen: Map<string, number>,
  handled: ReadonlySet<string>,
  failed: ReadonlySet<string>,
): Promise<boolean> {
  const newly = [...handled].filter((k) => !failed.has(k));
  if (newly.length === 0 && version !== undefined) return true;
  for (const key of newly) seen.set(key, scheduledMsOf(key));
  // Executions older than the listing lookback are never listed again: forget them.
  const horizon = deps.clock.now() - deps.drift.lookbackHours * HOUR_MS - DAY_MS;
  const kept = [...seen.entries()]
    .filter(([, ms]) => ms >= horizon)
    .sort((a, b) => b[1] - a[1])
    .slice(0, MAX_SEEN);
  const put = await deps.state.put<DriftState>(DRIFT_STATE_KEY, { seen: Object.fromEntries(kept) }, version);
  if (put === 'conflict') {
    deps.ops.count('driftStateConflicts', 1);
    deps.log.warn('drift/state changed under this run; executions handled now may be reported again', {
      executions: newly.length,
    });
    return false;
  }
  return true;
}

function executionKey(region: string, schedule: string, scheduledMs: number): string {
  return `${region}/${schedule}@${scheduledMs}`;
}

function scheduledMsOf(key: string): number {
  return Number(key.slice(key.lastIndexOf('@') + 1));
}

async function modelMonitorPath(
  deps: CheckDriftDeps,
  limits: DriftLimits,
  endpoint: DriftEndpointConfig,
  region: string,
  seen: ReadonlyMap<string, number>,
  handled: Set<string>,
  s: EndpointSummary,
  deadline: number,
  sink: Pending[],
): Promise<Pending[]> {
  const nowMs = deps.clock.now();
  const infos = await deps.monitor.schedulesOf(region, endpoint.name);
  const out: Pending[] = [];
  if (infos.length === 0) {
    out.push({
      finding: buildFinding({
        kind: MONITOR_KINDS.stale,
        title: `No Model Monitor schedule on endpoint ${endpoint.name}`,
        labels: labelsOf(endpoint.name, endpoint.team),
        window: { startMs: nowMs - deps.drift.lookbackHours * HOUR_MS, endMs: nowMs },
        detail: `modelMonitor is enabled for ${endpoint.name} in ${region}, but ListMonitoringSchedules returned no schedule for it; create one or set modelMonitor: false`,
        nowMs,
      }),
    });
    return out;
  }
  const sinceMs = nowMs - deps.drift.lookbackHours * HOUR_MS;
  const options = { staleFactor: deps.drift.staleFactor };
  const schedules: MonitorSchedule[] = [];
  try {
    for (const info of infos) {
      const schedule = toSchedule(info, endpoint.team);
      let newest = info.lastScheduledMs;
      for (const raw of await deps.monitor.executionsSince(region, info.name, sinceMs)) {
        const parsed = monitoringExecutionSummarySchema.safeParse(raw);
        if (!parsed.success) {
          deps.ops.count('monitoringSummariesInvalid', 1);
          deps.log.warn('Monitoring execution summary not understood; skipped', {
            endpoint: endpoint.name,
            schedule: info.name,
            problem: parsed.error.issues[0]?.message,
            summary: JSON.stringify(raw)?.slice(0, 500),
          });
          continue;
        }
        const summary = parsed.data;
        newest = Math.max(newest ?? Number.NEGATIVE_INFINITY, summary.ScheduledTime);
        const key = executionKey(region, info.name, summary.ScheduledTime);
        if (!TERMINAL.has(summary.MonitoringExecutionStatus) || seen.has(key) || handled.has(key)) continue;
        if (deps.clock.now() >= deadline) throw new DeadlineReached('deadline reached between executions');
        s.executionsNew++;
        let report: unknown;
        try {
          report =
            summary.MonitoringExecutionStatus === 'CompletedWithViolations'
              ? await readReport(deps, limits, region, summary, s)
              : undefined;
        } catch (err) {
          // Not remembered: the next run tries this execution's report again.
          deps.ops.count('driftEndpointsFailed', 1, { Path: 'modelMonitor', Reason: 'report' });
          deps.log.error('Model Monitor report could not be read; retried next run', {
            endpoint: endpoint.name,
            schedule: info.name,
            processingJobArn: summary.ProcessingJobArn,
            error: `${(err as Error).name}: ${(err as Error).message}`,
          });
          continue;
        }
        const found = modelMonitorFindings({
          schedules: [schedule],
          executions: [{ summary, report }],
          nowMs,
          options,
        }).filter((f) => f.kind !== MONITOR_KINDS.stale);
        for (const finding of found) out.push({ finding, executionKey: key });
        handled.add(key);
      }
      schedules.push(newest === undefined ? schedule : { ...schedule, lastScheduledMs: newest });
    }
  } catch (err) {
    // What was finished stays finished: those executions' findings are sent and remembered.
    sink.push(...out);
    throw err;
  }
  // Staleness over every schedule, from the newest execution seen in any state.
  for (const finding of modelMonitorFindings({ schedules, executions: [], nowMs, options })) {
    out.push({ finding });
  }
  return out;
}

function toSchedule(info: MonitoringScheduleInfo, team: string | undefined): MonitorSchedule {
  const intervalMs = info.scheduleExpression ? intervalOf(info.scheduleExpression) : undefined;
  return {
    name: info.name,
    endpoint: info.endpoint,
    ...(info.monitoringType ? { monitoringType: info.monitoringType } : {}),
    ...(intervalMs !== undefined ? { intervalMs } : {}),
    ...(team ? { team } : {}),
    ...(info.lastScheduledMs !== undefined ? { lastScheduledMs: info.lastScheduledMs } : {}),
  };
}

/**
 * Cadence of a Model Monitor cron expression (6 fields: minutes hours day-of-month month
 * day-of-week year). Model Monitor allows hourly, every N hours and daily schedules:
 *   cron(0 * ? * * *)  → 1 h      cron(0 0/6 ? * * *) or cron(0 *\/6 …) → 6 h      cron(0 8 ? * * *) → 1 day
 * Anything else (NOW, one-time windows) → undefined: the core's default hour.
 */
export function intervalOf(expression: string): number | undefined {
  const m = /^cron\((.*)\)$/i.exec(expression.trim());
  const hours = m?.[1]?.trim().split(/\s+/)[1];
  if (hours === undefined) return undefined;
  if (hours === '*') return HOUR_MS;
  const step = /^(?:\*|\d+)\/(\d+)$/.exec(hours);
  if (step?.[1]) return Number(step[1]) * HOUR_MS;
  if (/^\d+$/.test(hours)) return DAY_MS;
  return undefined;
}

/**
 * The report of a CompletedWithViolations execution, as modelMonitorFindings wants it: parsed
 * JSON, a string when it is not JSON (reported as invalid), undefined when not found.
 */
async function readReport(
  deps: CheckDriftDeps,
  limits: DriftLimits,
  region: string,
  summary: MonitoringExecutionSummary,
  s: EndpointSummary,
): Promise<unknown> {
  if (!summary.ProcessingJobArn) return undefined;
  const location = await deps.monitor.reportLocationOf(region, summary.ProcessingJobArn);
  if (location === undefined) return undefined;
  // Listed rather than tried: our s3:ListBucket is limited by s3:prefix, which a GetObject does
  // not carry, so S3 would answer a missing key with AccessDenied rather than 404. The listing
  // also finds the BYOC spelling constraints_violations.json (aws-facts.md §4).
  const listing = await deps.objects.listObjects(`${location}/`, { maxKeys: 100 });
  const names = new Map(listing.objects.map((o) => [o.key.slice(o.key.lastIndexOf('/') + 1), o.uri]));
  const uri = REPORT_FILES.map((f) => names.get(f)).find((u) => u !== undefined);
  if (uri === undefined) return undefined;
  const read = await deps.objects.readText(uri, limits.reportMaxBytes);
  if (read.status === 'missing') return undefined;
  s.reportsRead++;
  deps.ops.count('monitoringReportsRead', 1);
  if (read.status === 'too_large') {
    return `report ${uri} is ${read.size} bytes, over the ${limits.reportMaxBytes}-byte cap; not read`;
  }
  try {
    return JSON.parse(read.text) as unknown;
  } catch {
    return read.text;
  }
}

async function dataCapturePath(
  deps: CheckDriftDeps,
  limits: DriftLimits,
  endpoint: DriftEndpointConfig,
  capture: DataCaptureConfig,
  region: string,
  s: EndpointSummary,
  deadline: number,
): Promise<Pending[]> {
  const nowMs = deps.clock.now();
  const baselineRead = await deps.objects.readText(capture.baselineS3Uri, limits.baselineMaxBytes);
  if (baselineRead.status !== 'ok') {
    throw new Error(
      baselineRead.status === 'missing'
        ? `baseline dataset ${capture.baselineS3Uri} does not exist`
        : `baseline dataset ${capture.baselineS3Uri} is ${baselineRead.size} bytes, over the ${limits.baselineMaxBytes}-byte cap; sample it down`,
    );
  }
  const baseline = parseBaselineDataset(
    baselineRead.text,
    isCsvBaseline(capture.baselineS3Uri) ? 'csv' : 'jsonl',
    capture.features,
  );
  if (baseline.badCount > 0) {
    deps.log.warn('Baseline dataset rows not used', {
      endpoint: endpoint.name,
      baseline: capture.baselineS3Uri,
      count: baseline.badCount,
      examples: baseline.bad.slice(0, 5),
    });
  }
  if (baseline.features.length === 0) {
    throw new Error(
      `baseline dataset ${capture.baselineS3Uri} has no columns and no features are configured`,
    );
  }

  const windowStart = nowMs - capture.windowHours * HOUR_MS;
  const root = `${capture.s3Uri.replace(/\/+$/, '')}/${endpoint.name}/`;
  const recent: FeatureRow[] = [];
  const bad: BadLine[] = [];
  let startMs = Number.POSITIVE_INFINITY;
  let endMs = Number.NEGATIVE_INFINITY;
  let totalBytes = 0;
  const skip = (reason: string, count = 1) =>
    deps.ops.count('driftCaptureObjectsSkipped', count, { Reason: reason });

  for (const variant of await deps.objects.listChildPrefixes(root)) {
    // Keys are <variant>/yyyy/mm/dd/hh/<file>.jsonl: listing after the window's first hour skips
    // every older partition without reading it.
    const variantKey = variant.replace(/^s3:\/\/[^/]+\//, '');
    const listing = await deps.objects.listObjects(variant, {
      startAfterKey: `${variantKey}${hourPath(windowStart)}`,
      modifiedFromMs: windowStart,
      maxKeys: limits.captureMaxObjects,
    });
    if (listing.truncated) {
      skip('object_cap');
      deps.log.warn('More Data Capture objects than the per-run cap; the newest were not read', {
        endpoint: endpoint.name,
        variant,
        cap: limits.captureMaxObjects,
      });
    }
    for (const object of listing.objects) {
      if (deps.clock.now() >= deadline)
        throw new DeadlineReached('deadline reached while reading Data Capture');
      if (totalBytes + object.size > limits.captureTotalMaxBytes) {
        skip('total_cap');
        bad.push({
          file: object.key,
          line: 0,
          reason: `not read: over the ${limits.captureTotalMaxBytes}-byte per-run cap`,
        });
        continue;
      }
      const read = await deps.objects.readText(object.uri, limits.captureObjectMaxBytes);
      if (read.status !== 'ok') {
        skip(read.status);
        bad.push({
          file: object.key,
          line: 0,
          reason:
            read.status === 'missing'
              ? 'deleted before it was read'
              : `not read: ${read.size} bytes, over the per-object cap`,
        });
        continue;
      }
      totalBytes += object.size;
      s.captureObjects++;
      const parsed = parseDataCapture(read.text, baseline.features, {
        source: capture.source,
        file: object.key,
      });
      for (const row of parsed.rows) recent.push(row);
      bad.push(...parsed.bad);
      if (parsed.window) {
        startMs = Math.min(startMs, parsed.window.startMs);
        endMs = Math.max(endMs, parsed.window.endMs);
      }
    }
  }
  s.captureRows = recent.length;
  s.badLines = bad.length;
  if (bad.length > 0) deps.ops.count('driftCaptureLinesInvalid', bad.length);

  const result = checkDrift({
    baseline: baseline.rows,
    recent,
    features: baseline.features,
    thresholds: capture.thresholds,
    endpoint: endpoint.name,
    ...(endpoint.team ? { team: endpoint.team } : {}),
    window: Number.isFinite(startMs) ? { startMs, endMs } : { startMs: windowStart, endMs: nowMs },
    nowMs,
    badLines: bad,
  });
  deps.log.info('Own drift check of an endpoint', {
    endpoint: endpoint.name,
    region,
    rows: recent.length,
    baselineRows: baseline.rows.length,
    features: result.features.map((f) => ({ feature: f.feature, verdict: f.verdict, psi: f.psi, ks: f.ks })),
  });
  return result.findings.map((finding) => ({ finding }));
}

/** `yyyy/mm/dd/hh` (UTC) of an instant: Data Capture's partition path. */
export function hourPath(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())}/${p(d.getUTCHours())}`;
}
