/**
 * Quick performance check of the simulator (a script, not a timed test):
 *
 *   npx tsx test/unit/sim/perf-check.ts            # 1 simulated hour of the reference fleet
 *   npx tsx test/unit/sim/perf-check.ts 24         # any number of hours
 *   npx tsx test/unit/sim/perf-check.ts 24 --fetch # also fetch every DCGM series every 5 minutes
 *
 * Prints wall seconds, simulated jobs and events, heap in use, and the 30-day extrapolation.
 * With --fetch it adds what a collector on a 5-minute cadence costs the simulator (every GPU ×
 * every simulator-profile signal, 5 minutes each time), the expensive part of a benchmark run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricQuery } from '../../../lambdas/core/ports';
import { simulatorProfile } from '../../../lambdas/sim/profile';
import { loadScenario } from '../../../lambdas/sim/scenario';
import { FleetSimulator } from '../../../lambdas/sim/simulator';
import { SimulatedMetricSource } from '../../../lambdas/sim/sources';

const hours = Number(process.argv[2] ?? 1);
const withFetch = process.argv.includes('--fetch');
const file = join(import.meta.dirname, '../../../scenarios/reference-30d.yaml');
const loaded = loadScenario(readFileSync(file, 'utf8'), file);
if (!loaded.ok) throw new Error(loaded.errors.join('\n'));

const started = performance.now();
const sim = new FleetSimulator(loaded.scenario);
const source = new SimulatedMetricSource(sim);
const signals = simulatorProfile().signals;
const queriesByRegion = new Map<string, MetricQuery[]>();
for (const node of sim.fleet.nodes) {
  const list = queriesByRegion.get(node.region) ?? [];
  for (let g = 0; g < node.gpuCount; g++) {
    for (const s of signals) {
      list.push({
        id: `q${list.length}`,
        series: {
          namespace: 'CWAgent/DCGM',
          metricName: s.metricName,
          dimensions: { ClusterName: node.cluster, Hostname: node.hostname, gpu: String(g) },
        },
        stat: s.stat,
        periodSeconds: 60,
      });
    }
  }
  queriesByRegion.set(node.region, list);
}

let events = 0;
let fetchMs = 0;
let datapoints = 0;
const until = loaded.scenario.startMs + hours * 3_600_000;
while (sim.nowMs < until && !sim.done) {
  events += sim.runUntil(sim.nowMs + 5 * 60_000).events.length;
  if (!withFetch) continue;
  const t0 = performance.now();
  for (const [region, queries] of queriesByRegion) {
    const r = await source.fetch({
      region,
      queries,
      startMs: sim.nowMs - 7 * 60_000,
      endMs: sim.nowMs - 2 * 60_000,
    });
    for (const d of r.data.values()) datapoints += d.timestamps.length;
  }
  fetchMs += performance.now() - t0;
  console.log(
    ((sim.nowMs - loaded.scenario.startMs) / 60000).toFixed(0),
    (performance.now() - t0).toFixed(0),
  );
}
const seconds = (performance.now() - started) / 1000;
const simulatedHours = (sim.nowMs - loaded.scenario.startMs) / 3_600_000;
console.log(
  JSON.stringify(
    {
      scenario: loaded.scenario.name,
      gpus: sim.fleet.gpuCount,
      simulatedHours,
      wallSeconds: Math.round(seconds * 100) / 100,
      fetchSeconds: Math.round(fetchMs) / 1000,
      datapointsFetched: datapoints,
      jobsCreated: sim.counters.jobsCreated,
      events,
      heapMiB: Math.round(process.memoryUsage().heapUsed / 1_048_576),
      extrapolated30dMinutes: Math.round((((seconds / simulatedHours) * 720) / 60) * 10) / 10,
      apiCalls: source.calls,
    },
    null,
    2,
  ),
);
