import type { TrainingJobStatus } from '../core/model';
import { HOUR_MS, MINUTE_MS } from './duration';
import type { SimFleet } from './fleet';
import type { Rng } from './rng';
import type { Scenario } from './scenario';

/**
 * Workload model: what a job of each class looks like (size, duration, progress cadence,
 * checkpointing, outcome odds) and how jobs are drawn. Jobs smaller than a node take GPUs on one
 * node (EKS-style GPU requests); distributed jobs take whole nodes. At 35,000 jobs a day on 1,200
 * GPUs the average job can hold a GPU for under an hour, so whole-node-only placement would be
 * unrealistic.
 *
 * Durations per class are realistic in shape (interactive minutes, batch an hour or two,
 * distributed many hours); when a scenario asks for more GPU-hours than its fleet has, every
 * training duration is scaled down so the fleet runs about the scenario's `workload.targetLoad`
 * busy (default 0.6: the queue stays bounded; above 1 the fleet saturates and the
 * queue grows).
 */

export const WORKLOAD_CLASSES = ['interactive', 'batch', 'distributed'] as const;
export type JobClass = (typeof WORKLOAD_CLASSES)[number];

export const SECONDARY = {
  starting: 'Starting',
  downloading: 'Downloading',
  training: 'Training',
  uploading: 'Uploading',
  completed: 'Completed',
  failed: 'Failed',
  stopping: 'Stopping',
  stopped: 'Stopped',
} as const;
export type SecondaryStatus = (typeof SECONDARY)[keyof typeof SECONDARY];

export interface ClassProfile {
  /** Median training minutes and log-normal spread. */
  readonly medianMinutes: number;
  readonly sigma: number;
  readonly minMinutes: number;
  readonly maxMinutes: number;
  /** GPUs on one node (weights), for sub-node classes. */
  readonly gpus?: Readonly<Record<string, number>>;
  /** Whole nodes (weights), for distributed jobs. */
  readonly nodes?: Readonly<Record<string, number>>;
  /** Seconds between progress datapoints (train:loss), min and max. */
  readonly progressEverySeconds: readonly [number, number];
  /** Minutes between checkpoints; jobs shorter than 45 min have no CheckpointConfig. */
  readonly checkpointEveryMinutes: readonly [number, number];
  readonly failRate: number;
  readonly stopRate: number;
  /** Utilisation while training (percent) and SM / tensor activity ranges. */
  readonly util: readonly [number, number];
  readonly sm: readonly [number, number];
  readonly tensor: readonly [number, number];
  readonly memoryShare: readonly [number, number];
}

export const CLASS_PROFILES: Readonly<Record<JobClass, ClassProfile>> = {
  interactive: {
    medianMinutes: 8,
    sigma: 0.6,
    minMinutes: 3,
    maxMinutes: 120,
    gpus: { '1': 0.8, '2': 0.15, '4': 0.05 },
    progressEverySeconds: [60, 60],
    checkpointEveryMinutes: [20, 30],
    failRate: 0.03,
    stopRate: 0.06,
    util: [35, 75],
    sm: [0.2, 0.5],
    tensor: [0.05, 0.3],
    memoryShare: [0.2, 0.6],
  },
  batch: {
    medianMinutes: 45,
    sigma: 0.6,
    minMinutes: 10,
    maxMinutes: 360,
    gpus: { '1': 0.45, '2': 0.3, '4': 0.15, '8': 0.1 },
    progressEverySeconds: [60, 120],
    checkpointEveryMinutes: [15, 30],
    failRate: 0.03,
    stopRate: 0.01,
    util: [85, 99],
    sm: [0.6, 0.85],
    tensor: [0.3, 0.6],
    memoryShare: [0.5, 0.9],
  },
  distributed: {
    medianMinutes: 360,
    sigma: 0.7,
    minMinutes: 120,
    maxMinutes: 4 * 24 * 60,
    nodes: { '2': 0.5, '4': 0.35, '8': 0.15 },
    progressEverySeconds: [120, 300],
    checkpointEveryMinutes: [20, 30],
    failRate: 0.05,
    stopRate: 0.01,
    util: [92, 100],
    sm: [0.7, 0.9],
    tensor: [0.45, 0.7],
    memoryShare: [0.85, 0.95],
  },
};

export const TEAMS = ['vision', 'nlp', 'speech', 'recsys', 'research', 'platform'] as const;
const TEAM_WEIGHTS = { vision: 0.22, nlp: 0.3, speech: 0.1, recsys: 0.18, research: 0.15, platform: 0.05 };
const FRAMEWORKS = {
  'pytorch-2.5.1': 0.55,
  'pytorch-2.4.0': 0.2,
  'tensorflow-2.16.2': 0.1,
  'jax-0.4.35': 0.15,
};
export const DEFAULT_DRIVER_VERSION = '550.127.05';

const FAILURE_REASONS = [
  'AlgorithmError: ExecuteUserScriptError: torch.OutOfMemoryError: CUDA out of memory',
  'AlgorithmError: ExecuteUserScriptError: KeyError in data loader worker process 3',
  'ClientError: Data download failed: could not read s3://training-data/shard-0412.tar (AccessDenied)',
] as const;

/** One simulated training job. Mutable: the simulator advances it minute by minute. */
export interface SimJob {
  readonly seq: number;
  readonly name: string;
  readonly arn: string;
  readonly cls: JobClass;
  readonly cluster: string;
  readonly region: string;
  readonly instanceType: string;
  readonly team: string;
  readonly framework: string;
  readonly image: string;
  readonly createdMs: number;
  /** GPUs per node; for distributed jobs, the node's full count. */
  readonly gpusPerNode: number;
  readonly nodeCount: number;
  /** Training minutes planned (before slow-downs and stalls push the end out). */
  readonly plannedTrainMs: number;
  readonly provisionMs: number;
  readonly downloadMs: number;
  readonly uploadMs: number;
  readonly progressEveryMs: number;
  readonly checkpointEveryMs?: number;
  readonly checkpointUri?: string;
  /** Drawn at creation: how this job ends unless a fault decides otherwise. */
  plannedOutcome: 'Completed' | 'Failed' | 'Stopped';
  /** Share of training after which a Failed/Stopped outcome happens. */
  readonly outcomeAt: number;
  failureReason?: string;
  /** Per-job activity level in [0, 1] within its class ranges. */
  readonly intensity: number;
  readonly memoryShare: number;
  /** Seconds between data-loader dips (a periodic sag in utilisation, e.g. epoch boundaries). */
  readonly dipEveryMinutes: number;
  /** Earliest time the scheduler may place it (contention delays push this). */
  eligibleMs: number;
  driverVersion: string;
  // Lifecycle
  status: TrainingJobStatus;
  secondary: SecondaryStatus;
  transitions: { status: SecondaryStatus; startMs: number; endMs?: number; message?: string }[];
  lastModifiedMs: number;
  placedMs?: number;
  trainingStartMs?: number;
  /** Moves out while the job stalls or runs slower. */
  trainEndMs?: number;
  endMs?: number;
  /** Dense GPU and node indexes it holds while placed. */
  gpus: number[];
  nodes: number[];
  /** Piecewise progress cadence from training start: cadence 0 means no datapoints. */
  progress: { fromMs: number; everyMs: number }[];
  checkpoints: { fromMs: number; everyMs: number }[];
  /** Active job-level fault effects, by fault id. */
  effects: Map<string, JobEffect>;
  /** Every job-level effect with its interval, so telemetry of past minutes shows it. */
  effectLog: { effect: JobEffect; fromMs: number; toMs: number }[];
}

export interface JobEffect {
  readonly faultId: string;
  readonly kind: 'stall' | 'idle' | 'checkpoint_stall' | 'dataloader' | 'network';
  readonly slowdown: number;
}

export interface WorkloadModel {
  /** Multiplier on every class's training duration so the fleet is about `targetLoad` busy. */
  readonly durationScale: number;
  readonly expectedLoad: number;
}

/** Mean of a log-normal clipped nowhere: median × e^(σ²/2). */
function meanMinutes(p: ClassProfile): number {
  return p.medianMinutes * Math.exp((p.sigma * p.sigma) / 2);
}

function meanOf(weights: Readonly<Record<string, number>>): number {
  let s = 0;
  let w = 0;
  for (const [k, v] of Object.entries(weights)) {
    s += Number(k) * v;
    w += v;
  }
  return w === 0 ? 0 : s / w;
}

/** Expected GPU-minutes per day asked for against the fleet's, and the duration scale that follows. */
export function workloadModel(scenario: Pick<Scenario, 'workload'>, fleet: SimFleet): WorkloadModel {
  const gpusPerNode = fleet.gpuCount / Math.max(1, fleet.nodes.length);
  let demand = 0;
  for (const cls of WORKLOAD_CLASSES) {
    const p = CLASS_PROFILES[cls];
    const gpus = p.nodes ? meanOf(p.nodes) * gpusPerNode : meanOf(p.gpus ?? { '1': 1 });
    demand += scenario.workload.mix[cls] * gpus * meanMinutes(p);
  }
  demand *= scenario.workload.jobsPerDay;
  const capacity = Math.max(1, fleet.gpuCount) * 1440;
  const load = demand / capacity;
  const target = scenario.workload.targetLoad;
  return {
    durationScale: load > target ? target / load : 1,
    expectedLoad: Math.min(load, target),
  };
}

export interface NewJobInput {
  readonly seq: number;
  readonly cls: JobClass;
  readonly cluster: string;
  readonly region: string;
  readonly instanceType: string;
  readonly clusterNodes: number;
  readonly nodeGpus: number;
  readonly createdMs: number;
  readonly durationScale: number;
  readonly accountId: string;
}

export function drawJob(input: NewJobInput, rng: Rng): SimJob {
  const p = CLASS_PROFILES[input.cls];
  const team = rng.weighted(TEAM_WEIGHTS);
  const framework = rng.weighted(FRAMEWORKS);
  const trainMin = clamp(
    rng.logNormal(p.medianMinutes, p.sigma) * input.durationScale,
    Math.max(2, p.minMinutes * input.durationScale),
    Math.max(3, p.maxMinutes * input.durationScale),
  );
  const plannedTrainMs = Math.round(trainMin) * MINUTE_MS;
  let gpusPerNode: number;
  let nodeCount = 1;
  if (p.nodes) {
    gpusPerNode = input.nodeGpus;
    nodeCount = Math.min(Number(rng.weighted(p.nodes)), Math.max(2, Math.floor(input.clusterNodes / 2)));
    nodeCount = Math.min(nodeCount, input.clusterNodes);
  } else {
    gpusPerNode = Math.min(Number(rng.weighted(p.gpus ?? { '1': 1 })), input.nodeGpus);
  }
  const roll = rng.next();
  const plannedOutcome =
    roll < p.failRate ? 'Failed' : roll < p.failRate + p.stopRate ? 'Stopped' : 'Completed';
  const abbrev = input.cls === 'interactive' ? 'nb' : input.cls === 'batch' ? 'batch' : 'dist';
  const stamp = new Date(input.createdMs).toISOString().slice(5, 16).replace(/[-:T]/g, '');
  const name = `${team}-${abbrev}-${stamp}-${input.seq.toString(36).padStart(5, '0')}`;
  const longEnough = trainMin >= 45;
  const [ckMin, ckMax] = p.checkpointEveryMinutes;
  const [prMin, prMax] = p.progressEverySeconds;
  const fwName = framework.split('-')[0] as string;
  const fwVersion = framework.split('-')[1] as string;
  return {
    seq: input.seq,
    name,
    arn: `arn:aws:sagemaker:${input.region}:${input.accountId}:training-job/${name}`,
    cls: input.cls,
    cluster: input.cluster,
    region: input.region,
    instanceType: input.instanceType,
    team,
    framework,
    image: `763104351884.dkr.ecr.${input.region}.amazonaws.com/${fwName}-training:${fwVersion}-gpu-py311-cu124-ubuntu22.04-sagemaker`,
    createdMs: input.createdMs,
    gpusPerNode,
    nodeCount,
    plannedTrainMs,
    provisionMs: rng.int(1, input.cls === 'distributed' ? 6 : 3) * MINUTE_MS,
    downloadMs: rng.int(1, input.cls === 'distributed' ? 8 : 4) * MINUTE_MS,
    uploadMs: rng.int(1, 3) * MINUTE_MS,
    progressEveryMs: Math.round(rng.uniform(prMin, prMax) / 30) * 30_000 || 60_000,
    ...(longEnough && input.cls !== 'interactive'
      ? {
          checkpointEveryMs: rng.int(ckMin, ckMax) * MINUTE_MS,
          checkpointUri: `s3://fleetwatch-sim-checkpoints-${input.accountId}/${team}/${name}/`,
        }
      : {}),
    plannedOutcome,
    outcomeAt: rng.uniform(0.05, 0.95),
    ...(plannedOutcome === 'Failed' ? { failureReason: rng.pick(FAILURE_REASONS) } : {}),
    intensity: rng.next(),
    memoryShare: rng.uniform(p.memoryShare[0], p.memoryShare[1]),
    dipEveryMinutes: rng.int(7, 19),
    eligibleMs: input.createdMs,
    driverVersion: DEFAULT_DRIVER_VERSION,
    status: 'InProgress',
    secondary: SECONDARY.starting,
    transitions: [
      {
        status: SECONDARY.starting,
        startMs: input.createdMs,
        message: 'Preparing the instances for training',
      },
    ],
    lastModifiedMs: input.createdMs,
    gpus: [],
    nodes: [],
    progress: [],
    checkpoints: [],
    effects: new Map(),
    effectLog: [],
  };
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/** Phase of a job at time t, from its transitions (undefined before creation or after the end). */
export function phaseAt(job: SimJob, tMs: number): SecondaryStatus | undefined {
  if (tMs < job.createdMs) return undefined;
  if (job.endMs !== undefined && tMs >= job.endMs) return undefined;
  let phase: SecondaryStatus | undefined;
  for (const t of job.transitions) {
    if (t.startMs > tMs) break;
    phase = t.status;
  }
  return phase;
}

/** Datapoint times of a piecewise cadence in [fromMs, toMs). */
export function cadenceTimes(
  segments: readonly { fromMs: number; everyMs: number }[],
  fromMs: number,
  toMs: number,
): number[] {
  const out: number[] = [];
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as { fromMs: number; everyMs: number };
    const segEnd = segments[i + 1]?.fromMs ?? Number.POSITIVE_INFINITY;
    if (seg.everyMs <= 0) continue;
    const lo = Math.max(fromMs, seg.fromMs);
    const hi = Math.min(toMs, segEnd);
    if (lo >= hi) continue;
    // First tick of this segment at or after lo; ticks count from the segment start.
    let t = seg.fromMs + Math.ceil((lo - seg.fromMs) / seg.everyMs) * seg.everyMs;
    if (t === seg.fromMs) t += seg.everyMs; // a datapoint comes after some work, not at the boundary
    for (; t < hi; t += seg.everyMs) out.push(t);
  }
  return out;
}

/** The last tick at or before t; undefined when none. */
export function lastTickAtOrBefore(
  segments: readonly { fromMs: number; everyMs: number }[],
  tMs: number,
): number | undefined {
  let last: number | undefined;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as { fromMs: number; everyMs: number };
    if (seg.fromMs > tMs) break;
    const segEnd = Math.min(segments[i + 1]?.fromMs ?? Number.POSITIVE_INFINITY, tMs + 1);
    if (seg.everyMs <= 0) continue;
    const n = Math.floor((segEnd - 1 - seg.fromMs) / seg.everyMs);
    if (n >= 1) last = seg.fromMs + n * seg.everyMs;
  }
  return last;
}

export const HOURS = HOUR_MS;
