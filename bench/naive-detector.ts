import type { Cause, Severity } from '../lambdas/contracts/finding';
import { gpuInstanceSpec } from '../lambdas/contracts/gpu-catalogue';
import type { ScoredIncident, ScoredNotification } from '../lambdas/sim/score';
import type { SimulationWindow } from '../lambdas/wiring/simulation';

/**
 * The baseline of the alert-quality benchmark: what a team stitching DCGM + Prometheus +
 * Alertmanager together by hand typically runs. Static thresholds per sample or per window, no
 * maintenance calendar, no inhibition, no correlation; the only dedup is Alertmanager's
 * repeat_interval: one notification per (rule, target) per hour while the rule keeps firing.
 *
 * It sees exactly what FleetWatch's detection sees each collection window (the committed samples
 * and the job store's states; lambdas/wiring/simulation.ts SimulationObserver), plus which job holds
 * a GPU (dcgm-exporter's pod labels on Kubernetes). Pure: no clock, no I/O.
 */

export const NAIVE_RULES = [
  'xid-fatal',
  'ecc-dbe',
  'temperature-high',
  'utilisation-low',
  'power-high',
  'failed-jobs-high',
] as const;
export type NaiveRule = (typeof NAIVE_RULES)[number];

export interface NaiveThresholds {
  /** Xid codes paged on (NVIDIA's "reset / drain the GPU" list). */
  readonly fatalXids: readonly number[];
  /** Page on any sample above this GPU temperature. @default 85 */
  readonly temperatureC: number;
  /** Ticket when every sample of a GPU held by a job stays below this in a window. @default 10 */
  readonly utilPercent: number;
  /** Ticket on any sample above this share of the instance type's TDP. @default 0.95 */
  readonly powerTdpFraction: number;
  /** Page when at least this many jobs of one cluster fail within one window. @default 8 */
  readonly failedJobsPerWindow: number;
  /** Alertmanager repeat_interval. @default 1 hour */
  readonly repeatMs: number;
}

export const DEFAULT_NAIVE_THRESHOLDS: NaiveThresholds = {
  fatalXids: [48, 61, 62, 63, 64, 74, 79, 92, 94, 95, 119, 120],
  temperatureC: 85,
  utilPercent: 10,
  powerTdpFraction: 0.95,
  failedJobsPerWindow: 8,
  repeatMs: 60 * 60_000,
};

const RULE_SEVERITY: Record<NaiveRule, Severity> = {
  'xid-fatal': 'page',
  'ecc-dbe': 'page',
  'temperature-high': 'page',
  'utilisation-low': 'ticket',
  'power-high': 'ticket',
  'failed-jobs-high': 'page',
};

/** The cause category a reader of each alert would assume (for the score's incident record). */
const RULE_CAUSE: Record<NaiveRule, Cause> = {
  'xid-fatal': 'hardware',
  'ecc-dbe': 'hardware',
  'temperature-high': 'hardware',
  'utilisation-low': 'efficiency',
  'power-high': 'hardware',
  'failed-jobs-high': 'software',
};

/** One collection window, as runSimulation's observers receive it (the fields the rules read). */
export type NaiveWindow = Pick<
  SimulationWindow,
  'nowMs' | 'windowStartMs' | 'windowEndMs' | 'samples' | 'jobs' | 'jobOnGpu'
>;

export interface NaiveNotification {
  /** Virtual delivery time: the end of the collection run that saw the condition. */
  readonly atMs: number;
  readonly rule: NaiveRule;
  readonly severity: Severity;
  /** Alert identity: rule plus target labels. */
  readonly alertKey: string;
  /** One id per firing episode of an alert (a gap longer than repeatMs starts a new one). */
  readonly episodeId: string;
  /** First notification of the episode ('open') or an hourly repeat ('repeat'). */
  readonly event: 'open' | 'repeat';
  readonly labels: Readonly<{ cluster?: string; region?: string; node?: string; gpu?: string; job?: string }>;
  readonly detail: string;
}

interface AlertState {
  episodeId: string;
  episodeStartMs: number;
  lastNotifiedMs: number;
  /** Last window the rule fired for this target. */
  lastFiringMs: number;
  labels: NaiveNotification['labels'];
  rule: NaiveRule;
}

/** Job tag the simulator (and FleetWatch's SageMaker tagging convention) puts the cluster in. */
export const CLUSTER_TAG = 'fleetwatch:cluster';

export class NaiveDetector {
  readonly notifications: NaiveNotification[] = [];
  /** Samples the rules could not read (unknown instance type for the power rule), by reason. */
  readonly skipped = new Map<string, number>();
  private readonly alerts = new Map<string, AlertState>();
  private readonly episodes: AlertState[] = [];
  /** Highest ECC DBE volatile total seen per GPU (a rise pages). */
  private readonly dbeSeen = new Map<string, number>();
  private readonly thresholds: NaiveThresholds;
  private readonly fatal: ReadonlySet<number>;

  constructor(thresholds: Partial<NaiveThresholds> = {}) {
    this.thresholds = { ...DEFAULT_NAIVE_THRESHOLDS, ...thresholds };
    this.fatal = new Set(this.thresholds.fatalXids);
  }

  /** Evaluates every rule on one window and records the notifications Alertmanager would send. */
  onWindow(w: NaiveWindow): void {
    const t = this.thresholds;
    const firing = new Map<
      string,
      { rule: NaiveRule; labels: NaiveNotification['labels']; detail: string }
    >();
    const fire = (rule: NaiveRule, labels: NaiveNotification['labels'], detail: string): void => {
      const key = alertKeyOf(rule, labels);
      if (!firing.has(key)) firing.set(key, { rule, labels, detail });
    };

    const lowUtil = new Map<string, { labels: NaiveNotification['labels']; low: boolean }>();
    for (const s of w.samples) {
      const { cluster, region, node, gpu } = s.labels;
      const gpuLabels = { cluster, region, node, gpu };
      const v = s.values;
      if (v.xid !== undefined && this.fatal.has(v.xid)) fire('xid-fatal', gpuLabels, `Xid ${v.xid}`);
      if (v.ecc_dbe !== undefined) {
        const id = `${cluster}|${node}|${gpu}`;
        const before = this.dbeSeen.get(id) ?? 0;
        if (v.ecc_dbe > before) fire('ecc-dbe', gpuLabels, `ECC DBE volatile total ${v.ecc_dbe}`);
        if (v.ecc_dbe !== before) this.dbeSeen.set(id, v.ecc_dbe);
      }
      if (v.temperature !== undefined && v.temperature > t.temperatureC)
        fire('temperature-high', gpuLabels, `GPU temperature ${v.temperature} °C`);
      if (v.power !== undefined) {
        const spec = gpuInstanceSpec(s.labels.instanceType);
        if (spec === undefined) this.skip(`power: unknown instance type ${s.labels.instanceType}`);
        else if (v.power > t.powerTdpFraction * spec.tdpWatts)
          fire(
            'power-high',
            gpuLabels,
            `power ${v.power} W > ${t.powerTdpFraction * 100}% of ${spec.tdpWatts} W`,
          );
      }
      if (v.gpu_util !== undefined) {
        const job = w.jobOnGpu(node, gpu, s.time);
        const id = `${cluster}|${node}|${gpu}`;
        const acc = lowUtil.get(id);
        if (job === undefined) {
          // Not held by a job for this minute: the rule's `and on(pod)` join drops it.
          if (acc !== undefined) acc.low = false;
          else lowUtil.set(id, { labels: { ...gpuLabels }, low: false });
          continue;
        }
        const low = v.gpu_util < t.utilPercent;
        if (acc === undefined) lowUtil.set(id, { labels: { ...gpuLabels, job }, low });
        else acc.low &&= low;
      }
    }
    for (const { labels, low } of lowUtil.values())
      if (low) fire('utilisation-low', labels, `GPU utilisation < ${t.utilPercent}% all window`);

    const failedByCluster = new Map<string, number>();
    for (const j of w.jobs) {
      if (j.status !== 'Failed') continue;
      if (j.lastModifiedTime < w.windowStartMs || j.lastModifiedTime >= w.windowEndMs) continue;
      const cluster = j.tags[CLUSTER_TAG] ?? `region:${j.region}`;
      failedByCluster.set(cluster, (failedByCluster.get(cluster) ?? 0) + 1);
    }
    for (const [cluster, n] of failedByCluster) {
      if (n >= t.failedJobsPerWindow) {
        const labels = cluster.startsWith('region:') ? { region: cluster.slice(7) } : { cluster };
        fire('failed-jobs-high', labels, `${n} jobs failed in 5 minutes`);
      }
    }

    for (const [key, f] of firing) this.notify(key, f.rule, f.labels, f.detail, w.nowMs);
  }

  private notify(
    key: string,
    rule: NaiveRule,
    labels: NaiveNotification['labels'],
    detail: string,
    nowMs: number,
  ): void {
    const t = this.thresholds;
    let a = this.alerts.get(key);
    // Alertmanager resolves an alert that stopped firing (resolve_timeout); a later firing is new.
    if (a === undefined || nowMs - a.lastFiringMs > t.repeatMs) {
      a = {
        episodeId: `naive-${this.episodes.length + 1}`,
        episodeStartMs: nowMs,
        lastNotifiedMs: nowMs,
        lastFiringMs: nowMs,
        labels,
        rule,
      };
      this.alerts.set(key, a);
      this.episodes.push(a);
      this.push(nowMs, rule, key, a, 'open', detail);
      return;
    }
    a.lastFiringMs = nowMs;
    if (nowMs - a.lastNotifiedMs >= t.repeatMs) {
      a.lastNotifiedMs = nowMs;
      this.push(nowMs, rule, key, a, 'repeat', detail);
    }
  }

  private push(
    atMs: number,
    rule: NaiveRule,
    alertKey: string,
    a: AlertState,
    event: 'open' | 'repeat',
    detail: string,
  ): void {
    this.notifications.push({
      atMs,
      rule,
      severity: RULE_SEVERITY[rule],
      alertKey,
      episodeId: a.episodeId,
      event,
      labels: a.labels,
      detail,
    });
  }

  private skip(reason: string): void {
    this.skipped.set(reason, (this.skipped.get(reason) ?? 0) + 1);
  }

  /**
   * The notifications and "incidents" (one per firing episode) in the shape lambdas/sim/score.ts
   * scores, so both detectors are matched to faults by the same rules. A repeat is scored as a
   * second 'open' of its episode: a duplicate, which is what it is to the person paged.
   */
  forScoring(): { notifications: ScoredNotification[]; incidents: ScoredIncident[] } {
    return {
      notifications: this.notifications.map((n) => ({
        atMs: n.atMs,
        severity: n.severity,
        event: 'open',
        kind: `naive.${n.rule}`,
        incidentId: n.episodeId,
      })),
      incidents: this.episodes.map((e) => ({
        id: e.episodeId,
        kind: `naive.${e.rule}`,
        severity: RULE_SEVERITY[e.rule],
        cause: RULE_CAUSE[e.rule],
        firstSeenMs: e.episodeStartMs,
        labels: { ...e.labels },
        status: 'open',
      })),
    };
  }
}

function alertKeyOf(rule: NaiveRule, labels: NaiveNotification['labels']): string {
  return `${rule}|${labels.cluster ?? ''}|${labels.region ?? ''}|${labels.node ?? ''}|${labels.gpu ?? ''}|${labels.job ?? ''}`;
}
