import { z } from 'zod';

/**
 * The optional `detection` section of the FleetWatch configuration: the knobs of the detection run
 * (lambdas/core/detect/run-detectors.ts). Every field has a default, so configurations written
 * before this section existed stay valid and behave like the detectors' built-in defaults.
 *
 * Durations are minutes here (people write configs) and become milliseconds in the core.
 */

/** Workload classes the job detectors know (same list as lambdas/core/detect/jobs.ts). */
export const DETECTION_WORKLOAD_CLASSES = ['interactive', 'batch', 'distributed'] as const;

const minutes = (max: number) => z.number().positive().max(max);

/** Overrides of a workload class's job-health policy (lambdas/core/detect/jobs.ts ClassPolicy). */
export const classPolicyConfigSchema = z.strictObject({
  /** Time after training start before anything is judged, and how long GPUs may sit idle. */
  idleGraceMinutes: minutes(7 * 24 * 60).optional(),
  /** Lower bound of the progress-stall threshold, whatever the job's own cadence. */
  minStallMinutes: minutes(7 * 24 * 60).optional(),
  /** Stall threshold when the job has too few progress datapoints to know its cadence. */
  unknownCadenceStallMinutes: minutes(7 * 24 * 60).optional(),
  /** Newest checkpoint older than this is stale. */
  checkpointStaleMinutes: minutes(30 * 24 * 60).optional(),
});

/** Scheduling SLA of a workload class (lambdas/core/detect/scheduling.ts ClassSla). */
export const classSlaConfigSchema = z.strictObject({
  maxStartLatencyMinutes: minutes(30 * 24 * 60).optional(),
  maxDurationMinutes: minutes(365 * 24 * 60).optional(),
  /** Share of the class's jobs that must meet the SLA over an hour before misses are a finding. */
  minAttainment: z.number().gt(0).max(1).optional(),
});

const perClass = <T extends z.ZodType>(schema: T) =>
  z.partialRecord(z.enum(DETECTION_WORKLOAD_CLASSES), schema).default({});

/** A software/hardware cohort dimension for failure-rate spikes: a job tag, or the instance type. */
export const cohortDimensionConfigSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_]{0,47}$/, 'lower-case letters, digits and "_", e.g. driver_version'),
  /** Job tag holding the value; omit for the job's instance type. */
  tag: z.string().min(1).max(128).optional(),
});

export const DEFAULT_PROGRESS_METRIC_NAMES = ['train:loss', 'train_loss', 'loss', 'epoch'] as const;

/**
 * Step-time breakdown metric names (lambdas/core/kpi/step-time.ts): a job whose metric definitions
 * declare a step time and a data-wait and/or communication time has its not-useful training time
 * split into data-io and network in the goodput decomposition. Alternatives per role, first
 * declared wins; seconds per step (means), as HF Trainer / Lightning / torch profiler logs give them.
 */
export const DEFAULT_STEP_TIME_METRIC_NAMES = {
  step: ['step_time', 'train:step_time'],
  dataWait: ['data_time', 'train:data_time'],
  communication: ['comm_time', 'train:comm_time'],
} as const;

const metricNameList = (defaults: readonly string[]) =>
  z
    .array(z.string().min(1).max(255))
    .min(1)
    .max(5)
    .default([...defaults]);

export const stepTimeMetricNamesSchema = z.strictObject({
  /** Mean step time (seconds). */
  step: metricNameList(DEFAULT_STEP_TIME_METRIC_NAMES.step),
  /** Mean time per step waiting for the input pipeline (seconds). */
  dataWait: metricNameList(DEFAULT_STEP_TIME_METRIC_NAMES.dataWait),
  /** Mean time per step in exposed collectives, e.g. NCCL all-reduce wait (seconds). */
  communication: metricNameList(DEFAULT_STEP_TIME_METRIC_NAMES.communication),
});

export const SENSITIVITIES = ['low', 'medium', 'high'] as const;
export type Sensitivity = (typeof SENSITIVITIES)[number];

export const detectionConfigSchema = z
  .strictObject({
    /**
     * Training metric names that count as progress when a job declares no SageMaker metric
     * definitions of its own (a job's own definitions always win).
     */
    progressMetricNames: z
      .array(z.string().min(1).max(255))
      .min(1)
      .max(20)
      .default([...DEFAULT_PROGRESS_METRIC_NAMES]),
    /** Step-time breakdown metric names; not progress metrics (a job's breakdown never proves progress alone). */
    stepTimeMetricNames: stepTimeMetricNamesSchema.default({
      step: [...DEFAULT_STEP_TIME_METRIC_NAMES.step],
      dataWait: [...DEFAULT_STEP_TIME_METRIC_NAMES.dataWait],
      communication: [...DEFAULT_STEP_TIME_METRIC_NAMES.communication],
    }),
    /** How far back progress datapoints are read, to learn each job's own cadence. */
    progressLookbackMinutes: z
      .int()
      .min(15)
      .max(24 * 60)
      .default(180),
    /** Job-health policy overrides per workload class. */
    classes: perClass(classPolicyConfigSchema),
    /** Scheduling SLA overrides per workload class. */
    sla: perClass(classSlaConfigSchema),
    /** Failure-rate cohorts, most specific first; default: driver_version, framework, image tags, instance type. */
    cohortDimensions: z.array(cohortDimensionConfigSchema).min(1).max(10).optional(),
    /** Fleet effective utilisation this fraction below its baseline is a finding. */
    fleetDropThreshold: z.number().gt(0).lt(1).default(0.08),
    /** The recent stretch judged for a fleet drop (compared with the same minutes 24 h earlier). */
    fleetDropWindowMinutes: z
      .int()
      .min(15)
      .max(24 * 60)
      .default(60),
    /**
     * Statistical detectors' trigger-happiness: 'high' catches smaller and shorter regressions and
     * raises more false alarms; 'low' the opposite.
     */
    sensitivity: z.enum(SENSITIVITIES).default('medium'),
    /** Checkpoint prefixes are listed at most this often per job (one S3 ListObjectsV2 each). */
    checkpointCheckEveryMinutes: z
      .int()
      .min(1)
      .max(24 * 60)
      .default(15),
    /** At most this many checkpoint listings per run (the rest wait for the next run, oldest first). */
    maxCheckpointChecksPerRun: z.int().min(0).max(1_000).default(100),
  })
  .superRefine((d, ctx) => {
    const names = new Set<string>();
    (d.cohortDimensions ?? []).forEach((c, i) => {
      if (names.has(c.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['cohortDimensions', i, 'name'],
          message: `cohort dimension "${c.name}" appears twice; each needs its own name`,
        });
      }
      names.add(c.name);
    });
  });

export type DetectionConfig = z.output<typeof detectionConfigSchema>;
export type DetectionConfigInput = z.input<typeof detectionConfigSchema>;

/** The defaults, for runtime configs written before the section existed. */
export function defaultDetectionConfig(): DetectionConfig {
  return detectionConfigSchema.parse({});
}
