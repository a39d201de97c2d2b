/**
 * The KPI catalogue: the goodput north star and its supporting KPIs, as data. The KPI Lambda
 * emits exactly these (EMF, namespace KPI_NAMESPACE), and the dashboards and alarms of infra/ are
 * built from the same entries, so no KPI metric name is typed twice. Definitions are explained in
 * docs/metrics.md; the arithmetic lives in lambdas/core/kpi/.
 */
export const KPI_NAMESPACE = 'FleetWatch/KPI';

/** Who acts when the KPI moves: Infra runs capacity and nodes, ML Platform runs jobs and images. */
export const KPI_OWNERS = ['Infra', 'ML Platform'] as const;
export type KpiOwner = (typeof KPI_OWNERS)[number];

/** What an alarm on the KPI does: page someone, open a ticket, or only show on the dashboard. */
export const KPI_ALERT_INTENTS = ['page', 'ticket', 'dashboard'] as const;
export type KpiAlertIntent = (typeof KPI_ALERT_INTENTS)[number];

export type KpiUnit = 'None' | 'Percent' | 'Count' | 'Seconds';

/**
 * Dimension sets a KPI is emitted with. Every KPI is also emitted without dimensions (fleet).
 * Region and Cluster travel together (cluster names are unique per region, not globally).
 */
export const KPI_DIMENSION_SETS = [[], ['Region'], ['Region', 'Cluster'], ['Team']] as const;

export interface KpiDefinition {
  /** CloudWatch metric name. */
  readonly metricName: string;
  readonly unit: KpiUnit;
  readonly owner: KpiOwner;
  /** Leading KPIs move before the outcome does (act on them); lagging ones confirm it. */
  readonly leading: boolean;
  readonly alertIntent: KpiAlertIntent;
  /**
   * 'north-star' (exactly one), 'supporting' (the guardrails), or 'breakdown': not a KPI to judge
   * but the split of capacity behind the north star, for the stacked dashboard widget.
   */
  readonly role: 'north-star' | 'supporting' | 'breakdown';
  /** Which way is good: an alarm fires on moves the other way. */
  readonly goodDirection: 'up' | 'down';
  /** Extra dimension this KPI always carries (e.g. Waste kind), beyond the scope dimensions. */
  readonly extraDimension?: { readonly name: string; readonly values: readonly string[] };
  readonly description: string;
}

function kpi(d: Omit<KpiDefinition, 'role'> & { role?: KpiDefinition['role'] }): KpiDefinition {
  return { role: 'supporting', ...d };
}

/** Waste kinds of WastedGpuHours / WastedDollars; disjoint, so `total` is their sum. */
export const WASTE_KINDS = ['not_training', 'stalled', 'lost_to_failure', 'total'] as const;
export type WasteKind = (typeof WASTE_KINDS)[number];

/**
 * Where available GPU-hours went: useful, plus the categories the decomposition attributes drops
 * to (lambdas/core/kpi/decomposition.ts). They partition available capacity.
 */
export const CAPACITY_CATEGORIES = [
  'useful',
  'hardware',
  'software',
  'scheduling',
  'data-io',
  'network',
  'idle-capacity',
  'telemetry-gap',
] as const;
export type CapacityCategory = (typeof CAPACITY_CATEGORIES)[number];

export const KPIS = {
  goodput: kpi({
    metricName: 'Goodput',
    unit: 'None',
    owner: 'ML Platform',
    leading: false,
    alertIntent: 'ticket',
    role: 'north-star',
    goodDirection: 'up',
    description:
      'Useful GPU-hours / available GPU-hours (0..1). Useful = SM-activity-weighted GPU-hours of jobs that were training, progressing, and whose work was kept (completed or checkpointed). Available = GPU capacity of the inventory minus planned maintenance.',
  }),
  allocationRate: kpi({
    metricName: 'AllocationRate',
    unit: 'None',
    owner: 'Infra',
    leading: true,
    alertIntent: 'dashboard',
    goodDirection: 'up',
    description: 'Allocated GPU-hours / available GPU-hours (0..1): how much capacity jobs hold.',
  }),
  effectiveSmActivity: kpi({
    metricName: 'EffectiveSmActivity',
    unit: 'None',
    owner: 'ML Platform',
    leading: true,
    alertIntent: 'ticket',
    goodDirection: 'up',
    description:
      'Σ sm_active over progressing GPU-minutes / allocated GPU-minutes (0..1): what allocated GPUs actually compute. Dummy load reads 0.',
  }),
  jobSuccessRate: kpi({
    metricName: 'JobSuccessRate',
    unit: 'None',
    owner: 'ML Platform',
    leading: false,
    alertIntent: 'ticket',
    goodDirection: 'up',
    description:
      'Completed / (Completed + Failed + Stopped) of jobs that ended in the window. Per cohort (driver, framework, image) in the cohort detector.',
  }),
  queueWaitP95: kpi({
    metricName: 'QueueWaitP95',
    unit: 'Seconds',
    owner: 'Infra',
    leading: true,
    alertIntent: 'ticket',
    goodDirection: 'down',
    description: 'p95 of creation → training start of the jobs that started training in the window.',
  }),
  slaAttainment: kpi({
    metricName: 'SlaAttainment',
    unit: 'None',
    owner: 'Infra',
    leading: false,
    alertIntent: 'ticket',
    goodDirection: 'up',
    description:
      'Share of jobs due in the window that started within their class start-latency SLA (jobs still waiting past the deadline count as misses).',
  }),
  hardwareFaultsPer1kGpuHours: kpi({
    metricName: 'HardwareFaultsPer1kGpuHours',
    unit: 'None',
    owner: 'Infra',
    leading: true,
    alertIntent: 'ticket',
    goodDirection: 'down',
    description:
      'Hardware faults (fatal Xid, uncorrectable ECC, GPU lost) per 1,000 available GPU-hours. Single faults page through their own detectors; this watches the rate.',
  }),
  wastedGpuHours: kpi({
    metricName: 'WastedGpuHours',
    unit: 'None',
    owner: 'ML Platform',
    leading: false,
    alertIntent: 'dashboard',
    goodDirection: 'down',
    extraDimension: { name: 'Waste', values: WASTE_KINDS },
    description:
      'Allocated GPU-hours that produced nothing: not training (held before/without training), stalled (training without progress), lost to failure (progress after the last checkpoint of a failed or stopped job).',
  }),
  wastedDollars: kpi({
    metricName: 'WastedDollars',
    unit: 'None',
    owner: 'ML Platform',
    leading: false,
    alertIntent: 'dashboard',
    goodDirection: 'down',
    extraDimension: { name: 'Waste', values: WASTE_KINDS },
    description:
      'WastedGpuHours × on-demand $/GPU-hour of the instance type (lambdas/contracts/prices.ts); unpriced types are left out and counted.',
  }),
  dataLoaderWaitShare: kpi({
    metricName: 'DataLoaderWaitShare',
    unit: 'None',
    owner: 'ML Platform',
    leading: true,
    alertIntent: 'dashboard',
    goodDirection: 'down',
    description:
      'Training GPU-minutes spent waiting for input / training GPU-minutes (0..1), for jobs that report a step-time breakdown.',
  }),
  communicationShare: kpi({
    metricName: 'CommunicationShare',
    unit: 'None',
    owner: 'Infra',
    leading: true,
    alertIntent: 'dashboard',
    goodDirection: 'down',
    description:
      'Training GPU-minutes spent in collectives (exposed communication) / training GPU-minutes (0..1), for jobs that report it.',
  }),
  capacityGpuHours: kpi({
    metricName: 'CapacityGpuHours',
    unit: 'None',
    owner: 'ML Platform',
    leading: false,
    alertIntent: 'dashboard',
    role: 'breakdown',
    goodDirection: 'up',
    extraDimension: { name: 'Category', values: CAPACITY_CATEGORIES },
    description:
      'Available GPU-hours by where they went: useful, or the category that took them (hardware, software, scheduling, data-io, network, idle capacity, telemetry gap). Stacked, it shows what the goodput decomposition reasons over.',
  }),
} as const satisfies Record<string, KpiDefinition>;

export type KpiKey = keyof typeof KPIS;
export const KPI_KEYS = Object.keys(KPIS) as KpiKey[];

/** The north star's key (exactly one entry has role 'north-star'; a test checks it). */
export const NORTH_STAR: KpiKey = 'goodput';

/** One KPI value to emit. Dimensions are from KPI_DIMENSION_SETS (plus the KPI's extraDimension). */
export interface KpiValue {
  readonly key: KpiKey;
  readonly value: number;
  readonly dimensions: Readonly<Record<string, string>>;
  /** End of the window the value describes, epoch ms. */
  readonly timestampMs: number;
}
