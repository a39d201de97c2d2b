import type { JobsConfig } from '../contracts/config';
import { TrainingJobNotFoundError } from '../core/jobs/errors';
import { needsRepair, planSweep, type SweepWindow } from '../core/jobs/reconcile-plan';
import type { TrainingJobState } from '../core/model';
import type { JobStore, Log, OpsMetrics, StateStore, TelemetrySink, TrainingJobApi } from '../core/ports';
import { type Clock, HOUR_MS, MINUTE_MS } from '../core/time';

/**
 * reconcile-jobs: the slow sweep that repairs what EventBridge missed. For each fleet region it
 * lists the jobs modified since the region's watermark (minus an overlap), skips those the job
 * store already has at that LastModifiedTime or newer, describes the rest, and writes them to the
 * sink and the store exactly as ingest-job-events would.
 *
 * Progress is saved per window (see core/jobs/reconcile-plan.ts): a sweep stopped by its deadline,
 * an error or a concurrent sweep keeps the watermark at the last window it finished, and the next
 * sweep resumes there; re-listing is cheap because up-to-date jobs are not described again.
 */
export interface ReconcileJobsDeps {
  readonly api: TrainingJobApi;
  readonly jobStore: JobStore;
  readonly sink: TelemetrySink;
  readonly state: StateStore;
  readonly clock: Clock;
  readonly log: Log;
  readonly ops: OpsMetrics;
  /** Regions of the configured fleets (duplicates are ignored). */
  readonly regions: readonly string[];
  readonly jobs: Pick<JobsConfig, 'reconcileOverlapMinutes' | 'initialLookbackHours'>;
  /** Longest window listed at once. @default 6 h */
  readonly windowMs?: number;
  /** Repaired states written to the sink per call. @default 100 */
  readonly sinkBatchSize?: number;
}

export interface ReconcileOptions {
  /** Epoch ms after which no new work starts (the handler leaves a margin before the Lambda timeout). */
  readonly deadline: number;
}

/** Stored under `reconcile/<region>`: everything modified up to here has been reconciled. */
export interface ReconcileWatermark {
  readonly watermark: number;
}

export type StopReason = 'deadline' | 'error' | 'conflict';

export interface RegionSweepSummary {
  readonly region: string;
  complete: boolean;
  stoppedBy?: StopReason;
  error?: string;
  windows: number;
  windowsCompleted: number;
  /** Jobs listed by ListTrainingJobs. */
  listed: number;
  /** Listed jobs the store already had at that version or newer. */
  upToDate: number;
  described: number;
  /** Described states that were newer than the store's: repairs. */
  reconciled: number;
  /** Described states the store had meanwhile (an event arrived during the sweep). */
  alreadyCurrent: number;
  /** Listed jobs gone before they could be described. */
  notFound: number;
  /** The region's watermark after the sweep (undefined if it has never completed a window). */
  watermark?: number;
}

export interface ReconcileSummary {
  readonly complete: boolean;
  readonly jobsReconciled: number;
  readonly regions: readonly RegionSweepSummary[];
}

export function watermarkKey(region: string): string {
  return `reconcile/${region}`;
}

export async function reconcileJobs(
  deps: ReconcileJobsDeps,
  options: ReconcileOptions,
): Promise<ReconcileSummary> {
  const regions: RegionSweepSummary[] = [];
  for (const region of [...new Set(deps.regions)]) {
    regions.push(await sweepRegion(deps, region, options.deadline));
  }
  const summary: ReconcileSummary = {
    complete: regions.every((r) => r.complete),
    jobsReconciled: regions.reduce((n, r) => n + r.reconciled, 0),
    regions,
  };
  deps.log.info('Reconciliation sweep finished', { ...summary });
  return summary;
}

async function sweepRegion(
  deps: ReconcileJobsDeps,
  region: string,
  deadline: number,
): Promise<RegionSweepSummary> {
  const s: RegionSweepSummary = {
    region,
    complete: false,
    windows: 0,
    windowsCompleted: 0,
    listed: 0,
    upToDate: 0,
    described: 0,
    reconciled: 0,
    alreadyCurrent: 0,
    notFound: 0,
  };
  const stop = (reason: StopReason, attributes: Record<string, unknown> = {}): RegionSweepSummary => {
    s.stoppedBy = reason;
    deps.ops.count('reconcileIncomplete', 1, { Reason: reason });
    const line = {
      region,
      reason,
      windowsCompleted: s.windowsCompleted,
      windows: s.windows,
      watermark: s.watermark,
      ...attributes,
    };
    if (reason === 'error') deps.log.error('Reconciliation of a region stopped on an error', line);
    else deps.log.warn('Reconciliation of a region stopped early; the next sweep resumes here', line);
    return s;
  };

  try {
    const key = watermarkKey(region);
    const stored = await deps.state.get<ReconcileWatermark>(key);
    let version = stored?.version;
    s.watermark = stored?.value.watermark;
    const windows = planSweep({
      watermark: stored?.value.watermark,
      now: deps.clock.now(),
      overlapMs: deps.jobs.reconcileOverlapMinutes * MINUTE_MS,
      initialLookbackMs: deps.jobs.initialLookbackHours * HOUR_MS,
      ...(deps.windowMs !== undefined ? { windowMs: deps.windowMs } : {}),
    });
    s.windows = windows.length;
    for (const window of windows) {
      if (deps.clock.now() >= deadline) return stop('deadline');
      const finished = await sweepWindow(deps, region, window, deadline, s);
      if (!finished) return stop('deadline');
      const put = await deps.state.put<ReconcileWatermark>(key, { watermark: window.beforeMs }, version);
      if (put === 'conflict') return stop('conflict', { detail: 'another sweep moved the watermark' });
      version = put;
      s.watermark = window.beforeMs;
      s.windowsCompleted++;
    }
    s.complete = true;
    return s;
  } catch (err) {
    s.error = `${(err as Error).name}: ${(err as Error).message}`;
    return stop('error', { error: s.error });
  }
}

/** Returns false when the deadline cut the window short (what was handled stays handled). */
async function sweepWindow(
  deps: ReconcileJobsDeps,
  region: string,
  window: SweepWindow,
  deadline: number,
  s: RegionSweepSummary,
): Promise<boolean> {
  const batchSize = Math.max(1, deps.sinkBatchSize ?? 100);
  let pending: TrainingJobState[] = [];
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    // Sink first, then the store, as ingest-job-events does: a failure in between is retried by
    // the next sweep, because the store still holds the older version.
    await deps.sink.writeJobStates(batch);
    for (const state of batch) {
      const outcome = await deps.jobStore.apply(state);
      if (outcome === 'applied') {
        s.reconciled++;
        deps.ops.count('jobsReconciled', 1);
        deps.log.debug('Job state repaired by reconciliation', {
          region,
          jobName: state.jobName,
          status: state.status,
          lastModifiedTime: state.lastModifiedTime,
        });
      } else {
        s.alreadyCurrent++;
      }
    }
  };

  for await (const summary of deps.api.listModifiedSince(region, window.afterMs, window.beforeMs)) {
    if (deps.clock.now() >= deadline) {
      await flush();
      return false;
    }
    s.listed++;
    const stored = await deps.jobStore.get(region, summary.jobName);
    if (!needsRepair(stored?.lastModifiedTime, summary.lastModifiedTime)) {
      s.upToDate++;
      continue;
    }
    try {
      pending.push(await deps.api.describe(region, summary.jobName));
      s.described++;
    } catch (err) {
      if (!(err instanceof TrainingJobNotFoundError)) throw err;
      s.notFound++;
      deps.log.warn('Listed training job no longer exists; skipped', { region, jobName: summary.jobName });
      continue;
    }
    if (pending.length >= batchSize) await flush();
  }
  await flush();
  return true;
}
