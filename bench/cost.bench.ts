/**
 * Cadence trade-off benchmark: detection latency and monthly cost at collection cadences of 1, 2,
 * 5 and 10 minutes.
 *
 *   latency  the latency set of bench/latency.bench.ts (every fault kind, --seeds per kind) at each
 *            cadence, through runSimulation (memory backend) with its cadenceMinutes option
 *   cost     a 6-hour run of the reference fleet scaled down 10× (120 GPUs in the reference's four
 *            clusters and two regions, 3,500 jobs/day, no faults) at each cadence; its API calls
 *            and store operations scaled to the reference (1,200 GPUs, 35,000 jobs/day, 30 days)
 *            and priced with lambdas/contracts/prices.ts (bench/lib/cost-model.ts)
 *
 *   npm run bench:cost     (or: npx tsx bench/cost.bench.ts [--seeds 3] [--cadences 1,2,5,10]
 *                           [--workers N] [--json out/bench/cost.json])
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { collectionCostPerGpuMonth } from '../lambdas/core/cost/collection-cost';
import { FAULT_KINDS, type ScenarioInput, validateScenario } from '../lambdas/sim/scenario';
import { runSimulation } from '../lambdas/wiring/simulation';
import { type CostEstimate, estimateMonthlyCost, REFERENCE, serviceTotal } from './lib/cost-model';
import { LATENCY_LIMIT_SECONDS, rowsByKind } from './lib/latency-table';
import { machine } from './lib/machine';
import { runPool } from './lib/pool';
import type { RunTask } from './lib/run-outcome';
import { latencyStats } from './lib/stats';

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '3' },
    cadences: { type: 'string', default: '1,2,5,10' },
    workers: { type: 'string' },
    json: { type: 'string', default: 'out/bench/cost.json' },
  },
});
const seeds = Number(args.seeds);
if (!Number.isInteger(seeds) || seeds < 0)
  throw new Error(`--seeds: got ${args.seeds}; allowed an integer >= 0`);
const cadences = args.cadences.split(',').map(Number);
for (const c of cadences)
  if (!Number.isInteger(c) || c < 1 || c > 60)
    throw new Error(`--cadences: got ${c}; allowed integers 1..60`);

// 1. Cost: the reference fleet scaled down 10×, 6 hours, at each cadence.
const COST_INPUT: ScenarioInput = {
  name: 'cost-reference-tenth',
  seed: 20260901,
  start: '2026-09-08T00:00:00Z',
  duration: '6h',
  tick: '1m',
  fleet: [
    { cluster: 'train-a', region: 'us-east-1', instanceType: 'p5.48xlarge', nodes: 5, gpusPerNode: 8 },
    { cluster: 'train-b', region: 'us-east-1', instanceType: 'p4d.24xlarge', nodes: 3, gpusPerNode: 8 },
    { cluster: 'train-c', region: 'us-west-2', instanceType: 'p5.48xlarge', nodes: 4, gpusPerNode: 8 },
    { cluster: 'train-d', region: 'us-west-2', instanceType: 'p4d.24xlarge', nodes: 3, gpusPerNode: 8 },
  ],
  workload: { jobsPerDay: 3500, mix: { interactive: 0.8, batch: 0.199, distributed: 0.001 }, seasonal: [] },
  maintenance: [],
  faults: [],
};
const parsed = validateScenario(COST_INPUT);
if (!parsed.ok) throw new Error(`cost scenario invalid:\n${parsed.errors.join('\n')}`);
const costScenario = parsed.scenario;
const gpus = costScenario.fleet.reduce((s, f) => s + f.nodes * f.gpusPerNode, 0);

const costs: CostEstimate[] = [];
const measurements = [];
for (const cadenceMinutes of cadences) {
  let busyMs = 0;
  const r = await runSimulation(costScenario, {
    backend: 'memory',
    cadenceMinutes,
    onStep: (s) => {
      busyMs += s.cpuMs;
    },
  });
  const m = {
    cadenceMinutes,
    gpus,
    jobsPerDay: costScenario.workload.jobsPerDay,
    simulatedHours: costScenario.durationMs / 3_600_000,
    runs: r.runs,
    apiCalls: r.apiCalls,
    storeOps: r.storeOps,
    sinkRecords: r.sinkRecords,
    jobEvents: r.jobEvents,
    routeBatches: r.routeBatches,
    collectDetectSecondsPerRun: busyMs / 1000 / r.runs,
  };
  measurements.push({ ...m, wallSeconds: r.runtimeSeconds, notifications: r.notifications.length });
  costs.push(estimateMonthlyCost(m));
  process.stderr.write(`cost: cadence ${cadenceMinutes} min measured (${r.runtimeSeconds} s)\n`);
}

// 2. Latency at each cadence.
const kinds = [...FAULT_KINDS];
const tasks: RunTask[] = cadences.flatMap((cadenceMinutes) =>
  kinds.flatMap((kind) =>
    Array.from({ length: seeds }, (_, seedIndex) => ({ kind, seedIndex, cadenceMinutes })),
  ),
);
const t0 = performance.now();
const outcomes = await runPool(tasks, {
  ...(args.workers === undefined ? {} : { workers: Number(args.workers) }),
  onDone: (done, total) => {
    if (done % 20 === 0 || done === total) process.stderr.write(`cadence latency: ${done}/${total} runs\n`);
  },
});
const latencyWallSeconds = Math.round((performance.now() - t0) / 100) / 10;

const usd = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toFixed(3));
const rows = cadences.map((cadenceMinutes, i) => {
  const mine = outcomes.filter(
    (o) => o.task.cadenceMinutes === cadenceMinutes && o.fault.status !== 'unresolved',
  );
  const overall = latencyStats(
    mine.map((o) => (o.fault.detected ? o.fault.latencySeconds : null)),
    LATENCY_LIMIT_SECONDS,
  );
  const byKind = rowsByKind(
    outcomes.filter((o) => o.task.cadenceMinutes === cadenceMinutes),
    kinds,
  );
  const cost = costs[i] as CostEstimate;
  return {
    cadenceMinutes,
    latency: overall,
    kindsMeeting15Min: byKind.filter((r) => r.detected > 0 && r.meetsLimit).map((r) => r.kind),
    kindsDetected: byKind.filter((r) => r.detected > 0).map((r) => r.kind),
    byKind,
    cost,
    analyticGetMetricDataUsdPerGpuMonth: collectionCostPerGpuMonth({ signalsPerGpu: 15, cadenceMinutes })
      .getMetricDataUsdPerGpuMonth,
  };
});

console.log(
  `\nCadence, latency and cost (${seeds} seeds × ${kinds.length} kinds per cadence; cost at ${REFERENCE.gpus} GPUs, ${REFERENCE.jobsPerDay} jobs/day, ${REFERENCE.days} days)\n`,
);
console.log(
  '| cadence | detected | p50 (s) | p95 (s) | kinds detected / with p95 ≤ 900 s | CloudWatch $/mo | Lambda $/mo | Timestream $/mo | other $/mo | total $/mo | $/GPU-month |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const cw = serviceTotal(r.cost, 'CloudWatch');
  const lambda = serviceTotal(r.cost, 'Lambda');
  const ts = serviceTotal(r.cost, 'Timestream');
  console.log(
    `| ${r.cadenceMinutes} min | ${r.latency.detectedPercent} % | ${r.latency.p50Seconds ?? '–'} | ${r.latency.p95Seconds ?? '–'} | ${r.kindsDetected.length} / ${r.kindsMeeting15Min.length} | ${usd(cw)} | ${usd(lambda)} | ${usd(ts)} | ${usd(r.cost.usdPerMonth - cw - lambda - ts)} | ${usd(r.cost.usdPerMonth)} | ${r.cost.usdPerGpuMonth.toFixed(3)} |`,
  );
}
const five = rows.find((r) => r.cadenceMinutes === 5);
if (five !== undefined) {
  console.log('\nCost lines at 5 min:');
  for (const l of five.cost.lines)
    console.log(
      `  ${l.service.padEnd(11)} ${l.item.padEnd(44)} ${Math.round(l.quantityPerMonth).toLocaleString('en-US').padStart(14)}  $${usd(l.usdPerMonth)}`,
    );
}

mkdirSync(dirname(args.json), { recursive: true });
writeFileSync(
  args.json,
  `${JSON.stringify({ seeds, cadences, latencyWallSeconds, machine: machine(), reference: REFERENCE, rows, measurements, runs: outcomes }, null, 2)}\n`,
);
console.log(`\nWrote ${args.json}`);
