import type { GpuSample, TrainingJobState } from '../../core/model';
import type { SinkWriteResult, TelemetrySink } from '../../core/ports';

export interface InMemoryTelemetrySinkOptions {
  /**
   * Forget records older than this behind the newest one written (like a Timestream memory-store
   * retention), so a month-long simulation does not hold every GPU-minute. Records are kept while
   * a rewrite could still reach them: set it above the collector's backfill horizon.
   * @default keep everything
   */
  readonly retainMs?: number;
}

/**
 * In-memory telemetry sink that keeps Timestream's idempotency rule: the same key written again
 * with the same values is accepted, with different values it is rejected (first value kept).
 */
export class InMemoryTelemetrySink implements TelemetrySink {
  readonly name = 'memory';
  readonly gpu = new Map<string, GpuSample>();
  readonly jobs = new Map<string, TrainingJobState>();
  gpuWriteCalls = 0;
  jobWriteCalls = 0;
  private readonly retainMs: number;
  private newestGpuMs = Number.NEGATIVE_INFINITY;
  private newestJobMs = Number.NEGATIVE_INFINITY;

  constructor(options: InMemoryTelemetrySinkOptions = {}) {
    this.retainMs = options.retainMs ?? Number.POSITIVE_INFINITY;
  }

  async writeGpuSamples(samples: readonly GpuSample[]): Promise<SinkWriteResult> {
    this.gpuWriteCalls += Math.ceil(samples.length / 100);
    const rejected: { index: number; reason: string }[] = [];
    samples.forEach((s, index) => {
      const key = `${s.labels.cluster}|${s.labels.region}|${s.labels.node}|${s.labels.gpu}|${s.time}`;
      const existing = this.gpu.get(key);
      if (existing !== undefined && JSON.stringify(existing.values) !== JSON.stringify(s.values)) {
        rejected.push({
          index,
          reason: 'A record with the same dimensions and time but different values exists',
        });
        return;
      }
      this.gpu.set(key, s);
      if (s.time > this.newestGpuMs) this.newestGpuMs = s.time;
    });
    if (this.retainMs !== Number.POSITIVE_INFINITY)
      pruneOlder(this.gpu, this.newestGpuMs - this.retainMs, (s) => s.time);
    return { written: samples.length - rejected.length, rejected, calls: Math.ceil(samples.length / 100) };
  }

  async writeJobStates(jobs: readonly TrainingJobState[]): Promise<SinkWriteResult> {
    this.jobWriteCalls += Math.ceil(jobs.length / 100);
    for (const j of jobs) {
      this.jobs.set(`${j.region}|${j.jobName}|${j.lastModifiedTime}`, j);
      if (j.lastModifiedTime > this.newestJobMs) this.newestJobMs = j.lastModifiedTime;
    }
    if (this.retainMs !== Number.POSITIVE_INFINITY)
      pruneOlder(this.jobs, this.newestJobMs - this.retainMs, (j) => j.lastModifiedTime);
    return { written: jobs.length, rejected: [], calls: Math.ceil(jobs.length / 100) };
  }
}

/**
 * Drops the oldest records in insertion order (roughly time order) until one is inside the
 * horizon: cheap, and a record written out of order is only kept a little longer.
 */
function pruneOlder<V>(records: Map<string, V>, horizonMs: number, timeOf: (v: V) => number): void {
  for (const [key, v] of records) {
    if (timeOf(v) >= horizonMs) return;
    records.delete(key);
  }
}
