/**
 * The collector's watermarks: ONE state item for every source, read once per run and written
 * after each committed chunk with the version it was read at (optimistic concurrency). A
 * version conflict means another run is active; the loser stops instead of racing it.
 *
 * A source's watermark is the exclusive end of its last committed chunk (epoch ms): every minute
 * before it has been written to the sink or reported as beyond the backfill horizon.
 */
export const WATERMARK_STATE_KEY = 'collector/watermarks';

export interface WatermarkState {
  readonly sources: Readonly<Record<string, number>>;
}

export const EMPTY_WATERMARKS: WatermarkState = { sources: {} };

/**
 * Reads a stored item leniently: a bad entry is dropped and reported (that source then starts
 * afresh) rather than blocking every source behind one corrupt value.
 */
export function parseWatermarkState(value: unknown): { state: WatermarkState; problems: string[] } {
  const problems: string[] = [];
  if (value === undefined) return { state: EMPTY_WATERMARKS, problems };
  const sources = (value as { sources?: unknown } | null)?.sources;
  if (sources === null || typeof sources !== 'object' || Array.isArray(sources)) {
    problems.push(
      `${WATERMARK_STATE_KEY}: expected { sources: { [sourceId]: epochMs } }, got ${JSON.stringify(value)}`,
    );
    return { state: EMPTY_WATERMARKS, problems };
  }
  const valid: Record<string, number> = {};
  for (const [id, ms] of Object.entries(sources)) {
    if (typeof ms === 'number' && Number.isSafeInteger(ms) && ms >= 0) valid[id] = ms;
    else
      problems.push(
        `${WATERMARK_STATE_KEY}.sources["${id}"]: expected epoch milliseconds, got ${JSON.stringify(ms)}`,
      );
  }
  return { state: { sources: valid }, problems };
}

/** Advances watermarks; never moves one back (a chunk older than the watermark changes nothing). */
export function advanceWatermarks(
  state: WatermarkState,
  sourceIds: readonly string[],
  endMs: number,
): WatermarkState {
  const sources = { ...state.sources };
  for (const id of sourceIds) sources[id] = Math.max(sources[id] ?? endMs, endMs);
  return { sources };
}
