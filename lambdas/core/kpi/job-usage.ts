import type { Cause } from '../../contracts/finding';
import { gpuInstanceSpec } from '../../contracts/gpu-catalogue';
import { DEFAULT_COHORT_DIMENSIONS } from '../detect/cohorts';
import type { TrainingJobState } from '../model';
import type { InputIssue, JobOutcome, JobUsage, UsageBucket } from './goodput';

/**
 * From a job-store state to the JobUsage goodput needs, so the detection run only adds the usage
 * buckets and the newest checkpoint time. Pure; the caller passes `nowMs` for running jobs.
 *
 *   creation ── Starting ── Downloading ──── Training ──── Uploading ── end
 *                          |<──────────── allocated (billed) ────────────>|
 *
 * SageMaker bills from the instances being up (Downloading) to the end; before that there is no
 * GPU held. Without a Downloading transition the allocation starts at training start; a job that
 * reached neither (queued, or failed while Starting) has no allocation.
 */

export function outcomeOf(job: TrainingJobState): JobOutcome {
  switch (job.status) {
    case 'Completed':
      return 'completed';
    case 'Failed':
      return 'failed';
    case 'Stopped':
    case 'Stopping':
      return 'stopped';
    default:
      return 'running';
  }
}

/**
 * Failure cause from SageMaker's FailureReason (and the container's last error line it carries).
 * Checked in this order, because messages nest: a CUDA error naming uncorrectable ECC is hardware
 * even though it surfaces as an AlgorithmError; an NCCL timeout inside a Python traceback is network.
 * Undefined when nothing matches: reported as "unclassified", never guessed.
 */
const FAILURE_PATTERNS: readonly [Cause | 'unclassified', RegExp][] = [
  ['hardware', /xid|\becc\b|uncorrectable|nvlink|fallen off the bus|gpu (is )?lost|row remap|hardware/i],
  ['network', /nccl|\befa\b|collective operation timeout|rendezvous|connection (reset|refused)|network/i],
  [
    'data-io',
    /data download|failed to download|nosuchkey|no such (file|key)|fsx|slowdown|input data|dataloader worker|no space left/i,
  ],
  ['scheduling', /capacity|spot|preempt|interrupt|resourcelimitexceeded|insufficient/i],
  // SageMaker's own internal errors say nothing about whose fault it was.
  ['unclassified', /internalservererror|internal error/i],
  ['software', /algorithmerror|clienterror|out of memory|\boom\b|exception|traceback|segmentation fault/i],
];

export function failureCauseOf(reason: string | undefined): Cause | undefined {
  if (!reason) return undefined;
  const hit = FAILURE_PATTERNS.find(([, re]) => re.test(reason))?.[0];
  return hit === 'unclassified' ? undefined : hit;
}

/** The job's software cohort (driver, framework, image tags) for the decomposition's evidence. */
export function cohortOf(job: TrainingJobState): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of DEFAULT_COHORT_DIMENSIONS) {
    const v = d.tag === undefined ? job.instanceType : job.tags[d.tag];
    if (v) out[d.name] = v;
  }
  return out;
}

export interface JobUsageContext {
  readonly cluster: string;
  readonly buckets: readonly UsageBucket[];
  /** Newest checkpoint object time (CheckpointLister), if the job checkpoints. */
  readonly newestCheckpointMs?: number;
  readonly nowMs: number;
  /**
   * GPUs the scheduler placed the job on (placement with GPU indexes), when known: a job asking
   * for part of a node holds fewer GPUs than instanceCount × the instance type's count.
   */
  readonly placedGpus?: number;
}

export function jobUsageOf(job: TrainingJobState, ctx: JobUsageContext, issues: InputIssue[] = []): JobUsage {
  const perInstance = job.instanceType ? gpuInstanceSpec(job.instanceType)?.gpus : undefined;
  if (perInstance === undefined && ctx.placedGpus === undefined)
    issues.push({
      subject: `job ${job.jobName}`,
      problem: `instance type ${job.instanceType ?? '(none)'} is not in the GPU catalogue; counted as 1 GPU per instance`,
    });
  const downloading = job.transitions.find((t) => t.status === 'Downloading')?.startTime;
  // A job still Starting (queued, instances not up) holds no GPU: trainingStartOf would fall back
  // to its creation time and count its queue wait as allocated capacity.
  const started = job.trainingStartTime ?? job.transitions.find((t) => t.status === 'Training')?.startTime;
  const from = downloading ?? started ?? Number.POSITIVE_INFINITY;
  const outcome = outcomeOf(job);
  const to = outcome === 'running' ? ctx.nowMs : (job.trainingEndTime ?? job.lastModifiedTime);
  const cause = outcome === 'failed' || outcome === 'stopped' ? failureCauseOf(job.failureReason) : undefined;
  const cohort = cohortOf(job);
  return {
    jobName: job.jobName,
    region: job.region,
    cluster: ctx.cluster,
    team: job.team ?? 'unknown',
    ...(job.instanceType ? { instanceType: job.instanceType } : {}),
    gpus: ctx.placedGpus ?? (job.instanceCount ?? 1) * (perInstance ?? 1),
    allocations: to > from ? [{ startMs: from, endMs: to }] : [],
    buckets: ctx.buckets,
    outcome,
    checkpoints: ctx.newestCheckpointMs === undefined ? [] : [ctx.newestCheckpointMs],
    ...(cause ? { failureCause: cause } : {}),
    ...(Object.keys(cohort).length > 0 ? { cohort } : {}),
  };
}
