import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { MODEL_MONITOR_NAMESPACES } from '../../infra/constructs/dashboards';
import {
  PIPELINE_RUNBOOK,
  PipelineAlarms,
  type PipelineThresholds,
  pipelineAlarmNamePrefix,
} from '../../infra/constructs/pipeline-alarms';
import { REPO_ROOT } from '../../infra/repo-root';
import type { FleetWatchConfig } from '../../lambdas/contracts/config';
import { ENV } from '../../lambdas/contracts/env';
import { KPI_DIMENSION_SETS, KPI_NAMESPACE, KPIS, type KpiDefinition } from '../../lambdas/contracts/kpis';
import { METRICS_NAMESPACE, OPS_METRICS } from '../../lambdas/contracts/metrics';
import { builtinProfiles } from '../../lambdas/contracts/profiles';
import { exampleConfig, synthFleetWatch } from './support/synth';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/**
 * Every widget metric and every alarm metric must come from a catalogue: OPS_METRICS, the KPI
 * catalogue, a profile metric of a configured fleet source, Model Monitor metrics of a configured
 * endpoint, a configured anomaly alarm, or an AWS service metric of a resource in this stack.
 */
const config = exampleConfig((c) => {
  c.drift = {
    endpoints: [
      { name: 'churn-model', modelMonitor: true, modelMonitorReportsS3Uri: 's3://fleetwatch-reports/churn' },
    ],
  };
});
const { home, stacks } = synthFleetWatch(config, { nag: false });
const resources = home.toJSON().Resources as Resources;
const stackName = stacks.home.stackName;

function logicalIdsOf(type: string): Set<string> {
  return new Set(
    Object.entries(resources)
      .filter(([, r]) => r.Type === type)
      .map(([id]) => id),
  );
}
const functions = logicalIdsOf('AWS::Lambda::Function');
const queues = logicalIdsOf('AWS::SQS::Queue');
const stateMachines = logicalIdsOf('AWS::StepFunctions::StateMachine');
/** Functions built by FleetWatchFunction (they carry a Powertools service name). */
const fleetWatchFunctions = new Map(
  [...functions].flatMap((id) => {
    const env = (
      resources[id]?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined
    )?.Variables;
    const service = env?.[ENV.serviceName];
    return typeof service === 'string' ? [[id, service] as const] : [];
  }),
);
const services = new Set(fleetWatchFunctions.values());

/** CloudFormation references become «LogicalId» / «LogicalId.Attribute» placeholders. */
function flatten(node: unknown): string {
  if (typeof node === 'string') return node;
  const o = node as Record<string, unknown>;
  if (typeof o.Ref === 'string') return `«${o.Ref}»`;
  const getAtt = o['Fn::GetAtt'] as [string, string] | undefined;
  if (getAtt) return `«${getAtt[0]}.${getAtt[1]}»`;
  const join = o['Fn::Join'] as [string, unknown[]] | undefined;
  if (join) return join[1].map(flatten).join(join[0]);
  throw new Error(`unexpected token in template: ${JSON.stringify(node)}`);
}

const ref = (value: string | undefined) => /^«([^».]+)»$/.exec(value ?? '')?.[1];
const getAttOf = (value: string | undefined, attribute: string) =>
  new RegExp(`^«([^».]+)\\.${attribute}»$`).exec(value ?? '')?.[1];

const sources = (() => {
  const profiles = new Map([...builtinProfiles(), ...config.profiles].map((p) => [p.name, p]));
  return config.fleets.map((f) => {
    const profile = profiles.get(f.source.profile);
    if (!profile) throw new Error(`no profile ${f.source.profile}`);
    return {
      fleet: f,
      namespace: f.source.namespace ?? profile.namespace,
      names: profile.signals.map((s) => s.metricName),
    };
  });
})();

/** Why a metric is not from a catalogue, or undefined when it is. */
function problemWithMetric(
  cfg: FleetWatchConfig,
  namespace: string,
  name: string,
  dims: Record<string, string>,
  context: 'widget' | 'alarm',
): string | undefined {
  const dimNames = Object.keys(dims);
  switch (namespace) {
    case METRICS_NAMESPACE: {
      const def = Object.values(OPS_METRICS).find((m) => m.name === name);
      if (!def) return `${name} is not in OPS_METRICS`;
      const allowed = new Set(['service', ...def.dimensions]);
      const stray = dimNames.filter((d) => !allowed.has(d));
      if (stray.length > 0) return `${name} is not emitted with ${stray.join(', ')}`;
      if (dims.service !== undefined && !services.has(dims.service)) {
        return `${name}: service "${dims.service}" is no FleetWatch function of this stack`;
      }
      return undefined;
    }
    case KPI_NAMESPACE: {
      const def: KpiDefinition | undefined = Object.values(KPIS).find((k) => k.metricName === name);
      if (!def) return `${name} is not in the KPI catalogue`;
      const extra = def.extraDimension;
      if (extra && !extra.values.includes(dims[extra.name] ?? ''))
        return `${name}: ${extra.name}=${dims[extra.name]}`;
      const scope = dimNames.filter((d) => d !== extra?.name).sort();
      if (!KPI_DIMENSION_SETS.some((set) => [...set].sort().join() === scope.join())) {
        return `${name}: dimension set ${scope.join(',')} is not one of KPI_DIMENSION_SETS`;
      }
      if (
        dims.Cluster !== undefined &&
        !cfg.fleets.some((f) => f.cluster === dims.Cluster && f.region === dims.Region)
      ) {
        return `${name}: cluster ${dims.Region}/${dims.Cluster} is not configured`;
      }
      if (dims.Region !== undefined && !cfg.fleets.some((f) => f.region === dims.Region)) {
        return `${name}: region ${dims.Region} has no fleet`;
      }
      if (dims.Team !== undefined && !cfg.fleets.some((f) => f.team === dims.Team))
        return `${name}: team ${dims.Team}`;
      return undefined;
    }
    case 'AWS/Lambda':
      return dimNames.join() === 'FunctionName' && functions.has(ref(dims.FunctionName) ?? '')
        ? undefined
        : `AWS/Lambda ${name} not of a function in the stack: ${JSON.stringify(dims)}`;
    case 'AWS/SQS':
      return dimNames.join() === 'QueueName' && queues.has(getAttOf(dims.QueueName, 'QueueName') ?? '')
        ? undefined
        : `AWS/SQS ${name} not of a queue in the stack: ${JSON.stringify(dims)}`;
    case 'AWS/States':
      return dimNames.join() === 'StateMachineArn' && stateMachines.has(ref(dims.StateMachineArn) ?? '')
        ? undefined
        : `AWS/States ${name} not of a state machine in the stack: ${JSON.stringify(dims)}`;
    default: {
      if (context === 'alarm') {
        const configured = cfg.anomalyAlarms.some(
          (a) =>
            a.namespace === namespace &&
            a.metricName === name &&
            JSON.stringify(Object.entries(a.dimensions ?? {}).sort()) ===
              JSON.stringify(Object.entries(dims).sort()),
        );
        if (configured) return undefined;
      }
      return `${namespace}/${name} is in no catalogue`;
    }
  }
}

/** Checks a SEARCH or Metrics Insights expression; other math only combines checked metrics. */
function problemWithExpression(cfg: FleetWatchConfig, expression: string): string[] {
  const problems: string[] = [];
  for (const m of expression.matchAll(/SEARCH\('((?:[^'\\]|\\.)*)'/g)) {
    const query = (m[1] ?? '').replace(/\\'/g, "'");
    const schema = /^\{([^}]*)\}/
      .exec(query)?.[1]
      ?.split(',')
      .map((p) => p.replace(/^"|"$/g, ''));
    const namespace = schema?.[0] ?? /Namespace="([^"]+)"/.exec(query)?.[1];
    const metricName = /MetricName="([^"]+)"/.exec(query)?.[1];
    if (namespace === undefined) {
      problems.push(`SEARCH without a namespace: ${query}`);
      continue;
    }
    if (namespace === METRICS_NAMESPACE) {
      const def = Object.values(OPS_METRICS).find((d) => d.name === metricName);
      if (!def) problems.push(`SEARCH for ${metricName}, not in OPS_METRICS`);
      else if (schema && schema.slice(1).sort().join() !== ['service', ...def.dimensions].sort().join()) {
        problems.push(`SEARCH schema ${schema.join(',')} is not the dimensions of ${def.name}`);
      }
      continue;
    }
    const monitor = MODEL_MONITOR_NAMESPACES.find((n) => n.namespace === namespace);
    if (monitor) {
      const endpoint = /"([^"]+)"/g;
      const terms = [...query.matchAll(endpoint)].map((t) => t[1]).filter((t) => t !== namespace);
      const monitored = cfg.drift.endpoints.filter((e) => e.modelMonitor).map((e) => e.name);
      if (!terms.some((t) => monitored.includes(t ?? '')))
        problems.push(`Model Monitor SEARCH for no configured endpoint: ${query}`);
      continue;
    }
    const source = sources.find(
      (s) =>
        s.namespace === namespace &&
        metricName !== undefined &&
        s.names.includes(metricName) &&
        Object.entries(s.fleet.source.match).every(([k, v]) => query.includes(`${k}="${v}"`)),
    );
    if (!source) problems.push(`SEARCH ${query} matches no profile metric of a configured fleet source`);
  }
  for (const m of expression.matchAll(/SELECT \w+\((\w+)\) FROM SCHEMA\("([^"]+)"((?:, *\w+)*)\)/g)) {
    const dims = Object.fromEntries(
      (m[3] ?? '')
        .split(',')
        .map((d) => d.trim())
        .filter(Boolean)
        .map((d) => [d, 'x']),
    );
    delete dims.service;
    const problem = problemWithMetric(cfg, m[2] ?? '', m[1] ?? '', dims, 'alarm');
    if (problem) problems.push(problem);
  }
  if (/SELECT/.test(expression) && !/FROM SCHEMA/.test(expression))
    problems.push(`unparsed query: ${expression}`);
  return problems;
}

interface Widget {
  type: string;
  properties?: { title?: string; metrics?: unknown[][]; alarms?: string[] };
}

const dashboards = Object.entries(resources)
  .filter(([, r]) => r.Type === 'AWS::CloudWatch::Dashboard')
  .map(([id, r]) => {
    const body = JSON.parse(flatten(r.Properties?.DashboardBody)) as { widgets: Widget[] };
    return { id, name: flatten(r.Properties?.DashboardName), widgets: body.widgets };
  });

function widgetProblems(cfg: FleetWatchConfig, widgets: Widget[]): string[] {
  const problems: string[] = [];
  for (const w of widgets) {
    for (const entry of w.properties?.metrics ?? []) {
      const [first, second] = entry;
      if (typeof first === 'object' && first !== null && 'expression' in first) {
        problems.push(...problemWithExpression(cfg, String((first as { expression: string }).expression)));
        continue;
      }
      if (typeof first !== 'string' || typeof second !== 'string' || first === '.') {
        problems.push(`${w.properties?.title}: unparsed metric ${JSON.stringify(entry)}`);
        continue;
      }
      const rest = entry.slice(2).filter((x) => typeof x === 'string') as string[];
      const dims = Object.fromEntries(
        Array.from({ length: rest.length / 2 }, (_, i) => [rest[2 * i], rest[2 * i + 1]] as [string, string]),
      );
      const problem = problemWithMetric(cfg, first, second, dims, 'widget');
      if (problem) problems.push(`${w.properties?.title}: ${problem}`);
    }
  }
  return problems;
}

interface AlarmMetric {
  Id?: string;
  Expression?: string;
  MetricStat?: {
    Metric: { Namespace: string; MetricName: string; Dimensions?: { Name: string; Value: unknown }[] };
  };
}
const alarms = Object.entries(resources)
  .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
  .map(([id, r]) => ({ id, p: r.Properties as Record<string, unknown> }));
const pipelineAlarms = alarms.filter((a) =>
  String(a.p.AlarmName).startsWith(pipelineAlarmNamePrefix(stackName)),
);

function alarmProblems(cfg: FleetWatchConfig, p: Record<string, unknown>): string[] {
  const dimsOf = (d?: { Name: string; Value: unknown }[]) =>
    Object.fromEntries((d ?? []).map((x) => [x.Name, flatten(x.Value)]));
  const problems: string[] = [];
  if (typeof p.MetricName === 'string') {
    const problem = problemWithMetric(
      cfg,
      String(p.Namespace),
      p.MetricName,
      dimsOf(p.Dimensions as never),
      'alarm',
    );
    if (problem) problems.push(problem);
  }
  for (const m of (p.Metrics as AlarmMetric[] | undefined) ?? []) {
    if (m.Expression) problems.push(...problemWithExpression(cfg, m.Expression));
    if (m.MetricStat) {
      const { Namespace, MetricName, Dimensions } = m.MetricStat.Metric;
      const problem = problemWithMetric(cfg, Namespace, MetricName, dimsOf(Dimensions), 'alarm');
      if (problem) problems.push(problem);
    }
  }
  return problems;
}

/** Metrics an alarm watches, as `namespace/name <dimension values>` strings. */
function watchedBy(p: Record<string, unknown>): string[] {
  const render = (namespace: unknown, name: unknown, dims?: { Value: unknown }[]) =>
    `${String(namespace)}/${String(name)} ${(dims ?? []).map((d) => flatten(d.Value)).join(',')}`;
  const single =
    typeof p.MetricName === 'string' ? [render(p.Namespace, p.MetricName, p.Dimensions as never)] : [];
  return [
    ...single,
    ...((p.Metrics as AlarmMetric[] | undefined) ?? []).flatMap((m) =>
      m.MetricStat
        ? [
            render(
              m.MetricStat.Metric.Namespace,
              m.MetricStat.Metric.MetricName,
              m.MetricStat.Metric.Dimensions,
            ),
          ]
        : [],
    ),
  ];
}

describe('dashboards', () => {
  it('builds the six dashboards', () => {
    expect(dashboards.map((d) => d.name).sort()).toEqual(
      ['FleetOverview', 'GpuHealth', 'Health', 'Incidents', 'JobsAndSla', 'ModelDrift']
        .map((n) => `${stackName}-${n}`)
        .sort(),
    );
  });

  it.each(dashboards.map((d) => [d.name, d] as const))(
    '%s: every widget metric is from a catalogue',
    (_, d) => {
      const metricCount = d.widgets.reduce((n, w) => n + (w.properties?.metrics?.length ?? 0), 0);
      expect(metricCount).toBeGreaterThan(0);
      expect(widgetProblems(config, d.widgets)).toEqual([]);
    },
  );

  it('the catalogue check rejects metrics, SEARCHes and queries from no catalogue', () => {
    const widgets: Widget[] = [
      {
        type: 'metric',
        properties: {
          title: 'a',
          metrics: [[METRICS_NAMESPACE, 'NotACatalogueMetric', 'service', 'collect-gpu-metrics']],
        },
      },
      {
        type: 'metric',
        properties: {
          title: 'b',
          metrics: [[KPI_NAMESPACE, KPIS.goodput.metricName, 'Cluster', 'nowhere', 'Region', 'us-east-1']],
        },
      },
      {
        type: 'metric',
        properties: { title: 'c', metrics: [['AWS/Lambda', 'Errors', 'FunctionName', '«NotAFunction»']] },
      },
      {
        type: 'metric',
        properties: {
          title: 'd',
          metrics: [
            [
              {
                expression: `SEARCH('Namespace="CWAgent/DCGM" MetricName="DCGM_FI_DEV_MADE_UP"', 'Maximum', 300)`,
              },
            ],
          ],
        },
      },
      {
        type: 'metric',
        properties: {
          title: 'e',
          metrics: [
            [{ expression: `SEARCH('{FleetWatch,service} MetricName="FindingsEmitted"', 'Sum', 300)` }],
          ],
        },
      },
    ];
    expect(widgetProblems(config, widgets)).toHaveLength(5);
    expect(
      problemWithExpression(config, 'SELECT SUM(Made_Up) FROM SCHEMA("FleetWatch", service)'),
    ).toHaveLength(1);
  });

  it('GPU health searches each SEARCH-able source for temperature, throttling, Xid and ECC', () => {
    const gpu = dashboards.find((d) => d.name.endsWith('-GpuHealth'));
    const expressions = (gpu?.widgets ?? []).flatMap((w) =>
      (w.properties?.metrics ?? []).map((m) => (m[0] as { expression?: string }).expression ?? ''),
    );
    for (const name of [
      'DCGM_FI_DEV_GPU_TEMP',
      'DCGM_FI_DEV_CLOCKS_EVENT_REASONS',
      'DCGM_FI_DEV_XID_ERRORS',
      'DCGM_FI_DEV_ECC_DBE_VOL_TOTAL',
    ]) {
      for (const cluster of ['train-a', 'train-b']) {
        expect(
          expressions.filter(
            (e) => e.includes(`MetricName="${name}"`) && e.includes(`ClusterName="${cluster}"`),
          ),
        ).toHaveLength(1);
      }
    }
  });

  it('the health dashboard shows every pipeline alarm', () => {
    const health = dashboards.find((d) => d.name.endsWith('-Health'));
    const shown = (health?.widgets ?? []).flatMap((w) => w.properties?.alarms ?? []);
    expect(shown.sort()).toEqual(pipelineAlarms.map((a) => `«${a.id}.Arn»`).sort());
  });
});

describe('pipeline alarms', () => {
  it('every alarm of the stack watches catalogue metrics only', () => {
    expect(alarms.length).toBeGreaterThan(pipelineAlarms.length);
    expect(alarms.flatMap((a) => alarmProblems(config, a.p).map((p) => `${a.id}: ${p}`))).toEqual([]);
  });

  it('every pipeline alarm links an existing runbook and says how it treats missing data', () => {
    for (const a of pipelineAlarms) {
      const description = String(a.p.AlarmDescription);
      const link = /Runbook: (\S+)/.exec(description)?.[1];
      expect(link, a.id).toBe(`${config.runbookBaseUrl}/${PIPELINE_RUNBOOK}.md`);
      expect(existsSync(join(REPO_ROOT, link ?? 'missing')), link).toBe(true);
      expect(description).toContain(`Missing data: ${String(a.p.TreatMissingData)} (`);
    }
  });

  it('watches every FleetWatch function, dead-letter queue and state machine', () => {
    const watched = pipelineAlarms.flatMap((a) => watchedBy(a.p));
    expect(fleetWatchFunctions.size).toBeGreaterThanOrEqual(3);
    for (const fn of fleetWatchFunctions.keys()) expect(watched, fn).toContain(`AWS/Lambda/Errors «${fn}»`);
    const redriveTargets = Object.values(resources).flatMap((r) => {
      const target = (r.Properties?.RedrivePolicy as { deadLetterTargetArn?: unknown } | undefined)
        ?.deadLetterTargetArn;
      return target ? [flatten(target).replace(/^«(.+)\.Arn»$/, '$1')] : [];
    });
    const dlqs = new Set([...redriveTargets, ...[...queues].filter((q) => /Dlq/i.test(q))]);
    expect(dlqs.size).toBeGreaterThanOrEqual(3);
    for (const q of dlqs)
      expect(watched, q).toContain(`AWS/SQS/ApproximateNumberOfMessagesVisible «${q}.QueueName»`);
    expect(stateMachines.size).toBeGreaterThan(0);
    for (const sm of stateMachines) expect(watched, sm).toContain(`AWS/States/ExecutionsFailed «${sm}»`);
  });

  it('pages on a missing heartbeat (missing data breaching) and tickets the rest, by severity topic', () => {
    const topicOf = (a: (typeof pipelineAlarms)[number]) => flatten((a.p.AlarmActions as unknown[])[0]);
    const heartbeat = pipelineAlarms.find((a) => String(a.p.AlarmName).endsWith('-collector-heartbeat'));
    expect(heartbeat?.p).toMatchObject({
      TreatMissingData: 'breaching',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      EvaluationPeriods: 3,
      Metrics: [{ MetricStat: { Period: config.collection.cadenceMinutes * 60, Stat: 'Sum' } }],
    });
    expect(watchedBy(heartbeat?.p ?? {})).toEqual([
      `${METRICS_NAMESPACE}/${OPS_METRICS.collectorRuns.name} collect-gpu-metrics`,
    ]);
    for (const a of pipelineAlarms) {
      const severity = /^\[FleetWatch pipeline, (page|ticket)\]/.exec(String(a.p.AlarmDescription))?.[1];
      expect(topicOf(a), a.id).toMatch(
        severity === 'page' ? /^«NotificationsPageTopic/ : /^«NotificationsTicketTopic/,
      );
      expect(a.p.OKActions, a.id).toEqual(a.p.AlarmActions);
    }
  });
});

describe('PipelineAlarms construct', () => {
  function smallStack(
    o: { runbookBaseUrl?: string; thresholds?: PipelineThresholds; env?: Record<string, string> } = {},
  ) {
    const stack = new Stack(new App(), 'Small', { env: { region: 'us-east-1', account: '123456789012' } });
    const collector = new lambda.Function(stack, 'Collector', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {}'),
      environment: o.env ?? { [ENV.serviceName]: 'collect-gpu-metrics' },
    });
    const page = new sns.Topic(stack, 'Page');
    const ticket = new sns.Topic(stack, 'Ticket');
    const alarms = new PipelineAlarms(stack, 'PipelineAlarms', {
      watched: {
        collector,
        functions: [collector],
        deadLetterQueues: [new sqs.Queue(stack, 'Dlq')],
        stateMachines: [],
      },
      topics: { page, ticket },
      collectionCadenceMinutes: 10,
      collectionSettleMinutes: 3,
      runbookBaseUrl: o.runbookBaseUrl ?? 'docs/runbooks',
      ...(o.thresholds ? { thresholds: o.thresholds } : {}),
    });
    return { stack, alarms };
  }

  it('links runbooks under an http(s) runbookBaseUrl (trailing slash or not)', () => {
    const { alarms } = smallStack({ runbookBaseUrl: 'https://example.com/fleetwatch/docs/runbooks/' });
    const template = Template.fromStack(Stack.of(alarms));
    const descriptions = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((r) =>
      String(r.Properties.AlarmDescription),
    );
    expect(descriptions.length).toBe(alarms.rows.length);
    for (const d of descriptions)
      expect(d).toContain('Runbook: https://example.com/fleetwatch/docs/runbooks/fleetwatch.pipeline.md');
  });

  it('derives the collector thresholds from the cadence: heartbeat period = cadence, lag above 2 × cadence + settle + 5', () => {
    const { alarms } = smallStack();
    const row = (id: string) => alarms.rows.find((r) => r.id === id);
    expect(row('collector-lag-ticket')?.threshold).toBe((2 * 10 + 3 + 5) * 60);
    expect(row('collector-lag-page')?.threshold).toBe(2 * (2 * 10 + 3 + 5) * 60);
    expect(row('collector-heartbeat')).toMatchObject({ periods: 3, threshold: 1, severity: 'page' });
    expect(alarms.rows.map((r) => r.id)).toEqual(
      expect.arrayContaining(['Collector-error-rate', 'Dlq-depth']),
    );
  });

  it('refuses a page lag threshold not above the ticket one, and a function without a service name', () => {
    expect(() =>
      smallStack({ thresholds: { collectorLagTicketMinutes: 30, collectorLagPageMinutes: 30 } }),
    ).toThrow(/collectorLagPageMinutes \(30\) must be above collectorLagTicketMinutes \(30\)/);
    expect(() => smallStack({ env: {} })).toThrow(
      /Small\/Collector: no POWERTOOLS_SERVICE_NAME in its environment/,
    );
  });
});

describe('config.runbookBaseUrl', () => {
  it('defaults to the repository-relative docs/runbooks and rejects parent paths', () => {
    expect(exampleConfig().runbookBaseUrl).toBe('docs/runbooks');
    expect(() => exampleConfig((c) => Object.assign(c, { runbookBaseUrl: '../runbooks' }))).toThrow(
      /runbookBaseUrl/,
    );
  });
});
