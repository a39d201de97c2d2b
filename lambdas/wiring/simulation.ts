import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { type BucketLocationConstraint, CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { DynamoDbCalendarStore } from '../adapters/dynamodb/calendar-store';
import { DynamoDbIncidentStore, INCIDENT_ITEM } from '../adapters/dynamodb/incident-store';
import { DynamoDbStateStore } from '../adapters/dynamodb/state-store';
import { InMemoryCalendarStore } from '../adapters/memory/calendar-store';
import { InMemoryDeadLetters } from '../adapters/memory/dead-letters';
import { InMemoryFindingsPublisher } from '../adapters/memory/findings';
import { InMemoryIncidentStore } from '../adapters/memory/incident-store';
import { InMemoryJobStore } from '../adapters/memory/job-store';
import { RecordingRemediationStarter } from '../adapters/memory/remediation';
import { InMemoryStateStore } from '../adapters/memory/state-store';
import { InMemoryTelemetrySink } from '../adapters/memory/telemetry-sink';
import { S3StateStore } from '../adapters/s3/state-store';
import { S3UsageStore, USAGE_PREFIX } from '../adapters/s3/usage-store';
import { SnsNotifier } from '../adapters/sns/notifier';
import { SqsFindingsPublisher } from '../adapters/sqs/findings-publisher';
import { type CollectSummary, collectGpuMetrics } from '../app/collect-gpu-metrics';
import { detectWindow } from '../app/detect-window';
import { ingestJobEvent } from '../app/ingest-job-events';
import { InventoryCache } from '../app/inventory-cache';
import { type RouteDeps, routeFindings, sweepIncidents } from '../app/route-findings';
import type { SeasonalWindow as CalendarSeasonal, MaintenanceWindow } from '../contracts/calendar';
import { parseConfig, type RuntimeConfig, runtimeConfigFrom } from '../contracts/config';
import type { Severity } from '../contracts/finding';
import type { Incident } from '../contracts/incident';
import type { IncidentsConfig } from '../contracts/incidents-config';
import type { Notification } from '../contracts/notification';
import type { InputIssue } from '../core/kpi/goodput';
import type { GpuSample, TrainingJobState } from '../core/model';
import type {
  CalendarStore,
  FindingsPublisher,
  IncidentStore,
  Log,
  Notifier,
  OpsMetrics,
  StateStore,
  TelemetrySink,
} from '../core/ports';
import { type Clock, HOUR_MS, MINUTE_MS } from '../core/time';
import type { FaultTruth } from '../sim/faults';
import { type MaintenanceInterval, simulatorFleets, simulatorProfile } from '../sim/index';
import { renderReport } from '../sim/report';
import type { Scenario, SeasonalWindow } from '../sim/scenario';
import { type RunSummary, scoreRun } from '../sim/score';
import { FleetSimulator, type SimulatorOptions } from '../sim/simulator';
import {
  emptyApiCalls,
  SimulatedCheckpoints,
  SimulatedJobProgress,
  SimulatedMetricSource,
} from '../sim/sources';
import { dynamoDocumentClient, resetClients, s3Client, snsClient, sqsClient } from './clients';
import { type MotoServer, startMoto } from './moto';
import { makeSimulatedDriftCheck } from './simulation-drift';
import {
  type SimulationGoodputDrop,
  type SimulationKpiOptions,
  type SimulationKpiPoint,
  SimulationKpis,
  type SimulationKpiUsage,
  TrackedUsageStore,
} from './simulation-kpis';

/**
 * Composition of a simulated run (`fleetwatch simulate`, `npm run demo`, test/scenarios): the real
 * use cases on a virtual clock over a FleetSimulator.
 *
 *   every collection cadence (config collection.cadenceMinutes, 5 min by default):
 *     simulator.runUntil(now) ─► job events ─► ingestJobEvent ─► job store
 *     collectGpuMetrics (SimulatedMetricSource, modelled publishing delay) ─► sink, committed samples
 *     detectWindow (those samples, job queries, simulated progress and checkpoints) ─► findings
 *     routeFindings (findings of this run) ─► sweepIncidents ─► notifications at virtual `now`
 *
 * The RuntimeConfig is built from the scenario: its fleet read through the simulator profile, its
 * maintenance intervals as the one calendar's windows (detection and router both get them), its
 * seasonal load windows as the router's seasonal stage (SEASONAL_RELAXED_KINDS need ten times the
 * runs to open while the expected load lasts).
 *
 *   every KPI cadence (options.kpis, 1 h of virtual time by default): the real computeKpis over the
 *     usage the detection runs recorded (simulation-kpis.ts); its kpi.goodput_drop findings go to
 *     the same findings publisher and are routed with the next batch.
 *
 * Backends: 'memory' (in-memory adapters) and 'moto' (the real DynamoDB, SQS, SNS and S3 adapters
 * against a moto_server started and stopped by the run; see motoBackend). Job events, telemetry
 * sink and remediation stay in memory in both.
 */

export interface DeliveredNotification {
  /** Virtual time of delivery, epoch ms. */
  readonly atMs: number;
  readonly severity: Notification['attributes']['severity'];
  readonly event: Notification['attributes']['event'];
  readonly kind: string;
  readonly category: Notification['attributes']['category'];
  readonly incidentId: string;
  readonly subject: string;
  readonly cluster?: string;
}

export interface UtilisationPoint {
  readonly tMs: number;
  /** Mean gpu_util (percent) over every GPU sample collected for that minute. */
  readonly utilPercent: number;
  readonly gpus: number;
}

export interface SimulationOptions {
  /** Modelled CloudWatch publishing delay. @default 2 minutes */
  readonly publishDelayMs?: number;
  /** Called as each notification is delivered (the CLI prints it). */
  readonly onNotification?: (n: DeliveredNotification) => void;
  /** @default 'memory' */
  readonly backend?: SimulationBackend;
  /**
   * Called once per collection window with exactly what detection got (benchmarks run shadow
   * detectors on it, e.g. bench/naive-detector.ts). Observers must not mutate what they receive.
   */
  readonly observers?: readonly SimulationObserver[];
  /**
   * Collection (and detection) cadence in minutes, integer 1..60. Overrides the config's
   * collection.cadenceMinutes (5 by default), which the runner honours otherwise.
   */
  readonly cadenceMinutes?: number;
  readonly simulator?: SimulatorOptions;
  /** Called after each collection + detection step with its timings (benchmarks). */
  readonly onStep?: (step: StepTiming) => void;
  /** The KPI pipeline of the run (simulation-kpis.ts); false: no usage recording, no KPIs. */
  readonly kpis?: SimulationKpiOptions | false;
}

/** One collection + detection step, timed. */
export interface StepTiming {
  readonly nowMs: number;
  readonly collectMs: number;
  /** Detection, including the usage record for the KPIs. */
  readonly detectMs: number;
  /** CPU time (user + system) of collection + detection: wall time on a busy machine overstates. */
  readonly cpuMs: number;
  readonly collected: CollectSummary;
  readonly samples: number;
  /** Simulated API calls so far (cumulative; diff two steps for one run). */
  readonly apiCalls: Readonly<Record<string, number>>;
}

/** What one collection + detection window saw. */
export interface SimulationWindow {
  /** Virtual time of the run, epoch ms. */
  readonly nowMs: number;
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  /** The samples the collector committed this run (detection's input). */
  readonly samples: readonly GpuSample[];
  /** Job states in the job store: active ones plus those changed since windowStartMs. */
  readonly jobs: readonly TrainingJobState[];
  /** Scheduler truth: the job holding a GPU at a minute (what pod labels give dcgm-exporter on k8s). */
  readonly jobOnGpu: (node: string, gpu: string, minuteMs: number) => string | undefined;
  /** Maintenance intervals of the scenario (an observer without a calendar ignores them). */
  readonly maintenance: readonly MaintenanceInterval[];
}

export interface SimulationObserver {
  onWindow(window: SimulationWindow): void | Promise<void>;
}

export interface SimulationResult {
  readonly scenario: Scenario;
  readonly truth: readonly FaultTruth[];
  readonly notifications: readonly DeliveredNotification[];
  readonly incidents: readonly Incident[];
  readonly maintenance: readonly MaintenanceInterval[];
  readonly utilisation: readonly UtilisationPoint[];
  readonly apiCalls: Readonly<Record<string, number>>;
  /** Findings the router refused as invalid (counted, never silently dropped). */
  readonly invalidFindings: number;
  /** Job events the ingest use case refused. */
  readonly invalidJobEvents: number;
  readonly runtimeSeconds: number;
  readonly backend: SimulationBackend;
  /** Findings taken off the findings queue and routed. */
  readonly findingsRouted: number;
  /** Notifications that reached a subscriber, by severity (moto: read back from SQS). */
  readonly deliveredBySeverity: Partial<Record<Severity, number>>;
  /** Collector (+ detector) runs: one per cadence step. */
  readonly runs: number;
  /** State and incident store operations by "<store>:<method>" (collectState, detectState, incidents). */
  readonly storeOps: Readonly<Record<string, number>>;
  /** Records written to the telemetry sink (GPU-minute records, job-state records), rewrites included. */
  readonly sinkRecords: { readonly gpu: number; readonly jobs: number };
  /** SageMaker job state-change events ingested (one job-events queue message each on AWS). */
  readonly jobEvents: number;
  /** routeFindings calls with at least one finding (incident-router Lambda invocations on AWS). */
  readonly routeBatches: number;
  /** Warnings and errors logged, by "<level>: <message>". */
  readonly logCounts: Readonly<Record<string, number>>;
  /** Fleet-scope KPIs, one point per KPI run (empty with options.kpis false). */
  readonly kpis: readonly SimulationKpiPoint[];
  /** kpi.goodput_drop findings of the run (every scope). */
  readonly goodputDrops: readonly SimulationGoodputDrop[];
}

/** Maintenance intervals of the simulator as calendar windows (one-off, resolved over the run). */
export function maintenanceWindowsOf(intervals: readonly MaintenanceInterval[]): MaintenanceWindow[] {
  return intervals.map((m) => ({
    name: `scenario-maintenance-${m.index}${m.recurring ? '-recurring' : ''}`,
    start: new Date(m.startMs).toISOString(),
    end: new Date(m.endMs).toISOString(),
    scope: [
      { label: 'cluster', op: '=', value: m.cluster },
      ...(m.hostname === undefined ? [] : [{ label: 'node' as const, op: '=' as const, value: m.hostname }]),
    ],
  }));
}

/**
 * The kinds a scenario's load window relaxes: queueing and a fleet-wide utilisation change are
 * what expected load looks like (weekday retrains fill the queue, then drain), so the SLA-miss and
 * start-latency rules and the fleet-utilisation rule need the most runs the calendar allows
 * (minRunsFactor 10: a 2-of-3 rule becomes 20 consecutive runs, 100 min at the 5-min cadence)
 * before an incident opens inside the window, and for as long again after it (drainMinutes = the
 * window's length: the queue the peak built takes about that long to drain). Only a queue that
 * stays broken for most of that span still notifies; job, GPU and software kinds are untouched.
 */
export const SEASONAL_RELAXED_KINDS = [
  'scheduling.sla_miss',
  'scheduling.start_latency_growth',
  'fleet.utilisation_drop',
] as const;
export const SEASONAL_MIN_RUNS_FACTOR = 10;

/** Scenario load windows as seasonal windows of the router (cron on the local wall clock). */
export function seasonalWindowsOf(seasonal: readonly SeasonalWindow[]): CalendarSeasonal[] {
  return seasonal.map((s, i) => {
    const from = minutesOf(s.from);
    const span = (minutesOf(s.to) - from + 1440) % 1440 || 1440;
    return {
      name: `scenario-seasonal-${i}`,
      cron: `${from % 60} ${Math.floor(from / 60)} * * ${s.days.join(',')}`,
      duration: `PT${span}M`,
      tz: s.tz,
      scope: [],
      // The backlog of the peak drains for about as long as the peak lasted.
      relax: {
        kinds: [...SEASONAL_RELAXED_KINDS],
        minRunsFactor: SEASONAL_MIN_RUNS_FACTOR,
        drainMinutes: span,
      },
    };
  });
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** The FleetWatch configuration a scenario implies (validated like a user's config file). */
export function configForScenario(
  scenario: Scenario,
  maintenance: readonly MaintenanceInterval[],
): { runtime: RuntimeConfig; incidents: IncidentsConfig; maintenance: MaintenanceWindow[] } {
  const first = scenario.fleet[0];
  if (first === undefined) throw new Error(`scenario ${scenario.name}: fleet is empty`);
  const cfg = parseConfig(
    {
      homeRegion: first.region,
      fleets: simulatorFleets(scenario),
      profiles: [simulatorProfile()],
      maintenance: maintenanceWindowsOf(maintenance),
      incidents: { seasonal: seasonalWindowsOf(scenario.workload.seasonal) },
    },
    `scenario ${scenario.name}`,
  );
  return { runtime: runtimeConfigFrom(cfg), incidents: cfg.incidents, maintenance: cfg.maintenance };
}

/**
 * Where the run keeps its state and sends its findings and notifications. 'memory': in-memory
 * adapters. 'moto': the real DynamoDB (collector state, incidents and calendar), SQS (findings
 * queue), SNS (three severity topics, each with an SQS subscriber) and S3 (KPI usage records and
 * KPI state, as the compute-kpis wiring has them) adapters over the AWS SDK, against a
 * moto_server the backend starts on a free port and stops in close().
 */
interface Backend {
  readonly name: SimulationBackend;
  readonly collectState: StateStore;
  readonly detectState: StateStore;
  readonly incidents: IncidentStore;
  readonly calendar: CalendarStore;
  readonly findings: FindingsPublisher;
  readonly notifier: Notifier;
  /** KPI usage records and computeKpis' state; undefined: SimulationKpis' in-memory defaults. */
  readonly kpi?: { readonly usage: SimulationKpiUsage; readonly state: StateStore };
  /** Findings published so far and not yet routed, as queue messages (id, parsed body). */
  takeFindings(): Promise<{ id: string; finding: unknown }[]>;
  /** API calls made to the backend's services, by "service:Operation". */
  calls(): Record<string, number>;
  /** Notifications that reached a subscriber, by severity (moto: read back from the SQS subscribers). */
  deliveredBySeverity(): Promise<Partial<Record<Severity, number>>>;
  close(): Promise<void>;
}

export const SIMULATION_BACKENDS = ['memory', 'moto'] as const;
export type SimulationBackend = (typeof SIMULATION_BACKENDS)[number];

function memoryBackend(): Backend {
  const findings = new InMemoryFindingsPublisher();
  const published: Notification[] = [];
  let taken = 0;
  return {
    name: 'memory',
    collectState: new InMemoryStateStore(),
    // Detection only parses what it reads and never touches what it wrote: no clone either way.
    detectState: new InMemoryStateStore({ values: 'frozen' }),
    incidents: new InMemoryIncidentStore(),
    calendar: new InMemoryCalendarStore(),
    findings,
    notifier: {
      publish: async (n) => {
        published.push(n);
        return `memory-${published.length}`;
      },
    },
    takeFindings: async () => {
      const fresh = findings.published.slice(taken);
      taken = findings.published.length;
      return fresh.map((finding, i) => ({ id: `finding-${taken - fresh.length + i}`, finding }));
    },
    calls: () => ({ 'sqs:SendMessageBatch': findings.calls, 'sns:Publish': published.length }),
    deliveredBySeverity: async () => {
      const out: Partial<Record<Severity, number>> = {};
      for (const n of published) out[n.attributes.severity] = (out[n.attributes.severity] ?? 0) + 1;
      return out;
    },
    close: async () => {},
  };
}

interface MiddlewareClient {
  readonly middlewareStack: {
    add(
      mw: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string; override: boolean },
    ): void;
  };
}

/** Counts every command a client sends as "<service>:<Operation>". */
function countCalls(client: unknown, service: string, counts: Record<string, number>): void {
  (client as MiddlewareClient).middlewareStack.add(
    (next, context) => async (args) => {
      const op = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
      counts[`${service}:${op}`] = (counts[`${service}:${op}`] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'fleetwatchSimulationCallCounter', override: true },
  );
}

/** The moto run's bucket for KPI usage records and KPI state (one moto_server per run). */
export const SIMULATION_KPI_BUCKET = 'fleetwatch-sim-detection-state';

const MOTO_ENV = ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION'] as const;

async function motoBackend(region: string, clock: Clock, log: Log): Promise<Backend> {
  const server: MotoServer = await startMoto();
  const saved = Object.fromEntries(MOTO_ENV.map((k) => [k, process.env[k]]));
  // Only ever talks to the local emulator: throwaway credentials, never the caller's.
  process.env.AWS_ENDPOINT_URL = server.endpoint;
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  process.env.AWS_REGION = region;
  resetClients();
  const close = async () => {
    resetClients();
    for (const k of MOTO_ENV) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await server.stop();
  };
  try {
    const counts: Record<string, number> = {};
    const doc = dynamoDocumentClient(region);
    const sqs = sqsClient(region);
    const sns = snsClient(region);
    const s3 = s3Client(region);
    countCalls(doc, 'dynamodb', counts);
    countCalls(sqs, 'sqs', counts);
    countCalls(sns, 'sns', counts);
    countCalls(s3, 's3', counts);

    // The detection-state bucket of the stack: KPI usage records under kpi/usage/ and the KPI
    // state object, as lambdas/wiring/kpis.ts wires compute-kpis (us-east-1 takes no constraint).
    const kpiBucket = SIMULATION_KPI_BUCKET;
    await s3.send(
      new CreateBucketCommand({
        Bucket: kpiBucket,
        ...(region === 'us-east-1'
          ? {}
          : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
      }),
    );
    const usageIssues: InputIssue[] = [];
    const kpiUsage = new TrackedUsageStore(
      new S3UsageStore(s3, kpiBucket, {
        prefix: USAGE_PREFIX,
        onUnreadable: ({ key, reason, detail }) =>
          log.warn('KPI usage record skipped', { key, reason, detail }),
        onIssue: (issue) => usageIssues.push(issue),
      }),
      usageIssues,
    );

    const stateTable = 'fleetwatch-sim-state';
    const incidentsTable = 'fleetwatch-sim-incidents';
    await doc.send(
      new CreateTableCommand({
        TableName: stateTable,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      }),
    );
    // As infra/constructs/incidents-table.ts creates it (key id, status-index by status, lastSeenMs).
    await doc.send(
      new CreateTableCommand({
        TableName: incidentsTable,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: INCIDENT_ITEM.key, KeyType: 'HASH' }],
        AttributeDefinitions: [
          { AttributeName: INCIDENT_ITEM.key, AttributeType: 'S' },
          { AttributeName: INCIDENT_ITEM.status, AttributeType: 'S' },
          { AttributeName: INCIDENT_ITEM.lastSeenMs, AttributeType: 'N' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: INCIDENT_ITEM.statusIndex,
            KeySchema: [
              { AttributeName: INCIDENT_ITEM.status, KeyType: 'HASH' },
              { AttributeName: INCIDENT_ITEM.lastSeenMs, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
    const findingsQueue = (await sqs.send(new CreateQueueCommand({ QueueName: 'fleetwatch-sim-findings' })))
      .QueueUrl;
    if (findingsQueue === undefined)
      throw new Error('moto CreateQueue returned no QueueUrl for the findings queue');
    const severities: Severity[] = ['page', 'ticket', 'info'];
    const topics = {} as Record<Severity, string>;
    const subscribers = {} as Record<Severity, string>;
    for (const sev of severities) {
      const arn = (await sns.send(new CreateTopicCommand({ Name: `fleetwatch-sim-${sev}` }))).TopicArn;
      const url = (await sqs.send(new CreateQueueCommand({ QueueName: `fleetwatch-sim-${sev}-subscriber` })))
        .QueueUrl;
      if (arn === undefined || url === undefined)
        throw new Error(`moto did not create the ${sev} topic or queue`);
      const attrs = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
      );
      await sns.send(
        new SubscribeCommand({
          TopicArn: arn,
          Protocol: 'sqs',
          Endpoint: attrs.Attributes?.QueueArn,
          Attributes: { RawMessageDelivery: 'true' },
        }),
      );
      topics[sev] = arn;
      subscribers[sev] = url;
    }

    /** Receives and deletes everything in a queue. */
    const drain = async (url: string): Promise<{ id: string; body: string }[]> => {
      const out: { id: string; body: string }[] = [];
      for (;;) {
        const page = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        );
        const messages = page.Messages ?? [];
        if (messages.length === 0) return out;
        for (const m of messages)
          out.push({ id: m.MessageId ?? `unknown-${out.length}`, body: m.Body ?? '' });
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: url,
            Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      }
    };
    const delivered: Partial<Record<Severity, number>> = {};
    return {
      name: 'moto',
      collectState: new DynamoDbStateStore(doc, stateTable, clock),
      detectState: new DynamoDbStateStore(doc, stateTable, clock),
      incidents: new DynamoDbIncidentStore(doc, incidentsTable),
      calendar: new DynamoDbCalendarStore(doc, incidentsTable),
      findings: new SqsFindingsPublisher(sqs, findingsQueue),
      notifier: new SnsNotifier(sns, topics),
      kpi: { usage: kpiUsage, state: new S3StateStore(s3, kpiBucket) },
      takeFindings: async () =>
        (await drain(findingsQueue)).map((m) => {
          try {
            return { id: m.id, finding: JSON.parse(m.body) as unknown };
          } catch (e) {
            // Routed anyway: the router reports it invalid and the run counts it.
            log.error('findings queue message is not JSON', { messageId: m.id, error: (e as Error).message });
            return { id: m.id, finding: m.body };
          }
        }),
      calls: () => ({ ...counts }),
      deliveredBySeverity: async () => {
        for (const sev of severities)
          delivered[sev] = (delivered[sev] ?? 0) + (await drain(subscribers[sev])).length;
        return { ...delivered };
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * The run's Log and OpsMetrics: nothing reads the collector's and detector's info/debug lines or
 * the metric stream of a simulation, and over a month they are millions of objects. Warnings and
 * errors are counted by message; the first ones are kept for debugging.
 */
class SimulationLog implements Log {
  readonly kept: { level: 'warn' | 'error'; message: string; attributes: Record<string, unknown> }[] = [];
  readonly counts = new Map<string, number>();
  debug(): void {}
  info(): void {}
  warn(message: string, attributes: Record<string, unknown> = {}): void {
    this.record('warn', message, attributes);
  }
  error(message: string, attributes: Record<string, unknown> = {}): void {
    this.record('error', message, attributes);
  }
  private record(level: 'warn' | 'error', message: string, attributes: Record<string, unknown>): void {
    const key = `${level}: ${message}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    if (this.kept.length < 200) this.kept.push({ level, message, attributes });
  }
}

/** Sums per metric (the recording adapter keeps every data point). */
class SummingOpsMetrics implements OpsMetrics {
  readonly totals = new Map<string, number>();
  count(metric: string, value: number): void {
    this.totals.set(metric, (this.totals.get(metric) ?? 0) + value);
  }
}

/** Wraps the backend's notifier to record each delivery at virtual time. */
class VirtualTimeNotifier implements Notifier {
  readonly delivered: DeliveredNotification[] = [];
  constructor(
    private readonly inner: Notifier,
    private readonly clock: Clock,
    private readonly onNotification?: (n: DeliveredNotification) => void,
  ) {}

  async publish(n: Notification): Promise<string> {
    const messageId = await this.inner.publish(n);
    const a = n.attributes;
    const d: DeliveredNotification = {
      atMs: this.clock.now(),
      severity: a.severity,
      event: a.event,
      kind: a.kind,
      category: a.category,
      incidentId: a.incidentId,
      subject: n.subject,
      ...(a.cluster === undefined ? {} : { cluster: a.cluster }),
    };
    this.delivered.push(d);
    this.onNotification?.(d);
    return messageId;
  }
}

/** Wraps every method of `target` to count calls as "<name>:<method>" (store operations for the cost model). */
function counted<T extends object>(target: T, name: string, counts: Record<string, number>): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]) => {
        counts[`${name}:${prop}`] = (counts[`${name}:${prop}`] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(obj, args);
      };
    },
  });
}

/** Counts records written through a sink (the in-memory sink keeps only a retention's worth). */
function countingSink(inner: TelemetrySink, written: { gpu: number; jobs: number }): TelemetrySink {
  return {
    name: inner.name,
    writeGpuSamples: async (samples) => {
      const r = await inner.writeGpuSamples(samples);
      written.gpu += r.written;
      return r;
    },
    writeJobStates: async (jobs) => {
      const r = await inner.writeJobStates(jobs);
      written.jobs += r.written;
      return r;
    },
  };
}

function cadenceOf(option: number | undefined, configured: number): number {
  if (option === undefined) return configured;
  if (!Number.isInteger(option) || option < 1 || option > 60)
    throw new Error(`runSimulation: cadenceMinutes got ${option}; allowed an integer 1..60`);
  return option;
}

export async function runSimulation(
  scenario: Scenario,
  options: SimulationOptions = {},
): Promise<SimulationResult> {
  const wallStart = performance.now();
  const sim = new FleetSimulator(scenario, options.simulator);
  const base = configForScenario(scenario, sim.maintenance);
  const { incidents, maintenance } = base;
  const cadenceMinutes = cadenceOf(options.cadenceMinutes, base.runtime.collection.cadenceMinutes);
  const runtime: RuntimeConfig = {
    ...base.runtime,
    collection: { ...base.runtime.collection, cadenceMinutes },
  };
  let nowMs = sim.nowMs;
  const clock: Clock = { now: () => nowMs };
  const log = new SimulationLog();
  const ops = new SummingOpsMetrics();
  const calls = emptyApiCalls();
  const delayMs = options.publishDelayMs ?? 2 * MINUTE_MS;
  const homeRegion = scenario.fleet[0]?.region ?? 'us-east-1';
  const backend =
    (options.backend ?? 'memory') === 'moto' ? await motoBackend(homeRegion, clock, log) : memoryBackend();
  try {
    // Rewrites only reach minutes inside the backfill horizon (the watermark never moves back
    // further); keep an hour more than that so a month-long run holds ~1 day of samples, not 30.
    const memorySink = new InMemoryTelemetrySink({
      retainMs: (runtime.collection.backfillHorizonHours + 1) * HOUR_MS,
      keep: 'digests', // nobody reads the samples back; a day of them was ~2 GiB of live heap
    });
    const sinkRecords = { gpu: 0, jobs: 0 };
    const sink = countingSink(memorySink, sinkRecords);
    // Like the table's TTL, finished jobs are forgotten (2 days after their last change, beyond
    // every query horizon: detection reaches back 6 h + 1 day), so a month is not a million states.
    const jobStore = new InMemoryJobStore({ retainFinishedMs: 48 * HOUR_MS });
    const notifier = new VirtualTimeNotifier(backend.notifier, clock, options.onNotification);
    const storeOps: Record<string, number> = {};
    const kpis =
      options.kpis === false
        ? undefined
        : new SimulationKpis(
            {
              jobs: jobStore,
              findings: backend.findings,
              log,
              startMs: sim.nowMs,
              ...(backend.kpi ? { records: backend.kpi.usage, state: backend.kpi.state } : {}),
            },
            options.kpis ?? {},
          );

    const collectDeps = {
      clock,
      config: runtime,
      source: new SimulatedMetricSource(sim, { delayMs, calls }),
      sink,
      state: counted(backend.collectState, 'collectState', storeOps),
      inventory: new InventoryCache(),
      log,
      ops,
    };
    const ingestDeps = {
      sink,
      jobStore,
      deadLetters: new InMemoryDeadLetters(),
      tagKeys: { teamTag: runtime.jobs.teamTag, workloadClassTag: runtime.jobs.workloadClassTag },
      log,
      ops,
    };
    const detectDeps = {
      clock,
      config: runtime,
      state: counted(backend.detectState, 'detectState', storeOps),
      jobs: jobStore,
      progress: new SimulatedJobProgress(sim, { delayMs, calls }),
      checkpoints: new SimulatedCheckpoints(sim, { calls }),
      findings: backend.findings,
      // Scheduler truth for samples without a job label (node-level profiles attribute by placement).
      placement: { current: async () => sim.placement() },
      ...(kpis === undefined ? {} : { usage: kpis.records }),
      log,
      ops,
    };
    const routeDeps: RouteDeps = {
      store: counted(backend.incidents, 'incidents', storeOps),
      calendar: backend.calendar,
      notifier,
      remediation: new RecordingRemediationStarter(),
      config: incidents,
      maintenance,
      log,
    };

    // model_drift faults: the real check-drift over simulated Data Capture (undefined without one).
    const drift = makeSimulatedDriftCheck({
      scenario,
      endpoints: sim.endpoints,
      publisher: backend.findings,
      clock,
      log,
      ops,
    });
    const cadenceMs = runtime.collection.cadenceMinutes * MINUTE_MS;
    const nodeByHost = new Map(sim.fleet.nodes.map((n) => [n.hostname, n]));
    const jobOnGpu = (node: string, gpu: string, minuteMs: number): string | undefined => {
      const n = nodeByHost.get(node);
      const g = Number(gpu);
      if (n === undefined || !Number.isInteger(g) || g < 0 || g >= n.gpuCount) return undefined;
      return sim.jobOnGpu(n.firstGpu + g, minuteMs)?.name;
    };
    const utilByMinute = new Map<number, { sum: number; n: number }>();
    let invalidFindings = 0;
    let invalidJobEvents = 0;
    let lastWindowEnd = sim.nowMs;
    let findingsRouted = 0;
    let runs = 0;
    let jobEvents = 0;
    let routeBatches = 0;
    let notifiedSeen = 0;
    const episodes = new Map<string, Incident>();

    while (!sim.done) {
      const step = sim.runUntil(sim.nowMs + cadenceMs);
      nowMs = step.toMs;
      jobEvents += step.events.length;
      for (const event of step.events) {
        const outcome = await ingestJobEvent(ingestDeps, JSON.stringify(event));
        if (outcome === 'invalid') invalidJobEvents++;
      }
      const cpu0 = options.onStep ? process.cpuUsage() : undefined;
      const t0 = performance.now();
      const collected = await collectGpuMetrics(collectDeps, {
        deadlineMs: nowMs + cadenceMs,
        retainSamples: true,
      });
      const t1 = performance.now();
      const samples = collected.committedSamples ?? [];
      for (const s of samples) {
        const u = s.values.gpu_util;
        if (u === undefined) continue;
        const slot = utilByMinute.get(s.time) ?? { sum: 0, n: 0 };
        slot.sum += u;
        slot.n++;
        utilByMinute.set(s.time, slot);
      }
      const windowStartMs = Math.min(...collected.chunks.map((c) => c.startMs), lastWindowEnd);
      const windowEndMs = Math.max(...collected.chunks.map((c) => c.endMs), lastWindowEnd);
      lastWindowEnd = windowEndMs;
      await detectWindow(detectDeps, { samples, windowStartMs, windowEndMs, deadlineMs: nowMs + cadenceMs });
      runs++;
      if (options.onStep && cpu0) {
        const t2 = performance.now();
        const cpu = process.cpuUsage(cpu0);
        options.onStep({
          nowMs,
          collectMs: t1 - t0,
          detectMs: t2 - t1,
          cpuMs: (cpu.user + cpu.system) / 1000,
          collected,
          samples: samples.length,
          apiCalls: { ...calls },
        });
      }
      await kpis?.maybeRun(nowMs);
      if (options.observers !== undefined && options.observers.length > 0) {
        const window: SimulationWindow = {
          nowMs,
          windowStartMs,
          windowEndMs,
          samples,
          jobs: await jobStore.recentAndActive(windowStartMs),
          jobOnGpu,
          maintenance: sim.maintenance,
        };
        for (const o of options.observers) await o.onWindow(window);
      }
      await drift?.step(nowMs);
      const fresh = await backend.takeFindings();
      if (fresh.length > 0) {
        findingsRouted += fresh.length;
        routeBatches++;
        const result = await routeFindings(routeDeps, { findings: fresh, nowMs });
        invalidFindings += result.results.filter((r) => r.status === 'invalid').length;
      }
      await sweepIncidents(routeDeps, { nowMs });
      // An incident's next episode replaces its item in the store (one item per fingerprint), so
      // the episodes that notified are kept here as they were when they did: the score matches
      // every notification to its own episode's incident.
      if (notifier.delivered.length > notifiedSeen) {
        notifiedSeen = notifier.delivered.length;
        for (const i of await backend.incidents.listRecent(scenario.startMs)) episodes.set(i.id, i);
      }
    }

    if (kpis !== undefined && kpis.records.issues.length > 0)
      log.warn('KPI usage records inconsistent', { issues: kpis.records.issues.length });
    for (const i of await backend.incidents.listRecent(scenario.startMs)) episodes.set(i.id, i);
    const finalIncidents = [...episodes.values()];
    const deliveredBySeverity = await backend.deliveredBySeverity();
    const utilisation = [...utilByMinute.entries()]
      .sort(([a], [b]) => a - b)
      .map(([tMs, { sum, n }]) => ({ tMs, utilPercent: Math.round((sum / n) * 10) / 10, gpus: n }));
    return {
      scenario,
      truth: sim.groundTruth(),
      notifications: notifier.delivered,
      incidents: finalIncidents,
      maintenance: sim.maintenance,
      utilisation,
      apiCalls: {
        ...calls,
        'timestream:WriteRecords': memorySink.gpuWriteCalls + memorySink.jobWriteCalls,
        ...backend.calls(),
      },
      findingsRouted,
      deliveredBySeverity,
      invalidFindings,
      invalidJobEvents,
      runtimeSeconds: Math.round((performance.now() - wallStart) / 10) / 100,
      backend: backend.name,
      runs,
      storeOps,
      sinkRecords,
      jobEvents,
      routeBatches,
      logCounts: Object.fromEntries(log.counts),
      kpis: kpis?.points ?? [],
      goodputDrops: kpis?.drops ?? [],
    };
  } finally {
    await backend.close();
  }
}

/** The `--json` summary: the scored run (lambdas/sim/score.ts, the contract) plus run facts. */
export type SimulationSummary = RunSummary & {
  backend: SimulationBackend;
  findingsRouted: number;
  deliveredBySeverity: Partial<Record<Severity, number>>;
  invalidFindings: number;
  invalidJobEvents: number;
  /** Fleet-scope KPIs over the run, one per KPI run (issue 6; simulation-kpis.ts). */
  kpis: SummaryKpiPoint[];
  /** Goodput drops the decomposition explained (kpi.goodput_drop findings, every scope). */
  goodputDrops: SummaryGoodputDrop[];
};

export type SummaryKpiPoint = Omit<SimulationKpiPoint, 'tMs'> & { at: string };
export type SummaryGoodputDrop = Omit<SimulationGoodputDrop, 'atMs'> & { at: string };

const isoAt = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** The JSON summary of a run (lambdas/sim/score.ts: the contract of `--json`). */
export function summaryOf(result: SimulationResult): SimulationSummary {
  return {
    ...scoreRun({
      scenario: result.scenario.name,
      truth: result.truth,
      notifications: result.notifications,
      incidents: result.incidents,
      maintenance: result.maintenance,
      apiCalls: result.apiCalls,
      runtimeSeconds: result.runtimeSeconds,
      endMs: result.scenario.endMs,
    }),
    backend: result.backend,
    findingsRouted: result.findingsRouted,
    deliveredBySeverity: result.deliveredBySeverity,
    invalidFindings: result.invalidFindings,
    invalidJobEvents: result.invalidJobEvents,
    kpis: result.kpis.map(({ tMs, ...rest }) => ({ at: isoAt(tMs), ...rest })),
    goodputDrops: result.goodputDrops.map(({ atMs, ...rest }) => ({ at: isoAt(atMs), ...rest })),
  };
}

/** The HTML report of a run (lambdas/sim/report.ts). */
export function reportOf(result: SimulationResult, summary: RunSummary = summaryOf(result)): string {
  return renderReport({
    summary,
    startMs: result.scenario.startMs,
    endMs: result.scenario.endMs,
    utilisation: result.utilisation,
    notifications: result.notifications,
    incidents: result.incidents,
    maintenance: result.maintenance,
    backend: result.backend,
    kpis: result.kpis,
    goodputDrops: result.goodputDrops,
  });
}
