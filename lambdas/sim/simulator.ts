import type { SageMakerTrainingJobEvent } from '../contracts/events';
import { SAGEMAKER_EVENT_SOURCE, SAGEMAKER_TRAINING_JOB_STATE_CHANGE } from '../contracts/events';
import type { TrainingJobState } from '../core/model';
import { inMaintenance, LoadCurve, type MaintenanceInterval, resolveMaintenance } from './calendar';
import { DrifterEndpoints } from './drift';
import { HOUR_MS, MINUTE_MS } from './duration';
import {
  expectationFor,
  type FaultTruth,
  type GpuEffect,
  type GpuEffectKind,
  gpusOfTarget,
  killsJob,
  labelsForGpus,
} from './faults';
import { buildFleet, type SimFleet, type SimNode } from './fleet';
import { hashString, noise, Rng } from './rng';
import type { FaultSpec, JobSelector, Scenario } from './scenario';
import { publishesStepTimes, STEP_TIME_METRIC_DEFINITIONS } from './step-time';
import { type GpuValues, gpuMinute } from './telemetry';
import {
  cadenceTimes,
  drawJob,
  type JobClass,
  type JobEffect,
  lastTickAtOrBefore,
  phaseAt,
  SECONDARY,
  type SecondaryStatus,
  type SimJob,
  type WorkloadModel,
  workloadModel,
} from './workload';

/**
 * FleetSimulator: a virtual clock stepping a fleet minute by minute. Each minute it applies fault
 * onsets and ends, advances job lifecycles, draws arrivals and schedules the queues; what happened
 * comes back as SageMaker state-change events. GPU telemetry is not produced per step: it is a
 * pure function of the recorded placements and faults (telemetry.ts), computed when asked for any
 * minute inside the retention window. That keeps a 30-day run at reference scale to minutes.
 *
 *   nowMs ─────────────────────────────┐
 *   ...|m-2|m-1|  (simulated)          │ step() simulates minute nowMs, then nowMs += 1 min
 *   └── retention (default 3 h) ───────┘ telemetry, placements and progress kept for this long
 *
 * No wall clock, no environment, no I/O: everything derives from the scenario and its seed.
 */

export interface SimulatorOptions {
  /** How long telemetry history (placements) stays queryable. @default 3 h */
  readonly retentionMs?: number;
  /** How long finished jobs stay visible to the TrainingJobApi. @default 6 h */
  readonly jobRetentionMs?: number;
  /** Account id in ARNs and event envelopes. @default '123456789012' */
  readonly accountId?: string;
  /** Queued jobs waiting longer than this are stopped by their owner. @default 6 h */
  readonly maxQueueMs?: number;
}

export interface StepResult {
  readonly fromMs: number;
  readonly toMs: number;
  /** EventBridge events in emission order (one per job state or secondary-status change). */
  readonly events: SageMakerTrainingJobEvent[];
  readonly faultsStarted: string[];
  readonly faultsEnded: string[];
}

export interface SimCounters {
  jobsCreated: number;
  arrivalsDropped: number;
  jobsCompleted: number;
  jobsFailed: number;
  jobsStopped: number;
  eventsEmitted: number;
  queueTimeMsTotal: number;
  jobsPlaced: number;
}

interface FaultRuntime {
  readonly spec: FaultSpec;
  readonly truth: FaultTruth;
  readonly rng: Rng;
  gpus: number[];
  effects: GpuEffect[];
  jobSeqs: number[];
  nodes: number[];
  endAtMs: number;
}

interface Assignment {
  readonly seq: number;
  readonly fromMs: number;
  toMs: number;
}

/** Where a job ran (lambdas/core/detect/jobs.ts JobPlacement, structurally). */
export interface SimPlacement {
  readonly cluster: string;
  readonly region: string;
  readonly nodes: string[];
  /** Hostname → GPU indexes within the node, as the telemetry's `gpu` label. */
  readonly gpus: Record<string, string[]>;
  readonly fromMs: number;
  /** When it released its GPUs; absent while running. */
  readonly toMs?: number;
}

const NO_EFFECTS: readonly GpuEffect[] = [];
const JOB_WAIT_FOR_TARGET_MS = 30 * MINUTE_MS;
const SETTLED_MS = 15 * MINUTE_MS;
/** driver_regression: share of the failing jobs that fail at CUDA init; the rest within N minutes. */
const DRIVER_FAIL_AT_INIT_SHARE = 0.5;
const DRIVER_FAIL_WITHIN_MINUTES = 8;
const METRIC_DEFINITIONS = [{ Name: 'train:loss', Regex: 'loss=([0-9\\.]+)' }];

/**
 * The job effect of a fault that slows jobs (dataloader_bottleneck: every job it reaches;
 * network_degradation: the distributed jobs on the degraded fabric); undefined for other kinds.
 */
function placeWideEffect(spec: FaultSpec): JobEffect | undefined {
  if (spec.kind === 'dataloader_bottleneck')
    return { faultId: spec.id, kind: 'dataloader', slowdown: Number(spec.params.slowdown ?? 3) };
  if (spec.kind === 'network_degradation')
    return { faultId: spec.id, kind: 'network', slowdown: Number(spec.params.slowdown ?? 2.5) };
  return undefined;
}

/** A job's metric definitions: the loss, plus the step-time breakdown for the jobs that log it. */
function metricDefinitionsOf(job: SimJob): { Name: string; Regex: string }[] {
  return publishesStepTimes(job)
    ? [...METRIC_DEFINITIONS, ...STEP_TIME_METRIC_DEFINITIONS]
    : METRIC_DEFINITIONS;
}

export class FleetSimulator {
  readonly fleet: SimFleet;
  readonly maintenance: readonly MaintenanceInterval[];
  readonly model: WorkloadModel;
  readonly counters: SimCounters = {
    jobsCreated: 0,
    arrivalsDropped: 0,
    jobsCompleted: 0,
    jobsFailed: 0,
    jobsStopped: 0,
    eventsEmitted: 0,
    queueTimeMsTotal: 0,
    jobsPlaced: 0,
  };
  readonly retentionMs: number;
  readonly jobRetentionMs: number;
  readonly accountId: string;
  readonly seedKey: number;
  readonly endpoints: DrifterEndpoints;

  private clock: number;
  private readonly root: Rng;
  private readonly arrivals: Rng;
  private readonly curve: LoadCurve;
  private readonly maxQueueMs: number;
  private readonly clusterWeights: Record<string, number> = {};
  private nextSeq = 1;
  private readonly jobs = new Map<number, SimJob>();
  private readonly jobsByName = new Map<string, SimJob>();
  private readonly jobsByCheckpoint = new Map<string, SimJob>();
  private active: SimJob[] = [];
  private readonly queues = new Map<string, SimJob[]>();
  private readonly owner: Int32Array;
  private readonly unavailableUntil: Float64Array;
  private readonly history: Assignment[][];
  private readonly gpuEffects = new Map<number, GpuEffect[]>();
  private readonly faults: FaultRuntime[];
  private readonly nodeDriver: string[];
  private readonly nodeFailRate: Float64Array;
  private readonly contention = new Map<string, { extraMs: number; untilMs: number }>();
  private readonly drop = new Map<string, { share: number; untilMs: number }>();
  private pending: SageMakerTrainingJobEvent[] = [];
  private lastPruneMs = 0;

  constructor(
    readonly scenario: Scenario,
    options: SimulatorOptions = {},
  ) {
    this.retentionMs = options.retentionMs ?? 3 * HOUR_MS;
    this.jobRetentionMs = Math.max(options.jobRetentionMs ?? 6 * HOUR_MS, this.retentionMs);
    this.accountId = options.accountId ?? '123456789012';
    this.maxQueueMs = options.maxQueueMs ?? 6 * HOUR_MS;
    this.fleet = buildFleet(scenario);
    this.maintenance = resolveMaintenance(scenario, this.fleet);
    this.model = workloadModel(scenario, this.fleet);
    this.clock = scenario.startMs;
    this.root = new Rng(scenario.seed);
    this.arrivals = this.root.fork('arrivals');
    this.seedKey = hashString('telemetry', scenario.seed);
    this.curve = new LoadCurve(scenario.workload.seasonal, scenario.startMs);
    this.owner = new Int32Array(this.fleet.gpuCount).fill(-1);
    this.unavailableUntil = new Float64Array(this.fleet.gpuCount);
    this.history = Array.from({ length: this.fleet.gpuCount }, () => []);
    this.nodeDriver = this.fleet.nodes.map(() => '');
    this.nodeFailRate = new Float64Array(this.fleet.nodes.length).fill(-1);
    for (const [name, c] of this.fleet.clusters) {
      this.queues.set(name, []);
      this.clusterWeights[name] = c.nodes.reduce((s, n) => s + n.gpuCount, 0);
    }
    this.faults = scenario.faults.map((spec) => ({
      spec,
      rng: this.root.fork(`fault:${spec.id}`),
      truth: {
        id: spec.id,
        kind: spec.kind,
        atMs: spec.atMs,
        at: new Date(spec.atMs).toISOString(),
        status: 'pending',
        expected: expectationFor(spec.kind, spec.params),
        labels: {},
      },
      gpus: [],
      effects: [],
      jobSeqs: [],
      nodes: [],
      endAtMs: spec.durationMs === undefined ? Number.POSITIVE_INFINITY : spec.atMs + spec.durationMs,
    }));
    this.endpoints = new DrifterEndpoints(
      scenario.seed,
      scenario.faults.filter((f) => f.kind === 'model_drift'),
    );
  }

  /** Start of the next minute to simulate; every minute before it has happened. */
  get nowMs(): number {
    return this.clock;
  }

  get done(): boolean {
    return this.clock >= this.scenario.endMs;
  }

  /** Simulates one tick (scenario.tick, whole minutes). */
  step(): StepResult {
    return this.runUntil(Math.min(this.scenario.endMs, this.clock + this.scenario.tickMs));
  }

  /** Simulates every minute before `untilMs` (capped at the scenario end). */
  runUntil(untilMs: number): StepResult {
    const fromMs = this.clock;
    const started: string[] = [];
    const ended: string[] = [];
    const end = Math.min(untilMs, this.scenario.endMs);
    while (this.clock < end) {
      this.simulateMinute(this.clock, started, ended);
      this.clock += MINUTE_MS;
    }
    const events = this.pending;
    this.pending = [];
    return { fromMs, toMs: this.clock, events, faultsStarted: started, faultsEnded: ended };
  }

  // -------------------------------------------------------------------------------------------
  // Queries (used by sources.ts and the runner)

  /** DCGM values of one GPU for the minute starting at minuteMs; undefined if it did not report or is out of retention. */
  gpuValues(gpu: number, minuteMs: number): GpuValues | undefined {
    if (minuteMs >= this.clock || minuteMs < this.clock - this.retentionMs) return undefined;
    const node = this.fleet.nodeOfGpu[gpu];
    if (node === undefined) return undefined;
    let job: SimJob | undefined;
    for (const a of this.history[gpu] ?? []) {
      if (a.fromMs <= minuteMs && minuteMs < a.toMs) {
        job = this.jobs.get(a.seq);
        break;
      }
    }
    const phase = job === undefined ? undefined : phaseAt(job, minuteMs);
    return gpuMinute({
      seedKey: this.seedKey,
      node,
      gpu,
      minute: Math.floor(minuteMs / MINUTE_MS),
      tMs: minuteMs,
      ...(job !== undefined && phase !== undefined ? { job, phase } : {}),
      effects: this.gpuEffects.get(gpu) ?? NO_EFFECTS,
    });
  }

  /**
   * Whether a GPU reported at least one minute in [fromMs, toMs): false only when one
   * "missing" interval (fallen off the bus) covers the whole range.
   */
  gpuReportedBetween(gpu: number, fromMs: number, toMs: number): boolean {
    if (toMs <= fromMs) return false;
    for (const e of this.gpuEffects.get(gpu) ?? NO_EFFECTS) {
      if (e.kind === 'missing' && e.fromMs <= fromMs && e.toMs >= toMs) return false;
    }
    return true;
  }

  /** The job holding a GPU at a minute (within retention). */
  jobOnGpu(gpu: number, minuteMs: number): SimJob | undefined {
    for (const a of this.history[gpu] ?? []) {
      if (a.fromMs <= minuteMs && minuteMs < a.toMs) return this.jobs.get(a.seq);
    }
    return undefined;
  }

  job(name: string): SimJob | undefined {
    return this.jobsByName.get(name);
  }

  /** Jobs still retained (running, queued, or finished within jobRetentionMs). */
  retainedJobs(): IterableIterator<SimJob> {
    return this.jobsByName.values();
  }

  activeJobs(): readonly SimJob[] {
    return this.active;
  }

  queued(cluster: string): readonly SimJob[] {
    return this.queues.get(cluster) ?? [];
  }

  /**
   * Job → cluster, hostnames, GPU indexes per hostname (the telemetry's `gpu` label) and the
   * placement interval (detectors' JobPlacement), for every placed job still running or that
   * released its GPUs at or after `endedSinceMs` (default: the telemetry retention), so samples a
   * few minutes old are credited to the job that held the GPU then.
   */
  placement(endedSinceMs = this.clock - this.retentionMs): Map<string, SimPlacement> {
    const out = new Map<string, SimPlacement>();
    for (const j of this.jobsByName.values()) {
      if (j.nodes.length === 0 || j.placedMs === undefined) continue;
      if (j.endMs !== undefined && j.endMs < endedSinceMs) continue;
      const nodes = j.nodes.map((n) => this.fleet.nodes[n] as SimNode);
      const gpus: Record<string, string[]> = {};
      for (const n of nodes)
        gpus[n.hostname] = j.gpus
          .filter((g) => g >= n.firstGpu && g < n.firstGpu + n.gpuCount)
          .map((g) => String(g - n.firstGpu));
      out.set(j.name, {
        cluster: j.cluster,
        region: j.region,
        nodes: nodes.map((n) => n.hostname),
        gpus,
        fromMs: j.placedMs,
        ...(j.endMs !== undefined ? { toMs: j.endMs } : {}),
      });
    }
    return out;
  }

  jobState(job: SimJob): TrainingJobState {
    return jobStateOf(job);
  }

  progressTimestamps(jobName: string, fromMs: number, toMs: number): number[] {
    const job = this.jobsByName.get(jobName);
    return job === undefined ? [] : cadenceTimes(job.progress, fromMs, Math.min(toMs, this.clock));
  }

  /** train:loss at a datapoint time: decays with training progress, with a little noise. */
  lossAt(job: SimJob, tMs: number): number {
    const start = job.trainingStartMs ?? tMs;
    const frac = Math.max(0, (tMs - start) / Math.max(MINUTE_MS, job.plannedTrainMs));
    const n = noise(this.seedKey ^ job.seq, Math.floor(tMs / 1000), 7);
    return Math.round((0.25 + 2.3 * Math.exp(-3 * frac) + 0.04 * (n - 0.5)) * 10_000) / 10_000;
  }

  newestCheckpoint(s3Uri: string, atMs = this.clock - 1): number | undefined {
    const job = this.jobsByCheckpoint.get(s3Uri);
    if (job === undefined) return undefined;
    return lastTickAtOrBefore(job.checkpoints, Math.min(atMs, this.clock - 1));
  }

  groundTruth(): FaultTruth[] {
    return this.faults.map((f) => ({ ...f.truth, labels: { ...f.truth.labels } }));
  }

  // -------------------------------------------------------------------------------------------
  // One minute

  private simulateMinute(t: number, started: string[], ended: string[]): void {
    this.applyFaults(t, started, ended);
    this.stopForMaintenance(t);
    this.advanceJobs(t);
    this.arrive(t);
    this.schedule(t);
    if (t - this.lastPruneMs >= 15 * MINUTE_MS) {
      this.prune(t);
      this.lastPruneMs = t;
    }
  }

  private arrive(t: number): void {
    const perMinute = this.scenario.workload.jobsPerDay / 1440;
    const count = this.arrivals.poisson(perMinute * this.curve.at(t));
    for (let i = 0; i < count; i++) {
      const seq = this.nextSeq++;
      const rng = this.root.fork(`job:${seq}`);
      const clusterName = rng.weighted(this.clusterWeights);
      const cls = rng.weighted(this.scenario.workload.mix) as JobClass;
      const drop = this.drop.get(clusterName);
      // Thinning by a per-job hash keeps every other job's draws unchanged.
      if (drop !== undefined && t < drop.untilMs && noise(this.seedKey, seq, 99) < drop.share) {
        this.counters.arrivalsDropped++;
        continue;
      }
      this.submit(seq, rng, clusterName, cls, t);
    }
  }

  /**
   * A driver cannot be swapped under running CUDA processes: the rollout (GPU Operator upgrade
   * policy, or a node-group AMI refresh) drains the nodes first. Their jobs are stopped and their
   * owners' schedulers resubmit them at once (a Kubernetes Job recreates its evicted pod), so the
   * upgraded nodes fill with work on the new driver within minutes, as on a real rollout, instead
   * of receiving it only as unrelated jobs end.
   */
  private drainForDriverUpgrade(nodes: ReadonlySet<number>, t: number): void {
    const hit = this.active.filter(
      (j) => j.endMs === undefined && j.placedMs !== undefined && j.nodes.some((n) => nodes.has(n)),
    );
    for (const job of hit) {
      this.finish(job, t, 'Stopped', 'Stopped: the instance was drained for a GPU driver upgrade');
      const seq = this.nextSeq++;
      this.submit(seq, this.root.fork(`resubmit:${job.seq}`), job.cluster, job.cls, t);
    }
  }

  /** Creates job `seq` of class `cls`, queued on `clusterName` at t. */
  private submit(seq: number, rng: Rng, clusterName: string, cls: JobClass, t: number): void {
    const cluster = this.fleet.clusters.get(clusterName);
    if (cluster === undefined) return;
    const job = drawJob(
      {
        seq,
        cls,
        cluster: clusterName,
        region: cluster.fleet.region,
        instanceType: cluster.fleet.instanceType,
        clusterNodes: cluster.nodes.length,
        nodeGpus: cluster.fleet.gpusPerNode,
        createdMs: t,
        durationScale: this.model.durationScale,
        accountId: this.accountId,
      },
      rng,
    );
    const c = this.contention.get(clusterName);
    if (c !== undefined && t < c.untilMs) job.eligibleMs = t + c.extraMs;
    this.jobs.set(seq, job);
    this.jobsByName.set(job.name, job);
    if (job.checkpointUri !== undefined) this.jobsByCheckpoint.set(job.checkpointUri, job);
    this.active.push(job);
    this.queues.get(clusterName)?.push(job);
    this.counters.jobsCreated++;
    this.emit(job);
  }

  private schedule(t: number): void {
    for (const [clusterName, queue] of this.queues) {
      if (queue.length === 0) continue;
      const cluster = this.fleet.clusters.get(clusterName);
      if (cluster === undefined) continue;
      // Free GPUs per node this minute (-1: in maintenance), updated as jobs are placed.
      const free = cluster.nodes.map((n) =>
        inMaintenance(this.maintenance, n.cluster, n.nodeInCluster, t) ? -1 : this.freeGpus(n, t).length,
      );
      let maxFree = Math.max(...free);
      const remaining: SimJob[] = [];
      for (const job of queue) {
        if (job.endMs !== undefined) continue;
        if (t - job.createdMs > this.maxQueueMs) {
          this.finish(job, t, 'Stopped', 'Stopped by the owner after waiting too long in the queue');
          continue;
        }
        if (job.eligibleMs > t || maxFree < job.gpusPerNode || !this.place(job, cluster.nodes, free, t)) {
          remaining.push(job);
          continue;
        }
        maxFree = Math.max(...free);
      }
      this.queues.set(clusterName, remaining);
    }
  }

  private place(job: SimJob, nodes: readonly SimNode[], free: number[], t: number): boolean {
    if (job.cls === 'distributed') {
      const chosen: SimNode[] = [];
      for (let i = 0; i < nodes.length; i++) {
        const n = nodes[i] as SimNode;
        if (free[i] === n.gpuCount) {
          chosen.push(n);
          if (chosen.length === job.nodeCount) break;
        }
      }
      if (chosen.length < job.nodeCount) return false;
      for (const n of chosen) free[nodes.indexOf(n)] = 0;
      this.assign(
        job,
        chosen,
        chosen.flatMap((n) => this.freeGpus(n, t)),
        t,
      );
      return true;
    }
    // Best fit: the node with the fewest free GPUs that still has enough (keeps whole nodes free).
    let best = -1;
    for (let i = 0; i < nodes.length; i++) {
      const f = free[i] as number;
      if (f < job.gpusPerNode) continue;
      if (best >= 0 && f >= (free[best] as number)) continue;
      best = i;
      if (f === job.gpusPerNode) break;
    }
    if (best < 0) return false;
    const node = nodes[best] as SimNode;
    free[best] = (free[best] as number) - job.gpusPerNode;
    this.assign(job, [node], this.freeGpus(node, t).slice(0, job.gpusPerNode), t);
    return true;
  }

  private freeGpus(n: SimNode, t: number): number[] {
    const out: number[] = [];
    for (let g = n.firstGpu; g < n.firstGpu + n.gpuCount; g++) {
      if (this.owner[g] === -1 && (this.unavailableUntil[g] as number) <= t) out.push(g);
    }
    return out;
  }

  private assign(job: SimJob, nodes: readonly SimNode[], gpus: readonly number[], t: number): void {
    job.placedMs = t;
    job.nodes = nodes.map((n) => n.index);
    job.gpus = [...gpus];
    for (const g of gpus) {
      this.owner[g] = job.seq;
      this.history[g]?.push({ seq: job.seq, fromMs: t, toMs: Number.POSITIVE_INFINITY });
    }
    this.counters.jobsPlaced++;
    this.counters.queueTimeMsTotal += t - job.createdMs;
    const first = nodes[0] as SimNode;
    const driver = this.nodeDriver[first.index];
    if (driver) job.driverVersion = driver;
    const failRate = this.nodeFailRate[first.index] as number;
    if (failRate >= 0) {
      const rng = this.root.fork(`driver:${job.seq}`);
      if (rng.chance(failRate)) {
        // A driver the job's CUDA stack cannot use fails it at CUDA initialisation (the first
        // training minute) or within the first steps (a few minutes in), whatever the job's length:
        // not at a share of its planned training, which put a 6 h job's failure an hour in.
        const atCudaInit = rng.chance(DRIVER_FAIL_AT_INIT_SHARE);
        const afterMs = atCudaInit ? 0 : rng.uniform(1, DRIVER_FAIL_WITHIN_MINUTES) * MINUTE_MS;
        job.plannedOutcome = 'Failed';
        (job as { outcomeAt: number }).outcomeAt = Math.min(1, afterMs / job.plannedTrainMs);
        job.failureReason = atCudaInit
          ? `AlgorithmError: RuntimeError: CUDA error: initialization error (driver ${job.driverVersion})`
          : `AlgorithmError: RuntimeError: CUDA error: an illegal memory access was encountered (driver ${job.driverVersion})`;
      }
    }
  }

  private advanceJobs(t: number): void {
    let anyEnded = false;
    for (const job of this.active) {
      if (job.endMs !== undefined) {
        anyEnded = true;
        continue;
      }
      const forced = (job as ForcedEnd).forcedEnd;
      if (forced !== undefined && t >= forced.atMs) {
        this.finish(job, t, 'Failed', forced.reason);
        anyEnded = true;
        continue;
      }
      if (job.placedMs === undefined) continue;
      const since = job.transitions[job.transitions.length - 1]?.startMs ?? job.createdMs;
      switch (job.secondary) {
        case SECONDARY.starting:
          if (t >= job.placedMs + job.provisionMs)
            this.transition(job, SECONDARY.downloading, t, 'Downloading input data');
          break;
        case SECONDARY.downloading:
          if (t >= since + job.downloadMs) {
            this.transition(
              job,
              SECONDARY.training,
              t,
              'Training image download completed. Training in progress.',
            );
            job.trainingStartMs = t;
            job.trainEndMs = t + job.plannedTrainMs;
            job.progress.push({ fromMs: t, everyMs: job.progressEveryMs });
            if (job.checkpointEveryMs !== undefined)
              job.checkpoints.push({ fromMs: t, everyMs: job.checkpointEveryMs });
            this.joinDegradedPlace(job, t);
          }
          break;
        case SECONDARY.training: {
          let frozen = false;
          for (const e of job.effects.values()) {
            if (e.kind === 'stall' || e.kind === 'idle') frozen = true;
            else if (e.slowdown > 1 && job.trainEndMs !== undefined)
              job.trainEndMs += MINUTE_MS * (1 - 1 / e.slowdown);
          }
          if (frozen) {
            if (job.trainEndMs !== undefined) job.trainEndMs += MINUTE_MS;
            break;
          }
          const start = job.trainingStartMs ?? t;
          if (job.plannedOutcome !== 'Completed' && t >= start + job.outcomeAt * job.plannedTrainMs) {
            if (job.plannedOutcome === 'Failed')
              this.finish(job, t, 'Failed', job.failureReason ?? 'AlgorithmError');
            else this.transitionStatus(job, 'Stopping', SECONDARY.stopping, t, 'Stopping the training job');
            if (job.endMs !== undefined) anyEnded = true;
          } else if (t >= (job.trainEndMs ?? start)) {
            this.transition(job, SECONDARY.uploading, t, 'Uploading generated training model');
            this.closeCadences(job, t);
          }
          break;
        }
        case SECONDARY.uploading:
          if (t >= since + job.uploadMs) {
            this.finish(job, t, 'Completed');
            anyEnded = true;
          }
          break;
        case SECONDARY.stopping:
          this.finish(job, t, 'Stopped', 'Stopped by the user');
          anyEnded = true;
          break;
        default:
          break;
      }
    }
    if (anyEnded) this.active = this.active.filter((j) => j.endMs === undefined);
  }

  private stopForMaintenance(t: number): void {
    for (const w of this.maintenance) {
      if (w.startMs > t) break;
      if (w.startMs <= t - MINUTE_MS || w.startMs > t) continue;
      for (const job of this.active) {
        if (job.endMs !== undefined || job.cluster !== w.cluster || job.nodes.length === 0) continue;
        const hit = job.nodes.some(
          (n) => w.node === undefined || this.fleet.nodes[n]?.nodeInCluster === w.node,
        );
        if (hit && job.secondary !== SECONDARY.stopping) {
          this.transitionStatus(
            job,
            'Stopping',
            SECONDARY.stopping,
            t,
            'Stopping: the instance is going into planned maintenance',
          );
        }
      }
    }
  }

  private transition(job: SimJob, to: SecondaryStatus, t: number, message: string): void {
    this.transitionStatus(job, job.status, to, t, message);
  }

  private transitionStatus(
    job: SimJob,
    status: SimJob['status'],
    to: SecondaryStatus,
    t: number,
    message: string,
  ): void {
    const prev = job.transitions[job.transitions.length - 1];
    if (prev !== undefined) prev.endMs = t;
    job.transitions.push({ status: to, startMs: t, message });
    job.status = status;
    job.secondary = to;
    job.lastModifiedMs = Math.max(t, job.lastModifiedMs + 1);
    this.emit(job);
  }

  private finish(job: SimJob, t: number, outcome: 'Completed' | 'Failed' | 'Stopped', reason?: string): void {
    if (job.endMs !== undefined) return;
    this.closeCadences(job, t);
    if (outcome === 'Failed') job.failureReason = reason ?? job.failureReason ?? 'AlgorithmError';
    else delete job.failureReason;
    const secondary =
      outcome === 'Completed'
        ? SECONDARY.completed
        : outcome === 'Failed'
          ? SECONDARY.failed
          : SECONDARY.stopped;
    const message =
      outcome === 'Completed'
        ? 'Training job completed'
        : outcome === 'Failed'
          ? (reason ?? 'Training job failed')
          : (reason ?? 'Training job stopped');
    if (job.trainingStartMs !== undefined && job.trainEndMs !== undefined) job.trainEndMs = t;
    this.transitionStatus(job, outcome, secondary, t, message);
    const last = job.transitions[job.transitions.length - 1];
    if (last !== undefined) last.endMs = t;
    job.endMs = t;
    for (const g of job.gpus) {
      if (this.owner[g] === job.seq) this.owner[g] = -1;
      const h = this.history[g];
      const a = h?.[h.length - 1];
      if (a !== undefined && a.seq === job.seq) a.toMs = t;
    }
    // A fault aimed at a job ends with its job(s); one aimed at a node or cluster lasts its time.
    for (const id of job.effects.keys()) {
      const f = this.faults.find((x) => x.spec.id === id);
      if (
        f !== undefined &&
        f.truth.status === 'active' &&
        (f.spec.target.job !== undefined || placeWideEffect(f.spec) === undefined) &&
        f.jobSeqs.every((s) => this.jobs.get(s)?.endMs !== undefined)
      ) {
        this.endFault(f, t);
      }
    }
    for (const id of job.effects.keys()) closeEffectLog(job, id, t);
    job.effects.clear();
    if (outcome === 'Completed') this.counters.jobsCompleted++;
    else if (outcome === 'Failed') this.counters.jobsFailed++;
    else this.counters.jobsStopped++;
  }

  private closeCadences(job: SimJob, t: number): void {
    const lastP = job.progress[job.progress.length - 1];
    if (lastP !== undefined && lastP.everyMs > 0) job.progress.push({ fromMs: t, everyMs: 0 });
    const lastC = job.checkpoints[job.checkpoints.length - 1];
    if (lastC !== undefined && lastC.everyMs > 0) job.checkpoints.push({ fromMs: t, everyMs: 0 });
  }

  private emit(job: SimJob): void {
    this.counters.eventsEmitted++;
    this.pending.push(eventOf(job, this.accountId, this.seedKey));
  }

  private prune(t: number): void {
    const horizon = t - this.retentionMs;
    for (const h of this.history) {
      let drop = 0;
      while (drop < h.length && (h[drop] as Assignment).toMs < horizon) drop++;
      if (drop > 0) h.splice(0, drop);
    }
    const jobHorizon = t - this.jobRetentionMs;
    for (const [seq, job] of this.jobs) {
      if (job.endMs !== undefined && job.endMs < jobHorizon) {
        this.jobs.delete(seq);
        this.jobsByName.delete(job.name);
        if (job.checkpointUri !== undefined) this.jobsByCheckpoint.delete(job.checkpointUri);
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Faults

  private applyFaults(t: number, started: string[], ended: string[]): void {
    for (const f of this.faults) {
      if (f.truth.status === 'pending' && t >= f.spec.atMs) {
        if (this.startFault(f, t)) started.push(f.spec.id);
        else if (t >= f.spec.atMs + JOB_WAIT_FOR_TARGET_MS) {
          f.truth.status = 'unresolved';
          f.truth.note = `no ${f.spec.target.job ?? 'matching'} job was training in ${f.spec.target.cluster} within 30 minutes of the onset`;
        }
      } else if (f.truth.status === 'active' && t >= f.endAtMs) {
        this.endFault(f, t);
        ended.push(f.spec.id);
      }
    }
  }

  private startFault(f: FaultRuntime, t: number): boolean {
    const { spec } = f;
    const end = f.endAtMs;
    const truth = f.truth;
    switch (spec.kind) {
      case 'xid':
      case 'ecc_dbe':
      case 'ecc_sbe_storm':
      case 'thermal_throttle':
      case 'power_cap':
      case 'gpu_fell_off_bus':
      case 'gaming_dummy_load': {
        f.gpus = gpusOfTarget(this.fleet, spec.target);
        Object.assign(truth.labels, labelsForGpus(this.fleet, f.gpus));
        const code = Number(spec.params.code ?? 0);
        for (const g of f.gpus) {
          if (spec.kind === 'xid') {
            if (code === 79) {
              this.addEffect(f, g, 'xid', t, t + MINUTE_MS, 79);
              this.addEffect(f, g, 'missing', t + MINUTE_MS, end, 0);
            } else this.addEffect(f, g, 'xid', t, end, code);
          } else if (spec.kind === 'ecc_dbe') {
            this.addEffect(f, g, 'ecc_dbe', t, Number.POSITIVE_INFINITY, Number(spec.params.count ?? 1));
            this.addEffect(f, g, 'xid', t, t + 10 * MINUTE_MS, 48);
          } else if (spec.kind === 'ecc_sbe_storm') {
            this.addEffect(f, g, 'sbe_storm', t, end, Number(spec.params.ratePerMinute ?? 120));
          } else if (spec.kind === 'thermal_throttle') {
            this.addEffect(f, g, 'thermal', t, end, Number(spec.params.temperatureC ?? 0));
          } else if (spec.kind === 'power_cap') {
            this.addEffect(f, g, 'power_cap', t, end, Number(spec.params.capWatts ?? 0));
          } else if (spec.kind === 'gpu_fell_off_bus') {
            this.addEffect(f, g, 'missing', t, end, 0);
          } else {
            this.addEffect(f, g, 'gaming', t, end, 0);
          }
        }
        const reason = killsJob(spec);
        const blocks = reason !== undefined || spec.kind === 'gaming_dummy_load';
        for (const g of f.gpus) {
          if (blocks) this.unavailableUntil[g] = Math.max(this.unavailableUntil[g] as number, end);
          const seq = this.owner[g] as number;
          if (seq < 0) continue;
          const job = this.jobs.get(seq);
          if (job === undefined) continue;
          if (!f.jobSeqs.includes(seq)) f.jobSeqs.push(seq);
          if (reason !== undefined && (job as ForcedEnd).forcedEnd === undefined) {
            (job as ForcedEnd).forcedEnd = { atMs: t + 2 * MINUTE_MS, reason };
          }
        }
        if (spec.kind === 'gaming_dummy_load') {
          // The dummy load starts on GPUs as their current jobs end (they are reserved from now).
          truth.note =
            'GPUs reserved at onset; the dummy load shows on each GPU once its current job (if any) ends';
        }
        const onGpu = f.jobSeqs.map((s) => this.jobs.get(s)).filter((j): j is SimJob => j !== undefined);
        if (onGpu.length === 1) {
          truth.labels.job = (onGpu[0] as SimJob).name;
          truth.labels.team = (onGpu[0] as SimJob).team;
        }
        break;
      }
      case 'job_stall':
      case 'job_idle':
      case 'checkpoint_stall':
      case 'dataloader_bottleneck':
      case 'network_degradation': {
        const jobs = this.jobTargets(f, t);
        if (jobs === undefined) return false;
        const effect: JobEffect = placeWideEffect(spec) ?? {
          faultId: spec.id,
          kind: spec.kind === 'job_stall' ? 'stall' : spec.kind === 'job_idle' ? 'idle' : 'checkpoint_stall',
          slowdown: 1,
        };
        for (const job of jobs) this.startJobEffect(f, job, effect, t);
        if (effect.kind === 'dataloader' || effect.kind === 'network') {
          // The place it degrades: jobs that start training there later join (joinDegradedPlace).
          f.gpus =
            spec.target.job === undefined
              ? gpusOfTarget(this.fleet, spec.target)
              : jobs.flatMap((j) => j.gpus);
        }
        if (spec.kind === 'network_degradation')
          for (const g of f.gpus) this.addEffect(f, g, 'nvlink', t, end, 40);
        const first = jobs[0];
        if (first !== undefined) {
          const gpuLabels = labelsForGpus(
            this.fleet,
            jobs.flatMap((j) => j.gpus),
          );
          Object.assign(truth.labels, gpuLabels);
          delete truth.labels.gpu;
          if (jobs.length === 1) {
            truth.labels.job = first.name;
            truth.labels.team = first.team;
            truth.labels.jobClass = first.cls;
            (truth as { expected: FaultTruth['expected'] }).expected = expectationFor(
              spec.kind,
              spec.params,
              first.cls,
            );
          }
        } else {
          Object.assign(truth.labels, labelsForGpus(this.fleet, gpusOfTarget(this.fleet, spec.target)));
          truth.note =
            spec.kind === 'network_degradation'
              ? 'no distributed job was training on the target; only the NVLink counters show it'
              : 'no job was training on the target; jobs that start there while it lasts are slowed';
        }
        break;
      }
      case 'driver_regression': {
        const cluster = this.fleet.clusters.get(spec.target.cluster ?? '');
        if (cluster === undefined) return false;
        const count = Math.max(1, Math.ceil((spec.target.fraction ?? 0) * cluster.nodes.length));
        const cohort = f.rng
          .shuffle(cluster.nodes)
          .slice(0, count)
          .sort((a, b) => a.index - b.index);
        f.nodes = cohort.map((n) => n.index);
        for (const n of cohort) {
          this.nodeDriver[n.index] = String(spec.params.driverVersion);
          this.nodeFailRate[n.index] = Number(spec.params.failureRate);
        }
        this.drainForDriverUpgrade(new Set(f.nodes), t);
        truth.labels.cluster = cluster.fleet.cluster;
        truth.labels.region = cluster.fleet.region;
        truth.labels.nodes = cohort.map((n) => n.hostname);
        break;
      }
      case 'scheduler_contention': {
        const name = spec.target.cluster ?? '';
        const extraMs = Number(spec.params.extraQueueMinutes ?? 30) * MINUTE_MS;
        this.contention.set(name, { extraMs, untilMs: end });
        for (const job of this.queues.get(name) ?? []) job.eligibleMs = Math.max(job.eligibleMs, t + extraMs);
        this.clusterLabels(truth, name);
        break;
      }
      case 'fleet_utilisation_drop': {
        const name = spec.target.cluster ?? '';
        this.drop.set(name, { share: Number(spec.params.drop), untilMs: end });
        this.clusterLabels(truth, name);
        break;
      }
      case 'model_drift':
        truth.labels.endpoint = spec.target.endpoint ?? '';
        break;
    }
    truth.status = 'active';
    truth.startedMs = t;
    return true;
  }

  private clusterLabels(truth: FaultTruth, name: string): void {
    const c = this.fleet.clusters.get(name);
    if (c === undefined) return;
    truth.labels.cluster = name;
    truth.labels.region = c.fleet.region;
  }

  /** Jobs a job-targeted fault hits now; undefined to wait (no matching job is training yet). */
  private jobTargets(f: FaultRuntime, t: number): SimJob[] | undefined {
    const { target, kind } = f.spec;
    const training = this.active.filter(
      (j) => j.cluster === target.cluster && j.secondary === SECONDARY.training && j.effects.size === 0,
    );
    if (target.job !== undefined) {
      const matching = training.filter((j) => matchesSelector(j, target.job as JobSelector, kind));
      if (matching.length === 0) return undefined;
      // Prefer a job that has trained a while (it has a progress history to fall silent against)
      // and is not about to fail or be stopped anyway; after 15 minutes take any matching job
      // (a settled one first). A checkpoint stall also needs a checkpoint cadence to fall silent against (two written
      // before) and the job to train on long enough for the next ones to fall due (two more
      // intervals): one that completes minutes later lost nothing to notice.
      const longEnough = (j: SimJob) => {
        if (kind !== 'checkpoint_stall') return true;
        const every = j.checkpointEveryMs ?? 0;
        return t - (j.trainingStartMs ?? t) >= 2 * every && (j.trainEndMs ?? t) - t >= 2 * every;
      };
      const settled = matching.filter(
        (j) => t - (j.trainingStartMs ?? t) >= SETTLED_MS && j.plannedOutcome === 'Completed',
      );
      const preferred = settled.filter(longEnough);
      if (preferred.length === 0 && t < f.spec.atMs + SETTLED_MS) return undefined;
      const pool = preferred.length > 0 ? preferred : settled.length > 0 ? settled : matching;
      return [f.rng.pick(pool.sort((a, b) => a.seq - b.seq))];
    }
    // network_degradation on a node or cluster: every distributed job training there;
    // dataloader_bottleneck: every job training there.
    const gpus = new Set(gpusOfTarget(this.fleet, target));
    return training.filter(
      (j) => (kind !== 'network_degradation' || j.cls === 'distributed') && j.gpus.some((g) => gpus.has(g)),
    );
  }

  /**
   * A job that starts training on GPUs of an active network_degradation (distributed jobs) or
   * dataloader_bottleneck (every job) fault targeted at a node or cluster is slowed like the jobs
   * training there at the onset: the fabric or the shared input path is degraded for every job
   * using it while it lasts, not only for the jobs that were there first.
   */
  private joinDegradedPlace(job: SimJob, t: number): void {
    for (const f of this.faults) {
      const { spec } = f;
      const effect = placeWideEffect(spec);
      if (effect === undefined || spec.target.job !== undefined) continue;
      if (effect.kind === 'network' && job.cls !== 'distributed') continue;
      if (f.truth.status !== 'active' || t >= f.endAtMs || job.effects.has(spec.id)) continue;
      if (!job.gpus.some((g) => f.gpus.includes(g))) continue;
      this.startJobEffect(f, job, effect, t);
    }
  }

  /** Fault `f` starts affecting `job` at t: its effect, the fault's job list and the job's cadences. */
  private startJobEffect(f: FaultRuntime, job: SimJob, effect: JobEffect, t: number): void {
    job.effects.set(effect.faultId, effect);
    job.effectLog.push({ effect, fromMs: t, toMs: Number.POSITIVE_INFINITY });
    f.jobSeqs.push(job.seq);
    this.setCadences(job, t);
  }

  private setCadences(job: SimJob, t: number): void {
    let progressEvery = job.progressEveryMs;
    let checkpointEvery = job.checkpointEveryMs ?? 0;
    for (const e of job.effects.values()) {
      if (e.kind === 'stall' || e.kind === 'idle') {
        progressEvery = 0;
        checkpointEvery = 0;
      } else if (e.kind === 'checkpoint_stall') checkpointEvery = 0;
      else if (progressEvery > 0) {
        progressEvery = Math.round(progressEvery * e.slowdown);
        if (checkpointEvery > 0) checkpointEvery = Math.round(checkpointEvery * e.slowdown);
      }
    }
    job.progress.push({ fromMs: t, everyMs: progressEvery });
    if (job.checkpointEveryMs !== undefined) job.checkpoints.push({ fromMs: t, everyMs: checkpointEvery });
  }

  private endFault(f: FaultRuntime, t: number): void {
    f.truth.status = 'ended';
    f.truth.endedMs = t;
    for (const e of f.effects) if (e.toMs > t) e.toMs = t;
    for (const seq of f.jobSeqs) {
      const job = this.jobs.get(seq);
      if (job === undefined || !job.effects.has(f.spec.id)) continue;
      const effect = job.effects.get(f.spec.id) as JobEffect;
      job.effects.delete(f.spec.id);
      closeEffectLog(job, f.spec.id, t);
      if (job.endMs !== undefined || job.secondary !== SECONDARY.training) continue;
      if (effect.kind === 'stall') {
        this.finish(
          job,
          t,
          'Failed',
          'AlgorithmError: Watchdog caught collective operation timeout (NCCL); the job made no progress',
        );
        continue;
      }
      this.setCadences(job, t);
    }
    const kind = f.spec.kind;
    if (kind === 'driver_regression') {
      for (const n of f.nodes) {
        this.nodeDriver[n] = '';
        this.nodeFailRate[n] = -1;
      }
    }
    if (kind === 'scheduler_contention') this.contention.delete(f.spec.target.cluster ?? '');
    if (kind === 'fleet_utilisation_drop') this.drop.delete(f.spec.target.cluster ?? '');
  }

  private addEffect(
    f: FaultRuntime,
    gpu: number,
    kind: GpuEffectKind,
    fromMs: number,
    toMs: number,
    value: number,
  ): void {
    const effect: GpuEffect = { faultId: f.spec.id, kind, fromMs, toMs, value };
    f.effects.push(effect);
    const list = this.gpuEffects.get(gpu);
    if (list === undefined) this.gpuEffects.set(gpu, [effect]);
    else list.push(effect);
  }
}

function closeEffectLog(job: SimJob, faultId: string, t: number): void {
  for (const entry of job.effectLog) {
    if (entry.effect.faultId === faultId && entry.toMs > t) entry.toMs = t;
  }
}

interface ForcedEnd {
  forcedEnd?: { atMs: number; reason: string };
}

function matchesSelector(job: SimJob, selector: JobSelector, kind: string): boolean {
  if (kind === 'checkpoint_stall' && job.checkpointEveryMs === undefined) return false;
  switch (selector) {
    case 'running':
      return true;
    case 'running-distributed':
      return job.cls === 'distributed';
    case 'running-interactive':
      return job.cls === 'interactive';
    case 'running-batch':
      return job.cls === 'batch';
  }
}

// ---------------------------------------------------------------------------------------------
// Wire shapes

function tagsOf(job: SimJob): Record<string, string> {
  return {
    team: job.team,
    'workload-class': job.cls,
    driver_version: job.driverVersion,
    framework: job.framework,
    image: job.image,
    'fleetwatch:cluster': job.cluster,
  };
}

function trainingSeconds(job: SimJob): number | undefined {
  if (job.trainingStartMs === undefined || job.endMs === undefined) return undefined;
  return Math.round((job.endMs - job.trainingStartMs) / 1000);
}

/** DescribeTrainingJob-shaped detail, as SageMaker puts it in the EventBridge event. */
export function eventOf(job: SimJob, accountId: string, seedKey: number): SageMakerTrainingJobEvent {
  const ms = (v: number) => String(v);
  const secs = trainingSeconds(job);
  const billable =
    job.placedMs !== undefined && job.endMs !== undefined
      ? Math.round((job.endMs - job.placedMs) / 1000)
      : undefined;
  const detail = {
    TrainingJobName: job.name,
    TrainingJobArn: job.arn,
    TrainingJobStatus: job.status,
    SecondaryStatus: job.secondary,
    ...(job.status === 'Failed' && job.failureReason !== undefined
      ? { FailureReason: job.failureReason }
      : {}),
    CreationTime: ms(job.createdMs),
    LastModifiedTime: ms(job.lastModifiedMs),
    ...(job.trainingStartMs !== undefined ? { TrainingStartTime: ms(job.trainingStartMs) } : {}),
    ...(job.endMs !== undefined ? { TrainingEndTime: ms(job.endMs) } : {}),
    ...(secs !== undefined ? { TrainingTimeInSeconds: secs } : {}),
    ...(billable !== undefined ? { BillableTimeInSeconds: billable } : {}),
    RoleArn: `arn:aws:iam::${accountId}:role/sagemaker-training-${job.team}`,
    ResourceConfig: { InstanceType: job.instanceType, InstanceCount: job.nodeCount, VolumeSizeInGB: 500 },
    AlgorithmSpecification: {
      TrainingImage: job.image,
      TrainingInputMode: 'FastFile',
      MetricDefinitions: metricDefinitionsOf(job),
    },
    ...(job.checkpointUri !== undefined
      ? { CheckpointConfig: { S3Uri: job.checkpointUri, LocalPath: '/opt/ml/checkpoints' } }
      : {}),
    StoppingCondition: { MaxRuntimeInSeconds: 5 * 86_400 },
    SecondaryStatusTransitions: job.transitions.map((t) => ({
      Status: t.status,
      StartTime: ms(t.startMs),
      ...(t.endMs !== undefined ? { EndTime: ms(t.endMs) } : {}),
      ...(t.message !== undefined ? { StatusMessage: t.message } : {}),
    })),
    Tags: tagsOf(job),
  };
  const h = (k: number) =>
    noise(seedKey, job.seq, job.transitions.length, k).toString(16).slice(2, 10).padEnd(8, '0');
  return {
    version: '0',
    id: `${h(1)}-${h(2).slice(0, 4)}-${h(3).slice(0, 4)}-${h(4).slice(0, 4)}-${h(5)}${h(6).slice(0, 4)}`,
    'detail-type': SAGEMAKER_TRAINING_JOB_STATE_CHANGE,
    source: SAGEMAKER_EVENT_SOURCE,
    account: accountId,
    time: new Date(job.lastModifiedMs - (job.lastModifiedMs % 1000)).toISOString().replace('.000Z', 'Z'),
    region: job.region,
    resources: [job.arn],
    detail,
  } as unknown as SageMakerTrainingJobEvent;
}

/** The job as the job store and DescribeTrainingJob see it. */
export function jobStateOf(job: SimJob): TrainingJobState {
  const secs = trainingSeconds(job);
  return {
    region: job.region,
    jobName: job.name,
    arn: job.arn,
    status: job.status,
    secondaryStatus: job.secondary,
    lastModifiedTime: job.lastModifiedMs,
    creationTime: job.createdMs,
    ...(job.trainingStartMs !== undefined ? { trainingStartTime: job.trainingStartMs } : {}),
    ...(job.endMs !== undefined ? { trainingEndTime: job.endMs } : {}),
    instanceType: job.instanceType,
    instanceCount: job.nodeCount,
    ...(job.status === 'Failed' && job.failureReason !== undefined
      ? { failureReason: job.failureReason }
      : {}),
    tags: tagsOf(job),
    team: job.team,
    workloadClass: job.cls,
    transitions: job.transitions.map((t) => ({
      status: t.status,
      startTime: t.startMs,
      ...(t.endMs !== undefined ? { endTime: t.endMs } : {}),
      ...(t.message !== undefined ? { message: t.message } : {}),
    })),
    ...(job.checkpointUri !== undefined ? { checkpointS3Uri: job.checkpointUri } : {}),
    ...(secs !== undefined ? { trainingTimeSeconds: secs } : {}),
    ...(job.placedMs !== undefined && job.endMs !== undefined
      ? { billableTimeSeconds: Math.round((job.endMs - job.placedMs) / 1000) }
      : {}),
    metricNames: metricDefinitionsOf(job).map((m) => m.Name),
  };
}
