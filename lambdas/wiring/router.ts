import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { DynamoDbCalendarStore, DynamoDbChangeLog } from '../adapters/dynamodb/calendar-store';
import { DynamoDbIncidentStore } from '../adapters/dynamodb/incident-store';
import { makeObservability, type Observability } from '../adapters/powertools/observability';
import { SfnRemediationStarter } from '../adapters/sfn/remediation-starter';
import { SnsNotifier } from '../adapters/sns/notifier';
import { SqsDeadLetters } from '../adapters/sqs/dead-letters';
import type { RouteDeps } from '../app/route-findings';
import {
  anomalyAlarmSchema,
  ConfigError,
  describeIssues,
  maintenanceWindowSchema,
} from '../contracts/config';
import { ENV } from '../contracts/env';
import { incidentsConfigSchema } from '../contracts/incidents-config';
import { STATE_MACHINE_ARN_ENV_OF_WORKFLOW } from '../contracts/notifications-config';
import type { DeadLetters } from '../core/ports';
import { dynamoDocumentClient, sfnClient, snsClient, sqsClient } from './clients';
import { homeRegion, readEnv, requireEnv } from './env';

/**
 * Composition root of route-incidents and sweep-incidents. Built on first use, never at import.
 *
 * The router's own settings travel in ENV.routerConfig (JSON, written by
 * infra/constructs/incident-router.ts from the validated config): the incidents section, the
 * anomaly alarms (severity/cause/runbook of alarm state changes) and the stack name (alarm names
 * are `<stack>-anomaly-<name>`) and the maintenance windows (the one calendar); silences and
 * run-time windows come from the incidents table.
 */
export const routerConfigSchema = z.strictObject({
  stackName: z.string().min(1),
  incidents: incidentsConfigSchema,
  anomalyAlarms: z.array(anomalyAlarmSchema).default([]),
  /** config.maintenance: the one calendar's windows. */
  maintenance: z.array(maintenanceWindowSchema).default([]),
  /** config.runbookBaseUrl: notification runbook links point there when it is an http(s) URL. */
  runbookBaseUrl: z.string().optional(),
});
export type RouterConfig = z.output<typeof routerConfigSchema>;
export type RouterConfigInput = z.input<typeof routerConfigSchema>;

export interface RouterRuntime {
  readonly deps: RouteDeps;
  readonly deadLetters: DeadLetters;
  readonly router: RouterConfig;
  readonly observability: Observability;
  readonly clock: { now(): number };
}

export function routerConfigFromEnv(): RouterConfig {
  const source = `environment variable ${ENV.routerConfig}`;
  let json: unknown;
  try {
    json = JSON.parse(decodeRouterSettings(requireEnv(ENV.routerConfig)));
  } catch (e) {
    if (e instanceof SyntaxError) throw new ConfigError(source, [`not JSON: ${e.message}`]);
    throw e;
  }
  const parsed = routerConfigSchema.safeParse(json);
  // (the maintenance windows ride along: the router does not read FLEETWATCH_RUNTIME_CONFIG)
  if (!parsed.success) throw new ConfigError(source, describeIssues(parsed.error.issues, json));
  return parsed.data;
}

/** Plain JSON, or `gz:<base64 gzip>` as infra/constructs/incident-router.ts writes it. */
export function decodeRouterSettings(value: string): string {
  if (!value.startsWith('gz:')) return value;
  try {
    return gunzipSync(Buffer.from(value.slice(3), 'base64')).toString('utf8');
  } catch (e) {
    throw new ConfigError(`environment variable ${ENV.routerConfig}`, [
      `not gzip'd base64 after "gz:" (${(e as Error).message})`,
    ]);
  }
}

export function buildRouterRuntime(serviceName: string): RouterRuntime {
  const observability = makeObservability(readEnv(ENV.serviceName) ?? serviceName);
  const { log } = observability;
  const region = homeRegion();
  const router = routerConfigFromEnv();
  const doc = dynamoDocumentClient(region);
  const table = requireEnv(ENV.incidentsTable);
  return {
    observability,
    router,
    clock: { now: () => Date.now() },
    deadLetters: new SqsDeadLetters(sqsClient(region), requireEnv(ENV.deadLetterQueueUrl)),
    deps: {
      store: new DynamoDbIncidentStore(doc, table, {
        onInvalidItem: (id, problems) => log.error('invalid incident item left out', { id, problems }),
      }),
      calendar: new DynamoDbCalendarStore(doc, table),
      changes: new DynamoDbChangeLog(doc, table),
      notifier: new SnsNotifier(snsClient(region), {
        page: requireEnv(ENV.pageTopicArn),
        ticket: requireEnv(ENV.ticketTopicArn),
        info: requireEnv(ENV.infoTopicArn),
      }),
      remediation: new SfnRemediationStarter(
        sfnClient(region),
        {
          'stop-job': requireEnv(ENV[STATE_MACHINE_ARN_ENV_OF_WORKFLOW['stop-job']]),
          'quarantine-node': requireEnv(ENV[STATE_MACHINE_ARN_ENV_OF_WORKFLOW['quarantine-node']]),
          // Optional: the retrain machine exists only when drift retraining is configured.
          ...optional('retrain', readEnv(ENV[STATE_MACHINE_ARN_ENV_OF_WORKFLOW.retrain])),
        },
        table,
      ),
      config: router.incidents,
      maintenance: router.maintenance,
      ...(router.runbookBaseUrl === undefined
        ? {}
        : { messageOptions: { runbookBaseUrl: router.runbookBaseUrl } }),
      log,
    },
  };
}

let routeRuntime: RouterRuntime | undefined;
let sweepRuntime: RouterRuntime | undefined;

export function routeIncidentsRuntime(): RouterRuntime {
  routeRuntime ??= buildRouterRuntime('route-incidents');
  return routeRuntime;
}

export function sweepIncidentsRuntime(): RouterRuntime {
  sweepRuntime ??= buildRouterRuntime('sweep-incidents');
  return sweepRuntime;
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}
