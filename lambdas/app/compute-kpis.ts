import type { Finding } from '../contracts/finding';
import type { KpiValue } from '../contracts/kpis';
import {
  capacityValues,
  type DecompositionOptions,
  decompose,
  goodputDropFinding,
  type KpiSnapshot,
  snapshotOf,
} from '../core/kpi/decomposition';
import { computeGoodput, scopeKey, type TimeWindow } from '../core/kpi/goodput';
import {
  EMPTY_JOB_STATS,
  jobStats,
  kpiValues,
  supportingKpis,
  type WorkloadSlas,
} from '../core/kpi/supporting';
import type {
  FindingsPublisher,
  JobQueries,
  KpiSink,
  Log,
  NodeInventory,
  StateStore,
  UsageSource,
} from '../core/ports';
import { type Clock, DAY_MS, floorTo, HOUR_MS, MINUTE_MS } from '../core/time';

/**
 * compute-kpis: once per schedule, over a trailing window (24 h by default),
 *   1. goodput and its partition per fleet / region / cluster / team (core/kpi/goodput.ts),
 *   2. supporting KPIs (core/kpi/supporting.ts), emitted through the KpiSink,
 *   3. the drop test against the window that ended where this one starts, with a decomposition
 *      finding (kpi.goodput_drop) for every scope whose goodput fell enough.
 *
 *   |<──────── previous window ────────>|<──────── current window ────────>|
 *   now − 2w                         now − w                              now
 *                  ▲ snapshot stored by the run ≈ w ago (state key 'kpi/state')
 *
 * Snapshots are kept at most one per `snapshotEveryMs` per scope (default: an eighth of the
 * window, at least 1 h), only as long as they can still serve as a previous window, with numbers
 * rounded; and if the state would still exceed `maxStateBytes` (DynamoDB items hold 400 KB), team
 * scopes, then cluster scopes, lose their history first (logged): the fleet and regions keep theirs.
 */
export const KPI_STATE_KEY = 'kpi/state';

export interface KpiState {
  /** Scope key → snapshots, oldest first. */
  readonly snapshots: Readonly<Record<string, readonly KpiSnapshot[]>>;
}

export interface ComputeKpisDeps {
  readonly jobs: JobQueries;
  readonly usage: UsageSource;
  readonly inventory: NodeInventory;
  readonly sink: KpiSink;
  readonly findings: FindingsPublisher;
  readonly state: StateStore;
  readonly clock: Clock;
  readonly log: Log;
  /** Trailing window. @default 24 h */
  readonly windowMs?: number;
  /** Minimum spacing of stored snapshots per scope. @default max(1 h, window / 8) */
  readonly snapshotEveryMs?: number;
  /** How far a stored snapshot's end may be from the current window's start to serve as "previous". @default max(2 h, snapshotEveryMs) */
  readonly previousToleranceMs?: number;
  /** Budget of the state value as JSON. @default 300 000 bytes */
  readonly maxStateBytes?: number;
  readonly slas?: WorkloadSlas;
  readonly decomposition?: DecompositionOptions;
}

export interface ComputeKpisSummary {
  readonly window: TimeWindow;
  readonly scopes: number;
  readonly valuesEmitted: number;
  readonly inputIssues: number;
  readonly findings: readonly Finding[];
  readonly findingsPublished: number;
  readonly findingsFailed: number;
  /** 'saved', or 'conflict' when another run wrote the state first (this run's snapshots are dropped). */
  readonly state: 'saved' | 'conflict';
}

/** Numbers rounded to 4 decimals: GPU-hours and ratios need no more, and the state stays small. */
function rounded<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (_k, v) => (typeof v === 'number' ? Math.round(v * 1e4) / 1e4 : v)),
  );
}

const SCOPE_PRIORITY = ['fleet', 'region:', 'cluster:', 'team:'];
const priorityOf = (key: string) => SCOPE_PRIORITY.findIndex((p) => key.startsWith(p));

/**
 * Drops whole scope histories, least important first (teams, then clusters, by key from the
 * end), until the JSON fits `maxBytes`. Returns the dropped scope keys.
 */
export function fitState(history: Record<string, KpiSnapshot[]>, maxBytes: number): string[] {
  const dropped: string[] = [];
  const size = () => new TextEncoder().encode(JSON.stringify({ snapshots: history })).length;
  const order = Object.keys(history).sort((a, b) => priorityOf(b) - priorityOf(a) || b.localeCompare(a));
  for (const key of order) {
    if (size() <= maxBytes) break;
    delete history[key];
    dropped.push(key);
  }
  return dropped;
}

/** The stored snapshot of `scope` whose end is nearest to `atMs`, within the tolerance. */
export function previousSnapshot(
  history: readonly KpiSnapshot[] | undefined,
  atMs: number,
  toleranceMs: number,
): KpiSnapshot | undefined {
  let best: KpiSnapshot | undefined;
  for (const s of history ?? []) {
    const d = Math.abs(s.window.endMs - atMs);
    if (d <= toleranceMs && (best === undefined || d < Math.abs(best.window.endMs - atMs))) best = s;
  }
  return best;
}

export async function computeKpis(deps: ComputeKpisDeps): Promise<ComputeKpisSummary> {
  const windowMs = deps.windowMs ?? DAY_MS;
  const every = deps.snapshotEveryMs ?? Math.max(HOUR_MS, windowMs / 8);
  const tolerance = deps.previousToleranceMs ?? Math.max(2 * HOUR_MS, every);
  const nowMs = deps.clock.now();
  const endMs = floorTo(nowMs, MINUTE_MS);
  const window: TimeWindow = { startMs: endMs - windowMs, endMs };

  const [jobs, usage, nodes, stored] = await Promise.all([
    deps.jobs.recentAndActive(window.startMs),
    deps.usage.usage(window.startMs, window.endMs),
    deps.inventory.nodes(window.startMs, window.endMs),
    deps.state.get<KpiState>(KPI_STATE_KEY),
  ]);

  const goodput = computeGoodput({ window, jobs: usage, nodes });
  if (goodput.issues.length > 0)
    deps.log.warn('KPI inputs inconsistent; values clamped', {
      issues: goodput.issues.length,
      first: goodput.issues.slice(0, 20),
    });
  const clusterOf = new Map(usage.map((u) => [u.jobName, u.cluster]));
  const stats = jobStats(jobs, window, clusterOf, deps.slas);
  const kpis = supportingKpis(goodput.scopes, stats);

  const values: KpiValue[] = [];
  for (const { scope, kpis: k } of kpis.values()) values.push(...kpiValues(scope, k, window.endMs));

  // Drop test and decomposition per scope, against the window that ended where this one starts.
  const history: Record<string, KpiSnapshot[]> = Object.fromEntries(
    Object.entries(stored?.value.snapshots ?? {}).map(([k, v]) => [k, [...v]]),
  );
  const findings: Finding[] = [];
  for (const s of goodput.scopes) {
    const key = scopeKey(s.scope);
    const k = kpis.get(key);
    if (!k) continue;
    const snap = snapshotOf(s, k.kpis, stats.get(key) ?? EMPTY_JOB_STATS, window);
    values.push(...capacityValues(s.scope, snap, window.endMs));
    const prev = previousSnapshot(history[key], window.startMs, tolerance);
    const d = prev ? decompose(prev, snap, deps.decomposition) : undefined;
    if (d) findings.push(goodputDropFinding(s.scope, d, window, nowMs));
    const list = history[key] ?? [];
    const last = list[list.length - 1];
    if (!last || snap.window.endMs - last.window.endMs >= every) list.push(rounded(snap));
    history[key] = list;
  }
  // Forget what can no longer be a previous window (and scopes that vanished with it).
  const oldest = window.startMs - tolerance;
  for (const [key, list] of Object.entries(history)) {
    const kept = list.filter((s) => s.window.endMs >= oldest);
    if (kept.length > 0) history[key] = kept;
    else delete history[key];
  }

  await deps.sink.emit(values);

  const dropped = fitState(history, deps.maxStateBytes ?? 300_000);
  if (dropped.length > 0)
    deps.log.warn('KPI state over budget: history of these scopes dropped (no drop test next window)', {
      scopes: dropped,
    });

  let published = 0;
  let failed = 0;
  if (findings.length > 0) {
    const res = await deps.findings.publish(findings);
    published = res.published;
    failed = res.failed.length;
    for (const f of res.failed)
      deps.log.error('goodput-drop finding not published', {
        reason: f.reason,
        title: findings[f.index]?.title,
      });
  }

  const put = await deps.state.put<KpiState>(KPI_STATE_KEY, { snapshots: history }, stored?.version);
  if (put === 'conflict')
    deps.log.warn('KPI state changed by another run; this run keeps its values but not its snapshots', {
      key: KPI_STATE_KEY,
    });
  deps.log.info('KPIs computed', {
    window,
    scopes: goodput.scopes.length,
    values: values.length,
    findings: findings.length,
  });
  return {
    window,
    scopes: goodput.scopes.length,
    valuesEmitted: values.length,
    inputIssues: goodput.issues.length,
    findings,
    findingsPublished: published,
    findingsFailed: failed,
    state: put === 'conflict' ? 'conflict' : 'saved',
  };
}
