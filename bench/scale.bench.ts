/**
 * Scale benchmark: collection AND detection back to back on the same windows for 12,000 GPUs
 * (1,500 nodes × 8 in two clusters and two regions, 350,000 jobs/day: the reference's jobs per
 * GPU), through the real use cases (collectGpuMetrics, then detectWindow on exactly the samples
 * it committed) over the simulator's sources, at the default 5-minute cadence. The first runs warm
 * up (inventory discovery, detector state); the figures are those of the last run, plus the
 * slowest run. API calls are compared with their minimum:
 *   GetMetricData  ceil(queries of a chunk / 500) summed over the chunks (500 metrics a call)
 *   ListMetrics    ceil(series of a source / 500) when the inventory is rediscovered (TTL 30 min)
 *   WriteRecords   ceil(records / 100)
 * bench/collector.bench.ts measures the collector with the real CloudWatch and Timestream adapters
 * and bench/detect.bench.ts the detectors alone with S3-state round trips; this one measures both
 * halves on the same data as the product composes them. The simulator itself shares the process,
 * so peak RSS includes its telemetry model (reported apart as the baseline before the first run).
 *
 *   npm run bench:scale     (or: npx tsx bench/scale.bench.ts [--nodes 1500] [--minutes 20]
 *                            [--json out/bench/scale.json])
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { validateScenario } from '../lambdas/sim/scenario';
import { runSimulation, type StepTiming } from '../lambdas/wiring/simulation';
import { machine } from './lib/machine';

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1500' },
    minutes: { type: 'string', default: '20' },
    json: { type: 'string', default: 'out/bench/scale.json' },
  },
});
const nodes = Number(args.nodes);
const minutes = Number(args.minutes);
if (!Number.isInteger(nodes) || nodes < 2 || nodes % 2 !== 0)
  throw new Error(`--nodes: got ${args.nodes}; allowed an even integer >= 2`);
if (!Number.isInteger(minutes) || minutes < 10)
  throw new Error(`--minutes: got ${args.minutes}; allowed >= 10`);
const gpus = nodes * 8;
const parsed = validateScenario({
  name: `scale-${gpus}`,
  seed: 7,
  start: '2026-09-15T00:00:00Z',
  duration: `${minutes}m`,
  tick: '1m',
  fleet: [
    {
      cluster: 'train-a',
      region: 'us-east-1',
      instanceType: 'p5.48xlarge',
      nodes: nodes / 2,
      gpusPerNode: 8,
    },
    {
      cluster: 'train-b',
      region: 'us-west-2',
      instanceType: 'p4d.24xlarge',
      nodes: nodes / 2,
      gpusPerNode: 8,
    },
  ],
  workload: {
    jobsPerDay: Math.round((35_000 / 1_200) * gpus),
    mix: { interactive: 0.8, batch: 0.199, distributed: 0.001 },
  },
});
if (!parsed.ok) throw new Error(`scale scenario invalid:\n${parsed.errors.join('\n')}`);

interface RunFigures {
  nowIso: string;
  collectSeconds: number;
  detectSeconds: number;
  cpuSeconds: number;
  samples: number;
  series: number;
  getMetricDataCalls: number;
  getMetricDataMinimum: number;
  metricsRequested: number;
  listMetricsCalls: number;
  listMetricsMinimum: number;
  writeRecordsCalls: number;
  writeRecordsMinimum: number;
  progressGetMetricDataCalls: number;
  heapUsedMiB: number;
  rssMiB: number;
}

const mib = (b: number) => Math.round(b / 2 ** 20);
const baselineRss = mib(process.memoryUsage().rss);
let peakRss = 0;
let prevCalls: Readonly<Record<string, number>> = {};
const runs: RunFigures[] = [];
const onStep = (s: StepTiming) => {
  const mem = process.memoryUsage();
  peakRss = Math.max(peakRss, mem.rss);
  const c = s.collected.counts;
  const gmdTotal =
    (s.apiCalls['cloudwatch:GetMetricData'] ?? 0) - (prevCalls['cloudwatch:GetMetricData'] ?? 0);
  prevCalls = s.apiCalls;
  runs.push({
    nowIso: new Date(s.nowMs).toISOString(),
    collectSeconds: Math.round(s.collectMs) / 1000,
    detectSeconds: Math.round(s.detectMs) / 1000,
    cpuSeconds: Math.round(s.cpuMs) / 1000,
    samples: s.samples,
    series: c.seriesDiscovered,
    getMetricDataCalls: c.getMetricDataCalls,
    getMetricDataMinimum: s.collected.chunks.reduce((n, ch) => n + Math.ceil(ch.queries / 500), 0),
    metricsRequested: c.metricsRequested,
    listMetricsCalls: c.listMetricsCalls,
    listMetricsMinimum:
      c.listMetricsCalls === 0
        ? 0
        : s.collected.sources.reduce((n, src) => n + Math.max(1, Math.ceil(src.seriesDiscovered / 500)), 0),
    writeRecordsCalls: c.sinkCalls,
    writeRecordsMinimum: Math.ceil(c.samplesWritten / 100),
    // Detection reads training progress (train:loss) with GetMetricData as well.
    progressGetMetricDataCalls: gmdTotal - c.getMetricDataCalls,
    heapUsedMiB: mib(mem.heapUsed),
    rssMiB: mib(mem.rss),
  });
  process.stderr.write(
    `scale: run at ${new Date(s.nowMs).toISOString()}: collect ${(s.collectMs / 1000).toFixed(2)} s, detect ${(s.detectMs / 1000).toFixed(2)} s, ${s.samples} samples\n`,
  );
};

const t0 = performance.now();
await runSimulation(parsed.scenario, { backend: 'memory', cadenceMinutes: 5, onStep });
const wallSeconds = Math.round((performance.now() - t0) / 100) / 10;
const last = runs.at(-1);
if (last === undefined) throw new Error('scale: no collection run happened');
const slowest = runs.reduce((a, b) =>
  a.collectSeconds + a.detectSeconds >= b.collectSeconds + b.detectSeconds ? a : b,
);

console.log(
  `\nScale: ${gpus.toLocaleString('en-US')} GPUs, ${runs.length} runs at 5 min (${wallSeconds} s wall incl. the simulator)\n`,
);
console.log(
  '| run | collect | detect | collect + detect (CPU) | GPU-minutes | series | GetMetricData (min) | metrics requested | ListMetrics (min) | WriteRecords (min) | progress GetMetricData | heap | RSS |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const [label, r] of [
  ['first (inventory discovery)', runs[0] ?? last],
  ['last (steady)', last],
  ['slowest', slowest],
] as const)
  console.log(
    `| ${label} ${r.nowIso.slice(11, 16)} | ${r.collectSeconds} s | ${r.detectSeconds} s | ${(r.collectSeconds + r.detectSeconds).toFixed(2)} s (${r.cpuSeconds} s) | ${r.samples.toLocaleString('en-US')} | ${r.series.toLocaleString('en-US')} | ${r.getMetricDataCalls} (${r.getMetricDataMinimum}) | ${r.metricsRequested.toLocaleString('en-US')} | ${r.listMetricsCalls} (${r.listMetricsMinimum}) | ${r.writeRecordsCalls} (${r.writeRecordsMinimum}) | ${r.progressGetMetricDataCalls} | ${r.heapUsedMiB} MiB | ${r.rssMiB} MiB |`,
  );
console.log(
  `\nPeak RSS ${mib(peakRss)} MiB (process baseline before the simulation ${baselineRss} MiB; the simulator's state is included).`,
);

mkdirSync(dirname(args.json), { recursive: true });
writeFileSync(
  args.json,
  `${JSON.stringify({ gpus, nodes, minutes, wallSeconds, machine: machine(), peakRssMiB: mib(peakRss), baselineRssMiB: baselineRss, runs }, null, 2)}\n`,
);
console.log(`Wrote ${args.json}`);
