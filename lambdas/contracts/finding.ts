import { z } from 'zod';

/**
 * A finding: what a detector concluded about the fleet, before routing. Detectors (lambdas/core)
 * produce findings; the router fingerprints, deduplicates, suppresses and notifies. The schema is
 * versioned because findings cross process boundaries (SQS) and outlive deploys: a consumer must
 * be able to tell which shape it is reading.
 */
export const FINDING_SCHEMA_VERSION = 1;

export const SEVERITIES = ['page', 'ticket', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** The suspected cause category: who should look first. */
export const CAUSES = [
  'hardware',
  'software',
  'scheduling',
  'data-io',
  'network',
  'model',
  'efficiency',
] as const;
export type Cause = (typeof CAUSES)[number];

const label = z.string().min(1).max(256);

/** Where in the fleet the finding applies. All optional: a fleet-level finding has only cluster/region. */
export const findingLabelsSchema = z.strictObject({
  cluster: label.optional(),
  region: label.optional(),
  node: label.optional(),
  gpu: label.optional(),
  job: label.optional(),
  team: label.optional(),
  endpoint: label.optional(),
  /** Model feature, facet or metric a drift finding is about: one incident per drifted feature. */
  feature: label.optional(),
});
export type FindingLabels = z.output<typeof findingLabelsSchema>;

const epochMs = z.int().min(0);

export const findingWindowSchema = z
  .strictObject({ startMs: epochMs, endMs: epochMs })
  .refine((w) => w.startMs <= w.endMs, { message: 'window.startMs must not be after window.endMs' });

/** Robust baseline the evidence was judged against; detectors may add more numbers (n, q95, ...). */
export const findingBaselineSchema = z
  .object({ median: z.number(), mad: z.number().min(0) })
  .catchall(z.number());

export const findingEvidenceSchema = z.strictObject({
  /** Observed values that triggered the finding, by name (e.g. { value: 41.2, z: 9.3 }). */
  values: z.record(z.string().min(1), z.number()).optional(),
  /** The data window the detector looked at. */
  window: findingWindowSchema,
  baseline: findingBaselineSchema.optional(),
  detail: z.string().max(4_000).optional(),
});
export type FindingEvidence = z.output<typeof findingEvidenceSchema>;

// A runbook is a public URL or a path inside this repository (docs/runbooks/xid.md#48), never an
// absolute or parent path: notifications render it as a link.
export const RUNBOOK = /^(https?:\/\/[^\s]+|(?![/.])(?!.*\.\.)[\w./-]+(#[\w-]+)?)$/;

export const findingSchema = z.strictObject({
  schemaVersion: z.literal(FINDING_SCHEMA_VERSION),
  /** Detector-specific kind, dotted lower case: 'gpu.xid.fatal', 'job.hung', 'fleet.utilisation_drop'. */
  kind: z.string().regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/, 'dotted lower-case words, e.g. stat.spike'),
  severity: z.enum(SEVERITIES),
  cause: z.enum(CAUSES),
  /** One line for a subject or a chat message. */
  title: z.string().min(1).max(200),
  /** Longer human text for the notification body. */
  summary: z.string().max(4_000).optional(),
  labels: findingLabelsSchema,
  evidence: findingEvidenceSchema,
  runbook: z
    .string()
    .regex(RUNBOOK, 'an http(s) URL or a repository-relative path such as docs/runbooks/xid.md'),
  /** When the detector concluded (the run's clock, epoch ms), not when the data was produced. */
  detectedAt: epochMs,
});

export type Finding = z.output<typeof findingSchema>;
export type FindingInput = z.input<typeof findingSchema>;
