import { beforeAll, describe, expect, it } from 'vitest';
import type { FaultTruth } from '../../../lambdas/sim/faults';
import { FleetSimulator } from '../../../lambdas/sim/simulator';
import type { SimJob } from '../../../lambdas/sim/workload';
import { baseInput, HOUR, MIN, scenarioFrom } from './fixtures';
import { at, START } from './signature-scenario';

/**
 * A dataloader_bottleneck aimed at a cluster (the shared input path, e.g. its file system): every
 * job training there at the onset is slowed, and so is every job that starts training there while
 * it lasts, whatever its class; jobs that start after it ended and jobs on other clusters are not.
 */
const ONSET_MIN = 120;
const END_MIN = 180;
let sim: FleetSimulator;
let truth: FaultTruth;

beforeAll(() => {
  const scenario = scenarioFrom(
    baseInput({
      duration: '4h',
      fleet: [
        { cluster: 'slow', region: 'us-east-1', instanceType: 'p5.48xlarge', nodes: 4, gpusPerNode: 8 },
        { cluster: 'other', region: 'us-east-1', instanceType: 'p5.48xlarge', nodes: 4, gpusPerNode: 8 },
      ],
      workload: {
        jobsPerDay: 6000,
        mix: { interactive: 0.3, batch: 0.65, distributed: 0.05 },
        targetLoad: 0.9,
      },
      faults: [
        {
          id: 'storage',
          kind: 'dataloader_bottleneck',
          at: at(ONSET_MIN),
          target: { cluster: 'slow' },
          params: { slowdown: 2 },
          duration: `${END_MIN - ONSET_MIN}m`,
        },
      ],
    }),
  );
  sim = new FleetSimulator(scenario, { retentionMs: 6 * HOUR, jobRetentionMs: 6 * HOUR });
  while (!sim.done) sim.step();
  truth = sim.groundTruth()[0] as FaultTruth;
});

const slowed = (j: SimJob) => j.effectLog.some((e) => e.effect.faultId === 'storage');
const trainingStartMin = (j: SimJob) => ((j.trainingStartMs ?? Number.NaN) - START) / MIN;
const trainingAt = (j: SimJob, minute: number) =>
  j.transitions.some(
    (tr) =>
      tr.status === 'Training' &&
      tr.startMs <= START + minute * MIN &&
      (tr.endMs ?? Number.POSITIVE_INFINITY) > START + minute * MIN,
  );

describe('dataloader_bottleneck on a cluster', () => {
  it('slows every job training on the cluster at the onset, of every class', () => {
    const atOnset = [...sim.retainedJobs()].filter(
      (j) => j.cluster === 'slow' && trainingStartMin(j) < ONSET_MIN && trainingAt(j, ONSET_MIN),
    );
    expect(atOnset.length).toBeGreaterThan(3);
    expect(atOnset.filter((j) => !slowed(j)).map((j) => j.name)).toEqual([]);
    expect(new Set(atOnset.map((j) => j.cls)).size).toBeGreaterThan(1);
  });

  it('slows jobs that start training there while it lasts, not those after it or elsewhere', () => {
    const slow = [...sim.retainedJobs()].filter((j) => j.cluster === 'slow');
    const joined = slow.filter((j) => trainingStartMin(j) >= ONSET_MIN + 1 && trainingStartMin(j) < END_MIN);
    expect(joined.length).toBeGreaterThan(3);
    expect(joined.filter((j) => !slowed(j)).map((j) => j.name)).toEqual([]);
    const after = slow.filter((j) => trainingStartMin(j) >= END_MIN);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter(slowed)).toEqual([]);
    expect([...sim.retainedJobs()].filter((j) => j.cluster === 'other' && slowed(j))).toEqual([]);
  });

  it('is data-io / ticket in the ground truth, labelled with the cluster', () => {
    expect(truth.expected).toEqual({ cause: 'data-io', severity: 'ticket' });
    expect(truth.labels.cluster).toBe('slow');
  });
});
