import { z } from 'zod';

/**
 * The optional `drift` section of the FleetWatch config: which SageMaker endpoints check-drift
 * watches, through Model Monitor results (accounts that have it) and/or FleetWatch's own check
 * of endpoint Data Capture against a baseline dataset (everyone else; Model Monitor is closed to
 * new customers).
 *
 * The check-drift Lambda receives this section alone, as JSON in ENV.driftConfig, so endpoint
 * lists do not weigh on the 4 KB environment of every other function.
 */

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
/** SageMaker endpoint names: 1–63 alphanumerics and hyphens, no leading/trailing hyphen. */
const ENDPOINT_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
/** s3://bucket[/prefix]: a valid bucket name (3–63 lower-case letters, digits, "." and "-"). */
export const S3_URI = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/;

const s3Uri = z.string().regex(S3_URI, 's3://<bucket>/<prefix> with a valid bucket name');

export const FEATURE_TYPES = ['numeric', 'categorical'] as const;

export const driftFeatureSchema = z.strictObject({
  /** Key in JSON records and in the baseline; position in CSV payloads is the list order. */
  name: z.string().min(1).max(256),
  /** numeric: KS test and PSI over baseline quantile bins; categorical: PSI over the categories. */
  type: z.enum(FEATURE_TYPES),
});

export const driftThresholdsSchema = z.strictObject({
  /** PSI above this is drift. @default 0.2 */
  psi: z.number().positive().max(10).optional(),
  /** KS p-value below this is drift (numeric features)... @default 0.01 */
  ksPValue: z.number().gt(0).lt(1).optional(),
  /** ...when the KS statistic D is at least this (effect-size floor). @default 0.1 */
  ksStatisticMin: z.number().min(0).max(1).optional(),
  /** Features with fewer non-null values than this on either side are not judged. @default 100 */
  minSamples: z.int().min(1).max(1_000_000).optional(),
});

export const dataCaptureSchema = z.strictObject({
  /**
   * The endpoint's DataCaptureConfig DestinationS3Uri. SageMaker writes captures under
   * `<s3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/*.jsonl`.
   */
  s3Uri,
  /**
   * The baseline dataset: CSV with a header row when the key ends in `.csv`, otherwise JSON Lines
   * (one object per line, keyed by feature name).
   */
  baselineS3Uri: s3Uri,
  /**
   * Features to check, in the order of positional (CSV) payloads.
   * @default - every column of the baseline, numeric when all its values are numbers
   */
  features: z.array(driftFeatureSchema).min(1).max(200).optional(),
  /** Captured data of the last windowHours is compared with the baseline. */
  windowHours: z
    .int()
    .min(1)
    .max(24 * 14)
    .default(24),
  thresholds: driftThresholdsSchema.default({}),
  /** Check the request payload (input, the usual) or the model's response (output). */
  source: z.enum(['input', 'output']).default('input'),
});

export const driftEndpointSchema = z.strictObject({
  name: z
    .string()
    .regex(ENDPOINT_NAME, 'a SageMaker endpoint name: letters, digits and "-", at most 63 characters'),
  /** @default - the home region */
  region: z.string().regex(REGION, 'an AWS region code such as us-east-1').optional(),
  /** Owning team: a label on the findings, for routing. */
  team: z.string().regex(NAME).optional(),
  /** Read this endpoint's Model Monitor schedules and executions. */
  modelMonitor: z.boolean().default(false),
  /**
   * Where this endpoint's monitoring schedules write their reports (MonitoringOutputConfig
   * S3Uri). Required with modelMonitor: check-drift may read reports only under it.
   */
  modelMonitorReportsS3Uri: s3Uri.optional(),
  dataCapture: dataCaptureSchema.optional(),
});

export const driftSchema = z
  .strictObject({
    endpoints: z.array(driftEndpointSchema).max(50).default([]),
    /** How often check-drift runs. */
    scheduleMinutes: z.int().min(5).max(1440).default(60),
    /** A schedule's latest execution is stale when older than staleFactor × its interval + 20 min. */
    staleFactor: z.number().min(1).max(48).default(2),
    /** Executions listed per run go back this far (and are remembered this long, so never re-sent). */
    lookbackHours: z
      .int()
      .min(1)
      .max(24 * 14)
      .default(24),
  })
  .superRefine((d, ctx) => {
    const seen = new Set<string>();
    d.endpoints.forEach((e, i) => {
      if (e.modelMonitor && e.modelMonitorReportsS3Uri === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['endpoints', i, 'modelMonitorReportsS3Uri'],
          message: `required when modelMonitor is true: the S3 prefix the schedules of "${e.name}" write reports to (check-drift is allowed to read only there)`,
        });
      }
      if (!e.modelMonitor && e.dataCapture === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['endpoints', i],
          message: `endpoint "${e.name}" has nothing to check; set modelMonitor: true and/or dataCapture`,
        });
      }
      const key = `${e.region ?? ''}/${e.name}`;
      if (seen.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['endpoints', i, 'name'],
          message: `endpoint "${e.name}" appears twice in the same region`,
        });
      }
      seen.add(key);
      const names = new Set<string>();
      e.dataCapture?.features?.forEach((f, j) => {
        if (names.has(f.name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['endpoints', i, 'dataCapture', 'features', j, 'name'],
            message: `feature "${f.name}" appears twice`,
          });
        }
        names.add(f.name);
      });
    });
  });

export type DriftConfig = z.output<typeof driftSchema>;
export type DriftEndpointConfig = z.output<typeof driftEndpointSchema>;
export type DataCaptureConfig = z.output<typeof dataCaptureSchema>;

/** The drift section with every endpoint's region resolved (what the Lambda receives). */
export function resolveDriftConfig(drift: DriftConfig, homeRegion: string): DriftConfig {
  return { ...drift, endpoints: drift.endpoints.map((e) => ({ ...e, region: e.region ?? homeRegion })) };
}

/** Splits s3://bucket/key into its parts. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m?.[1]) throw new Error(`not an s3:// URI: "${uri}"; expected s3://<bucket>/<key>`);
  return { bucket: m[1], key: m[2] ?? '' };
}
