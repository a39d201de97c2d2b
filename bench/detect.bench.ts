/**
 * Detection benchmark: ONE full detection run (runDetectors: hardware, job health, efficiency,
 * cohort failures, scheduling, cohort regressions, fleet drop) over a collected 5-minute window of
 * 12,000 GPUs (1,500 nodes of 8) with every signal, ~1,000 running jobs and the ~8,750 jobs that
 * ended in the last 6 h (35,000 jobs a day). The state is a realistic steady-state one: a week of
 * hour-of-week cohort baselines, 25 h of fleet utilisation, a week of outcome and start-latency
 * aggregates, hardware and job-activity memory from the previous run. It is read from JSON and
 * written back to JSON inside the timed section, as the Lambda does with its S3 object.
 * Measures CPU time on one core (the run is synchronous), wall time, peak RSS, heap growth and
 * state size. Goal: well under 2 s of CPU.
 *
 *   npm run bench:detect
 *   node --expose-gc --import tsx bench/detect.bench.ts [--nodes 1500] [--json out.json]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defaultDetectionConfig } from '../lambdas/contracts/detection-config';
import { emptyOutcomeAggregates, foldOutcomes } from '../lambdas/core/detect/cohorts';
import { type DetectionState, emptyDetectionState } from '../lambdas/core/detect/detection-state';
import { COHORT_BASELINE_DAYS, COHORT_SIGNALS } from '../lambdas/core/detect/regressions';
import { detectionSettingsFrom, progressKey, runDetectors } from '../lambdas/core/detect/run-detectors';
import { emptyLatencyAggregates, foldLatencies } from '../lambdas/core/detect/scheduling';
import { cohortKey, emptyBaseline, updateBaseline } from '../lambdas/core/detect/seasonal-baseline';
import type { GpuSample, TrainingJobState } from '../lambdas/core/model';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../lambdas/core/time';

const { values: args } = parseArgs({
  options: { nodes: { type: 'string', default: '1500' }, json: { type: 'string' } },
});
const NODES = Number(args.nodes);
const GPUS = 8;
/** Wednesday 2026-11-25 12:00 UTC. */
const T0 = Date.UTC(2026, 10, 25, 12);
const NOW = T0 + 5 * MINUTE_MS;
const CLASSES = ['interactive', 'batch', 'distributed'] as const;
const TYPES = ['p5.48xlarge', 'p4d.24xlarge'] as const;
const DRIVERS = ['535.183.01', '550.54.15', '550.90.07'];
const IMAGES = ['pytorch-training:2.3', 'pytorch-training:2.4', 'jax-training:0.4.30'];

/** A small deterministic PRNG so every run measures the same data. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(42);

// --- Running jobs: ~1,000 over 1,500 nodes (every 3rd job is distributed over 2 nodes). -----------
const running: TrainingJobState[] = [];
const nodeJob: string[] = [];
for (let n = 0, j = 0; n < NODES; j++) {
  const nodes = j % 3 === 0 ? 2 : 1;
  const jobName = `run-${j}`;
  const region = j % 2 ? 'us-west-2' : 'us-east-1';
  running.push({
    region,
    jobName,
    arn: `arn:aws:sagemaker:${region}:123456789012:training-job/${jobName}`,
    status: 'InProgress',
    secondaryStatus: 'Training',
    lastModifiedTime: T0 - 3 * HOUR_MS,
    creationTime: T0 - 3 * HOUR_MS - 4 * MINUTE_MS,
    trainingStartTime: T0 - 3 * HOUR_MS,
    transitions: [{ status: 'Training', startTime: T0 - 3 * HOUR_MS }],
    instanceType: TYPES[j % 2],
    instanceCount: nodes,
    tags: { driver_version: DRIVERS[j % 3] as string, image: IMAGES[j % 3] as string },
    team: `team-${j % 7}`,
    workloadClass: nodes > 1 ? 'distributed' : CLASSES[j % 2],
    metricNames: ['train:loss'],
    ...(j % 4 === 0 ? { checkpointS3Uri: `s3://ckpt/${jobName}/` } : {}),
  });
  for (let k = 0; k < nodes && n < NODES; k++, n++) nodeJob[n] = jobName;
}

// --- Ended jobs: 35,000 a day; the last 6 h are passed raw, the week before is in aggregates. -----
function endedJob(i: number, endMs: number): TrainingJobState {
  const began = endMs - (20 + (i % 90)) * MINUTE_MS;
  const region = i % 2 ? 'us-west-2' : 'us-east-1';
  const failed = rand() < 0.04;
  return {
    region,
    jobName: `done-${i}`,
    arn: `arn:aws:sagemaker:${region}:123456789012:training-job/done-${i}`,
    status: failed ? 'Failed' : 'Completed',
    lastModifiedTime: endMs,
    creationTime: began - (2 + rand() * 6) * MINUTE_MS,
    trainingStartTime: began,
    trainingEndTime: endMs,
    transitions: [{ status: 'Training', startTime: began }],
    instanceType: TYPES[i % 2],
    instanceCount: 1,
    tags: {
      driver_version: DRIVERS[i % 3] as string,
      image: IMAGES[i % 3] as string,
      framework: `pt-${i % 4}`,
    },
    team: `team-${i % 7}`,
    workloadClass: CLASSES[i % 3],
    ...(failed ? { failureReason: 'AlgorithmError: exit code 1' } : {}),
  };
}
const perMs = 35_000 / DAY_MS;
const recentEnded: TrainingJobState[] = [];
const weekEnded: TrainingJobState[] = [];
{
  let i = 0;
  for (let t = NOW - 7 * DAY_MS - 6 * HOUR_MS; t < NOW; t += 1 / perMs) {
    const j = endedJob(i++, Math.round(t));
    if (t > NOW - 6 * HOUR_MS) recentEnded.push(j);
    else weekEnded.push(j);
  }
}
const jobs = [...running, ...recentEnded];

// --- GPU samples of the window: every signal. 1 % of GPUs have a fault of some kind. -------------
function window(startMs: number, minutes: number, counters: Map<string, number>): GpuSample[] {
  const out: GpuSample[] = [];
  for (let n = 0; n < NODES; n++) {
    const node = `ip-10-${Math.floor(n / 250)}-${n % 250}`;
    const jobName = nodeJob[n] as string;
    for (let m = 0; m < minutes; m++) {
      const time = startMs + m * MINUTE_MS;
      for (let g = 0; g < GPUS; g++) {
        const key = `${node}/${g}`;
        const faulty = (n * GPUS + g) % 100 === 7;
        const ecc = (counters.get(key) ?? 0) + (faulty && rand() < 0.5 ? 1 : 0);
        counters.set(key, ecc);
        out.push({
          time,
          labels: {
            cluster: n % 2 ? 'train-b' : 'train-a',
            region: n % 2 ? 'us-west-2' : 'us-east-1',
            instanceType: n % 2 ? 'p4d.24xlarge' : 'p5.48xlarge',
            node,
            gpu: String(g),
            job: jobName,
            team: `team-${n % 7}`,
          },
          values: {
            gpu_util: 90 + rand() * 10,
            sm_active: 0.5 + rand() * 0.3,
            tensor_active: 0.3 + rand() * 0.2,
            fb_used: 60_000,
            fb_total: 81_559,
            temperature: faulty ? 91 : 60 + rand() * 10,
            power: 400 + rand() * 250,
            xid: faulty && m === minutes - 1 ? 79 : 0,
            ecc_sbe: 10,
            ecc_dbe: ecc,
            clock_events: faulty ? 0x40 : 0,
            pcie_replay: 3,
            nvlink_errors: 0,
            remapped_rows: 0,
            row_remap_failure: 0,
          },
        });
      }
    }
  }
  return out;
}

// Progress: every job logs each minute; every 50th stopped 30 minutes ago (busy GPUs: a hang).
const progress = new Map<string, number[]>();
running.forEach((j, i) => {
  const ts: number[] = [];
  const stoppedAt = i % 50 === 3 ? NOW - 30 * MINUTE_MS : NOW;
  for (let t = NOW - 3 * HOUR_MS; t < stoppedAt; t += MINUTE_MS) ts.push(t);
  progress.set(progressKey(j.region, j.jobName), ts);
});
const listings = new Map<string, number | undefined>();

// --- Steady-state detection state. -----------------------------------------------------------------
const settings = detectionSettingsFrom(defaultDetectionConfig());
const counters = new Map<string, number>();
let state: DetectionState = emptyDetectionState();
const previous = window(T0 - 5 * MINUTE_MS, 5, counters);
state = runDetectors({
  samples: previous,
  window: { startMs: T0 - 5 * MINUTE_MS, endMs: T0 },
  nowMs: T0,
  jobs,
  progress,
  checkpointListings: listings,
  state,
  settings,
}).state;
for (const type of TYPES) {
  for (const cls of CLASSES) {
    for (const signal of COHORT_SIGNALS) {
      // The window's medians: power 400-650 W uniform (525), gpu_util 90-100 (95), sm_active 0.5-0.8 (0.65).
      const base = signal === 'power' ? 525 : signal === 'gpu_util' ? 95 : 0.65;
      const points: { t: number; v: number }[] = [];
      for (let t = T0 - 7 * DAY_MS; t < T0 - 5 * MINUTE_MS; t += MINUTE_MS)
        points.push({ t, v: base * (1 + (rand() - 0.5) * 0.05) });
      const key = cohortKey({ instanceType: type, workloadClass: cls, signal });
      const prev = state.cohorts[key];
      state.cohorts[key] = {
        seen: T0 - MINUTE_MS,
        baseline: updateBaseline(emptyBaseline({ windowDays: COHORT_BASELINE_DAYS }), points),
        cusum: prev?.cusum ?? { pos: 0, neg: 0, n: 0 },
        ...(prev?.lastMinute === undefined ? {} : { lastMinute: prev.lastMinute }),
      };
    }
  }
}
for (let t = T0 - 25 * HOUR_MS; t < T0 - 5 * MINUTE_MS; t += MINUTE_MS) state.fleet.points.push([t, 0.65]);
state.fleet.points.sort((a, b) => a[0] - b[0]);
const foldTo = T0 - 6 * HOUR_MS;
state.outcomes = foldOutcomes(emptyOutcomeAggregates(), weekEnded, foldTo).aggregates;
state.latencies = foldLatencies(emptyLatencyAggregates(), weekEnded, foldTo).aggregates;
const stateJson = JSON.stringify(state);
const samples = window(T0, 5, counters);

global.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const result = runDetectors({
  samples,
  window: { startMs: T0, endMs: NOW },
  nowMs: NOW,
  jobs,
  progress,
  checkpointListings: listings,
  state: JSON.parse(stateJson),
  settings,
});
const newStateJson = JSON.stringify(result.state);
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const heapAfter = process.memoryUsage().heapUsed;

const section = (s: DetectionState) =>
  Object.fromEntries(
    Object.entries(s).map(([k, v]) => [k, Math.round(JSON.stringify(v).length / 1024)]),
  ) as Record<string, number>;
const out = {
  gpus: NODES * GPUS,
  samples: samples.length,
  signalsPerSample: 15,
  runningJobs: running.length,
  endedJobsInWindow: recentEnded.length,
  findings: result.report.findingsByDetector,
  cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(3),
  wallSeconds: +(wallMs / 1000).toFixed(3),
  heapGrowthMiB: Math.round((heapAfter - heapBefore) / 1_048_576),
  peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  stateKiBBefore: Math.round(stateJson.length / 1024),
  stateKiBAfter: Math.round(newStateJson.length / 1024),
  stateKiBBySection: section(result.state),
};
console.table([result.report.findingsByDetector]);
console.log(JSON.stringify(out, null, 2));
if (args.json !== undefined) writeFileSync(args.json, JSON.stringify(out, null, 2));
