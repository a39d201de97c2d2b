import { describe, expect, it } from 'vitest';
import {
  type DecompositionCase,
  expectAttributedTo,
  onset,
  runCasesBeforeAll,
} from './kpi-decomposition-cases';

/**
 * Goodput decomposition on simulated faults of a known cause (issue 6): hardware, software and
 * scheduling on the busy fleet (see kpi-decomposition-cases.ts for the timeline). Data I/O, network
 * and the two classic findings: kpi-decomposition-io.test.ts.
 */

const CASES = {
  // Fatal Xid 79 (GPU fell off the bus) on a quarter of the nodes: capacity out, jobs killed.
  hardware: {
    name: 'hardware',
    mix: 'busy',
    jobsPerDay: 1500,
    faults: [0, 1, 2, 3].map((node) => ({
      id: `xid79-node-${node}`,
      kind: 'xid',
      at: onset,
      target: { cluster: 'train-a', node },
      params: { code: 79 },
      duration: '2h',
    })),
  },
  // A driver rolled out to half the nodes crashes 90 % of the jobs placed there.
  software: {
    name: 'software',
    mix: 'busy',
    jobsPerDay: 1500,
    faults: [
      {
        id: 'driver',
        kind: 'driver_regression',
        at: onset,
        target: { cluster: 'train-a', fraction: 0.5 },
        params: { driverVersion: '999.99', failureRate: 0.9 },
      },
    ],
  },
  // The scheduler holds every queued job back 90 minutes.
  scheduling: {
    name: 'scheduling',
    mix: 'busy',
    jobsPerDay: 1500,
    faults: [
      {
        id: 'contention',
        kind: 'scheduler_contention',
        at: onset,
        target: { cluster: 'train-a' },
        params: { extraQueueMinutes: 90 },
        duration: '2h',
      },
    ],
  },
} satisfies Record<string, DecompositionCase>;

const result = runCasesBeforeAll(CASES);

describe('goodput decomposition on simulated faults of a known cause', () => {
  it('hardware: nodes lost to fatal Xids', () => {
    const d = expectAttributedTo(result('hardware'), 'hardware');
    expect(d.shares.hardware).toBeGreaterThan(0.8);
  });

  it('software: a driver regression crashing jobs (their lost work and start-up)', () => {
    const d = expectAttributedTo(result('software'), 'software');
    // Nothing about it is capacity or queueing: scheduling and idle capacity carry no share.
    expect(d.shares.scheduling).toBe(0);
    expect(d.shares['idle-capacity']).toBe(0);
  });

  it('scheduling: scheduler contention holding queued jobs back', () => {
    const d = expectAttributedTo(result('scheduling'), 'scheduling');
    expect(d.shares.hardware).toBe(0);
  });
});
