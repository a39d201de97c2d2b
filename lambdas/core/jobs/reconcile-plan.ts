import { HOUR_MS } from '../time';

/**
 * Planning for the reconciliation sweep (ListTrainingJobs + DescribeTrainingJob), pure.
 *
 * The sweep reads everything modified since the last watermark, minus an overlap (jobs modified
 * while the previous sweep ran, or not yet visible to ListTrainingJobs then), in windows of at
 * most `windowMs`. ListTrainingJobs can only filter on LastModifiedTime, not sort by it, so
 * progress is saved per window: the watermark moves to a window's end once every job in it is
 * handled, and a sweep cut short by its deadline resumes from there.
 *
 *   watermark − overlap                                                now
 *        ├──────── window 1 ────────┤
 *                                 ├──────── window 2 ────────┤
 *                                                          ├── window 3 ──┤
 *   (consecutive windows share 1 ms: both bounds of ListTrainingJobs are exclusive)
 */
export const DEFAULT_SWEEP_WINDOW_MS = 6 * HOUR_MS;

export interface SweepPlanInput {
  /** End of the last fully processed window (epoch ms); undefined on the first sweep. */
  readonly watermark: number | undefined;
  readonly now: number;
  readonly overlapMs: number;
  readonly initialLookbackMs: number;
  readonly windowMs?: number;
}

export interface SweepWindow {
  /** LastModifiedTimeAfter (exclusive). */
  readonly afterMs: number;
  /** LastModifiedTimeBefore (exclusive); the watermark once the window is done. */
  readonly beforeMs: number;
}

/** The sweep's LastModifiedTimeAfter: watermark − overlap, or now − initialLookback on the first run. */
export function sweepStart(input: SweepPlanInput): number {
  const start =
    input.watermark === undefined ? input.now - input.initialLookbackMs : input.watermark - input.overlapMs;
  // A watermark ahead of this clock (skew between invocations) must not leave a gap or an empty plan.
  return Math.min(start, input.now - input.overlapMs);
}

export function planSweep(input: SweepPlanInput): SweepWindow[] {
  const windowMs = input.windowMs ?? DEFAULT_SWEEP_WINDOW_MS;
  if (windowMs <= 1) throw new Error(`windowMs must be more than 1 ms, got ${windowMs}`);
  const windows: SweepWindow[] = [];
  let after = sweepStart(input);
  for (;;) {
    const before = Math.min(after + windowMs, input.now);
    windows.push({ afterMs: after, beforeMs: before });
    if (before >= input.now) return windows;
    after = before - 1;
  }
}

/** A listed job needs DescribeTrainingJob only if the store has not seen this version (or a newer one). */
export function needsRepair(storedLastModified: number | undefined, listedLastModified: number): boolean {
  return storedLastModified === undefined || storedLastModified < listedLastModified;
}
