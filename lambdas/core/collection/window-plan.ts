import type { CollectionConfig } from '../../contracts/config';
import { floorTo, HOUR_MS, MINUTE_MS } from '../time';

/**
 * Which minutes one collector run fetches for one source, given its watermark (the end of the
 * last committed chunk: every minute before it has been collected or reported skipped).
 *
 *            backfill horizon                                   settle
 *   ◄──────────────────────────────────────────────────────►◄─────────►
 * ──┼──────────────┬──────────────┬──────────────┬───────────┼─────────┼──► time
 *   │              │              │   cadence    │           │         │
 *   horizon start  watermark     (chunk ≤ max)   cadence     end       now
 *   ▲                                            start
 *   └ if the watermark is older than this, start here and report the skipped minutes
 *
 *   [watermark ............................................... end)  = the window
 *   [watermark ... cadence start)  = backfill (minutes missed by failed or late runs)
 *
 * - end = floor(now − settle, period): minutes still settling in CloudWatch are left for the next
 *   run, so a collected minute is final and never has to be written again with another value.
 * - First run (no watermark): start = end − cadence; history before the first run is not fetched.
 * - All times are epoch ms, windows are [start, end), aligned to the period.
 */
export interface WindowChunk {
  readonly startMs: number;
  readonly endMs: number;
}

export interface WindowPlan {
  readonly startMs: number;
  readonly endMs: number;
  /** Oldest first, contiguous, each at most maxChunkMinutes; empty when nothing new has settled. */
  readonly chunks: readonly WindowChunk[];
  /** Minutes before the cadence window: missed by failed or late runs and collected now. */
  readonly backfilledMinutes: number;
  /** Missed minutes older than the horizon, given up for good (reported, never silently). */
  readonly minutesBeyondHorizon: number;
  /** Minutes in [startMs, cadenceStartMs) are backfill. */
  readonly cadenceStartMs: number;
}

export type WindowSettings = Pick<
  CollectionConfig,
  'cadenceMinutes' | 'periodSeconds' | 'settleMinutes' | 'backfillHorizonHours' | 'maxChunkMinutes'
>;

export function planWindow(nowMs: number, watermarkMs: number | undefined, cfg: WindowSettings): WindowPlan {
  const periodMs = cfg.periodSeconds * 1_000;
  const endMs = floorTo(nowMs - cfg.settleMinutes * MINUTE_MS, periodMs);
  const cadenceStartMs = floorTo(endMs - cfg.cadenceMinutes * MINUTE_MS, periodMs);
  const horizonStartMs = endMs - cfg.backfillHorizonHours * HOUR_MS;

  let startMs: number;
  let minutesBeyondHorizon = 0;
  if (watermarkMs === undefined) {
    startMs = cadenceStartMs;
  } else {
    // A watermark off the period grid (the period was changed) is rounded up, not down: the
    // minutes before it were written at the old period and must not be written again.
    startMs = Math.ceil(watermarkMs / periodMs) * periodMs;
    if (startMs < horizonStartMs) {
      minutesBeyondHorizon = (horizonStartMs - startMs) / MINUTE_MS;
      startMs = horizonStartMs;
    }
  }

  if (startMs >= endMs) {
    return { startMs, endMs, chunks: [], backfilledMinutes: 0, minutesBeyondHorizon: 0, cadenceStartMs };
  }

  const stepMs = Math.max(periodMs, floorTo(cfg.maxChunkMinutes * MINUTE_MS, periodMs));
  const chunks: WindowChunk[] = [];
  for (let s = startMs; s < endMs; s += stepMs)
    chunks.push({ startMs: s, endMs: Math.min(s + stepMs, endMs) });

  return {
    startMs,
    endMs,
    chunks,
    backfilledMinutes: backfillMinutesIn({ startMs, endMs }, cadenceStartMs),
    minutesBeyondHorizon,
    cadenceStartMs,
  };
}

/** Minutes of a chunk that lie before the cadence window, i.e. that are backfill. */
export function backfillMinutesIn(chunk: WindowChunk, cadenceStartMs: number): number {
  return Math.max(0, Math.min(chunk.endMs, cadenceStartMs) - chunk.startMs) / MINUTE_MS;
}

/**
 * Datapoints one chunk may hold across all series of a region. A chunk is fetched, assembled and
 * written in memory at once (about 500 bytes a datapoint measured at 12,000 GPUs, see
 * docs/benchmarks.md), so a long backfill of a large fleet is cut into shorter chunks to fit the
 * collector's 2 GB.
 */
export const CHUNK_DATAPOINT_BUDGET = 1_200_000;

/**
 * The longest chunk (minutes, a whole number of periods, at least one period) whose datapoints
 * for `seriesCount` series stay within the budget, capped at maxChunkMinutes.
 */
export function chunkMinutesForBudget(
  seriesCount: number,
  cfg: Pick<WindowSettings, 'periodSeconds' | 'maxChunkMinutes'>,
  budget = CHUNK_DATAPOINT_BUDGET,
): number {
  const periodMinutes = cfg.periodSeconds / 60;
  if (seriesCount <= 0) return cfg.maxChunkMinutes;
  const periodsFit = Math.floor(budget / seriesCount);
  const minutes = Math.max(1, periodsFit) * periodMinutes;
  return Math.max(periodMinutes, Math.min(cfg.maxChunkMinutes, minutes));
}
