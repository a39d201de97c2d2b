import { z } from 'zod';
import type { GpuSample, TrainingJobState } from '../model';
import { HOUR_MS, MINUTE_MS } from '../time';
import { isIdleSample } from './jobs';

/**
 * Job activity memory. The job-health detector judges "idle for longer than the grace period"
 * (15-45 min) and "busy while progress stalled" from a job's minutes, but one detection run sees
 * only the collected window (usually 5 min). Keeping raw samples between runs would cost
 * megabytes, so each running job keeps run-length-encoded minute flags instead:
 *
 *   runs: [first minute, last minute, flag]   flag 0 = neither, 1 = idle, 2 = busy
 *   e.g.  [[08:00, 10:41, 2], [10:42, 11:05, 1]]   busy for 2h41, then idle for 24 min
 *
 * Before the job detector runs, the runs the judgement needs are expanded into one stand-in
 * sample per minute (labels of the job's real samples, values that classify the same way).
 * Flags use the job detector's default thresholds (idle: gpu_util < 5 % and sm_active < 0.05 on
 * every GPU; busy: gpu_util ≥ 80 % on every GPU), the ones runDetectors runs it with.
 */

export const BUSY_UTIL_MIN = 80;
/** Minutes further apart than this start a new run even with the same flag (collection gap). */
const MERGE_GAP_MS = 5 * MINUTE_MS;
const MAX_RUNS = 64;
/** History kept per job: the longest look-back a judgement needs (progress stall with busy GPUs). */
export const ACTIVITY_KEEP_MS = 6 * HOUR_MS;

const epochMs = z.int().min(0);
export const jobActivitySchema = z.strictObject({
  seenAtMs: epochMs,
  runs: z.array(z.tuple([epochMs, epochMs, z.literal([0, 1, 2])])),
});
export type JobActivity = z.output<typeof jobActivitySchema>;
export type ActivityFlag = 0 | 1 | 2;

/** Job-level flag of one minute from the job's GPU samples of that minute. */
export function minuteFlag(samples: readonly GpuSample[]): ActivityFlag {
  if (samples.length > 0 && samples.every((s) => isIdleSample(s))) return 1;
  if (samples.length > 0 && samples.every((s) => (s.values.gpu_util ?? 0) >= BUSY_UTIL_MIN)) return 2;
  return 0;
}

/** Appends minutes newer than the last remembered one; drops runs that ended before the horizon. */
export function recordMinutes(
  prev: JobActivity | undefined,
  minutes: readonly { readonly time: number; readonly flag: ActivityFlag }[],
  nowMs: number,
): JobActivity {
  const runs: [number, number, ActivityFlag][] = (prev?.runs ?? []).map((r) => [r[0], r[1], r[2]]);
  for (const m of [...minutes].sort((a, b) => a.time - b.time)) {
    const last = runs[runs.length - 1];
    if (last && m.time <= last[1]) continue; // already recorded (overlapping windows)
    if (last && last[2] === m.flag && m.time - last[1] <= MERGE_GAP_MS) last[1] = m.time;
    else runs.push([m.time, m.time, m.flag]);
  }
  const kept = runs.filter((r) => r[1] >= nowMs - ACTIVITY_KEEP_MS).slice(-MAX_RUNS);
  return { seenAtMs: nowMs, runs: kept };
}

/** Start of the trailing idle run, if the job's newest minute is idle. */
export function idleSince(a: JobActivity): number | undefined {
  let since: number | undefined;
  for (let i = a.runs.length - 1; i >= 0; i--) {
    const r = a.runs[i] as [number, number, ActivityFlag];
    const next = a.runs[i + 1];
    if (r[2] !== 1 || (next && next[0] - r[1] > MERGE_GAP_MS)) break;
    since = r[0];
  }
  return since;
}

const STAND_IN: Record<ActivityFlag, GpuSample['values']> = {
  0: { gpu_util: 50, sm_active: 0.5 },
  1: { gpu_util: 0, sm_active: 0 },
  2: { gpu_util: 100, sm_active: 0.5 },
};

/**
 * One stand-in sample per remembered minute in [fromMs, beforeMs), labelled like `like` (a real
 * sample of the job), so the job detector sees the job's history as if it had the raw minutes.
 */
export function expandActivity(
  a: JobActivity,
  fromMs: number,
  beforeMs: number,
  like: GpuSample,
): GpuSample[] {
  const out: GpuSample[] = [];
  for (const [start, end, flag] of a.runs) {
    for (let t = Math.max(start, fromMs); t <= end && t < beforeMs; t += MINUTE_MS) {
      out.push({ time: t, labels: like.labels, values: STAND_IN[flag] });
    }
  }
  return out;
}

/** How far back a job's judgement needs history: the trailing idle run, or since its last progress. */
export function historyNeededFrom(
  job: TrainingJobState,
  a: JobActivity | undefined,
  lastProgressMs: number | undefined,
  trainingStartMs: number,
  nowMs: number,
): number | undefined {
  if (!a) return undefined;
  const candidates: number[] = [];
  const idle = idleSince(a);
  if (idle !== undefined) candidates.push(idle);
  const since = Math.max(lastProgressMs ?? trainingStartMs, trainingStartMs);
  if ((job.metricNames?.length ?? 0) > 0 || lastProgressMs !== undefined) {
    if (nowMs - since > 5 * MINUTE_MS) candidates.push(since);
  }
  if (candidates.length === 0) return undefined;
  return Math.max(Math.min(...candidates), nowMs - ACTIVITY_KEEP_MS, trainingStartMs);
}
