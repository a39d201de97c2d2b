/**
 * Detection benchmark: one detection run over a collected 5-minute window of 12,000 GPUs (1,500
 * nodes of 8) with every signal: hardware faults, job health and efficiency, with the hardware
 * state carried from a previous run (JSON round trip, as the Lambda stores it). Measures CPU time
 * on one core (the detectors are synchronous), wall time, heap and state size. Goal: well under
 * 2 s of CPU.
 *
 *   npx tsx bench/detect.bench.ts [--nodes 1500] [--json out.json]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { assessEfficiency } from '../lambdas/core/detect/efficiency';
import { detectHardware } from '../lambdas/core/detect/hardware';
import { detectJobHealth } from '../lambdas/core/detect/jobs';
import type { GpuSample, TrainingJobState } from '../lambdas/core/model';
import { MINUTE_MS } from '../lambdas/core/time';

const { values: args } = parseArgs({
  options: { nodes: { type: 'string', default: '1500' }, json: { type: 'string' } },
});
const NODES = Number(args.nodes);
const GPUS = 8;
const T0 = Date.UTC(2026, 10, 24, 12);

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

// One job per node, 1% of GPUs with a fault of some kind so the detectors do real work.
const rand = prng(42);
const jobs: TrainingJobState[] = [];
const progress = new Map<string, number[]>();
const checkpoints = new Map<string, number | undefined>();
function window(startMs: number, minutes: number, counters: Map<string, number>): GpuSample[] {
  const out: GpuSample[] = [];
  for (let n = 0; n < NODES; n++) {
    const node = `ip-10-${Math.floor(n / 250)}-${n % 250}`;
    const job = `job-${n}`;
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
            job,
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
for (let n = 0; n < NODES; n++) {
  const jobName = `job-${n}`;
  jobs.push({
    region: n % 2 ? 'us-west-2' : 'us-east-1',
    jobName,
    arn: `arn:aws:sagemaker:us-east-1:123456789012:training-job/${jobName}`,
    status: 'InProgress',
    secondaryStatus: 'Training',
    lastModifiedTime: T0 - 3 * 3_600_000,
    creationTime: T0 - 4 * 3_600_000,
    trainingStartTime: T0 - 3 * 3_600_000,
    instanceType: n % 2 ? 'p4d.24xlarge' : 'p5.48xlarge',
    instanceCount: 1,
    tags: {},
    team: `team-${n % 7}`,
    transitions: [],
    metricNames: ['train:loss'],
  });
  // Progress every minute; every 50th job stopped progressing 30 minutes ago (busy GPUs: a hang).
  const ts: number[] = [];
  const stoppedAt = n % 50 === 3 ? T0 - 30 * MINUTE_MS : T0 + 5 * MINUTE_MS;
  for (let t = T0 - 3 * 3_600_000; t < stoppedAt; t += MINUTE_MS) ts.push(t);
  progress.set(jobName, ts);
  checkpoints.set(jobName, T0 - 20 * MINUTE_MS);
}

const counters = new Map<string, number>();
const previous = window(T0 - 5 * MINUTE_MS, 5, counters);
const prior = detectHardware({ samples: previous, state: undefined, nowMs: T0 });
const samples = window(T0, 5, counters);
const stateJson = JSON.stringify(prior.state);

global.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const state = JSON.parse(stateJson);
const hw = detectHardware({ samples, state, nowMs: T0 + 5 * MINUTE_MS });
const health = detectJobHealth({ jobs, samples, progress, checkpoints, nowMs: T0 + 5 * MINUTE_MS });
const eff = assessEfficiency({
  jobs,
  samples,
  progress,
  window: { startMs: T0, endMs: T0 + 5 * MINUTE_MS },
  nowMs: T0 + 5 * MINUTE_MS,
});
const newStateJson = JSON.stringify(hw.state);
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const heapAfter = process.memoryUsage().heapUsed;

const result = {
  gpus: NODES * GPUS,
  samples: samples.length,
  signalsPerSample: 15,
  findings: {
    hardware: hw.findings.length,
    jobHealth: health.findings.length,
    efficiency: eff.findings.length,
  },
  cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(3),
  wallSeconds: +(wallMs / 1000).toFixed(3),
  heapGrowthMiB: Math.round((heapAfter - heapBefore) / 1_048_576),
  hardwareStateKiB: Math.round(newStateJson.length / 1024),
};
console.table([result.findings]);
console.log(JSON.stringify(result, null, 2));
if (args.json !== undefined) writeFileSync(args.json, JSON.stringify(result, null, 2));
