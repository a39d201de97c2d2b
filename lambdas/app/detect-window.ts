import type { RuntimeConfig } from '../contracts/config';
import { defaultDetectionConfig } from '../contracts/detection-config';
import type { Finding } from '../contracts/finding';
import {
  DETECTION_STATE_KEY,
  type DetectionState,
  detectionStateJsonBytes,
  jobStateKey,
  parseDetectionState,
  type StateResetReason,
} from '../core/detect/detection-state';
import { isTraining, type JobPlacement } from '../core/detect/jobs';
import {
  checkpointChecksDue,
  detectionSettingsFrom,
  JOB_WINDOW_MS,
  type RunReport,
  runDetectors,
} from '../core/detect/run-detectors';
import type { InputIssue } from '../core/kpi/goodput';
import { inventoryFromHardwareState } from '../core/kpi/inventory';
import type { StepShares } from '../core/kpi/step-time';
import { windowUsage } from '../core/kpi/window-usage';
import type { GpuSample, TrainingJobState } from '../core/model';
import type {
  CheckpointLister,
  FindingsPublisher,
  JobProgressSource,
  JobQueries,
  Log,
  OpsMetrics,
  ProgressQuery,
  StateStore,
  UsageRecorder,
} from '../core/ports';
import { type Clock, DAY_MS } from '../core/time';
import { progressNamesOf, readStepShares } from './step-breakdown';

export { DETECTION_STATE_KEY } from '../core/detect/detection-state';

/**
 * detect-window: one detection run over the window the collector just committed.
 *
 *   state.get ─► jobs.recentAndActive ─► progress (training jobs) ─► checkpoint listings (due ones)
 *     ─► runDetectors (pure) ─► findings.publish ─► state.put (once, optimistic version)
 *
 * Reads and writes the detection state once. Inputs that fail are logged, counted and left out
 * (the detectors treat them as unknown, never as "zero"); the run itself does not throw for a
 * failed publish or a lost state write: the collector that calls it must not crash-loop.
 */
export interface DetectWindowDeps {
  readonly clock: Clock;
  readonly config: RuntimeConfig;
  /** Key DETECTION_STATE_KEY; S3-backed in AWS. */
  readonly state: StateStore;
  readonly jobs: JobQueries;
  readonly progress: JobProgressSource;
  readonly checkpoints: CheckpointLister;
  readonly findings: FindingsPublisher;
  readonly log: Log;
  readonly ops: OpsMetrics;
  /**
   * Records the window's usage for the KPI Lambda (core/kpi/window-usage.ts). Optional: without
   * it nothing is recorded. A failure is logged and counted, never fails the run.
   */
  readonly usage?: UsageRecorder;
  /**
   * Which nodes each running job holds, for metric profiles whose GPU series carry no job label
   * (node-level dcgm-exporter: HyperPod/EKS, the simulator). Optional: without it only labelled
   * samples are attributed to jobs. A failure is logged and counted ('placement'), the run goes on.
   */
  readonly placement?: JobPlacementSource;
}

/** Job name → cluster and node hostnames of every placed, running job. */
export interface JobPlacementSource {
  current(): Promise<ReadonlyMap<string, JobPlacement>>;
}

export interface DetectWindowInput {
  readonly samples: readonly GpuSample[];
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  /** Epoch ms by which the run must be finished; checkpoint listings stop early to keep to it. */
  readonly deadlineMs: number;
}

export interface DetectSummary {
  readonly startedAtMs: number;
  readonly durationMs: number;
  readonly findings: number;
  readonly published: number;
  readonly publishFailed: number;
  readonly bySeverity: Readonly<Record<string, number>>;
  readonly stateWritten: boolean;
  readonly stateConflict: boolean;
  readonly stateBytes: number;
  /** Why the stored state was discarded, when it was. */
  readonly stateReset?: StateResetReason;
  readonly checkpointListings: number;
  readonly checkpointListingsFailed: number;
  /** Inputs that could not be read this run ('state', 'jobs', 'progress'). */
  readonly inputsFailed: readonly string[];
  readonly report: RunReport;
}

/** Parallel checkpoint listings at once: S3 is fast, but one Lambda should not fan out wide. */
export const CHECKPOINT_CONCURRENCY = 8;
/** No new checkpoint listing starts with less than this left before the deadline. */
export const CHECKPOINT_DEADLINE_RESERVE_MS = 10_000;
/** On a first run (or after a gap), jobs older than this are not re-read for the baselines. */
const MAX_FOLD_CATCH_UP_MS = DAY_MS;

export async function detectWindow(deps: DetectWindowDeps, input: DetectWindowInput): Promise<DetectSummary> {
  const { clock, log, ops } = deps;
  const startedAtMs = clock.now();
  const config = deps.config.detection ?? defaultDetectionConfig();
  const settings = detectionSettingsFrom(config, deps.config.maintenance ?? []);
  const inputsFailed: string[] = [];
  const inputFailed = (what: string, err: unknown, message: string) => {
    inputsFailed.push(what);
    ops.count('detectInputsFailed', 1, { Input: what });
    log.error(message, { input: what, error: errorText(err) });
  };

  // 1. State: read once. Unreadable: run on an empty state but do not write (we cannot know
  //    which version we would overwrite). Unparseable: start afresh, say why, and write.
  let stored: { value: unknown; version: number } | undefined;
  let stateReadable = true;
  try {
    stored = await deps.state.get<unknown>(DETECTION_STATE_KEY);
  } catch (err) {
    stateReadable = false;
    inputFailed('state', err, 'Could not read the detection state; running without it and not writing it');
  }
  const parsed = parseDetectionState(stored?.value);
  if (parsed.reset) {
    ops.count('detectStateReset', 1, { Reason: parsed.reset.reason });
    log.warn('Discarded the stored detection state; baselines start afresh', {
      reason: parsed.reset.reason,
      detail: parsed.reset.detail,
      storedVersion: stored?.version,
    });
  }
  const state: DetectionState = parsed.state;

  // 2. Jobs: the 6 h window, reaching back to the last fold so nothing leaves the window unseen.
  const folded = Math.min(
    state.outcomes.foldedThroughMs ?? Number.POSITIVE_INFINITY,
    state.latencies.foldedThroughMs ?? Number.POSITIVE_INFINITY,
  );
  const sinceMs = Math.max(
    Math.min(startedAtMs - JOB_WINDOW_MS, folded),
    startedAtMs - JOB_WINDOW_MS - MAX_FOLD_CATCH_UP_MS,
  );
  let jobs: TrainingJobState[] | undefined;
  try {
    jobs = await deps.jobs.recentAndActive(sinceMs);
  } catch (err) {
    inputFailed('jobs', err, 'Could not read the job store; only GPU-level detectors run');
  }

  // 3. Progress of training jobs: their own metric definitions, else the configured names.
  const training = (jobs ?? []).filter(isTraining);
  // Jobs that stopped training inside the window still trained in its first minutes: the usage
  // record (goodput) needs their progress too; detectors see only the training jobs' progress.
  const endedInWindow = (jobs ?? []).filter(
    (j) => j.status !== 'InProgress' && (j.trainingEndTime ?? j.lastModifiedTime) >= input.windowStartMs,
  );
  const progress = new Map<string, number[]>();
  const usageProgress = new Map<string, number[]>();
  if (training.length + endedInWindow.length > 0) {
    const queries: ProgressQuery[] = [...training, ...endedInWindow].map((j) => ({
      region: j.region,
      jobName: j.jobName,
      metricNames:
        j.metricNames && j.metricNames.length > 0
          ? progressNamesOf(j.metricNames, config.stepTimeMetricNames)
          : config.progressMetricNames,
    }));
    try {
      const got = await deps.progress.progressTimestamps(
        queries,
        startedAtMs - settings.progressLookbackMs,
        startedAtMs + 1,
      );
      const declared = new Set(
        [...training, ...endedInWindow]
          .filter((j) => (j.metricNames?.length ?? 0) > 0)
          .map((j) => `${j.region}#${j.jobName}`),
      );
      const trainingKeys = new Set(training.map((j) => `${j.region}#${j.jobName}`));
      for (const [key, times] of got) {
        // A job that declared no metric and has no datapoint of the default names may simply not
        // log any: unknown, not stalled.
        if (!(times.length > 0 || declared.has(key))) continue;
        usageProgress.set(key, times);
        if (trainingKeys.has(key)) progress.set(key, times);
      }
    } catch (err) {
      inputFailed(
        'progress',
        err,
        'Could not read job progress metrics; stalls and hangs are not judged this run',
      );
    }
  }

  // 4. Checkpoint listings: the due ones, bounded, a few at a time, stopping near the deadline.
  const due = checkpointChecksDue(
    state,
    training,
    startedAtMs,
    settings.checkpointCheckEveryMs,
    settings.maxCheckpointChecksPerRun,
  );
  const listings = new Map<string, number | undefined>();
  let listingFailures = 0;
  let next = 0;
  const worker = async () => {
    while (next < due.length && clock.now() < input.deadlineMs - CHECKPOINT_DEADLINE_RESERVE_MS) {
      const job = due[next++] as TrainingJobState;
      const uri = job.checkpointS3Uri as string;
      try {
        listings.set(jobStateKey(job.region, job.jobName), await deps.checkpoints.newestObjectTime(uri));
      } catch (err) {
        listingFailures++;
        log.warn('Could not list a checkpoint prefix; keeping what was known', {
          job: job.jobName,
          region: job.region,
          checkpointS3Uri: uri,
          error: errorText(err),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHECKPOINT_CONCURRENCY, due.length) }, worker));
  ops.count('checkpointListings', listings.size + listingFailures);
  if (listingFailures > 0) ops.count('checkpointListingsFailed', listingFailures);

  // 4b. Placement (optional port).
  let placement: ReadonlyMap<string, JobPlacement> | undefined;
  if (deps.placement) {
    try {
      placement = await deps.placement.current();
    } catch (err) {
      inputFailed('placement', err, 'Could not read job placement; only job-labelled samples are attributed');
    }
  }

  // 5. Detect.
  const nowMs = clock.now();
  const result = runDetectors({
    samples: input.samples,
    window: { startMs: input.windowStartMs, endMs: Math.max(input.windowStartMs, input.windowEndMs) },
    nowMs,
    jobs,
    progress,
    checkpointListings: listings,
    ...(placement ? { placement } : {}),
    state,
    settings,
  });

  // 5b. Usage record for the KPIs (goodput). Never fails the run.
  if (deps.usage) {
    // Step-time breakdown of the window's jobs (data-io and network in goodput); optional input.
    const stepIssues: InputIssue[] = [];
    let stepShares: ReadonlyMap<string, StepShares> | undefined;
    try {
      stepShares = await readStepShares(
        deps.progress,
        [...training, ...endedInWindow],
        config.stepTimeMetricNames,
        { startMs: input.windowStartMs, endMs: Math.max(input.windowStartMs, input.windowEndMs) },
        stepIssues,
      );
    } catch (err) {
      inputFailed(
        'step-times',
        err,
        'Could not read job step-time breakdowns; goodput keeps their waits under software',
      );
    }
    await recordUsage(deps, input, jobs, usageProgress, result.state, placement, stepShares, stepIssues);
  }

  // 6. Publish. Failures are counted per kind and logged; the run goes on.
  const bySeverity: Record<string, number> = {};
  for (const f of result.findings) {
    bySeverity[f.severity] = (bySeverity[f.severity] ?? 0) + 1;
    ops.count('findingsEmitted', 1, { Severity: f.severity, Kind: f.kind });
  }
  let published = 0;
  let publishFailed = 0;
  if (result.findings.length > 0) {
    try {
      const r = await deps.findings.publish(result.findings);
      published = r.published;
      publishFailed = r.failed.length;
      for (const failure of r.failed) {
        const f: Finding | undefined = result.findings[failure.index];
        ops.count('findingsPublishFailed', 1, { Kind: f?.kind ?? 'unknown' });
        log.error('A finding could not be published', {
          kind: f?.kind,
          severity: f?.severity,
          title: f?.title,
          labels: f?.labels,
          reason: failure.reason,
        });
      }
    } catch (err) {
      publishFailed = result.findings.length;
      for (const f of result.findings) ops.count('findingsPublishFailed', 1, { Kind: f.kind });
      log.error('Publishing findings failed', {
        findings: result.findings.length,
        kinds: [...new Set(result.findings.map((f) => f.kind))],
        error: errorText(err),
      });
    }
  }

  // 7. Write the state once. A conflict means another run wrote meanwhile: keep theirs.
  const stateBytes = detectionStateJsonBytes(result.state, (text) => Buffer.byteLength(text, 'utf8'));
  let stateWritten = false;
  let stateConflict = false;
  if (stateReadable) {
    try {
      const put = await deps.state.put(DETECTION_STATE_KEY, result.state, stored?.version);
      if (put === 'conflict') {
        stateConflict = true;
        ops.count('detectStateConflicts', 1);
        log.warn(
          'Another detection run wrote the state meanwhile; this run’s state is dropped, not overwritten',
          {
            readVersion: stored?.version,
          },
        );
      } else stateWritten = true;
    } catch (err) {
      inputFailed(
        'state-write',
        err,
        'Could not write the detection state; the next run starts from the previous one',
      );
    }
  }

  const durationMs = clock.now() - startedAtMs;
  ops.count('detectStateBytes', stateBytes);
  ops.count('detectDurationMs', durationMs);
  ops.count('detectRuns', 1);
  log.info('Detection run finished', {
    findings: result.findings.length,
    bySeverity,
    byDetector: result.report.findingsByDetector,
    published,
    publishFailed,
    stateBytes,
    stateWritten,
    durationMs,
    samples: input.samples.length,
    jobs: jobs?.length,
  });
  return {
    startedAtMs,
    durationMs,
    findings: result.findings.length,
    published,
    publishFailed,
    bySeverity,
    stateWritten,
    stateConflict,
    stateBytes,
    ...(parsed.reset ? { stateReset: parsed.reset.reason } : {}),
    checkpointListings: listings.size,
    checkpointListingsFailed: listingFailures,
    inputsFailed,
    report: result.report,
  };
}

async function recordUsage(
  deps: DetectWindowDeps,
  input: DetectWindowInput,
  jobs: readonly TrainingJobState[] | undefined,
  progress: ReadonlyMap<string, readonly number[]>,
  state: DetectionState,
  placement: ReadonlyMap<string, JobPlacement> | undefined,
  stepShares: ReadonlyMap<string, StepShares> | undefined,
  stepIssues: readonly InputIssue[],
): Promise<void> {
  const checkpoints = new Map<string, number | undefined>(
    Object.entries(state.checkpoints).map(([k, v]) => [k, v.newestMs ?? undefined]),
  );
  try {
    // Capacity from every node detection remembers, not only those that reported this window.
    const inventory = inventoryFromHardwareState(state.hardware, deps.config.fleets);
    const derived = windowUsage({
      window: { startMs: input.windowStartMs, endMs: Math.max(input.windowStartMs, input.windowEndMs) },
      fleets: deps.config.fleets,
      samples: input.samples,
      jobs,
      progress,
      checkpoints,
      maintenance: deps.config.maintenance ?? [],
      inventory: inventory.nodes,
      ...(placement ? { placement } : {}),
      ...(stepShares ? { stepShares } : {}),
    });
    const extra = [...stepIssues];
    if (inventory.skipped > 0)
      extra.push({
        subject: 'inventory',
        problem: `${inventory.skipped} remembered GPUs are not in a configured fleet (or their key does not parse); not counted as capacity`,
      });
    const record = extra.length === 0 ? derived : { ...derived, issues: [...derived.issues, ...extra] };
    await deps.usage?.record(record);
    deps.ops.count('usageRecordsWritten', 1);
    if (record.issues.length > 0)
      deps.log.warn('Usage record inputs inconsistent', {
        issues: record.issues.length,
        first: record.issues.slice(0, 10),
      });
  } catch (err) {
    deps.ops.count('usageRecordsFailed', 1);
    deps.log.error('Could not record the window usage for the KPIs; goodput misses this window', {
      windowStartMs: input.windowStartMs,
      windowEndMs: input.windowEndMs,
      error: errorText(err),
    });
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
