import type { GpuSample, TrainingJobState } from '../../core/model';
import type { SinkWriteResult, TelemetrySink } from '../../core/ports';

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
    });
    return { written: samples.length - rejected.length, rejected, calls: Math.ceil(samples.length / 100) };
  }

  async writeJobStates(jobs: readonly TrainingJobState[]): Promise<SinkWriteResult> {
    this.jobWriteCalls += Math.ceil(jobs.length / 100);
    for (const j of jobs) this.jobs.set(`${j.region}|${j.jobName}|${j.lastModifiedTime}`, j);
    return { written: jobs.length, rejected: [], calls: Math.ceil(jobs.length / 100) };
  }
}
