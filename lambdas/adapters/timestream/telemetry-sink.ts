import {
  type _Record,
  type Dimension,
  type MeasureValue,
  type RejectedRecord,
  type TimestreamWriteClient,
  WriteRecordsCommand,
} from '@aws-sdk/client-timestream-write';
import { isSignal, SIGNALS, type Signal, type SignalSpec } from '../../contracts/signals';
import type { GpuSample, TrainingJobState } from '../../core/model';
import type { Log, OpsMetrics, SinkRejection, SinkWriteResult, TelemetrySink } from '../../core/ports';
import {
  backoffMs,
  errorMessage,
  errorName,
  isThrottling,
  isTransient,
  type Sleep,
  sleepFor,
} from '../aws-retry';

/**
 * TelemetrySink over Timestream for LiveAnalytics (WriteRecords). AWS closed LiveAnalytics to new
 * customers on 2025-06-20: this sink works only in accounts onboarded before then (see ADR 0002;
 * sink.kind 'none' runs without one).
 *
 * - Multi-measure records: one record per GPU-minute (MeasureName 'gpu') and per job state
 *   (MeasureName 'job_state'); measures are columns.
 * - At most 100 records per request. Records are ordered by their dimensions and cut into
 *   requests of 100, so there are ceil(n/100) requests; within each, the dimensions every record
 *   shares go into CommonAttributes (charged once) and are removed from the records (Timestream
 *   rejects a request whose common and record dimensions overlap).
 * - RejectedRecordsException: the other records of the request were ingested; each rejection is
 *   mapped back to the caller's index, logged (detail lines capped) and counted by reason.
 * - A request-level ValidationException is narrowed by halving the request until the offending
 *   records are isolated and rejected, so one bad record never costs its 99 neighbours.
 * - Throttling, 5xx and network errors: the same request is retried with exponential backoff and
 *   jitter. Retrying is idempotent because records carry a fixed Version and the same values.
 */
export interface TimestreamTables {
  readonly database: string;
  readonly gpuTable: string;
  readonly jobsTable: string;
}

export interface TimestreamSinkOptions {
  readonly log?: Log;
  readonly ops?: OpsMetrics;
  /** Attempts per request, the first included (throttling, 5xx, network). @default 6 */
  readonly maxAttempts?: number;
  /** @default 100 */
  readonly baseDelayMs?: number;
  /** @default 5000 */
  readonly maxDelayMs?: number;
  readonly sleep?: Sleep;
  readonly random?: () => number;
  /** Requests in flight at once. @default 4 */
  readonly concurrency?: number;
  /** Rejections logged one by one per write call; the rest only in the summary line. @default 10 */
  readonly maxLoggedRejections?: number;
}

/** The sink gave up on a request (retries exhausted, or a non-retryable error such as a missing table). */
export class TelemetrySinkError extends Error {
  override readonly name = 'TelemetrySinkError';
}

export const MAX_RECORDS_PER_WRITE = 100;
/** Timestream's limit for one measure value (characters). */
export const MAX_MEASURE_VALUE_CHARS = 2048;

/** A record before it is split into common and own attributes. */
interface PendingRecord {
  /** Index in the caller's array. */
  readonly index: number;
  readonly dimensions: readonly Dimension[];
  readonly measures: readonly MeasureValue[];
  readonly time: number;
  readonly version: number;
}

interface RequestOutcome {
  readonly written: number;
  readonly rejected: SinkRejection[];
}

const noLog: Log = { debug() {}, info() {}, warn() {}, error() {} };
const noOps: OpsMetrics = { count() {} };

export class TimestreamTelemetrySink implements TelemetrySink {
  readonly name = 'timestream';
  private readonly log: Log;
  private readonly ops: OpsMetrics;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  private readonly concurrency: number;
  private readonly maxLoggedRejections: number;

  constructor(
    private readonly client: TimestreamWriteClient,
    private readonly tables: TimestreamTables,
    options: TimestreamSinkOptions = {},
  ) {
    this.log = options.log ?? noLog;
    this.ops = options.ops ?? noOps;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 6);
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 5_000;
    this.sleep = options.sleep ?? sleepFor;
    this.random = options.random ?? Math.random;
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.maxLoggedRejections = options.maxLoggedRejections ?? 10;
  }

  async writeGpuSamples(samples: readonly GpuSample[]): Promise<SinkWriteResult> {
    const records: PendingRecord[] = [];
    const invalid: SinkRejection[] = [];
    samples.forEach((sample, index) => {
      const measures = gpuMeasures(sample.values);
      if (measures.length === 0) {
        invalid.push({
          index,
          reason: 'no finite signal value to write (a record needs at least one measure)',
        });
        return;
      }
      // Version 1 for every GPU-minute: a rewrite with the same values is accepted as a no-op,
      // one with different values is rejected and reported rather than silently replacing data.
      records.push({ index, dimensions: gpuDimensions(sample), measures, time: sample.time, version: 1 });
    });
    return this.write(this.tables.gpuTable, 'gpu', records, invalid);
  }

  async writeJobStates(jobs: readonly TrainingJobState[]): Promise<SinkWriteResult> {
    const records = jobs.map(
      (job, index): PendingRecord => ({
        index,
        dimensions: jobDimensions(job),
        measures: jobMeasures(job),
        time: job.lastModifiedTime,
        // LastModifiedTime as the version: a redelivered state rewrites identically, a newer one wins.
        version: job.lastModifiedTime,
      }),
    );
    return this.write(this.tables.jobsTable, 'job_state', records, []);
  }

  private async write(
    table: string,
    measureName: string,
    records: PendingRecord[],
    invalid: SinkRejection[],
  ): Promise<SinkWriteResult> {
    const requests = chunk(records.sort(byDimensions), MAX_RECORDS_PER_WRITE);
    const tally = { calls: 0 };
    const settled = await mapWithConcurrency(requests, this.concurrency, (request) =>
      this.send(table, measureName, request, tally).then(
        (outcome) => ({ outcome, error: undefined }),
        (error: unknown) => ({ outcome: undefined, error }),
      ),
    );
    const outcomes = settled.flatMap((s) => (s.outcome === undefined ? [] : [s.outcome]));
    const failures = settled.flatMap((s) => (s.error === undefined ? [] : [s.error]));
    const written = outcomes.reduce((n, o) => n + o.written, 0);
    const remote = outcomes.flatMap((o) => o.rejected);
    if (tally.calls > 0) this.ops.count('writeRecordsCalls', tally.calls, { Table: table });
    if (written > 0) this.ops.count('recordsWritten', written, { Table: table });
    this.reportRejections(table, [
      ...invalid.map((r) => ({ rejection: r, category: 'invalid' })),
      ...remote.map((r) => ({ rejection: r, category: rejectionCategory(r) })),
    ]);
    if (failures.length > 0) {
      // Requests that succeeded stay written; the caller's retry rewrites them as no-ops
      // (same version, same values) and completes the rest.
      const first = failures[0];
      this.log.error('Timestream write incomplete: requests failed after retries', {
        table,
        failedRequests: failures.length,
        requests: requests.length,
        recordsWritten: written,
        error: errorMessage(first),
      });
      throw first instanceof TelemetrySinkError
        ? first
        : new TelemetrySinkError(`Timestream write to ${table} failed: ${errorMessage(first)}`, {
            cause: first,
          });
    }
    const rejected = [...invalid, ...remote].sort((a, b) => a.index - b.index);
    return { written, rejected, calls: tally.calls };
  }

  /** One WriteRecords request, retried while transient; narrowed by halving on ValidationException. */
  private async send(
    table: string,
    measureName: string,
    records: PendingRecord[],
    tally: { calls: number },
  ): Promise<RequestOutcome> {
    const { common, own } = splitCommonAttributes(records);
    for (let attempt = 1; ; attempt++) {
      tally.calls++;
      try {
        await this.client.send(
          new WriteRecordsCommand({
            DatabaseName: this.tables.database,
            TableName: table,
            CommonAttributes: {
              ...common,
              MeasureName: measureName,
              MeasureValueType: 'MULTI',
              TimeUnit: 'MILLISECONDS',
            },
            Records: own,
          }),
        );
        return { written: records.length, rejected: [] };
      } catch (err) {
        if (errorName(err) === 'RejectedRecordsException') {
          const rejected = mapRejections(err, records);
          return { written: records.length - rejected.length, rejected };
        }
        if (errorName(err) === 'ValidationException') {
          if (records.length === 1) {
            const only = records[0] as PendingRecord;
            return {
              written: 0,
              rejected: [{ index: only.index, reason: `ValidationException: ${errorMessage(err)}` }],
            };
          }
          this.log.warn(
            'Timestream rejected a whole request as invalid; halving it to isolate the bad records',
            {
              table,
              records: records.length,
              error: errorMessage(err),
            },
          );
          const half = Math.ceil(records.length / 2);
          const left = await this.send(table, measureName, records.slice(0, half), tally);
          const right = await this.send(table, measureName, records.slice(half), tally);
          return { written: left.written + right.written, rejected: [...left.rejected, ...right.rejected] };
        }
        if (!isTransient(err) || attempt >= this.maxAttempts) {
          throw new TelemetrySinkError(
            `Timestream WriteRecords to ${this.tables.database}.${table} failed after ${attempt} attempt(s) ` +
              `(${records.length} records): ${errorName(err)}: ${errorMessage(err)}`,
            { cause: err },
          );
        }
        const delayMs = backoffMs(attempt, this.baseDelayMs, this.maxDelayMs, this.random);
        this.ops.count('sinkRetries', 1);
        if (isThrottling(err)) this.ops.count('apiThrottled', 1, { Api: 'WriteRecords' });
        this.log.warn('Timestream WriteRecords failed transiently; retrying the same request', {
          table,
          records: records.length,
          attempt,
          maxAttempts: this.maxAttempts,
          delayMs,
          error: errorName(err),
          message: errorMessage(err),
        });
        await this.sleep(delayMs);
      }
    }
  }

  private reportRejections(
    table: string,
    rejections: readonly { rejection: SinkRejection; category: string }[],
  ): void {
    if (rejections.length === 0) return;
    const byReason = new Map<string, number>();
    for (const { category } of rejections) byReason.set(category, (byReason.get(category) ?? 0) + 1);
    // Categories, not raw reasons, as the metric dimension: raw reasons embed values and versions.
    for (const [reason, n] of byReason)
      this.ops.count('recordsRejected', n, { Table: table, Reason: reason });
    for (const { rejection: r, category } of rejections.slice(0, this.maxLoggedRejections)) {
      this.log.warn('Telemetry record rejected', {
        table,
        index: r.index,
        category,
        reason: r.reason,
        ...(r.existingVersion !== undefined ? { existingVersion: r.existingVersion } : {}),
      });
    }
    this.log.warn('Telemetry sink rejected records; the rest of each batch was kept', {
      table,
      rejected: rejections.length,
      byReason: Object.fromEntries(byReason),
      detailLinesLogged: Math.min(rejections.length, this.maxLoggedRejections),
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Record shapes

function dim(name: string, value: string | undefined): Dimension[] {
  // Timestream rejects empty dimension values; an absent label is simply not a dimension.
  return value === undefined || value === ''
    ? []
    : [{ Name: name, Value: value, DimensionValueType: 'VARCHAR' }];
}

function gpuDimensions(s: GpuSample): Dimension[] {
  const l = s.labels;
  return [
    ...dim('cluster', l.cluster),
    ...dim('region', l.region),
    ...dim('instance_type', l.instanceType),
    ...dim('node', l.node),
    ...dim('gpu', l.gpu),
    ...dim('job', l.job),
    ...dim('team', l.team),
  ];
}

function gpuMeasures(values: GpuSample['values']): MeasureValue[] {
  const out: MeasureValue[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (!isSignal(name) || typeof value !== 'number' || !Number.isFinite(value)) continue;
    out.push(signalMeasure(name, value));
  }
  return out.sort((a, b) => (a.Name as string).localeCompare(b.Name as string));
}

function signalMeasure(signal: Signal, value: number): MeasureValue {
  const spec: SignalSpec = SIGNALS[signal];
  // A measure's type is fixed by its first write: integer signals are always BIGINT.
  return spec.integer === true
    ? { Name: signal, Value: String(Math.round(value)), Type: 'BIGINT' }
    : { Name: signal, Value: String(value), Type: 'DOUBLE' };
}

function jobDimensions(j: TrainingJobState): Dimension[] {
  return [
    ...dim('region', j.region),
    ...dim('job_name', j.jobName),
    ...dim('instance_type', j.instanceType),
    ...dim('team', j.team),
    ...dim('workload_class', j.workloadClass),
  ];
}

function jobMeasures(j: TrainingJobState): MeasureValue[] {
  const m: MeasureValue[] = [{ Name: 'status', Value: j.status, Type: 'VARCHAR' }];
  if (j.secondaryStatus) m.push({ Name: 'secondary_status', Value: j.secondaryStatus, Type: 'VARCHAR' });
  if (j.instanceCount !== undefined)
    m.push({ Name: 'instance_count', Value: String(j.instanceCount), Type: 'BIGINT' });
  if (j.trainingTimeSeconds !== undefined) {
    m.push({ Name: 'training_seconds', Value: String(j.trainingTimeSeconds), Type: 'DOUBLE' });
  }
  if (j.billableTimeSeconds !== undefined) {
    m.push({ Name: 'billable_seconds', Value: String(j.billableTimeSeconds), Type: 'DOUBLE' });
  }
  if (j.failureReason) {
    // The job store keeps the full text; the sink keeps what fits in one measure value.
    m.push({
      Name: 'failure_reason',
      Value: truncate(j.failureReason, MAX_MEASURE_VALUE_CHARS),
      Type: 'VARCHAR',
    });
  }
  return m;
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

// ---------------------------------------------------------------------------------------------
// Batching

function dimensionKey(r: PendingRecord): string {
  return r.dimensions.map((d) => `${d.Name}=${d.Value}`).join('\u0000');
}

function byDimensions(a: PendingRecord, b: PendingRecord): number {
  const ka = dimensionKey(a);
  const kb = dimensionKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : a.time - b.time;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Moves what every record of a request shares (dimensions with equal values, and the version)
 * into CommonAttributes; each record keeps only the rest, so none overlaps the common part.
 */
function splitCommonAttributes(records: readonly PendingRecord[]): {
  common: { Dimensions?: Dimension[]; Version?: number };
  own: _Record[];
} {
  const [first] = records;
  if (first === undefined) return { common: {}, own: [] };
  const shared = first.dimensions.filter((d) =>
    records.every((r) => r.dimensions.some((x) => x.Name === d.Name && x.Value === d.Value)),
  );
  const sharedNames = new Set(shared.map((d) => d.Name));
  const sameVersion = records.every((r) => r.version === first.version);
  const own = records.map((r): _Record => {
    const dims = r.dimensions.filter((d) => !sharedNames.has(d.Name));
    return {
      ...(dims.length > 0 ? { Dimensions: dims } : {}),
      MeasureValues: [...r.measures],
      Time: String(r.time),
      ...(sameVersion ? {} : { Version: r.version }),
    };
  });
  return {
    common: {
      ...(shared.length > 0 ? { Dimensions: shared } : {}),
      ...(sameVersion ? { Version: first.version } : {}),
    },
    own,
  };
}

function mapRejections(err: unknown, records: readonly PendingRecord[]): SinkRejection[] {
  const list = (err as { RejectedRecords?: RejectedRecord[] }).RejectedRecords ?? [];
  const out: SinkRejection[] = [];
  for (const r of list) {
    const rec = r.RecordIndex === undefined ? undefined : records[r.RecordIndex];
    if (rec === undefined) continue;
    out.push({
      index: rec.index,
      reason: r.Reason ?? 'rejected without a reason',
      ...(r.ExistingVersion !== undefined && r.ExistingVersion !== null
        ? { existingVersion: Number(r.ExistingVersion) }
        : {}),
    });
  }
  return out;
}

/** Bounded set of reason categories for the RecordsRejected metric. */
export function rejectionCategory(r: Pick<SinkRejection, 'reason' | 'existingVersion'>): string {
  const reason = r.reason.toLowerCase();
  if (r.existingVersion !== undefined || reason.includes('same dimensions') || reason.includes('version')) {
    return 'duplicate';
  }
  if (reason.includes('retention') || reason.includes('time range') || reason.includes('timestamp')) {
    return 'out-of-retention';
  }
  if (reason.startsWith('validationexception')) return 'invalid';
  if (
    reason.includes('exceed') ||
    reason.includes('limit') ||
    reason.includes('maximum') ||
    reason.includes('too ')
  ) {
    return 'over-limit';
  }
  return 'other';
}

async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
