import { expect } from 'vitest';
import { latencyScenario, type ShapeSpec, shapeFor } from '../../bench/lib/latency-scenarios';
import type { Cause, Severity } from '../../lambdas/contracts/finding';
import type { FaultKind, Scenario } from '../../lambdas/sim/scenario';
import { runSimulation, type SimulationResult, summaryOf } from '../../lambdas/wiring/simulation';

/**
 * Shared by test/scenarios/fault-kinds-*.test.ts (split in three so that vitest runs them in
 * parallel): one short seeded scenario per fault kind (bench/lib/latency-scenarios.ts, the latency
 * benchmark's scenarios), run on the memory backend, judged against what the product promises
 * for that kind. The expectations below are written out here on purpose, not read from the
 * simulator's ground truth (lambdas/sim/faults.ts expectationFor): a test that asked the code
 * under test what to expect could not fail. Where they disagree, the test says so.
 */

/** The 15-minute detection requirement (issue 5), promised for page-worthy hardware faults. */
export const PAGE_LATENCY_S = 15 * 60;

export interface KindExpectation {
  readonly kind: FaultKind;
  /** Cause category on the incident (issue 5: hardware, software, scheduling, data-io, ...). */
  readonly cause: Cause;
  /** Severity of the first notification. */
  readonly severity: Severity;
  /** Latency bound where the product promises one. */
  readonly maxLatencySeconds?: number;
}

const promptPage = { severity: 'page', maxLatencySeconds: PAGE_LATENCY_S } as const;

/**
 * The latency scenarios use fatal Xids (79, 48, 95: page, hardware), batch jobs for the job kinds
 * (a batch job stalling is a ticket; only distributed jobs page) and a distributed job for
 * network_degradation (a degraded fabric slows it: ticket).
 */
export const EXPECTED: Readonly<Record<FaultKind, KindExpectation>> = {
  xid: { kind: 'xid', cause: 'hardware', ...promptPage },
  ecc_dbe: { kind: 'ecc_dbe', cause: 'hardware', ...promptPage },
  gpu_fell_off_bus: { kind: 'gpu_fell_off_bus', cause: 'hardware', ...promptPage },
  ecc_sbe_storm: { kind: 'ecc_sbe_storm', cause: 'hardware', severity: 'ticket' },
  thermal_throttle: { kind: 'thermal_throttle', cause: 'hardware', severity: 'ticket' },
  power_cap: { kind: 'power_cap', cause: 'hardware', severity: 'ticket' },
  gaming_dummy_load: { kind: 'gaming_dummy_load', cause: 'efficiency', severity: 'ticket' },
  job_stall: { kind: 'job_stall', cause: 'software', severity: 'ticket' },
  job_idle: { kind: 'job_idle', cause: 'efficiency', severity: 'ticket' },
  checkpoint_stall: { kind: 'checkpoint_stall', cause: 'data-io', severity: 'ticket' },
  dataloader_bottleneck: { kind: 'dataloader_bottleneck', cause: 'data-io', severity: 'ticket' },
  network_degradation: { kind: 'network_degradation', cause: 'network', severity: 'ticket' },
  driver_regression: { kind: 'driver_regression', cause: 'software', severity: 'page' },
  scheduler_contention: { kind: 'scheduler_contention', cause: 'scheduling', severity: 'ticket' },
  fleet_utilisation_drop: { kind: 'fleet_utilisation_drop', cause: 'efficiency', severity: 'ticket' },
  model_drift: { kind: 'model_drift', cause: 'model', severity: 'ticket' },
};

/** FAULT_KINDS in three parts, one test file each (fault-kinds-<part>.test.ts). */
export const PARTS = {
  hardware: [
    'xid',
    'ecc_dbe',
    'gpu_fell_off_bus',
    'ecc_sbe_storm',
    'thermal_throttle',
    'power_cap',
    'gaming_dummy_load',
    'model_drift',
  ],
  jobs: ['job_stall', 'job_idle', 'checkpoint_stall', 'dataloader_bottleneck', 'network_degradation'],
  fleet: ['driver_regression', 'scheduler_contention', 'fleet_utilisation_drop'],
} as const satisfies Record<string, readonly FaultKind[]>;

/** The seed index every kind runs with (fixed: the same scenario on every run of the suite). */
export const SEED_INDEX = 0;

/**
 * Shapes changed from the benchmark's for this suite. The fleet drop fault turns new arrivals
 * away, so utilisation falls only as running jobs finish: on 4 nodes its effect was smaller than
 * an ordinary hour-to-hour dip of the day before (a false drop at 4.6 noise sigmas against the
 * fault's 2.0), which no honest detector separates. The cohort shape's 16 nodes and 2,000 jobs a
 * day, with two more hours after the fault, let the drop build up above the day-to-day noise.
 */
const CHANGED: Readonly<Partial<Record<FaultKind, Partial<ShapeSpec>>>> = {
  fleet_utilisation_drop: { runMinutes: shapeFor('fleet_utilisation_drop').runMinutes + 120 },
};

export function scenarioFor(kind: FaultKind): Scenario {
  return latencyScenario(kind, SEED_INDEX, { ...shapeFor(kind), ...CHANGED[kind] });
}

export const byKinds = (kinds: readonly FaultKind[]): KindExpectation[] => kinds.map((k) => EXPECTED[k]);

/** A readable account of what the run did, printed when an assertion fails. */
function story(result: SimulationResult): string {
  const iso = (ms: number) => new Date(ms).toISOString().slice(5, 16);
  const incidents = result.incidents.map(
    (i) =>
      `  incident ${i.kind} ${i.cause}/${i.severity} ${i.status} first ${iso(i.firstSeenMs)} ${JSON.stringify(i.labels)}`,
  );
  const notes = result.notifications.map(
    (n) => `  notify ${iso(n.atMs)} ${n.event} ${n.kind} ${n.category}/${n.severity}`,
  );
  return [...incidents, ...notes].join('\n') || '  (no incidents, no notifications)';
}

/** Runs the kind's scenario and asserts detection, routing, no false or duplicate notification. */
export async function expectDetectedAndRouted(e: KindExpectation): Promise<void> {
  const scenario = scenarioFor(e.kind);
  const result = await runSimulation(scenario, { backend: 'memory' });
  const summary = summaryOf(result);
  const context = `${scenario.name} (fault at ${scenario.faults[0]?.atMs === undefined ? '?' : new Date(scenario.faults[0].atMs).toISOString()}):\n${story(result)}`;

  expect(summary.faults, context).toHaveLength(1);
  const fault = summary.faults[0];
  if (fault === undefined) throw new Error('unreachable: one fault');
  expect(fault.kind).toBe(e.kind);
  // The fault took hold (a job-targeted fault found its job).
  expect(['active', 'ended'], context).toContain(fault.status);
  // The simulator's ground truth agrees with the product's promise (else the score judges wrong).
  expect({ cause: fault.expectedCause, severity: fault.expectedSeverity }).toEqual({
    cause: e.cause,
    severity: e.severity,
  });

  // Detected: an incident that explains the fault notified.
  expect(fault.detected, `not detected: ${context}`).toBe(true);
  expect(fault.latencySeconds ?? 0).toBeGreaterThan(0);
  if (e.maxLatencySeconds !== undefined) {
    expect(fault.latencySeconds ?? Number.POSITIVE_INFINITY, context).toBeLessThanOrEqual(
      e.maxLatencySeconds,
    );
  }

  // Routed: the right cause category and severity, on the incident and its notification.
  expect({ cause: fault.cause, severity: fault.severity }, context).toEqual({
    cause: e.cause,
    severity: e.severity,
  });
  const incident = result.incidents.find((i) => i.id === fault.incidentId);
  expect(incident?.cause, context).toBe(e.cause);
  const opened = result.notifications.filter((n) => n.event === 'open' && n.incidentId === fault.incidentId);
  expect(opened.map((n) => n.category)).toEqual([e.cause]);

  // Quiet otherwise: nothing no fault explains, no second page for the same fault.
  expect(summary.falseNotifications, context).toEqual([]);
  expect(summary.duplicates, context).toEqual([]);
  expect(summary.duplicateNotifications).toBe(0);
}
