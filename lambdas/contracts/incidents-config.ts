import { z } from 'zod';
import {
  DEFAULT_INHIBITION_RULES,
  inhibitionRuleSchema,
  maintenanceWindowSchema,
  postChangeSchema,
  seasonalWindowSchema,
  silenceSchema,
} from './calendar';
import { REMEDIATION_POLICIES, WORKFLOWS } from './incident';

/**
 * config.incidents: how the router turns findings into incidents and notifications. Maintenance
 * windows are NOT here: they are config.maintenance (the one calendar, also used by infra).
 */

const kindGlob = z
  .string()
  .regex(/^[a-z0-9_*]+(\.[a-z0-9_*]+)*$/, 'a dotted kind or glob such as gpu.** or stat.*');

/** Per-kind lifecycle: the first rule whose `match` fits the kind wins; unmatched kinds use the defaults. */
export const kindLifecycleSchema = z
  .strictObject({
    match: z.array(kindGlob).min(1),
    /** Open after M observations within N runs (flapping control). */
    openAfter: z.int().min(1).max(100).optional(),
    ofRuns: z.int().min(1).max(100).optional(),
    /**
     * 'clean-runs': level-triggered, resolves after `cleanRuns` runs without the finding.
     * 'explicit': edge-triggered (hardware findings are reported once per episode), resolves only
     * on a resolved outcome or by a person; silence does not mean healthy.
     */
    resolve: z.enum(['clean-runs', 'explicit']).optional(),
    cleanRuns: z.int().min(1).max(1000).optional(),
    /**
     * Overrides `groupWaitSeconds` for these kinds. 0: notify on first sighting. The wait is only
     * worth having when siblings can arrive later than the first finding: detectors report all GPUs
     * of one run together, so a wait longer than the sweep interval delays a page by a whole run.
     */
    groupWaitSeconds: z.int().min(0).max(3600).optional(),
  })
  .refine((k) => k.openAfter === undefined || k.ofRuns === undefined || k.openAfter <= k.ofRuns, {
    message: 'openAfter must not exceed ofRuns',
    path: ['openAfter'],
  });
export type KindLifecycle = z.output<typeof kindLifecycleSchema>;

/** Hardware kinds that mean "drain this node now": never flapping, so they page on first sighting. */
export const FATAL_HARDWARE_KINDS = [
  'gpu.xid.fatal',
  'gpu.ecc.uncorrectable',
  'gpu.fell_off_bus',
  'gpu.row_remap_failure',
] as const;

export const DEFAULT_KIND_LIFECYCLE: readonly KindLifecycle[] = [
  // Fatal hardware is one event, not a level that flaps: open and notify on the first sighting
  // (no group wait: other GPUs of the node failing in the same run are grouped in that batch).
  { match: [...FATAL_HARDWARE_KINDS], openAfter: 1, ofRuns: 1, resolve: 'explicit', groupWaitSeconds: 0 },
  // Throttling and heat: the detector already required a sustained episode (5 consecutive
  // minutes, one full collection window), and all GPUs of a hot or power-capped node are reported
  // by the same run; later GPUs fold into the node incident. Waiting another run adds 5 min for
  // nothing (the latency benchmark measured power caps at 16 min with the wait, 11 without).
  {
    match: ['gpu.throttle.*', 'gpu.temperature.over_limit'],
    openAfter: 1,
    ofRuns: 1,
    resolve: 'explicit',
    groupWaitSeconds: 0,
  },
  // Hardware: one finding per episode; a quiet GPU after Xid 79 is not a healthy one.
  { match: ['gpu.**'], openAfter: 1, ofRuns: 1, resolve: 'explicit' },
  // CloudWatch already applied M of N (datapointsToAlarm) and sends OK explicitly.
  { match: ['alarm.**'], openAfter: 1, ofRuns: 1, resolve: 'explicit' },
  // The job detectors wait k × cadence themselves.
  { match: ['job.**'], openAfter: 1, ofRuns: 1, resolve: 'clean-runs' },
  // Busy-not-working: the detector already required 10 (GPU) / 15 (job) consecutive minutes,
  // carried across runs, and reports all GPUs of a burner node in the same run; a second sighting
  // and a group wait would add two runs (10 min) to a signature that is already sustained.
  {
    match: ['efficiency.busy_not_working'],
    openAfter: 1,
    ofRuns: 1,
    resolve: 'clean-runs',
    groupWaitSeconds: 0,
  },
  // A cohort failure spike is judged over the whole 6 h job window with its own statistical gates
  // (baseline excess, or one-sided Fisher p ≤ 0.001 with minimum failures): it does not flap from
  // one run to the next, so a second sighting only delays a driver-rollout page by a run.
  { match: ['software.cohort_failure_spike'], openAfter: 1, ofRuns: 1, resolve: 'clean-runs' },
  // The fleet utilisation drop compares a sustained window (fleetDropWindowMinutes) with the same
  // minutes 24 h earlier, beyond 3 sigmas of the scope's day-to-day noise: already sustained and
  // gated, so a second sighting would only delay it. It is reported every run while it lasts, so
  // clean runs resolve it after the drop ends: an hour of them (12 runs of 5 min), the span the
  // detector judges (fleetDropWindowMinutes, default 60). A sliding hour mean near the threshold
  // dips under it for a run or three while the drop goes on; resolving on the default 3 clean runs
  // closed the incident 4 minutes before the fault ended and opened a second one 5 minutes later.
  { match: ['fleet.**'], openAfter: 1, ofRuns: 1, resolve: 'clean-runs', cleanRuns: 12 },
  // Model drift and monitoring: check-drift runs hourly (drift.scheduleMinutes, default 60) and
  // its own KS / PSI tests over a sliding window of hours already gate a finding, so M of N over
  // five-minute router runs could never be met (each sighting would start a pending episode that
  // expires). Open on the first sighting; one check's findings arrive together, so no group wait.
  // Resolve after clean runs spanning two missed drift checks: 25 router runs of
  // runCadenceMinutes (5) = 125 min > 2 × 60 min. The incidents section does not see the drift
  // section; with a slower drift schedule, add a `model.**` rule with a larger cleanRuns.
  {
    match: ['model.**'],
    openAfter: 1,
    ofRuns: 1,
    resolve: 'clean-runs',
    cleanRuns: 25,
    groupWaitSeconds: 0,
  },
];

export { WORKFLOWS, type Workflow } from './incident';

export const remediationRuleSchema = z.strictObject({
  kinds: z.array(kindGlob).min(1),
  workflow: z.enum(WORKFLOWS),
  policy: z.enum(REMEDIATION_POLICIES),
  /** Only findings whose evidence `xid` is one of these (fatal Xid 79/48/95); absent: any. */
  xids: z.array(z.int().min(1)).optional(),
});
export type RemediationRule = z.output<typeof remediationRuleSchema>;

export const DEFAULT_REMEDIATION_RULES: readonly RemediationRule[] = [
  { kinds: ['job.hung', 'job.progress_stalled'], workflow: 'stop-job', policy: 'approval' },
  { kinds: ['gpu.xid.fatal'], workflow: 'quarantine-node', policy: 'approval', xids: [48, 79, 95] },
  { kinds: ['gpu.ecc.uncorrectable'], workflow: 'quarantine-node', policy: 'approval' },
  {
    kinds: [
      'model.drift.data_quality',
      'model.drift.model_quality',
      'model.drift.feature_attribution',
      'model.drift.bias',
    ],
    workflow: 'retrain',
    policy: 'approval',
  },
];

export const remediationConfigSchema = z.strictObject({
  rules: z.array(remediationRuleSchema).default([...DEFAULT_REMEDIATION_RULES]),
  /** Safety rail: quarantine at most this many nodes in any rolling hour. */
  maxNodesQuarantinedPerHour: z.int().min(0).max(1000).default(2),
  /** Nothing is started while one of these windows is active (same shapes as maintenance). */
  changeFreeze: z.array(maintenanceWindowSchema).default([]),
});
export type RemediationConfig = z.output<typeof remediationConfigSchema>;

export const incidentsConfigSchema = z
  .strictObject({
    /** Cadence of the detector runs: N runs and K clean runs are measured in it. */
    runCadenceMinutes: z.int().min(1).max(1440).default(5),
    /** Defaults for kinds no `kinds` rule matches. */
    openAfter: z.int().min(1).max(100).default(2),
    ofRuns: z.int().min(1).max(100).default(3),
    cleanRuns: z.int().min(1).max(1000).default(3),
    kinds: z.array(kindLifecycleSchema).default([...DEFAULT_KIND_LIFECYCLE]),
    /** The first notification of a node- or GPU-level incident waits this long for siblings. */
    groupWaitSeconds: z.int().min(0).max(3600).default(60),
    /** Distinct GPUs of one node (same kind) that become one node incident. */
    groupGpusPerNode: z.int().min(2).max(64).default(2),
    /** Distinct nodes of one cluster (same kind) that become one cluster incident. */
    groupNodesPerCluster: z.int().min(2).max(10_000).default(3),
    /** Page incidents still open (not acknowledged) are re-notified this often; 0: never. */
    renotifyMinutes: z
      .int()
      .min(0)
      .max(7 * 24 * 60)
      .default(60),
    silences: z.array(silenceSchema).default([]),
    seasonal: z.array(seasonalWindowSchema).default([]),
    inhibition: z.array(inhibitionRuleSchema).default([...DEFAULT_INHIBITION_RULES]),
    postChange: postChangeSchema.default({ changes: [], rules: [] }),
    remediation: remediationConfigSchema.default(remediationConfigSchema.parse({})),
  })
  .refine((c) => c.openAfter <= c.ofRuns, {
    message: 'openAfter must not exceed ofRuns',
    path: ['openAfter'],
  });
export type IncidentsConfig = z.output<typeof incidentsConfigSchema>;
export type IncidentsConfigInput = z.input<typeof incidentsConfigSchema>;
