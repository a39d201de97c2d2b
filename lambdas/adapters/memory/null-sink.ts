import type { GpuSample, TrainingJobState } from '../../core/model';
import type { Log, SinkWriteResult, TelemetrySink } from '../../core/ports';

/**
 * sink.kind 'none': no telemetry store (e.g. an account that cannot use Timestream for
 * LiveAnalytics). Writes nothing, and says so: `written` is 0 and a debug line names the count,
 * so nobody mistakes an empty sink for lost data. Detection and the job store still run.
 */
export class NullTelemetrySink implements TelemetrySink {
  readonly name = 'none';

  constructor(private readonly log?: Log) {}

  async writeGpuSamples(samples: readonly GpuSample[]): Promise<SinkWriteResult> {
    return this.skip('gpu', samples.length);
  }

  async writeJobStates(jobs: readonly TrainingJobState[]): Promise<SinkWriteResult> {
    return this.skip('job_state', jobs.length);
  }

  private skip(kind: string, records: number): SinkWriteResult {
    if (records > 0) this.log?.debug('Telemetry sink is "none": records not stored', { kind, records });
    return { written: 0, rejected: [], calls: 0 };
  }
}
