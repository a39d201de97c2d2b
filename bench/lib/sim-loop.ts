import { InMemoryCalendarStore } from '../../lambdas/adapters/memory/calendar-store';
import { InMemoryDeadLetters } from '../../lambdas/adapters/memory/dead-letters';
import { InMemoryFindingsPublisher } from '../../lambdas/adapters/memory/findings';
import { InMemoryIncidentStore } from '../../lambdas/adapters/memory/incident-store';
import { InMemoryJobQueries } from '../../lambdas/adapters/memory/job-queries';
import { InMemoryJobStore } from '../../lambdas/adapters/memory/job-store';
import { RecordingRemediationStarter } from '../../lambdas/adapters/memory/remediation';
import { InMemoryStateStore } from '../../lambdas/adapters/memory/state-store';
import { InMemoryTelemetrySink } from '../../lambdas/adapters/memory/telemetry-sink';
import { type CollectSummary, collectGpuMetrics } from '../../lambdas/app/collect-gpu-metrics';
import { detectWindow } from '../../lambdas/app/detect-window';
import { ingestJobEvent } from '../../lambdas/app/ingest-job-events';
import { InventoryCache } from '../../lambdas/app/inventory-cache';
import { type RouteDeps, routeFindings, sweepIncidents } from '../../lambdas/app/route-findings';
import type { Notification } from '../../lambdas/contracts/notification';
import type { Log, OpsMetrics, StateStore } from '../../lambdas/core/ports';
import { type Clock, MINUTE_MS } from '../../lambdas/core/time';
import type { Scenario } from '../../lambdas/sim/scenario';
import { FleetSimulator, type SimulatorOptions } from '../../lambdas/sim/simulator';
import {
  emptyApiCalls,
  SimulatedCheckpoints,
  SimulatedJobProgress,
  SimulatedMetricSource,
} from '../../lambdas/sim/sources';
import {
  configForScenario,
  type DeliveredNotification,
  type SimulationResult,
} from '../../lambdas/wiring/simulation';

/**
 * The loop of runSimulation (lambdas/wiring/simulation.ts, memory backend) with what the cadence
 * and scale benchmarks need and runSimulation does not offer (yet): a collection cadence other
 * than the config default of 5 minutes, per-step timing of collection and detection, and counts
 * of state-store and incident-store operations (DynamoDB / S3 requests on AWS).
 *
 * It is a mirror, and a mirror can drift: bench/cost.bench.ts runs one scenario through both at
 * the default cadence and refuses to report when the fault scores differ. Delete this file once
 * SimulationOptions takes a cadence and an observer (see docs/benchmarks.md).
 */

export interface LoopOptions {
  /** Collection cadence in minutes (config collection.cadenceMinutes). */
  readonly cadenceMinutes: number;
  /** Modelled CloudWatch publishing delay. @default 2 minutes, as runSimulation */
  readonly publishDelayMs?: number;
  readonly simulator?: SimulatorOptions;
  /** Called after each collection + detection step with its timings. */
  readonly onStep?: (step: StepTiming) => void;
}

export interface StepTiming {
  readonly nowMs: number;
  readonly collectMs: number;
  readonly detectMs: number;
  /** CPU time (user + system) of collection + detection: wall time on a busy machine overstates. */
  readonly cpuMs: number;
  readonly collected: CollectSummary;
  readonly samples: number;
  /** Simulated API calls so far (cumulative; diff two steps for one run). */
  readonly apiCalls: Readonly<Record<string, number>>;
}

export interface LoopResult extends SimulationResult {
  /** Collector (+ detector) runs: one per cadence step. */
  readonly runs: number;
  /** State and incident store operations by "<store>:<method>". */
  readonly storeOps: Readonly<Record<string, number>>;
  /** Records the telemetry sink received (GPU-minute records and job-state records). */
  readonly sinkRecords: { readonly gpu: number; readonly jobs: number };
  /** SageMaker job state-change events ingested (one job-events queue message each on AWS). */
  readonly jobEvents: number;
  /** routeFindings calls with at least one finding (incident-router Lambda invocations on AWS). */
  readonly routeBatches: number;
  /** Warnings and errors logged, by message. */
  readonly logCounts: Readonly<Record<string, number>>;
}

/**
 * Counts warnings and errors by message and drops the rest: the recording adapters keep every
 * line and data point, which at 12,000 GPUs would be part of the memory figure.
 */
class CountingLog implements Log {
  readonly counts: Record<string, number> = {};
  debug(): void {}
  info(): void {}
  warn(message: string): void {
    this.counts[`warn: ${message}`] = (this.counts[`warn: ${message}`] ?? 0) + 1;
  }
  error(message: string): void {
    this.counts[`error: ${message}`] = (this.counts[`error: ${message}`] ?? 0) + 1;
  }
}

const noOpsMetrics: OpsMetrics = { count: () => {} };

/** Wraps every method of `target` to count calls as "<name>:<method>". */
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

export async function runLoop(scenario: Scenario, options: LoopOptions): Promise<LoopResult> {
  if (!Number.isInteger(options.cadenceMinutes) || options.cadenceMinutes < 1 || options.cadenceMinutes > 60)
    throw new Error(`runLoop: cadenceMinutes must be an integer 1..60, got ${options.cadenceMinutes}`);
  const wallStart = performance.now();
  const sim = new FleetSimulator(scenario, options.simulator);
  const base = configForScenario(scenario, sim.maintenance);
  const runtime = {
    ...base.runtime,
    collection: { ...base.runtime.collection, cadenceMinutes: options.cadenceMinutes },
  };
  let nowMs = sim.nowMs;
  const clock: Clock = { now: () => nowMs };
  const log = new CountingLog();
  const ops = noOpsMetrics;
  const calls = emptyApiCalls();
  const storeOps: Record<string, number> = {};
  const delayMs = options.publishDelayMs ?? 2 * MINUTE_MS;
  const findings = new InMemoryFindingsPublisher();
  const incidentStore = counted(new InMemoryIncidentStore(), 'incidents', storeOps);
  const published: Notification[] = [];
  const delivered: DeliveredNotification[] = [];
  const sink = new InMemoryTelemetrySink();
  const jobStore = new InMemoryJobStore();
  const collectState: StateStore = counted(new InMemoryStateStore(), 'collectState', storeOps);
  const detectState: StateStore = counted(new InMemoryStateStore(), 'detectState', storeOps);

  const collectDeps = {
    clock,
    config: runtime,
    source: new SimulatedMetricSource(sim, { delayMs, calls }),
    sink,
    state: collectState,
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
    state: detectState,
    jobs: new InMemoryJobQueries(jobStore),
    progress: new SimulatedJobProgress(sim, { delayMs, calls }),
    checkpoints: new SimulatedCheckpoints(sim, { calls }),
    findings,
    log,
    ops,
  };
  const routeDeps: RouteDeps = {
    store: incidentStore,
    calendar: new InMemoryCalendarStore(),
    notifier: {
      publish: async (n) => {
        published.push(n);
        const a = n.attributes;
        delivered.push({
          atMs: clock.now(),
          severity: a.severity,
          event: a.event,
          kind: a.kind,
          category: a.category,
          incidentId: a.incidentId,
          subject: n.subject,
          ...(a.cluster === undefined ? {} : { cluster: a.cluster }),
        });
        return `memory-${published.length}`;
      },
    },
    remediation: new RecordingRemediationStarter(),
    config: base.incidents,
    maintenance: base.maintenance,
    log,
  };

  const cadenceMs = options.cadenceMinutes * MINUTE_MS;
  let invalidFindings = 0;
  let invalidJobEvents = 0;
  let lastWindowEnd = sim.nowMs;
  let findingsRouted = 0;
  let taken = 0;
  let runs = 0;
  let jobEvents = 0;
  let routeBatches = 0;

  while (!sim.done) {
    const step = sim.runUntil(sim.nowMs + cadenceMs);
    nowMs = step.toMs;
    jobEvents += step.events.length;
    for (const event of step.events) {
      const outcome = await ingestJobEvent(ingestDeps, JSON.stringify(event));
      if (outcome === 'invalid') invalidJobEvents++;
    }
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const collected = await collectGpuMetrics(collectDeps, {
      deadlineMs: nowMs + cadenceMs,
      retainSamples: true,
    });
    const t1 = performance.now();
    const samples = collected.committedSamples ?? [];
    const windowStartMs = Math.min(...collected.chunks.map((c) => c.startMs), lastWindowEnd);
    const windowEndMs = Math.max(...collected.chunks.map((c) => c.endMs), lastWindowEnd);
    lastWindowEnd = windowEndMs;
    await detectWindow(detectDeps, { samples, windowStartMs, windowEndMs, deadlineMs: nowMs + cadenceMs });
    const t2 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    runs++;
    options.onStep?.({
      nowMs,
      collectMs: t1 - t0,
      detectMs: t2 - t1,
      cpuMs: (cpu.user + cpu.system) / 1000,
      collected,
      samples: samples.length,
      apiCalls: { ...calls },
    });
    const fresh = findings.published.slice(taken);
    taken = findings.published.length;
    if (fresh.length > 0) {
      findingsRouted += fresh.length;
      routeBatches++;
      const result = await routeFindings(routeDeps, {
        findings: fresh.map((finding, i) => ({ id: `finding-${taken - fresh.length + i}`, finding })),
        nowMs,
      });
      invalidFindings += result.results.filter((r) => r.status === 'invalid').length;
    }
    await sweepIncidents(routeDeps, { nowMs });
  }

  const deliveredBySeverity: SimulationResult['deliveredBySeverity'] = {};
  for (const n of published)
    deliveredBySeverity[n.attributes.severity] = (deliveredBySeverity[n.attributes.severity] ?? 0) + 1;
  return {
    scenario,
    truth: sim.groundTruth(),
    notifications: delivered,
    incidents: await incidentStore.listRecent(scenario.startMs),
    maintenance: sim.maintenance,
    utilisation: [],
    apiCalls: {
      ...calls,
      'timestream:WriteRecords': sink.gpuWriteCalls + sink.jobWriteCalls,
      'sqs:SendMessageBatch': findings.calls,
      'sns:Publish': published.length,
    },
    findingsRouted,
    deliveredBySeverity,
    invalidFindings,
    invalidJobEvents,
    runtimeSeconds: Math.round((performance.now() - wallStart) / 10) / 100,
    backend: 'memory',
    runs,
    storeOps,
    sinkRecords: { gpu: sink.gpu.size, jobs: sink.jobs.size },
    jobEvents,
    routeBatches,
    logCounts: log.counts,
  };
}
