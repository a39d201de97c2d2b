import { z } from 'zod';
import { DAY_MS, HOUR_MS } from '../time';
import { emptyOutcomeAggregates, outcomeAggregatesSchema } from './cohorts';
import { emptyHardwareState, hardwareStateSchema } from './hardware';
import { type JobActivity, jobActivitySchema } from './job-activity';
import { emptyLatencyAggregates, latencyAggregatesSchema } from './scheduling';
import { seasonalBaselineStateSchema } from './seasonal-baseline';

/**
 * Everything the detectors remember between runs, in ONE versioned object: the detection run
 * reads it once and writes it once (one S3 object; single writer, optimistic version check).
 *
 *   hardware     per-GPU counters, episodes, open conditions          (~250 B per GPU)
 *   cohorts      per instanceType|class|signal: hour-of-week baseline slices (≤ 169) + CUSUM
 *   fleet        fleet effective utilisation per minute, last 25 h, for the 24 h drop check
 *   checkpoints  per job: when its checkpoint prefix was last listed and the newest object seen
 *   jobs         per running job: run-length idle/busy minute flags, last 6 h (job-activity.ts)
 *   busyRuns     per running job: GPUs in an ongoing busy-not-working run, [first, last] minute
 *                (efficiency.ts; only GPUs in such a run, dropped when the job stops training)
 *   unattributedRuns  the same for GPUs no job is credited with (unattributed-load.ts)
 *   outcomes     per hour: job outcome counts of the fleet and of each cohort value (7 d)
 *   latencies    per hour and region × class: start-latency histogram (7 d)
 *
 * Bounded: pruneDetectionState drops GPUs, cohorts and jobs not seen for longer than their
 * horizon, fleet points older than 25 h and aggregate hours older than 7 d + 1 h.
 *
 * A state that does not parse (corrupt, or written by another schema version) is replaced by an
 * empty one and the reason is returned: baselines re-learn, which is better than a collector that
 * crash-loops on its own memory.
 */

export const DETECTION_STATE_VERSION = 1;

/** StateStore key of the detection state. */
export const DETECTION_STATE_KEY = 'detect/state';

const epochMs = z.int().min(0);

export const cusumStateSchema = z.strictObject({
  pos: z.number().min(0),
  neg: z.number().min(0),
  n: z.int().min(0),
});

/** One statistical series: a cohort (instanceType × workload class × signal) aggregate per minute. */
export const cohortSeriesStateSchema = z.strictObject({
  /** Last minute the cohort had data. */
  seen: epochMs,
  baseline: seasonalBaselineStateSchema,
  cusum: cusumStateSchema,
  /** Last minute stepped through the CUSUM: a minute collected twice is not counted twice. */
  lastMinute: epochMs.optional(),
  /** A shift reported and not yet cleared (reported once, re-armed when the cohort is back to normal). */
  open: z.enum(['up', 'down']).optional(),
});
export type CohortSeriesState = z.output<typeof cohortSeriesStateSchema>;

/** Hourly utilisation means of a scope, eight days: [hour start, mean, 1 if during a reported drop]. */
const fleetHoursSchema = z
  .array(z.tuple([epochMs, z.number(), z.union([z.literal(0), z.literal(1)])]))
  .optional();

export const fleetStateSchema = z.strictObject({
  /** Fleet effective utilisation (mean sm_active of GPUs running training jobs) per minute: [t, v], ascending. */
  points: z.array(z.tuple([epochMs, z.number()])),
  /** The last judged window showed a drop at this scope (reported every run while it lasts). */
  dropOpen: z.boolean(),
  /** Hourly means for the day-over-day noise and the week-ago comparison (fleet-hours.ts). */
  hours: fleetHoursSchema,
  /**
   * The same per cluster, keyed `<region>|<cluster>`, so a drop in one cluster is found (and
   * labelled with it) even when the rest of the fleet hides it in the fleet mean. Optional: state
   * written before it existed parses; it fills in from the next run.
   */
  scopes: z
    .record(
      z.string().min(1),
      z.strictObject({
        points: z.array(z.tuple([epochMs, z.number()])),
        dropOpen: z.boolean(),
        hours: fleetHoursSchema,
      }),
    )
    .optional(),
});
export type FleetState = z.output<typeof fleetStateSchema>;

export const checkpointMemorySchema = z.strictObject({
  /** When the prefix was last listed. */
  checkedAtMs: epochMs,
  /** Newest object's LastModified then; null: the prefix was empty. */
  newestMs: epochMs.nullable(),
  /** Last run in which the job was still training (pruning). */
  seenAtMs: epochMs,
  /**
   * Gaps between successive newest objects seen (the first: training start to the first
   * checkpoint, when a listing saw the prefix empty before), last 5: the job's own interval.
   * Optional: states written before it existed still parse.
   */
  gapsMs: z.array(z.int().min(1)).max(5).optional(),
});
export type CheckpointMemory = z.output<typeof checkpointMemorySchema>;

export const detectionStateSchema = z.strictObject({
  version: z.literal(DETECTION_STATE_VERSION),
  /** The run that wrote it. */
  savedAtMs: epochMs,
  hardware: hardwareStateSchema,
  cohorts: z.record(z.string().min(1), cohortSeriesStateSchema),
  fleet: fleetStateSchema,
  /** Keyed by jobStateKey(region, jobName). */
  checkpoints: z.record(z.string().min(1), checkpointMemorySchema),
  /** Keyed by jobStateKey(region, jobName). */
  jobs: z.record(z.string().min(1), jobActivitySchema),
  /**
   * Keyed by jobStateKey(region, jobName), then node/gpu. Optional: states written before it
   * existed still parse (they simply have no ongoing runs).
   */
  busyRuns: z.record(z.string().min(1), z.record(z.string().min(1), z.tuple([epochMs, epochMs]))).optional(),
  /**
   * Keyed by unattributed-load.ts gpuRunKey: GPUs no job is credited with that are in an ongoing
   * busy-not-working run, [first, last] minute. Optional, like busyRuns.
   */
  unattributedRuns: z.record(z.string().min(1), z.tuple([epochMs, epochMs])).optional(),
  outcomes: outcomeAggregatesSchema,
  latencies: latencyAggregatesSchema,
});
export type DetectionState = z.output<typeof detectionStateSchema>;

export function emptyDetectionState(savedAtMs = 0): DetectionState {
  return {
    version: DETECTION_STATE_VERSION,
    savedAtMs,
    hardware: emptyHardwareState(),
    cohorts: {},
    fleet: { points: [], dropOpen: false },
    checkpoints: {},
    jobs: {},
    outcomes: emptyOutcomeAggregates(),
    latencies: emptyLatencyAggregates(),
  };
}

/** A JSON array, not a joined string: job names are unique per region only. */
export function jobStateKey(region: string, jobName: string): string {
  return JSON.stringify([region, jobName]);
}

const jobKeys = new WeakMap<object, string>();

/**
 * jobStateKey(job.region, job.jobName), remembered per frozen job object: the job store hands out
 * the same deep-frozen states run after run, and detection keys every job of the last 6 h several
 * times per run. A job object that is not frozen could change its name, so it is not remembered.
 */
export function jobStateKeyOf(job: { readonly region: string; readonly jobName: string }): string {
  let key = jobKeys.get(job);
  if (key === undefined) {
    key = jobStateKey(job.region, job.jobName);
    if (Object.isFrozen(job)) jobKeys.set(job, key);
  }
  return key;
}

export type StateResetReason = 'old-version' | 'invalid';

export interface ParsedDetectionState {
  readonly state: DetectionState;
  /** Set when a stored state was thrown away; undefined for a valid state or none at all. */
  readonly reset?: { readonly reason: StateResetReason; readonly detail: string };
}

/** Never throws: an unusable state becomes an empty one, with the reason. */
export function parseDetectionState(value: unknown): ParsedDetectionState {
  if (value === undefined || value === null) return { state: emptyDetectionState() };
  const version =
    typeof value === 'object' && 'version' in value ? (value as { version: unknown }).version : undefined;
  if (version !== DETECTION_STATE_VERSION) {
    return {
      state: emptyDetectionState(),
      reset: {
        reason: 'old-version',
        detail: `stored version ${JSON.stringify(version) ?? 'missing'}, this code reads version ${DETECTION_STATE_VERSION}`,
      },
    };
  }
  const fast = parseWithKnownActivity(value);
  if (fast !== undefined) return { state: fast };
  // Invalid somewhere: the whole schema once more, so the issues (and their count) are its own.
  const parsed = detectionStateSchema.safeParse(value);
  if (parsed.success) return { state: parsed.data };
  const issues = parsed.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`)
    .join('; ');
  return {
    state: emptyDetectionState(),
    reset: { reason: 'invalid', detail: `${parsed.error.issues.length} problem(s): ${issues}` },
  };
}

/**
 * Job activity entries that passed jobActivitySchema, deep-frozen: the parse of a state that
 * carries one of these objects again returns it as is (a zod output parses to an equal object
 * with the same key order, and a frozen one cannot have changed since). Most of a day's job
 * entries belong to jobs that stopped training and are carried unchanged from run to run; a
 * store that hands back what was written (the simulation's in-memory store) no longer re-checks
 * tens of thousands of them per run. A store that deserialises (S3, DynamoDB) never hits.
 */
const checkedActivity = new WeakSet<object>();
/** UTF-8 bytes of `"<key>":<entry JSON>` for frozen checked entries, with the key they were measured under. */
const activityBytes = new WeakMap<object, { readonly key: string; readonly bytes: number }>();

/** The state schema with the job entries left to parseWithKnownActivity. */
const stateWithUncheckedJobsSchema = detectionStateSchema.extend({
  jobs: z.record(z.string().min(1), z.unknown()),
});

/**
 * detectionStateSchema.parse(value) when it succeeds (same values, same key order), with the job
 * entries checked one by one and known ones reused; undefined when anything is invalid.
 */
function parseWithKnownActivity(value: unknown): DetectionState | undefined {
  const outer = stateWithUncheckedJobsSchema.safeParse(value);
  if (!outer.success) return undefined;
  const jobs: DetectionState['jobs'] = {};
  for (const key of Object.keys(outer.data.jobs)) {
    const entry = outer.data.jobs[key];
    let checked: JobActivity;
    if (typeof entry === 'object' && entry !== null && checkedActivity.has(entry))
      checked = entry as JobActivity;
    else {
      const r = jobActivitySchema.safeParse(entry);
      if (!r.success) return undefined;
      checked = freezeActivity(r.data);
      checkedActivity.add(checked);
    }
    setEntry(jobs, key, checked);
  }
  return { ...outer.data, jobs };
}

function freezeActivity(a: JobActivity): JobActivity {
  for (const run of a.runs) Object.freeze(run);
  Object.freeze(a.runs);
  return Object.freeze(a);
}

/** `out[key] = value`, also for the key "__proto__" (defined as data, as Object.fromEntries does). */
function setEntry<T>(out: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

/**
 * utf8(JSON.stringify(state)), the size the state store writes, without serialising the job
 * entries that are carried unchanged (frozen checked ones: their size is remembered). `utf8`
 * measures a string's UTF-8 bytes (the caller's platform: Buffer.byteLength on Node).
 */
export function detectionStateJsonBytes(state: DetectionState, utf8: (text: string) => number): number {
  // The state with an empty job record (its "{}" are the record's braces), plus the entries:
  // '"key":value' joined by ','. JSON leaves out keys whose value is undefined.
  let bytes = utf8(JSON.stringify({ ...state, jobs: {} }));
  let entries = 0;
  for (const key of Object.keys(state.jobs)) {
    const entry = state.jobs[key];
    if (entry === undefined) continue;
    const known = activityBytes.get(entry);
    let size: number;
    if (known !== undefined && known.key === key) size = known.bytes;
    else {
      size = utf8(JSON.stringify(key)) + 1 + utf8(JSON.stringify(entry));
      if (checkedActivity.has(entry)) activityBytes.set(entry, { key, bytes: size });
    }
    bytes += size + (entries > 0 ? 1 : 0);
    entries++;
  }
  return bytes;
}

export interface StateHorizons {
  /** GPUs silent for longer are forgotten. @default 1 d (as the hardware detector) */
  readonly gpuMs?: number;
  /** Cohort series without data for longer are forgotten (an instance type retired). @default 14 d */
  readonly cohortMs?: number;
  /** Checkpoint memory of jobs not training for longer is forgotten. @default 1 d */
  readonly jobMs?: number;
  /** Fleet utilisation points kept. @default 25 h (24 h comparison + the judged stretch) */
  readonly fleetMs?: number;
  /** Aggregate hours kept. @default 7 d + 1 h */
  readonly aggregateMs?: number;
}

export const DEFAULT_STATE_HORIZONS: Required<StateHorizons> = {
  gpuMs: DAY_MS,
  cohortMs: 14 * DAY_MS,
  jobMs: DAY_MS,
  fleetMs: 25 * HOUR_MS,
  aggregateMs: 7 * DAY_MS + HOUR_MS,
};

/** Drops everything older than its horizon, so the state stays bounded whatever the fleet does. */
export function pruneDetectionState(
  state: DetectionState,
  nowMs: number,
  horizons: StateHorizons = {},
): DetectionState {
  const h = { ...DEFAULT_STATE_HORIZONS, ...horizons };
  const keepSince = (ms: number) => nowMs - ms;
  return {
    ...state,
    hardware: {
      ...state.hardware,
      gpus: filterRecord(state.hardware.gpus, (g) => g.seen >= keepSince(h.gpuMs)),
    },
    cohorts: filterRecord(state.cohorts, (c) => c.seen >= keepSince(h.cohortMs)),
    fleet: pruneFleet(state.fleet, keepSince(h.fleetMs)),
    checkpoints: filterRecord(state.checkpoints, (c) => c.seenAtMs >= keepSince(h.jobMs)),
    jobs: filterRecord(state.jobs, (j) => j.seenAtMs >= keepSince(h.jobMs)),
    ...(state.busyRuns
      ? {
          busyRuns: filterRecord(state.busyRuns, (gpus) =>
            Object.values(gpus).some(([, last]) => last >= keepSince(h.jobMs)),
          ),
        }
      : {}),
    ...(state.unattributedRuns
      ? { unattributedRuns: filterRecord(state.unattributedRuns, ([, last]) => last >= keepSince(h.gpuMs)) }
      : {}),
    outcomes: {
      ...state.outcomes,
      hours: filterRecord(state.outcomes.hours, (_v, k) => Number(k) > keepSince(h.aggregateMs)),
    },
    latencies: {
      ...state.latencies,
      hours: filterRecord(state.latencies.hours, (_v, k) => Number(k) > keepSince(h.aggregateMs)),
    },
  };
}

/**
 * A copy of a record, as `{ ...r }` makes it (same keys, same order) but quicker for the large
 * job records (tens of thousands of keys, copied once per run).
 */
export function copyRecord<T>(r: Readonly<Record<string, T>>): Record<string, T> {
  return filterRecord(r, () => true);
}

/**
 * The entries of `r` that `keep` accepts, in the same order, as Object.fromEntries(Object.entries(r)
 * .filter(...)) would build them, without the two arrays of [key, value] pairs per call: the job
 * records hold every job of the last day (tens of thousands) and are pruned once per run.
 */
export function filterRecord<T>(
  r: Readonly<Record<string, T>>,
  keep: (v: T, k: string) => boolean,
): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(r)) {
    const v = r[k] as T;
    if (!keep(v, k)) continue;
    setEntry(out, k, v);
  }
  return out;
}

/** Fleet and per-cluster points older than `sinceMs` go; a cluster with no point left goes too. */
function pruneFleet(fleet: FleetState, sinceMs: number): FleetState {
  const keep = (points: FleetState['points']) => points.filter(([t]) => t >= sinceMs);
  const { scopes, ...rest } = fleet;
  const kept =
    scopes === undefined
      ? undefined
      : Object.fromEntries(
          Object.entries(scopes)
            .map(([k, v]) => [k, { ...v, points: keep(v.points) }] as const)
            .filter(([, v]) => v.points.length > 0),
        );
  return { ...rest, points: keep(fleet.points), ...(kept === undefined ? {} : { scopes: kept }) };
}
