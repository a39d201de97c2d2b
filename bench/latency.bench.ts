/**
 * Detection-latency benchmark: for each of the 16 fault kinds, N seeded runs of a small scenario
 * with one fault (bench/lib/latency-scenarios.ts) through runSimulation (memory backend), in
 * parallel worker processes; per kind: runs, detected %, p50 / p95 / max latency against the
 * 15-minute requirement, the severity and cause the incidents carried. Kinds that are never
 * detected are listed as such.
 *
 *   npm run bench:latency     (or: npx tsx bench/latency.bench.ts [--seeds 15] [--workers N]
 *                              [--kinds xid,ecc_dbe] [--json out/bench/latency.json])
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { FAULT_KINDS } from '../lambdas/sim/scenario';
import { latencyMarkdown, rowsByKind } from './lib/latency-table';
import { machine } from './lib/machine';
import { runPool } from './lib/pool';
import type { RunTask } from './lib/run-outcome';

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '15' },
    workers: { type: 'string' },
    kinds: { type: 'string' },
    json: { type: 'string', default: 'out/bench/latency.json' },
  },
});
const seeds = Number(args.seeds);
if (!Number.isInteger(seeds) || seeds < 1)
  throw new Error(`--seeds: got ${args.seeds}; allowed an integer >= 1`);
const kinds = args.kinds === undefined ? [...FAULT_KINDS] : args.kinds.split(',');
for (const k of kinds)
  if (!(FAULT_KINDS as readonly string[]).includes(k))
    throw new Error(`--kinds: got ${k}; allowed ${FAULT_KINDS.join(', ')}`);

const tasks: RunTask[] = kinds.flatMap((kind) =>
  Array.from({ length: seeds }, (_, seedIndex) => ({ kind, seedIndex, cadenceMinutes: null })),
);
const t0 = performance.now();
const outcomes = await runPool(tasks, {
  ...(args.workers === undefined ? {} : { workers: Number(args.workers) }),
  onDone: (done, total) => {
    if (done % 20 === 0 || done === total) process.stderr.write(`latency: ${done}/${total} runs\n`);
  },
});
const wallSeconds = Math.round((performance.now() - t0) / 100) / 10;
const rows = rowsByKind(outcomes, kinds);
console.log(
  `Detection latency, ${seeds} seeds per kind, memory backend, cadence 5 min (${wallSeconds} s wall)\n`,
);
console.log(latencyMarkdown(rows));
const missed = rows.filter((r) => r.detected === 0).map((r) => r.kind);
if (missed.length > 0) console.log(`\nNever detected: ${missed.join(', ')}`);

mkdirSync(dirname(args.json), { recursive: true });
writeFileSync(
  args.json,
  `${JSON.stringify({ seeds, wallSeconds, machine: machine(), limitSeconds: 900, rows, runs: outcomes }, null, 2)}\n`,
);
console.log(`\nWrote ${args.json}`);
