import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { DefaultDashboardFactory, MonitoringFacade } from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import type { FleetConfig, FleetWatchConfig } from '../../lambdas/contracts/config';
import { SEVERITIES } from '../../lambdas/contracts/finding';
import { KPI_KEYS, KPIS, type KpiDefinition, type KpiKey, NORTH_STAR } from '../../lambdas/contracts/kpis';
import { OPS_METRICS, type OpsMetricKey } from '../../lambdas/contracts/metrics';
import { builtinProfiles, type MetricSourceProfile } from '../../lambdas/contracts/profiles';
import type { Signal } from '../../lambdas/contracts/signals';
import {
  kpiMetric,
  opsMetric,
  opsSearch,
  searchExpression,
  serviceNameOf,
  shortIdOf,
} from './fleetwatch-metrics';
import type { WatchedResources } from './pipeline-alarms';

/**
 * CloudWatch namespaces SageMaker Model Monitor publishes endpoint metrics to (aws-facts.md,
 * "CloudWatch metrics from Model Monitor"), with the dimension naming the endpoint and the
 * token of the drift metrics' names. Data quality is the singular "data-metric" in the docs.
 */
export const MODEL_MONITOR_NAMESPACES = [
  {
    monitor: 'data quality',
    namespace: '/aws/sagemaker/Endpoints/data-metric',
    drift: 'feature_baseline_drift',
  },
  { monitor: 'model quality', namespace: 'aws/sagemaker/Endpoints/model-metrics', drift: undefined },
  { monitor: 'bias', namespace: 'aws/sagemaker/Endpoints/bias-metrics', drift: 'bias_metric' },
  {
    monitor: 'explainability',
    namespace: 'aws/sagemaker/Endpoints/explainability-metrics',
    drift: undefined,
  },
] as const;

/** The GPU health panels: canonical signals (profiles map them to metric names per source). */
export const GPU_HEALTH_PANELS: readonly { readonly title: string; readonly signals: readonly Signal[] }[] = [
  { title: 'Temperature (°C, max per GPU)', signals: ['temperature'] },
  { title: 'Throttling: clock event reasons (bitmask, non-zero = throttled)', signals: ['clock_events'] },
  { title: 'Xid (last code seen, 0 = none)', signals: ['xid'] },
  { title: 'ECC errors (volatile totals)', signals: ['ecc_dbe', 'ecc_sbe'] },
  {
    title: 'Row remap failures, PCIe replays, NVLink errors',
    signals: ['row_remap_failure', 'pcie_replay', 'nvlink_errors'],
  },
];

/** KPIs of the jobs-and-SLA dashboard (keys of the KPI catalogue). */
const JOB_KPIS: readonly KpiKey[] = ['jobSuccessRate', 'queueWaitP95', 'slaAttainment'];

/** Ops metrics per dashboard, by catalogue key. */
const JOB_OPS: readonly OpsMetricKey[][] = [
  ['jobEventsApplied', 'jobEventsDuplicate', 'jobEventsStale', 'jobEventsInvalid', 'jobEventsFailed'],
  ['jobsReconciled', 'reconcileIncomplete', 'trainingJobListingsTruncated', 'listTrainingJobsCalls'],
];
const DRIFT_OPS: readonly OpsMetricKey[][] = [
  ['driftFindings', 'driftFindingsUnpublished'],
  ['driftEndpointsChecked', 'driftEndpointsFailed', 'driftCaptureObjectsSkipped'],
];
const COLLECTOR_OPS: readonly OpsMetricKey[][] = [
  [
    'datapointsCollected',
    'datapointsRejected',
    'datapointsMissing',
    'backfilledMinutes',
    'minutesBeyondHorizon',
  ],
  ['getMetricDataCalls', 'metricsRequested', 'queriesIncomplete', 'apiThrottled'],
  ['recordsWritten', 'recordsRejected', 'sinkRetries'],
  ['detectRuns', 'detectionRunsFailed', 'detectionSkipped', 'detectInputsFailed'],
];

export interface FleetWatchDashboardsProps {
  /** The validated config: fleets (clusters, regions, teams, sources), profiles, drift endpoints. */
  readonly config: FleetWatchConfig;
  readonly watched: WatchedResources;
  /** Alarms shown in an alarm status widget on the health dashboard (the pipeline alarms). */
  readonly alarms?: readonly cloudwatch.IAlarm[];
  /** @default the stack name */
  readonly dashboardNamePrefix?: string;
}

/**
 * FleetWatch's CloudWatch dashboards, built from the catalogues (KPIS, OPS_METRICS, profiles):
 * fleet overview, GPU health, jobs and SLA, incidents and suppression, model drift, and
 * FleetWatch's own health. The health dashboard is a cdk-monitoring-constructs MonitoringFacade
 * (it knows Lambda, SQS and Step Functions metrics); the others are plain CloudWatch widgets over
 * custom metrics and SEARCH expressions (docs/adr/0009-dashboards-and-pipeline-alarms.md).
 */
export class FleetWatchDashboards extends Construct {
  readonly fleetOverview: cloudwatch.Dashboard;
  readonly gpuHealth: cloudwatch.Dashboard;
  readonly jobsAndSla: cloudwatch.Dashboard;
  readonly incidents: cloudwatch.Dashboard;
  readonly modelDrift: cloudwatch.Dashboard;
  readonly health: cloudwatch.Dashboard;
  readonly monitoring: MonitoringFacade;

  constructor(scope: Construct, id: string, props: FleetWatchDashboardsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const prefix = props.dashboardNamePrefix ?? stack.stackName;
    const { config } = props;
    const dashboard = (name: string, rows: cloudwatch.IWidget[][]) => {
      const d = new cloudwatch.Dashboard(this, name, {
        dashboardName: `${prefix}-${name}`,
        defaultInterval: Duration.days(1),
      });
      for (const row of rows) d.addWidgets(...row);
      return d;
    };

    this.fleetOverview = dashboard('FleetOverview', fleetOverviewRows(config));
    this.gpuHealth = dashboard('GpuHealth', gpuHealthRows(config));
    this.jobsAndSla = dashboard('JobsAndSla', jobsRows(config));
    this.incidents = dashboard('Incidents', incidentRows());
    this.modelDrift = dashboard('ModelDrift', driftRows(config));

    const factory = new DefaultDashboardFactory(this, 'HealthDashboards', {
      dashboardNamePrefix: `${prefix}-Health`,
      createDashboard: true,
      createSummaryDashboard: false,
      createAlarmDashboard: false,
    });
    this.monitoring = new MonitoringFacade(this, 'Health', { dashboardFactory: factory });
    this.addHealth(props, stack);
    const health = this.monitoring.createdDashboard();
    if (health === undefined) throw new Error('FleetWatchDashboards: the health dashboard was not created');
    this.health = health;
  }

  private addHealth(props: FleetWatchDashboardsProps, stack: Stack): void {
    const m = this.monitoring;
    const { watched } = props;
    m.addLargeHeader('FleetWatch health: is the monitor itself working?');
    if (props.alarms && props.alarms.length > 0) {
      m.addWidget(
        new cloudwatch.AlarmStatusWidget({
          title: 'Pipeline alarms',
          alarms: [...props.alarms],
          width: 24,
          height: Math.min(12, 2 + Math.ceil(props.alarms.length / 4)),
        }),
      );
    }
    const collector = serviceNameOf(watched.collector);
    const runs = opsMetric('collectorRuns', { service: collector, period: Duration.minutes(1) });
    const widgets: cloudwatch.IWidget[] = [
      graph('Collector lag (minutes; now minus the oldest watermark)', [
        new cloudwatch.MathExpression({
          expression: 'lag / 60',
          usingMetrics: {
            lag: opsMetric('collectorLagSeconds', { service: collector, statistic: 'Maximum' }),
          },
          label: 'lag (min)',
        }),
      ]),
      graph('Minutes since the last completed collector run', [
        // Per minute: its EPOCH minus the EPOCH of the last minute that had a run (carried forward
        // by FILL REPEAT). Before the first run inside the dashboard range there is no value.
        new cloudwatch.MathExpression({
          expression: '(EPOCH(FILL(runs, 0)) - FILL(IF(runs > 0, EPOCH(runs)), REPEAT)) / 60',
          usingMetrics: { runs },
          period: Duration.minutes(1),
          label: 'minutes since last run',
        }),
      ]),
      graph('Collector runs', [runs.with({ period: Duration.minutes(5) })]),
      ...COLLECTOR_OPS.map((keys) =>
        graph(
          titleOf(keys),
          keys.map((k) => opsSearch(k)),
        ),
      ),
    ];
    for (let i = 0; i < widgets.length; i += 2) m.addWidget(new cloudwatch.Row(...widgets.slice(i, i + 2)));

    for (const fn of watched.functions) {
      const name = shortIdOf(fn, stack);
      m.monitorLambdaFunction({ lambdaFunction: fn, humanReadableName: name, alarmFriendlyName: name });
    }
    for (const queue of watched.deadLetterQueues) {
      const name = shortIdOf(queue, stack);
      m.monitorSqsQueue({ queue, humanReadableName: name, alarmFriendlyName: name });
    }
    for (const stateMachine of watched.stateMachines) {
      const name = shortIdOf(stateMachine, stack);
      m.monitorStepFunction({ stateMachine, humanReadableName: name, alarmFriendlyName: name });
    }
  }
}

const WIDE = 24;
const HALF = 12;

function graph(title: string, left: cloudwatch.IMetric[], o: Partial<cloudwatch.GraphWidgetProps> = {}) {
  return new cloudwatch.GraphWidget({ title, left, width: HALF, height: 6, ...o });
}

function text(markdown: string, height = 2): cloudwatch.TextWidget {
  return new cloudwatch.TextWidget({ markdown, width: WIDE, height });
}

function titleOf(keys: readonly OpsMetricKey[]): string {
  return keys.map((k) => OPS_METRICS[k].name).join(', ');
}

/** Per-cluster scopes of the KPI catalogue (the Region + Cluster dimension set), from config. */
function clusterScopes(config: FleetWatchConfig): { label: string; scope: Record<string, string> }[] {
  return config.fleets.map((f) => ({
    label: `${f.cluster} (${f.region})`,
    scope: { Region: f.region, Cluster: f.cluster },
  }));
}

function teams(config: FleetWatchConfig): string[] {
  return [...new Set(config.fleets.flatMap((f) => (f.team === undefined ? [] : [f.team])))].sort();
}

function kpiTitle(def: KpiDefinition): string {
  return `${def.metricName} (${def.owner}; ${def.leading ? 'leading' : 'lagging'}; ${def.alertIntent}; good: ${def.goodDirection})`;
}

/** A KPI for the fleet and per cluster; KPIs with an extra dimension (Waste) show its breakdown. */
function kpiWidget(config: FleetWatchConfig, key: KpiKey, width = HALF): cloudwatch.IWidget {
  const def: KpiDefinition = KPIS[key];
  const extra = def.extraDimension;
  if (extra !== undefined) {
    // The breakdown, stacked; a 'total' value (the sum of the others) would double the stack.
    const parts = extra.values.filter((v) => v !== 'total');
    return graph(
      `${kpiTitle(def)} by ${extra.name}`,
      parts.map((v) => kpiMetric(key, { extra: v, statistic: 'Sum', label: v })),
      { stacked: true, width },
    );
  }
  return graph(
    kpiTitle(def),
    [
      kpiMetric(key, { label: 'fleet' }),
      ...clusterScopes(config).map((c) => kpiMetric(key, { scope: c.scope, label: c.label })),
    ],
    { width },
  );
}

function fleetOverviewRows(config: FleetWatchConfig): cloudwatch.IWidget[][] {
  const north: KpiDefinition = KPIS[NORTH_STAR];
  const supporting = KPI_KEYS.filter((k) => k !== NORTH_STAR);
  const teamNames = teams(config);
  const rows: cloudwatch.IWidget[][] = [
    [text(`# North star: ${north.metricName}\n${north.description}`, 3)],
    [
      new cloudwatch.SingleValueWidget({
        title: `${north.metricName} (fleet, last hour)`,
        metrics: [kpiMetric(NORTH_STAR, { label: 'fleet' })],
        width: 6,
        height: 6,
        sparkline: true,
      }),
      kpiWidget(config, NORTH_STAR, 18),
    ],
  ];
  if (teamNames.length > 0) {
    rows.push([
      graph(
        `${north.metricName} by team`,
        teamNames.map((team) => kpiMetric(NORTH_STAR, { scope: { Team: team }, label: team })),
        { width: WIDE },
      ),
    ]);
  }
  // Cost: every KPI with a dollar unit of waste shows as a single value of the day's total.
  const costRow: cloudwatch.IWidget[] = [];
  for (const key of supporting) {
    const def: KpiDefinition = KPIS[key];
    if (def.extraDimension?.values.includes('total')) {
      costRow.push(
        new cloudwatch.SingleValueWidget({
          title: `${def.metricName}: total, last 24 h`,
          metrics: [
            kpiMetric(key, { extra: 'total', statistic: 'Sum', period: Duration.days(1), label: 'fleet' }),
          ],
          width: 6,
          height: 4,
        }),
      );
    }
  }
  if (costRow.length > 0) rows.push([text('## Cost and waste', 1)], costRow);
  rows.push([text('## Supporting KPIs')]);
  for (let i = 0; i < supporting.length; i += 2) {
    rows.push(supporting.slice(i, i + 2).map((k) => kpiWidget(config, k)));
  }
  return rows;
}

interface ResolvedSource {
  readonly fleet: FleetConfig;
  readonly profile: MetricSourceProfile;
  readonly namespace: string;
}

function resolvedSources(config: FleetWatchConfig): ResolvedSource[] {
  const profiles = new Map([...builtinProfiles(), ...config.profiles].map((p) => [p.name, p]));
  return config.fleets.map((fleet) => {
    const profile = profiles.get(fleet.source.profile);
    if (profile === undefined) {
      throw new Error(
        `dashboards: fleet ${fleet.cluster} uses unknown profile "${fleet.source.profile}"; allowed: ${[...profiles.keys()].join(', ')}`,
      );
    }
    return { fleet, profile, namespace: fleet.source.namespace ?? profile.namespace };
  });
}

/** The profile's metric for a signal, if the source has it and collects it. */
function signalMetric(source: ResolvedSource, signal: Signal) {
  const collected = source.fleet.source.signals;
  if (collected !== undefined && !collected.includes(signal)) return undefined;
  return source.profile.signals.find((s) => s.signal === signal);
}

function gpuHealthRows(config: FleetWatchConfig): cloudwatch.IWidget[][] {
  const rows: cloudwatch.IWidget[][] = [];
  for (const source of resolvedSources(config)) {
    const { fleet, profile, namespace } = source;
    rows.push([text(`## ${fleet.cluster} (${fleet.region}): ${namespace}, profile ${profile.name}`, 1)]);
    const widgets: cloudwatch.IWidget[] = [];
    const missing: string[] = [];
    for (const panel of GPU_HEALTH_PANELS) {
      const metrics = panel.signals.flatMap((signal) => {
        const m = signalMetric(source, signal);
        if (m === undefined) {
          missing.push(signal);
          return [];
        }
        // Per GPU series (every dimension set), narrowed to the fleet by its source match.
        return [
          searchExpression(`Namespace="${namespace}" MetricName="${m.metricName}"`, {
            statistic: 'Maximum',
            where: fleet.source.match,
            label: signal,
          }).with({ searchRegion: fleet.region }),
        ];
      });
      if (metrics.length > 0)
        widgets.push(graph(`${fleet.cluster}: ${panel.title}`, metrics, { region: fleet.region }));
    }
    if (missing.length > 0) {
      widgets.push(
        new cloudwatch.TextWidget({
          markdown: `Profile **${profile.name}** does not publish (or the fleet does not collect): ${missing.join(', ')}.`,
          width: HALF,
          height: 2,
        }),
      );
    }
    for (let i = 0; i < widgets.length; i += 2) rows.push(widgets.slice(i, i + 2));
  }
  return rows;
}

function jobsRows(config: FleetWatchConfig): cloudwatch.IWidget[][] {
  return [
    [text('# Jobs and SLA\nKPIs from the KPI Lambda (FleetWatch/KPI) and job pipeline counts (FleetWatch).')],
    JOB_KPIS.map((k) => kpiWidget(config, k, WIDE / JOB_KPIS.length)),
    JOB_OPS.map((keys) =>
      graph(
        titleOf(keys),
        keys.map((k) => opsSearch(k)),
      ),
    ),
  ];
}

/** The sum over every series of one ops metric where a dimension has one value. */
function opsSumWhere(key: OpsMetricKey, dimension: string, value: string): cloudwatch.MathExpression {
  const inner = opsSearch(key, { where: { [dimension]: value } });
  return new cloudwatch.MathExpression({
    expression: `SUM(${inner.expression})`,
    usingMetrics: {},
    label: value,
  });
}

/** A CloudWatch dynamic label: the value of one dimension of each series. */
function dimensionLabel(dimension: string): string {
  return `\${PROP('Dim.${dimension}')}`;
}

function byDimension(key: OpsMetricKey, dimension: string): cloudwatch.MathExpression {
  return opsSearch(key, { label: dimensionLabel(dimension) });
}

/**
 * An incident KPI (one sample per resolved notified incident) by Severity, over every Cause and
 * emitting function (route-incidents and sweep-incidents), hourly:
 *   average  sum of samples / number of samples: the true mean, not a mean of per-series means
 *   maximum  the worst incident of the hour
 * A percentile (p90) is not offered: CloudWatch cannot combine percentiles of separate series.
 */
function incidentKpiBySeverity(key: 'incidentTimeToDetect' | 'incidentTimeToResolve'): cloudwatch.IMetric[] {
  const period = Duration.hours(1);
  return SEVERITIES.flatMap((severity) => {
    const where = { Severity: severity };
    const total = (statistic: string) =>
      new cloudwatch.MathExpression({
        expression: `SUM(${opsSearch(key, { where, statistic, period }).expression})`,
        usingMetrics: {},
        period,
      });
    return [
      new cloudwatch.MathExpression({
        expression: `sum_${severity} / n_${severity}`,
        usingMetrics: { [`sum_${severity}`]: total('Sum'), [`n_${severity}`]: total('SampleCount') },
        period,
        label: `${severity} average`,
      }),
      new cloudwatch.MathExpression({
        expression: `MAX(${opsSearch(key, { where, statistic: 'Maximum', period }).expression})`,
        usingMetrics: {},
        period,
        label: `${severity} maximum`,
      }),
    ];
  });
}

function incidentRows(): cloudwatch.IWidget[][] {
  const findings = OPS_METRICS.findingsEmitted;
  return [
    [
      text(
        '# Incidents and suppression\nFindings from the detectors, what the router opened, muted and sent.',
      ),
    ],
    [
      graph(
        `${findings.name} by Severity`,
        SEVERITIES.map((s) => opsSumWhere('findingsEmitted', 'Severity', s)),
        { stacked: true },
      ),
      graph(`${findings.name} by Kind`, [byDimension('findingsEmitted', 'Kind')]),
    ],
    [
      graph(`${OPS_METRICS.incidentsOpened.name} by Severity`, [byDimension('incidentsOpened', 'Severity')]),
      graph(
        `${OPS_METRICS.incidentsSuppressed.name} by Stage`,
        [byDimension('incidentsSuppressed', 'Stage')],
        {
          stacked: true,
        },
      ),
    ],
    [
      graph(
        `${OPS_METRICS.incidentTimeToDetect.name} by Severity (seconds, hourly)`,
        incidentKpiBySeverity('incidentTimeToDetect'),
      ),
      graph(
        `${OPS_METRICS.incidentTimeToResolve.name} by Severity (seconds, hourly)`,
        incidentKpiBySeverity('incidentTimeToResolve'),
      ),
    ],
    [
      graph(titleOf(['notificationsSent', 'notificationsFailed']), [
        byDimension('notificationsSent', 'Severity'),
        opsSearch('notificationsFailed'),
      ]),
      graph(`${OPS_METRICS.remediationsStarted.name} by Workflow`, [
        byDimension('remediationsStarted', 'Workflow'),
      ]),
    ],
    [
      graph(
        titleOf(['findingsPublishFailed', 'findingsPublishRetries']),
        [opsSearch('findingsPublishFailed'), opsSearch('findingsPublishRetries')],
        { width: WIDE },
      ),
    ],
  ];
}

function driftRows(config: FleetWatchConfig): cloudwatch.IWidget[][] {
  const rows: cloudwatch.IWidget[][] = [
    [
      text(
        '# Model drift\nDrift and Model Monitor findings (check-drift), and Model Monitor metrics of configured endpoints.',
      ),
    ],
    [
      // Drift finding kinds all start with "model." (model.drift.*, model.monitor.*): a token match.
      graph(`${OPS_METRICS.findingsEmitted.name}: model.* kinds`, [
        opsSearch('findingsEmitted', { terms: 'Kind:model', label: dimensionLabel('Kind') }),
      ]),
      ...DRIFT_OPS.map((keys) =>
        graph(
          titleOf(keys),
          keys.map((k) => opsSearch(k)),
        ),
      ),
    ],
  ];
  const monitored = config.drift.endpoints.filter((e) => e.modelMonitor);
  for (const endpoint of monitored) {
    const region = endpoint.region ?? config.homeRegion;
    rows.push(
      MODEL_MONITOR_NAMESPACES.map((ns) =>
        graph(
          `${endpoint.name}: Model Monitor ${ns.monitor}`,
          [
            searchExpression(
              `Namespace="${ns.namespace}" "${endpoint.name}"${ns.drift ? ` ${ns.drift}` : ''}`,
              {
                statistic: 'Maximum',
                period: Duration.hours(1),
              },
            ).with({ searchRegion: region }),
          ],
          { width: 6, region },
        ),
      ),
    );
  }
  if (monitored.length === 0) {
    rows.push([
      text(
        'No endpoint has `modelMonitor: true` in config `drift.endpoints`: no Model Monitor metrics to show.',
        1,
      ),
    ]);
  }
  return rows;
}
