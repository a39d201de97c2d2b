import { beforeAll, expect } from 'vitest';
import { HOUR_MS, MINUTE_MS } from '../../lambdas/core/time';
import { type ScenarioInput, validateScenario } from '../../lambdas/sim/scenario';
import { runSimulation, type SimulationResult } from '../../lambdas/wiring/simulation';
import type { SimulationGoodputDrop } from '../../lambdas/wiring/simulation-kpis';

/**
 * Goodput decomposition on simulated faults whose cause is known (issue 6), shared by
 * kpi-decomposition*.test.ts. One 16-node p5 cluster; the fleet warms up for five hours (it starts
 * empty), the fault hits at 11:00 and lasts to the end of the run at 13:00. computeKpis runs every
 * hour over a 2 h window compared with the 2 h before it, so the run at ~12:57 compares the fault's
 * two hours with the two hours before the onset:
 *
 *   06:00        09:00 ─── previous ─── 11:00 ─── current ─── 12:57   13:00
 *   start        (warm-up)             onset ▲ fault ────────────────────┘
 *
 * Workload mixes: 'busy' (70 % batch, 20 % distributed by count; distributed jobs hold most of the
 * GPU-hours, the queue never empties, so failed or slowed jobs are not hidden by idle capacity) and
 * 'light' (mostly batch, spare capacity). Thresholds are the defaults (8 % relative drop): the
 * fault parameters are chosen so the drop stands well above the fleet's hour-to-hour noise.
 */

export const START = '2026-09-15T06:00:00Z';
const ONSET_MINUTES = 300;
export const ONSET_MS = Date.parse(START) + ONSET_MINUTES * MINUTE_MS;
type FaultInput = NonNullable<ScenarioInput['faults']>[number];

export const onset = new Date(ONSET_MS).toISOString().replace('.000Z', 'Z');

const MIXES = {
  busy: { interactive: 0.1, batch: 0.7, distributed: 0.2 },
  light: { interactive: 0.2, batch: 0.78, distributed: 0.02 },
} as const;

export interface DecompositionCase {
  readonly name: string;
  readonly mix: keyof typeof MIXES;
  readonly jobsPerDay: number;
  /** workload.targetLoad (default 0.6); above 1 the fleet is oversubscribed and its queue grows. */
  readonly targetLoad?: number;
  readonly faults: readonly FaultInput[];
}

export function scenarioFor(c: DecompositionCase): ScenarioInput {
  return {
    name: `kpi-decomposition-${c.name}`,
    seed: 7,
    start: START,
    duration: '7h',
    tick: '1m',
    fleet: [
      { cluster: 'train-a', region: 'us-east-1', instanceType: 'p5.48xlarge', nodes: 16, gpusPerNode: 8 },
    ],
    workload: {
      jobsPerDay: c.jobsPerDay,
      mix: { ...MIXES[c.mix] },
      seasonal: [],
      ...(c.targetLoad === undefined ? {} : { targetLoad: c.targetLoad }),
    },
    maintenance: [],
    faults: [...c.faults],
  };
}

export async function runCase(c: DecompositionCase): Promise<SimulationResult> {
  const v = validateScenario(scenarioFor(c));
  if (!v.ok) throw new Error(v.errors.join('\n'));
  return runSimulation(v.scenario, { kpis: { everyMs: HOUR_MS, windowMs: 2 * HOUR_MS } });
}

/** The largest fleet-scope goodput drop reported after the onset. */
export function dropAfterOnset(r: SimulationResult): SimulationGoodputDrop | undefined {
  return r.goodputDrops
    .filter((d) => d.scope === 'fleet' && d.atMs > ONSET_MS)
    .sort((a, b) => b.dropPercent - a.dropPercent)[0];
}

/**
 * The decomposition names `category`: the drop's (and its incident's) cause, the largest share,
 * and most of the lost GPU-hours (more than all other categories together).
 */
export function expectAttributedTo(r: SimulationResult, category: string): SimulationGoodputDrop {
  const d = dropAfterOnset(r);
  expect(d, `no fleet goodput drop after the onset; drops: ${JSON.stringify(r.goodputDrops)}`).toBeDefined();
  const drop = d as SimulationGoodputDrop;
  expect(drop.dropPercent).toBeGreaterThanOrEqual(8);
  expect(drop.cause, JSON.stringify(drop)).toBe(category);
  const share = drop.shares[category] ?? 0;
  for (const [c, s] of Object.entries(drop.shares)) if (c !== category) expect(s, c).toBeLessThan(share);
  expect(share, JSON.stringify(drop.shares)).toBeGreaterThan(0.5);
  expect(share * drop.lostGpuHours).toBeGreaterThan((1 - share) * drop.lostGpuHours);
  // The incident the router opened for it carries the same cause.
  const incidents = r.incidents.filter(
    (i) => i.kind === 'kpi.goodput_drop' && i.cause === category && i.lastSeenMs >= ONSET_MS,
  );
  expect(incidents.length).toBeGreaterThan(0);
  return drop;
}

/**
 * Runs every case once before the file's tests (one after another: each is a full simulation) and
 * returns the accessor of their results.
 */
export function runCasesBeforeAll<K extends string>(
  cases: Readonly<Record<K, DecompositionCase>>,
): (k: K) => SimulationResult {
  const results = new Map<K, SimulationResult>();
  beforeAll(async () => {
    for (const key of Object.keys(cases) as K[]) results.set(key, await runCase(cases[key]));
  }, 180_000);
  return (k) => {
    const r = results.get(k);
    if (r === undefined) throw new Error(`decomposition case ${k} did not run`);
    return r;
  };
}
