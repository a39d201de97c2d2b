import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { ENV } from '../../lambdas/contracts/env';
import { KPI_NAMESPACE, KPIS, type KpiKey } from '../../lambdas/contracts/kpis';
import { METRICS_NAMESPACE, OPS_METRICS, type OpsMetricKey } from '../../lambdas/contracts/metrics';

/**
 * The one metric factory of infra/: dashboards and pipeline alarms build every CloudWatch metric
 * of FleetWatch's own catalogues through these functions, so names, namespaces and dimension
 * names come from lambdas/contracts (OPS_METRICS, KPIS) and are never typed here.
 */

/** The Powertools default dimension every ops metric carries (the emitting Lambda's handler name). */
export const SERVICE_DIMENSION = 'service';

const DEFAULT_PERIOD = Duration.minutes(5);

export interface OpsMetricOptions {
  /** Powertools service name of the emitting Lambda (see serviceNameOf). */
  readonly service: string;
  readonly statistic?: string;
  readonly period?: Duration;
  readonly label?: string;
  /** Values of the catalogue dimensions, when one series is wanted. */
  readonly dimensions?: Readonly<Record<string, string>>;
}

/** One ops metric (namespace FleetWatch) of one emitting function. */
export function opsMetric(key: OpsMetricKey, o: OpsMetricOptions): cloudwatch.Metric {
  const def = OPS_METRICS[key];
  for (const name of Object.keys(o.dimensions ?? {})) {
    if (!def.dimensions.includes(name)) {
      throw new Error(
        `opsMetric ${key}: dimension "${name}" is not one ${def.name} is emitted with; allowed: ${def.dimensions.join(', ') || '(none)'}`,
      );
    }
  }
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: def.name,
    dimensionsMap: { [SERVICE_DIMENSION]: o.service, ...o.dimensions },
    statistic: o.statistic ?? 'Sum',
    period: o.period ?? DEFAULT_PERIOD,
    label: o.label ?? def.name,
  });
}

export interface SearchOptions {
  readonly statistic?: string;
  readonly period?: Duration;
  /** Label of each series; CloudWatch dynamic labels allowed (e.g. `${PROP('Dim.Kind')}`). */
  readonly label?: string;
  /** Exact-match filters on dimensions of the metric (`Name="value"` terms). */
  readonly where?: Readonly<Record<string, string>>;
  /** Further raw search terms, e.g. a partial match `Kind:model`. */
  readonly terms?: string;
}

/**
 * Every series of an ops metric, whatever the values of its catalogue dimensions (Kind, Severity,
 * Stage...), from every emitting function: a SEARCH over the exact schema
 * `{FleetWatch,service,<catalogue dimensions>}`.
 */
export function opsSearch(key: OpsMetricKey, o: SearchOptions = {}): cloudwatch.MathExpression {
  const def = OPS_METRICS[key];
  return searchExpression(
    `{${[METRICS_NAMESPACE, SERVICE_DIMENSION, ...def.dimensions].map(quoteSchemaPart).join(',')}} MetricName="${def.name}"`,
    { label: o.label ?? `${def.name} \${PROP('Dim.${SERVICE_DIMENSION}')}`, ...o },
  );
}

/**
 * The sum over every series of an ops metric (any dimension values) per period, as a Metrics
 * Insights query: usable in alarms, which reject SEARCH.
 */
export function opsInsightsSum(
  key: OpsMetricKey,
  o: { readonly period?: Duration; readonly label?: string } = {},
): cloudwatch.MathExpression {
  const def = OPS_METRICS[key];
  const schema = [`"${METRICS_NAMESPACE}"`, SERVICE_DIMENSION, ...def.dimensions].join(', ');
  return new cloudwatch.MathExpression({
    expression: `SELECT SUM(${def.name}) FROM SCHEMA(${schema})`,
    usingMetrics: {},
    period: o.period ?? DEFAULT_PERIOD,
    label: o.label ?? `${def.name} (all series)`,
  });
}

export interface KpiMetricOptions {
  /** Scope dimensions from KPI_DIMENSION_SETS ({}, {Region}, {Region, Cluster} or {Team}). */
  readonly scope?: Readonly<Record<string, string>>;
  /** Value of the KPI's extra dimension (e.g. Waste kind); required when the KPI has one. */
  readonly extra?: string;
  readonly statistic?: string;
  readonly period?: Duration;
  readonly label?: string;
}

/** One KPI series (namespace FleetWatch/KPI). */
export function kpiMetric(key: KpiKey, o: KpiMetricOptions = {}): cloudwatch.Metric {
  const def = KPIS[key];
  const extraDimension = 'extraDimension' in def ? def.extraDimension : undefined;
  const dimensions: Record<string, string> = { ...o.scope };
  if (extraDimension !== undefined) {
    if (o.extra === undefined || !extraDimension.values.includes(o.extra)) {
      throw new Error(
        `kpiMetric ${key}: ${extraDimension.name} must be one of ${extraDimension.values.join(', ')}; got ${String(o.extra)}`,
      );
    }
    dimensions[extraDimension.name] = o.extra;
  }
  return new cloudwatch.Metric({
    namespace: KPI_NAMESPACE,
    metricName: def.metricName,
    dimensionsMap: dimensions,
    statistic: o.statistic ?? 'Average',
    period: o.period ?? Duration.hours(1),
    label: o.label ?? def.metricName,
  });
}

/** A SEARCH() expression; the caller builds the query from a catalogue. */
export function searchExpression(query: string, o: SearchOptions = {}): cloudwatch.MathExpression {
  const where = Object.entries(o.where ?? {})
    .map(([name, value]) => ` ${quoteSchemaPart(name)}="${escapeSearch(value)}"`)
    .join('');
  const full = `${query}${where}${o.terms ? ` ${o.terms}` : ''}`;
  // SEARCH queries are limited to 1,024 characters (CloudWatch); fail at synth, not in the console.
  if (full.length > 1024) {
    throw new Error(
      `SEARCH query is ${full.length} characters; CloudWatch allows 1024: ${full.slice(0, 120)}...`,
    );
  }
  const period = o.period ?? DEFAULT_PERIOD;
  return new cloudwatch.MathExpression({
    expression: `SEARCH('${full.replace(/'/g, "\\'")}', '${o.statistic ?? 'Sum'}', ${period.toSeconds()})`,
    usingMetrics: {},
    period,
    ...(o.label === undefined ? {} : { label: o.label }),
  });
}

/** Schema parts with characters other than letters, digits and _ must be double-quoted. */
function quoteSchemaPart(part: string): string {
  return /^[A-Za-z0-9_]+$/.test(part) ? part : `"${escapeSearch(part)}"`;
}

function escapeSearch(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/**
 * The Powertools service name of a FleetWatch function, read from its own environment
 * (FleetWatchFunction sets ENV.serviceName to the handler name), so the name its ops metrics
 * carry in the `service` dimension is not typed a second time.
 */
export function serviceNameOf(fn: lambda.IFunction): string {
  const cfn = fn.node.defaultChild as lambda.CfnFunction | undefined;
  const env = cfn
    ? (Stack.of(fn).resolve(cfn.environment) as { variables?: Record<string, unknown> })
    : undefined;
  const name = env?.variables?.[ENV.serviceName];
  if (typeof name !== 'string') {
    throw new Error(
      `${fn.node.path}: no ${ENV.serviceName} in its environment; pass a FleetWatchFunction's function (it sets the Powertools service name)`,
    );
  }
  return name;
}

/** A short, stable id of a watched resource: its construct path in the stack ("/Function" dropped). */
export function shortIdOf(construct: { readonly node: { readonly path: string } }, stack: Stack): string {
  const stackPath = stack.node.path;
  const path = construct.node.path.startsWith(`${stackPath}/`)
    ? construct.node.path.slice(stackPath.length + 1)
    : construct.node.path;
  return path
    .replace(/\/(Function|Resource|Queue|Default)$/, '')
    .split('/')
    .filter((p) => p.length > 0)
    .join('-');
}
