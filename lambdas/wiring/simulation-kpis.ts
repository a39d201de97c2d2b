import { InMemoryStateStore } from '../adapters/memory/state-store';
import { computeKpis } from '../app/compute-kpis';
import type { Finding } from '../contracts/finding';
import { KPIS, type KpiKey, type KpiValue } from '../contracts/kpis';
import { CATEGORIES, type DecompositionOptions } from '../core/kpi/decomposition';
import type { InputIssue, JobUsage, NodeWindow } from '../core/kpi/goodput';
import type { WorkloadSlas } from '../core/kpi/supporting';
import { mergeUsageRecords, type WindowUsageRecord } from '../core/kpi/window-usage';
import type {
  FindingsPublisher,
  JobQueries,
  KpiSink,
  Log,
  NodeInventory,
  StateStore,
  UsageRecorder,
  UsageSource,
} from '../core/ports';
import { HOUR_MS } from '../core/time';

/**
 * The KPI pipeline inside a simulated run (lambdas/wiring/simulation.ts): the detection run records
 * each window's usage into the run's SimulationKpiUsage (memory backend: SimulationUsageRecords;
 * moto backend: the real S3UsageStore, with computeKpis' state in an S3StateStore, as on AWS),
 * and every `everyMs` of virtual time the REAL computeKpis (lambdas/app/compute-kpis.ts) runs over
 * it with the run's FindingsPublisher, so a kpi.goodput_drop finding is routed like any other and
 * becomes an incident with its `cause`.
 *
 * Defaults are scenario-independent: every hour, a trailing 6 h window compared with the 6 h before
 * it, so a drop can show within a day-long scenario (the Lambda's default is 24 h vs 24 h, which
 * would need two days of run before the first comparison).
 */

export interface SimulationKpiOptions {
  /** KPI cadence, virtual time. @default 1 h */
  readonly everyMs?: number;
  /** Trailing window of computeKpis (and so the length of the previous window). @default 6 h */
  readonly windowMs?: number;
  /** Thresholds of the drop test (lambdas/core/kpi/decomposition.ts defaults otherwise). */
  readonly decomposition?: DecompositionOptions;
  /** SLAs of the SLA-attainment KPI (computeKpis' default: the detectors' start-latency SLAs). */
  readonly slas?: WorkloadSlas;
}

export const SIMULATION_KPI_DEFAULTS = { everyMs: HOUR_MS, windowMs: 6 * HOUR_MS } as const;

/** One fleet-level KPI sample of the run (fractions 0..1 unless the name says otherwise). */
export interface SimulationKpiPoint {
  /** End of the window the values describe, epoch ms. */
  readonly tMs: number;
  readonly goodput: number | null;
  readonly allocationRate: number | null;
  readonly effectiveSmActivity: number | null;
  readonly jobSuccessRate: number | null;
  readonly slaAttainment: number | null;
  readonly queueWaitP95Seconds: number | null;
  readonly hardwareFaultsPer1kGpuHours: number | null;
  readonly dataLoaderWaitShare: number | null;
  readonly communicationShare: number | null;
  /** Fleet capacity partition in GPU-hours by category (useful, hardware, ..., telemetry-gap). */
  readonly capacityGpuHours: Readonly<Record<string, number>>;
}

/** A kpi.goodput_drop finding of the run, as the report and the JSON summary show it. */
export interface SimulationGoodputDrop {
  readonly atMs: number;
  /** `fleet`, `region=<r>`, `cluster=<region>/<cluster>` or `team=<t>`. */
  readonly scope: string;
  readonly dropPercent: number;
  /** The finding's (and so the incident's) cause: the dominant fault category, or efficiency. */
  readonly cause: string;
  readonly goodputPrev: number;
  readonly goodputCur: number;
  readonly lostGpuHours: number;
  /** Share of the lost goodput per category (hardware, software, ... idle-capacity, telemetry-gap). */
  readonly shares: Readonly<Record<string, number>>;
  /** The classic pattern the decomposition recognised (decomposition.ts ClassicPattern), if any. */
  readonly pattern?: string;
}

/**
 * Where a run keeps its KPI usage records: the detection run's UsageRecorder and computeKpis'
 * UsageSource + NodeInventory in one object, plus what SimulationKpis needs to pace itself.
 * Memory backend: SimulationUsageRecords. Moto backend: TrackedUsageStore over the real
 * S3UsageStore (lambdas/wiring/simulation.ts motoBackend).
 */
export interface SimulationKpiUsage extends UsageRecorder, UsageSource, NodeInventory {
  /** End of the newest recorded window (-Infinity before the first). */
  readonly recordedUntilMs: number;
  /** Merge issues (invalid windows) seen by the reads, counted for the run's log. */
  readonly issues: readonly InputIssue[];
  /** Forgets records that ended before `beforeMs`, where the store holds them in memory. */
  prune(beforeMs: number): void;
}

/**
 * The detection run's UsageRecorder and computeKpis' UsageSource + NodeInventory in one object
 * (as adapters/memory/usage-source.ts InMemoryUsageRecords, same merge), plus `prune`: a month-long
 * run would otherwise hold every window's record; only the last two windows are ever read.
 */
export class SimulationUsageRecords implements SimulationKpiUsage {
  private readonly records = new Map<number, WindowUsageRecord>();
  /** Merge issues (invalid windows), counted for the run's log. */
  readonly issues: InputIssue[] = [];

  async record(usage: WindowUsageRecord): Promise<void> {
    this.records.set(usage.window.startMs, structuredClone(usage));
  }

  async usage(startMs: number, endMs: number): Promise<JobUsage[]> {
    return this.merged(startMs, endMs).jobs;
  }

  async nodes(startMs: number, endMs: number): Promise<NodeWindow[]> {
    return this.merged(startMs, endMs).nodes;
  }

  /** Forgets records that ended before `beforeMs`. */
  prune(beforeMs: number): void {
    for (const [start, r] of this.records) if (r.window.endMs < beforeMs) this.records.delete(start);
  }

  get size(): number {
    return this.records.size;
  }

  /** End of the newest recorded window (-Infinity before the first). */
  get recordedUntilMs(): number {
    let end = Number.NEGATIVE_INFINITY;
    for (const r of this.records.values()) end = Math.max(end, r.window.endMs);
    return end;
  }

  private merged(startMs: number, endMs: number) {
    const inRange = [...this.records.values()].filter(
      (r) => r.window.startMs < endMs && r.window.endMs > startMs,
    );
    const m = mergeUsageRecords(inRange, startMs, endMs);
    this.issues.push(...m.issues);
    return m;
  }
}

/**
 * A durable usage store (S3UsageStore on the moto backend) as a SimulationKpiUsage: record()
 * delegates and remembers the newest window end, so SimulationKpis need not list the bucket to
 * know where detection has got to; prune() does nothing (the bucket belongs to the run and goes
 * with its moto server). `issues` is the array the inner store's onIssue callback fills.
 */
export class TrackedUsageStore implements SimulationKpiUsage {
  private untilMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly inner: UsageRecorder & UsageSource & NodeInventory,
    readonly issues: InputIssue[] = [],
  ) {}

  async record(usage: WindowUsageRecord): Promise<void> {
    await this.inner.record(usage);
    this.untilMs = Math.max(this.untilMs, usage.window.endMs);
  }

  usage(startMs: number, endMs: number): Promise<JobUsage[]> {
    return this.inner.usage(startMs, endMs);
  }

  nodes(startMs: number, endMs: number): Promise<NodeWindow[]> {
    return this.inner.nodes(startMs, endMs);
  }

  prune(_beforeMs: number): void {}

  get recordedUntilMs(): number {
    return this.untilMs;
  }
}

/** The scalar KPIs of a fleet point and their metric keys. */
const POINT_FIELDS: readonly [Exclude<keyof SimulationKpiPoint, 'tMs' | 'capacityGpuHours'>, KpiKey][] = [
  ['goodput', 'goodput'],
  ['allocationRate', 'allocationRate'],
  ['effectiveSmActivity', 'effectiveSmActivity'],
  ['jobSuccessRate', 'jobSuccessRate'],
  ['slaAttainment', 'slaAttainment'],
  ['queueWaitP95Seconds', 'queueWaitP95'],
  ['hardwareFaultsPer1kGpuHours', 'hardwareFaultsPer1kGpuHours'],
  ['dataLoaderWaitShare', 'dataLoaderWaitShare'],
  ['communicationShare', 'communicationShare'],
];

/** Fleet-scope values (no dimensions) of one computeKpis run as a point; missing KPIs are null. */
export function fleetPoint(values: readonly KpiValue[], tMs: number): SimulationKpiPoint {
  const fleet = new Map<KpiKey, number>();
  const capacity: Record<string, number> = {};
  for (const v of values) {
    const dims = Object.keys(v.dimensions);
    if (dims.length === 0 && KPIS[v.key].extraDimension === undefined) fleet.set(v.key, v.value);
    const category = v.dimensions.Category;
    if (v.key === 'capacityGpuHours' && dims.length === 1 && category !== undefined)
      capacity[category] = Math.round(v.value * 100) / 100;
  }
  const point: Record<string, unknown> = { tMs };
  for (const [field, key] of POINT_FIELDS) point[field] = fleet.get(key) ?? null;
  point.capacityGpuHours = capacity;
  return point as unknown as SimulationKpiPoint;
}

const camel = (category: string) => category.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** A kpi.goodput_drop finding as a drop row (scope from its labels, shares from its values). */
export function dropOf(finding: Finding, atMs: number): SimulationGoodputDrop {
  const l = finding.labels as Readonly<Record<string, string | undefined>>;
  const scope =
    l.team !== undefined
      ? `team=${l.team}`
      : l.cluster !== undefined
        ? `cluster=${l.region ?? '?'}/${l.cluster}`
        : l.region !== undefined
          ? `region=${l.region}`
          : 'fleet';
  const v: Readonly<Record<string, number>> = finding.evidence.values ?? {};
  const shares: Record<string, number> = {};
  for (const c of CATEGORIES) shares[c] = v[`${camel(c)}Share`] ?? 0;
  // The finding states its pattern in the evidence detail (goodputDropFinding: `pattern: <name>`).
  const pattern = /^pattern: ([a-z-]+)/m.exec(finding.evidence.detail ?? '')?.[1];
  return {
    atMs,
    scope,
    dropPercent: Math.round((v.relativeDrop ?? 0) * 1000) / 10,
    cause: finding.cause,
    goodputPrev: v.goodputPrev ?? Number.NaN,
    goodputCur: v.goodputCur ?? Number.NaN,
    lostGpuHours: v.lostGpuHours ?? Number.NaN,
    shares,
    ...(pattern ? { pattern } : {}),
  };
}

/** Runs computeKpis on the virtual clock and keeps what the report and summary show. */
export class SimulationKpis {
  /** The run's usage records (detection writes them; pass `records` to use another store). */
  readonly records: SimulationKpiUsage;
  readonly points: SimulationKpiPoint[] = [];
  readonly drops: SimulationGoodputDrop[] = [];
  /** computeKpis runs, and values it emitted that were clamped for inconsistent inputs. */
  runs = 0;
  inputIssues = 0;
  private readonly everyMs: number;
  private readonly windowMs: number;
  private nextAtMs: number;
  private emitted: readonly KpiValue[] = [];
  private readonly state: StateStore;

  constructor(
    private readonly deps: {
      readonly jobs: JobQueries;
      readonly findings: FindingsPublisher;
      readonly log: Log;
      readonly startMs: number;
      /** Usage records. @default - a new SimulationUsageRecords (in memory) */
      readonly records?: SimulationKpiUsage;
      /** computeKpis' state (previous snapshots). @default - a new InMemoryStateStore */
      readonly state?: StateStore;
    },
    private readonly options: SimulationKpiOptions = {},
  ) {
    this.records = deps.records ?? new SimulationUsageRecords();
    this.state = deps.state ?? new InMemoryStateStore();
    this.everyMs = options.everyMs ?? SIMULATION_KPI_DEFAULTS.everyMs;
    this.windowMs = options.windowMs ?? SIMULATION_KPI_DEFAULTS.windowMs;
    for (const [name, v] of [
      ['everyMs', this.everyMs],
      ['windowMs', this.windowMs],
    ] as const)
      if (!Number.isFinite(v) || v < 60_000)
        throw new Error(`simulation kpis.${name}: got ${v}; allowed a number of ms >= 60000`);
    this.nextAtMs = deps.startMs + this.everyMs;
  }

  /** Runs computeKpis once if virtual time reached the next KPI time (call after detection). */
  async maybeRun(nowMs: number): Promise<void> {
    if (nowMs < this.nextAtMs) return;
    while (this.nextAtMs <= nowMs) this.nextAtMs += this.everyMs;
    const sink: KpiSink = {
      emit: async (values) => {
        this.emitted = values;
      },
    };
    // The window ends where detection has recorded usage (a few minutes behind `now`: publishing
    // delay and the collection window), so its tail is not read as capacity without telemetry.
    const untilMs = Math.min(nowMs, this.records.recordedUntilMs);
    if (!Number.isFinite(untilMs)) return;
    const summary = await computeKpis({
      jobs: this.deps.jobs,
      usage: this.records,
      inventory: this.records,
      sink,
      findings: this.deps.findings,
      state: this.state,
      clock: { now: () => untilMs },
      log: this.deps.log,
      windowMs: this.windowMs,
      ...(this.options.decomposition ? { decomposition: this.options.decomposition } : {}),
      ...(this.options.slas ? { slas: this.options.slas } : {}),
    });
    this.runs++;
    this.inputIssues += summary.inputIssues;
    this.points.push(fleetPoint(this.emitted, summary.window.endMs));
    for (const f of summary.findings) if (f.kind === 'kpi.goodput_drop') this.drops.push(dropOf(f, untilMs));
    // Two windows back plus the snapshot tolerance is all computeKpis ever reads again.
    this.records.prune(nowMs - 2 * this.windowMs - 2 * HOUR_MS);
  }
}
