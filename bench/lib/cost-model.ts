import { PRICES_USD } from '../../lambdas/contracts/prices';

/**
 * What FleetWatch costs per month at the reference fleet, from the API calls and store operations
 * a simulated run actually made (pure; bench/cost.bench.ts measures, this prices).
 *
 * A small run (a few hours, a scaled-down fleet with the reference's jobs per GPU) is scaled to
 * the reference (1,200 GPUs, 35,000 jobs/day, 30 days), each quantity by what drives it:
 *   per collector run (time only)  collector invocations, detection state GET + PUT (S3, one
 *                                  object), collector watermark reads/writes (DynamoDB)
 *   per GPU × time                 GetMetricData metrics requested (priced per metric, so
 *                                  (series) × (runs): 1/cadence), ListMetrics, GPU-minute records
 *                                  (Timestream, one per GPU-minute whatever the cadence), findings,
 *                                  incidents, notifications
 *   per job × time                 job events (queue messages, ingest invocations), job records,
 *                                  checkpoint listings (s3:ListObjectsV2)
 *   fixed schedules                sweep-incidents every minute, reconcile-jobs every 15 minutes,
 *                                  SQS event-source polling
 * Assumptions that are not measured are the named constants below; docs/benchmarks.md lists them.
 */

export const REFERENCE = { gpus: 1200, jobsPerDay: 35_000, days: 30 } as const;

export const ASSUMPTIONS = {
  /** Collector Lambda memory (infra/stacks/fleetwatch-stack.ts). */
  collectorMemoryGb: 2,
  /** Router, sweep, ingest and reconcile Lambdas: 512 MB. */
  smallLambdaMemoryGb: 0.5,
  /** Billed duration of one small-Lambda invocation (not measured here). */
  smallLambdaSeconds: 0.3,
  /** Real GetMetricData latency per call, with this many calls in flight (collector design). */
  getMetricDataCallSeconds: 0.5,
  writeRecordsCallSeconds: 0.1,
  apiConcurrency: 4,
  sweepEveryMinutes: 1,
  reconcileEveryMinutes: 15,
  /** Lambda SQS event sources long-poll (20 s) with ~5 pollers per queue; 2 queues (job events, findings). */
  sqsPollRequestsPerMinute: 2 * 5 * 3,
  /** Sizes of the store items (KiB; DynamoDB bills writes per 1 KiB, strongly consistent reads per 4 KiB). */
  watermarkItemKiB: 1,
  incidentItemKiB: 2,
  /** Bytes of one GPU-minute record in Timestream (one 1 KiB write unit). */
  recordKiBUnits: 1,
} as const;

/** What one simulated run measured (runSimulation's result plus the scenario). */
export interface CostMeasurement {
  readonly cadenceMinutes: number;
  readonly gpus: number;
  readonly jobsPerDay: number;
  readonly simulatedHours: number;
  /** Collector runs in the simulated span. */
  readonly runs: number;
  readonly apiCalls: Readonly<Record<string, number>>;
  /** "<store>:<method>" counts: collectState (DynamoDB), detectState (S3), incidents (DynamoDB). */
  readonly storeOps: Readonly<Record<string, number>>;
  readonly sinkRecords: { readonly gpu: number; readonly jobs: number };
  readonly jobEvents: number;
  readonly routeBatches: number;
  /** Mean CPU seconds of collection + detection per run (simulated sources: no API latency). */
  readonly collectDetectSecondsPerRun: number;
}

export interface CostLine {
  readonly service: string;
  readonly item: string;
  readonly quantityPerMonth: number;
  readonly usdPerMonth: number;
}

export interface CostEstimate {
  readonly cadenceMinutes: number;
  readonly lines: CostLine[];
  readonly usdPerMonth: number;
  readonly usdPerGpuMonth: number;
  /** Collector Lambda billed seconds per run at the reference fleet (modelled). */
  readonly collectorSecondsPerRun: number;
}

const n = (calls: Readonly<Record<string, number>>, key: string) => calls[key] ?? 0;
const sumOps = (ops: Readonly<Record<string, number>>, store: string, method: string) =>
  ops[`${store}:${method}`] ?? 0;

export function estimateMonthlyCost(m: CostMeasurement, ref = REFERENCE, a = ASSUMPTIONS): CostEstimate {
  if (!(m.simulatedHours > 0) || !(m.gpus > 0) || !(m.jobsPerDay > 0) || !(m.runs > 0))
    throw new Error(
      `estimateMonthlyCost: simulatedHours, gpus, jobsPerDay and runs must be > 0, got ${JSON.stringify({ h: m.simulatedHours, gpus: m.gpus, jobsPerDay: m.jobsPerDay, runs: m.runs })}`,
    );
  const minutesPerMonth = ref.days * 24 * 60;
  const time = (ref.days * 24) / m.simulatedHours;
  const perGpu = (ref.gpus / m.gpus) * time;
  const perJob = (ref.jobsPerDay / m.jobsPerDay) * time;
  const runsPerMonth = m.runs * time;
  const lines: CostLine[] = [];
  const add = (service: string, item: string, quantityPerMonth: number, unitUsd: number) =>
    lines.push({ service, item, quantityPerMonth, usdPerMonth: quantityPerMonth * unitUsd });

  // CloudWatch
  add(
    'CloudWatch',
    'GetMetricData metrics requested',
    n(m.apiCalls, 'cloudwatch:GetMetricData:metrics') * perGpu,
    PRICES_USD.getMetricDataPerMetric,
  );
  add(
    'CloudWatch',
    'ListMetrics requests',
    n(m.apiCalls, 'cloudwatch:ListMetrics') * perGpu,
    PRICES_USD.cloudWatchApiRequest,
  );
  // Timestream
  add(
    'Timestream',
    '1 KiB writes (GPU-minute + job records)',
    (m.sinkRecords.gpu * perGpu + m.sinkRecords.jobs * perJob) * a.recordKiBUnits,
    PRICES_USD.timestreamWritePerKiB,
  );
  // Lambda
  const gmdCallsPerRun = (n(m.apiCalls, 'cloudwatch:GetMetricData') * perGpu) / runsPerMonth;
  const writeCallsPerRun = (n(m.apiCalls, 'timestream:WriteRecords') * perGpu) / runsPerMonth;
  const collectorSecondsPerRun =
    m.collectDetectSecondsPerRun * (ref.gpus / m.gpus) +
    (gmdCallsPerRun * a.getMetricDataCallSeconds + writeCallsPerRun * a.writeRecordsCallSeconds) /
      a.apiConcurrency;
  const small = {
    ingest: m.jobEvents * perJob,
    router: m.routeBatches * perGpu,
    sweep: minutesPerMonth / a.sweepEveryMinutes,
    reconcile: minutesPerMonth / a.reconcileEveryMinutes,
  };
  const smallInvocations = small.ingest + small.router + small.sweep + small.reconcile;
  add('Lambda', 'collector invocations', runsPerMonth, PRICES_USD.lambdaRequest);
  add(
    'Lambda',
    'collector GB-seconds',
    runsPerMonth * collectorSecondsPerRun * a.collectorMemoryGb,
    PRICES_USD.lambdaArmGbSecond,
  );
  add('Lambda', 'ingest/router/sweep/reconcile invocations', smallInvocations, PRICES_USD.lambdaRequest);
  add(
    'Lambda',
    'ingest/router/sweep/reconcile GB-seconds',
    smallInvocations * a.smallLambdaSeconds * a.smallLambdaMemoryGb,
    PRICES_USD.lambdaArmGbSecond,
  );
  // S3: the detection state object (one GET + one PUT a run), checkpoint listings.
  add('S3', 'detection state GET', sumOps(m.storeOps, 'detectState', 'get') * time, PRICES_USD.s3GetRequest);
  add(
    'S3',
    'detection state PUT',
    sumOps(m.storeOps, 'detectState', 'put') * time,
    PRICES_USD.s3PutOrListRequest,
  );
  add(
    'S3',
    'checkpoint ListObjectsV2',
    n(m.apiCalls, 's3:ListObjectsV2') * perJob,
    PRICES_USD.s3PutOrListRequest,
  );
  // DynamoDB: collector watermarks (per run), incidents (per finding routed).
  add(
    'DynamoDB',
    'watermark reads (RRU)',
    sumOps(m.storeOps, 'collectState', 'get') * time * Math.ceil(a.watermarkItemKiB / 4),
    PRICES_USD.dynamoDbReadRequestUnit,
  );
  add(
    'DynamoDB',
    'watermark writes (WRU)',
    sumOps(m.storeOps, 'collectState', 'put') * time * a.watermarkItemKiB,
    PRICES_USD.dynamoDbWriteRequestUnit,
  );
  const incidentReads =
    sumOps(m.storeOps, 'incidents', 'get') +
    sumOps(m.storeOps, 'incidents', 'listActive') +
    sumOps(m.storeOps, 'incidents', 'listRecent');
  add('DynamoDB', 'incident reads (RRU)', incidentReads * perGpu, PRICES_USD.dynamoDbReadRequestUnit);
  add(
    'DynamoDB',
    'incident writes (WRU)',
    sumOps(m.storeOps, 'incidents', 'put') * perGpu * a.incidentItemKiB,
    PRICES_USD.dynamoDbWriteRequestUnit,
  );
  // SQS: findings sent, job events (one message each, EventBridge target), event-source polling.
  add(
    'SQS',
    'requests (findings, job events, polling)',
    n(m.apiCalls, 'sqs:SendMessageBatch') * perGpu +
      m.jobEvents * perJob +
      a.sqsPollRequestsPerMinute * minutesPerMonth,
    PRICES_USD.sqsRequest,
  );
  add('SNS', 'notifications published', n(m.apiCalls, 'sns:Publish') * perGpu, PRICES_USD.snsPublish);

  const usdPerMonth = lines.reduce((s, l) => s + l.usdPerMonth, 0);
  return {
    cadenceMinutes: m.cadenceMinutes,
    lines,
    usdPerMonth,
    usdPerGpuMonth: usdPerMonth / ref.gpus,
    collectorSecondsPerRun,
  };
}

/** Sum of the lines of one service. */
export function serviceTotal(estimate: CostEstimate, service: string): number {
  return estimate.lines.filter((l) => l.service === service).reduce((s, l) => s + l.usdPerMonth, 0);
}
