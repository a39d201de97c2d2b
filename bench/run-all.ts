/**
 * `npm run bench`: every benchmark in sequence, each in its own Node process (so one's memory
 * figures are not another's), continuing past a failure and exiting non-zero at the end if any
 * failed. The alert-quality benchmark runs shortened to 3 simulated days here; the full 30 days
 * is `npm run bench:quality` (docs/benchmarks.md).
 *
 *   npm run bench      (or: npx tsx bench/run-all.ts [--only latency,cost])
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';

const BENCHES: readonly { name: string; file: string; args: string[]; node?: string[] }[] = [
  { name: 'collector', file: 'bench/collector.bench.ts', args: [] },
  { name: 'detect', file: 'bench/detect.bench.ts', args: [] },
  { name: 'latency', file: 'bench/latency.bench.ts', args: [] },
  { name: 'cost', file: 'bench/cost.bench.ts', args: [] },
  { name: 'scale', file: 'bench/scale.bench.ts', args: [] },
  // Node flags as in package.json bench:quality.
  {
    name: 'quality',
    file: 'bench/alert-quality.bench.ts',
    args: ['--days', '3'],
    node: ['--max-semi-space-size=64'],
  },
];

const { values } = parseArgs({ options: { only: { type: 'string' } } });
const only = values.only?.split(',');
for (const o of only ?? [])
  if (!BENCHES.some((b) => b.name === o))
    throw new Error(`--only: got ${o}; allowed ${BENCHES.map((b) => b.name).join(', ')}`);

const failed: string[] = [];
const timings: string[] = [];
for (const b of BENCHES) {
  if (only !== undefined && !only.includes(b.name)) continue;
  if (!existsSync(b.file)) {
    console.log(`\n== ${b.name}: ${b.file} does not exist; not run`);
    failed.push(`${b.name} (missing)`);
    continue;
  }
  console.log(`\n== ${b.name}: tsx ${b.file} ${b.args.join(' ')}`);
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', ...(b.node ?? []), '--import', 'tsx', b.file, ...b.args],
    {
      stdio: 'inherit',
    },
  );
  const seconds = Math.round((performance.now() - t0) / 1000);
  timings.push(`${b.name} ${seconds} s`);
  if (r.status !== 0) failed.push(`${b.name} (exit ${r.status ?? r.signal})`);
}
console.log(`\n== done: ${timings.join(', ')}`);
if (failed.length > 0) {
  console.error(`failed: ${failed.join(', ')}`);
  process.exit(1);
}
