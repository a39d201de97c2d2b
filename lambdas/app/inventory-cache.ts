import type { ListSeriesRequest, SeriesRef } from '../core/ports';

export interface InventoryLookup {
  readonly series: readonly SeriesRef[];
  /** ListMetrics calls made for this lookup (0 on a cache hit). */
  readonly calls: number;
  readonly cached: boolean;
  /** Set when discovery failed and an expired inventory was used instead. */
  readonly staleBecause?: string;
}

/**
 * ListMetrics results, kept for `ttlMs` per request. The wiring keeps one instance at module scope
 * so warm Lambda invocations reuse it; a cold start rediscovers. When discovery fails, the last
 * inventory is used (and the caller says so) rather than collecting nothing.
 */
export class InventoryCache {
  private readonly entries = new Map<string, { series: readonly SeriesRef[]; fetchedAtMs: number }>();

  async get(
    req: ListSeriesRequest,
    nowMs: number,
    ttlMs: number,
    load: (req: ListSeriesRequest) => Promise<{ series: readonly SeriesRef[]; calls: number }>,
  ): Promise<InventoryLookup> {
    const key = inventoryKey(req);
    const hit = this.entries.get(key);
    if (hit !== undefined && nowMs - hit.fetchedAtMs < ttlMs)
      return { series: hit.series, calls: 0, cached: true };
    try {
      const loaded = await load(req);
      this.entries.set(key, { series: loaded.series, fetchedAtMs: nowMs });
      return { series: loaded.series, calls: loaded.calls, cached: false };
    } catch (err) {
      if (hit === undefined) throw err;
      return { series: hit.series, calls: 0, cached: true, staleBecause: (err as Error).message };
    }
  }

  clear(): void {
    this.entries.clear();
  }
}

export function inventoryKey(req: ListSeriesRequest): string {
  const match = Object.entries(req.match).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([req.region, req.namespace, req.metricName, match]);
}
