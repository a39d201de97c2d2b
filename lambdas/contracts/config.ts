import { z } from 'zod';
import { maintenanceWindowSchema as calendarWindowSchema } from './calendar';
import { detectionConfigSchema } from './detection-config';
import { driftSchema } from './drift-config';
import { CAUSES, RUNBOOK, SEVERITIES } from './finding';
import { gpuInstanceSpec, KNOWN_GPU_INSTANCE_TYPES } from './gpu-catalogue';
import { incidentsConfigSchema } from './incidents-config';
import { notificationsSchema } from './notifications-config';
import { BUILTIN_PROFILE_NAMES, profileSchema } from './profiles';
import { SIGNAL_NAMES } from './signals';

/**
 * The one FleetWatch configuration. Validated at synth time (a wrong value fails `cdk synth`
 * naming the field, the value and what is allowed); the part the Lambdas need is handed to them
 * as RuntimeConfig (see runtimeConfigFrom).
 */

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

export const fleetSchema = z.strictObject({
  /** Cluster name: a label on every record and finding. */
  cluster: z
    .string()
    .regex(NAME, 'letters, digits, "_", "." and "-", at most 63, starting with a letter or digit'),
  region: z.string().regex(REGION, 'an AWS region code such as us-east-1'),
  instanceType: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'an EC2 instance type such as p5.48xlarge'),
  /** Expected node count (capacity for KPIs); 0 when the fleet is elastic. */
  nodes: z.int().min(0).max(100_000),
  /** GPUs per node; defaults to the instance type's count for known GPU instance types. */
  gpusPerNode: z.int().min(1).max(64).optional(),
  team: z.string().regex(NAME).optional(),
  source: z.strictObject({
    /** Name of a built-in or custom metric source profile. */
    profile: z.string().min(1),
    /** Overrides the profile's namespace (e.g. the CloudWatch agent's `namespace` setting). */
    namespace: z.string().min(1).max(255).optional(),
    /** Dimension filters passed to ListMetrics, e.g. { ClusterName: "train-a" }. */
    match: z.record(z.string().min(1), z.string().min(1)).default({}),
    /** Restrict collection to these signals (cheaper); default: every signal of the profile. */
    signals: z.array(z.enum(SIGNAL_NAMES)).min(1).optional(),
  }),
});

export const collectionSchema = z.strictObject({
  /** How often the collector runs. Each run fetches every minute since the last one. */
  cadenceMinutes: z.int().min(1).max(60).default(5),
  /** Datapoint period requested from CloudWatch (60 keeps 15 days of history, 300 keeps 63). */
  periodSeconds: z.literal([60, 300]).default(60),
  /** Minutes to let CloudWatch publishing settle before a minute is collected (and frozen). */
  settleMinutes: z.int().min(0).max(30).default(3),
  /** After failed runs, missed minutes up to this far back are backfilled (CloudWatch keeps 1-minute data 15 days). */
  backfillHorizonHours: z.int().min(1).max(360).default(24),
  /** Largest window fetched at once; a long backfill proceeds in chunks, each committed on its own. */
  maxChunkMinutes: z.int().min(1).max(1440).default(60),
  /** How long a ListMetrics inventory is reused before it is rediscovered. */
  inventoryTtlMinutes: z.int().min(1).max(1440).default(30),
});

export const jobsSchema = z.strictObject({
  /** Reconciliation sweep cadence (ListTrainingJobs + DescribeTrainingJob). */
  reconcileEveryMinutes: z.int().min(5).max(1440).default(15),
  /** Overlap re-read on every sweep, so jobs modified during the previous sweep are not missed. */
  reconcileOverlapMinutes: z.int().min(1).max(1440).default(10),
  /** How far back the first sweep looks. */
  initialLookbackHours: z.int().min(1).max(720).default(24),
  /** Job tags that carry the owning team and the workload class. */
  teamTag: z.string().min(1).default('team'),
  workloadClassTag: z.string().min(1).default('workload-class'),
  /** Days a finished job stays in the job store (DynamoDB TTL). */
  retainDays: z.int().min(1).max(3650).default(90),
  /**
   * S3 buckets holding training checkpoints (CheckpointConfig.S3Uri) that the detector may list
   * (s3:ListBucket is granted on exactly these). Default none: checkpoint staleness is not checked,
   * and each job whose checkpoint is elsewhere is counted as CheckpointsNotPermitted.
   */
  checkpointBuckets: z
    .array(z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name (no s3:// prefix)'))
    .max(100)
    .default([]),
});

export const sinkSchema = z.strictObject({
  /**
   * 'timestream': Timestream for LiveAnalytics (closed to new AWS customers since 2025-06-20;
   * your account must already be onboarded). 'none': no telemetry sink; detection still runs.
   */
  kind: z.enum(['timestream', 'none']).default('timestream'),
  databaseName: z
    .string()
    .regex(/^[a-zA-Z0-9_.-]{3,256}$/)
    .default('fleetwatch'),
  memoryStoreRetentionHours: z.int().min(1).max(8766).default(24),
  magneticStoreRetentionDays: z.int().min(1).max(73_000).default(400),
});

/**
 * A CloudWatch anomaly-detection alarm that CDK creates on a fleet-level aggregate (for example
 * DCGM GPU utilisation averaged per cluster). Its state changes reach the incident queue through
 * EventBridge and become findings (lambdas/core/detect/alarm-events.ts).
 */
export const anomalyAlarmSchema = z.strictObject({
  /**
   * Short lower-case name: part of the CloudWatch alarm name (`<stack>-anomaly-<name>`) and of the
   * finding kind (`alarm.<name>`, "-" becoming "_").
   */
  name: z
    .string()
    .regex(
      /^[a-z][a-z0-9-]{0,47}$/,
      'lower-case letters, digits and "-", at most 48, starting with a letter',
    ),
  namespace: z.string().min(1).max(255),
  metricName: z.string().min(1).max(255),
  /** Exact dimensions of the aggregate, e.g. { ClusterName: "train-a" }. At most 30 (CloudWatch). */
  dimensions: z
    .record(z.string().min(1).max(255), z.string().min(1).max(1024))
    .refine((d) => Object.keys(d).length <= 30, { message: 'at most 30 dimensions' })
    .optional(),
  /** The statistic the anomaly model is trained on (one model per metric and statistic). */
  stat: z
    .string()
    .regex(
      /^(Average|Sum|Minimum|Maximum|SampleCount|p\d{1,2}(\.\d+)?)$/,
      'Average, Sum, Minimum, Maximum, SampleCount or a percentile such as p90',
    )
    .default('Average'),
  periodSeconds: z.literal([60, 300, 900, 3600]).default(300),
  /** Width of the expected band in standard deviations (ANOMALY_DETECTION_BAND's second argument). */
  stdDevs: z.number().min(0.1).max(100).default(2),
  /**
   * Which side of the band alarms. 'below' suits utilisation-like aggregates: a drop is the
   * problem, a fleet busier than usual is not.
   */
  direction: z.enum(['both', 'above', 'below']).default('below'),
  evaluationPeriods: z.int().min(1).max(100).default(3),
  datapointsToAlarm: z.int().min(1).max(100).default(3),
  severity: z.enum(SEVERITIES).default('ticket'),
  cause: z.enum(CAUSES).default('efficiency'),
  /** An http(s) URL or a repository-relative path, like a finding's runbook. */
  runbook: z
    .string()
    .regex(RUNBOOK, 'an http(s) URL or a repository-relative path such as docs/runbooks/xid.md')
    .optional(),
});

/**
 * A planned maintenance window, one entry of the ONE maintenance calendar (calendar.ts): one-off
 * `{start, end|duration, scope?}` (the original shape, still valid) or recurring
 * `{cron|rrule, duration, tz, scope?}`. Read occurrences through `expandWindows` (calendar.ts),
 * never `start`/`end` directly. Anomaly detectors exclude them from model training.
 */
export const maintenanceWindowSchema = calendarWindowSchema;

export const configSchema = z
  .strictObject({
    /** Prefix for stack and resource names. */
    name: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,31}$/)
      .default('FleetWatch'),
    /** Region of the main stack (collectors, stores, sink). Other fleet regions get a forwarder stack. */
    homeRegion: z.string().regex(REGION, 'an AWS region code such as us-east-1'),
    fleets: z.array(fleetSchema).min(1),
    profiles: z.array(profileSchema).default([]),
    collection: collectionSchema.default(collectionSchema.parse({})),
    jobs: jobsSchema.default(jobsSchema.parse({})),
    sink: sinkSchema.default(sinkSchema.parse({})),
    notifications: notificationsSchema.default(notificationsSchema.parse({})),
    retention: z
      .strictObject({
        logDays: z
          .literal([
            1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
            3653,
          ])
          .default(30),
        /**
         * Days the per-window KPI usage records (kpi/usage/ in the detection state bucket) are kept.
         * compute-kpis reads the last 24 h; the rest is for recomputing a month's KPIs or auditing
         * them (ADR 0010).
         */
        kpiUsageDays: z.int().min(2).max(3_650).default(35),
      })
      .default({ logDays: 30, kpiUsageDays: 35 }),
    anomalyAlarms: z.array(anomalyAlarmSchema).max(200).default([]),
    maintenance: z.array(maintenanceWindowSchema).default([]),
    /** Incident router: flapping, grouping, re-notify, silences, seasonal, inhibition, remediation; see incidents-config.ts. */
    incidents: incidentsConfigSchema.default(incidentsConfigSchema.parse({})),
    /** Detection run settings (progress metrics, class policies, SLAs, cohorts); see detection-config.ts. */
    detection: detectionConfigSchema.default(detectionConfigSchema.parse({})),
    /** Model drift of SageMaker endpoints (check-drift); see drift-config.ts. */
    drift: driftSchema.default(driftSchema.parse({})),
    /**
     * Where the stack's own alarms (`<runbookBaseUrl>/<runbook>.md`) and notifications (a finding's
     * `docs/runbooks/<file>` → `<runbookBaseUrl>/<file>`) link their runbooks. An
     * http(s) URL (e.g. your repository's docs/runbooks on the web) or the repository-relative default.
     */
    runbookBaseUrl: z
      .string()
      .regex(RUNBOOK, 'an http(s) URL or a repository-relative path such as docs/runbooks')
      .default('docs/runbooks'),
  })
  .superRefine((cfg, ctx) => {
    const profileNames = new Set([...BUILTIN_PROFILE_NAMES, ...cfg.profiles.map((p) => p.name)]);
    cfg.profiles.forEach((p, i) => {
      if (BUILTIN_PROFILE_NAMES.includes(p.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['profiles', i, 'name'],
          message: `"${p.name}" is a built-in profile; give a custom profile another name`,
        });
      }
    });
    const seen = new Set<string>();
    cfg.fleets.forEach((f, i) => {
      if (!profileNames.has(f.source.profile)) {
        ctx.addIssue({
          code: 'custom',
          path: ['fleets', i, 'source', 'profile'],
          message: `unknown profile "${f.source.profile}"; allowed: ${[...profileNames].join(', ')}`,
        });
      }
      if (f.gpusPerNode === undefined && gpuInstanceSpec(f.instanceType) === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['fleets', i, 'gpusPerNode'],
          message: `required for instance type "${f.instanceType}", which is not one FleetWatch knows (${KNOWN_GPU_INSTANCE_TYPES.join(', ')})`,
        });
      }
      const key = `${f.region}/${f.cluster}`;
      if (seen.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['fleets', i, 'cluster'],
          message: `cluster "${f.cluster}" appears twice in region ${f.region}; each fleet needs its own cluster name`,
        });
      }
      seen.add(key);
    });
    const alarmNames = new Set<string>();
    cfg.anomalyAlarms.forEach((a, i) => {
      if (alarmNames.has(a.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['anomalyAlarms', i, 'name'],
          message: `anomaly alarm "${a.name}" appears twice; each alarm needs its own name`,
        });
      }
      alarmNames.add(a.name);
      if (a.datapointsToAlarm > a.evaluationPeriods) {
        ctx.addIssue({
          code: 'custom',
          path: ['anomalyAlarms', i, 'datapointsToAlarm'],
          message: `must not exceed evaluationPeriods (${a.evaluationPeriods})`,
        });
      }
      if (a.periodSeconds * a.evaluationPeriods > 24 * 3600) {
        ctx.addIssue({
          code: 'custom',
          path: ['anomalyAlarms', i, 'evaluationPeriods'],
          message: `periodSeconds × evaluationPeriods must be at most one day (CloudWatch); got ${a.periodSeconds * a.evaluationPeriods} s`,
        });
      }
    });
    // maintenance[i].end before start is checked by the window schema itself (calendar.ts).
    const retentionHours = cfg.collection.periodSeconds === 60 ? 15 * 24 : 63 * 24;
    if (cfg.collection.backfillHorizonHours > retentionHours) {
      ctx.addIssue({
        code: 'custom',
        path: ['collection', 'backfillHorizonHours'],
        message: `CloudWatch keeps ${cfg.collection.periodSeconds}-second data ${retentionHours} hours; the horizon cannot exceed that`,
      });
    }
  });

export type FleetWatchConfigInput = z.input<typeof configSchema>;
export type FleetWatchConfig = z.output<typeof configSchema>;
export type FleetConfig = z.output<typeof fleetSchema>;
export type CollectionConfig = z.output<typeof collectionSchema>;
export type JobsConfig = z.output<typeof jobsSchema>;
export type AnomalyAlarmConfig = z.output<typeof anomalyAlarmSchema>;
export type MaintenanceWindow = z.output<typeof maintenanceWindowSchema>;

/** What every Lambda receives (as JSON in ENV.runtimeConfig): fleets resolved, custom profiles, settings. */
export const runtimeConfigSchema = z.strictObject({
  fleets: z.array(fleetSchema.extend({ gpusPerNode: z.int().min(1).max(64) })),
  profiles: z.array(profileSchema),
  collection: collectionSchema,
  jobs: jobsSchema,
  /** Optional so runtime configs written before detection existed still parse; readers use the defaults. */
  detection: detectionConfigSchema.optional(),
  /** Maintenance windows: detection keeps them out of baseline training. */
  maintenance: z.array(maintenanceWindowSchema).optional(),
});
export type RuntimeConfig = z.output<typeof runtimeConfigSchema>;
export type RuntimeFleet = RuntimeConfig['fleets'][number];

export function runtimeConfigFrom(cfg: FleetWatchConfig): RuntimeConfig {
  return {
    fleets: cfg.fleets.map((f) => ({
      ...f,
      gpusPerNode: f.gpusPerNode ?? gpuInstanceSpec(f.instanceType)?.gpus ?? 1,
    })),
    profiles: cfg.profiles,
    collection: cfg.collection,
    jobs: cfg.jobs,
    detection: cfg.detection,
    maintenance: cfg.maintenance,
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Invalid FleetWatch configuration in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Parses a config and turns zod issues into "field: got <value>; <what is allowed>" lines. */
export function parseConfig(input: unknown, source = 'configuration'): FleetWatchConfig {
  return parseWith(configSchema, input, source);
}

export function parseRuntimeConfig(input: unknown, source = 'runtime configuration'): RuntimeConfig {
  return parseWith(runtimeConfigSchema, input, source);
}

function parseWith<S extends z.ZodType>(schema: S, input: unknown, source: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(source, describeIssues(result.error.issues, input));
}

export function describeIssues(issues: readonly z.core.$ZodIssue[], input: unknown): string[] {
  return issues.map((issue) => {
    const field = formatPath(issue.path);
    if (issue.code === 'unrecognized_keys') return `${field || '(top level)'}: ${allowedText(issue)}`;
    const got = valueAt(input, issue.path);
    const gotText = got.found ? `got ${JSON.stringify(got.value)}` : 'missing';
    return `${field || '(top level)'}: ${gotText}; ${allowedText(issue)}`;
  });
}

function allowedText(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `allowed: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'too_small':
      return `must be at least ${String(issue.minimum)}${issue.origin === 'array' ? ' item(s)' : issue.origin === 'string' ? ' character(s)' : ''}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}${issue.origin === 'array' ? ' item(s)' : issue.origin === 'string' ? ' character(s)' : ''}`;
    case 'unrecognized_keys':
      return `unknown field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')} (check the spelling)`;
    case 'invalid_format':
      return `expected ${issue.message.replace(/^Invalid string: /, '')}`;
    case 'invalid_union':
      return issue.message === 'Invalid input' ? 'not one of the allowed values' : issue.message;
    default:
      return issue.message;
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return acc ? `${acc}.${String(key)}` : String(key);
  }, '');
}

function valueAt(input: unknown, path: readonly PropertyKey[]): { found: boolean; value?: unknown } {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object' || !(key in (cur as object))) return { found: false };
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return { found: true, value: cur };
}
