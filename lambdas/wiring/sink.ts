import { NullTelemetrySink } from '../adapters/memory/null-sink';
import { TimestreamTelemetrySink } from '../adapters/timestream/telemetry-sink';
import { ENV } from '../contracts/env';
import type { Log, OpsMetrics, TelemetrySink } from '../core/ports';
import { timestreamWriteClient } from './clients';
import { homeRegion, readEnv, requireEnv } from './env';

export const SINK_KINDS = ['timestream', 'none'] as const;
export type SinkKind = (typeof SINK_KINDS)[number];

export interface TelemetrySinkOptions {
  readonly log?: Log;
  readonly ops?: OpsMetrics;
  /** Region of the sink's tables. @default the Lambda's region */
  readonly region?: string;
}

/**
 * The telemetry sink chosen by FLEETWATCH_SINK: Timestream for LiveAnalytics by default, or none.
 * Another sink is added here (and in the config's sink.kind enum); collectors only see the port.
 */
export function makeTelemetrySink(options: TelemetrySinkOptions = {}): TelemetrySink {
  const kind = readEnv(ENV.sinkKind) ?? 'timestream';
  switch (kind) {
    case 'timestream':
      return new TimestreamTelemetrySink(
        timestreamWriteClient(options.region ?? homeRegion()),
        {
          database: requireEnv(ENV.timestreamDatabase),
          gpuTable: requireEnv(ENV.timestreamGpuTable),
          jobsTable: requireEnv(ENV.timestreamJobsTable),
        },
        { ...(options.log ? { log: options.log } : {}), ...(options.ops ? { ops: options.ops } : {}) },
      );
    case 'none':
      return new NullTelemetrySink(options.log);
    default:
      throw new Error(
        `Environment variable ${ENV.sinkKind} is "${kind}"; allowed: ${SINK_KINDS.join(', ')} (the stack sets it from config sink.kind)`,
      );
  }
}
