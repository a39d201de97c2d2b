import { beforeAll, describe, expect, it } from 'vitest';
import { parseSageMakerJobEvent, type SageMakerTrainingJobEvent } from '../../../lambdas/contracts/events';
import { LoadCurve, resolveMaintenance, seasonalFactor } from '../../../lambdas/sim/calendar';
import { buildFleet } from '../../../lambdas/sim/fleet';
import { FleetSimulator } from '../../../lambdas/sim/simulator';
import { publishesStepTimes } from '../../../lambdas/sim/step-time';
import { baseInput, committedScenario, HOUR, MIN, scenarioFrom } from './fixtures';

const DAY = 24 * HOUR;

describe('arrivals at reference scale', () => {
  const reference = committedScenario('reference-30d.yaml');
  let sim: FleetSimulator;
  const perMinute: number[] = [];

  beforeAll(() => {
    sim = new FleetSimulator(reference);
    while (sim.nowMs < reference.startMs + DAY) {
      let created = 0;
      for (const e of sim.step().events) if (e.detail.SecondaryStatus === 'Starting') created++;
      perMinute.push(created);
    }
  }, 60_000);

  it('creates jobsPerDay × the load curve over the day, within ±5 %', () => {
    const curve = new LoadCurve(reference.workload.seasonal, reference.startMs);
    let expected = 0;
    for (let t = reference.startMs; t < reference.startMs + DAY; t += MIN) {
      expected += (reference.workload.jobsPerDay / 1440) * curve.at(t);
    }
    const created = sim.counters.jobsCreated;
    expect(Math.abs(created - expected) / expected).toBeLessThan(0.05);
    // A weekday with retrains is busier than the weekly average, but not wildly so.
    expect(created / reference.workload.jobsPerDay).toBeGreaterThan(0.95);
    expect(created / reference.workload.jobsPerDay).toBeLessThan(1.3);
  });

  it('shows the weekday retrain window (02:00-04:30 New York) as an arrival peak', () => {
    // 2026-09-07 is a Monday; 02:00-04:30 EDT is 06:00-08:30 UTC. Compare with 03:00-05:30 UTC.
    const sum = (fromMin: number, toMin: number) =>
      perMinute.slice(fromMin, toMin).reduce((s, n) => s + n, 0);
    const peak = sum(6 * 60, 8 * 60 + 30);
    const before = sum(3 * 60, 5 * 60 + 30);
    expect(peak / before).toBeGreaterThan(1.5);
  });

  it('runs the reference fleet about 60 % busy with bounded queues', () => {
    let busy = 0;
    const minute = sim.nowMs - 10 * MIN;
    for (let g = 0; g < sim.fleet.gpuCount; g++) if ((sim.gpuValues(g, minute)?.gpu_util ?? 0) > 5) busy++;
    expect(busy / sim.fleet.gpuCount).toBeGreaterThan(0.4);
    expect(busy / sim.fleet.gpuCount).toBeLessThan(0.9);
    const queued = [...sim.fleet.clusters.keys()].reduce((s, c) => s + sim.queued(c).length, 0);
    expect(queued).toBeLessThan(500);
  });
});

describe('load curve and calendar', () => {
  it('normalises the curve to a mean of 1 over the first week', () => {
    const s = committedScenario('reference-30d.yaml');
    const curve = new LoadCurve(s.workload.seasonal, s.startMs);
    let sum = 0;
    let n = 0;
    for (let t = s.startMs; t < s.startMs + 7 * DAY; t += 5 * MIN) {
      sum += curve.at(t);
      n++;
    }
    expect(sum / n).toBeCloseTo(1, 6);
  });

  it('applies seasonal windows in their own time zone, including across DST', () => {
    const w = [
      { days: ['mon' as const], from: '02:00', to: '04:30', tz: 'America/New_York', loadFactor: 2.5 },
    ];
    expect(seasonalFactor(w, Date.parse('2026-09-14T06:30:00Z'))).toBe(2.5); // 02:30 EDT
    expect(seasonalFactor(w, Date.parse('2026-11-16T06:30:00Z'))).toBe(1); // 01:30 EST
    expect(seasonalFactor(w, Date.parse('2026-11-16T07:30:00Z'))).toBe(2.5); // 02:30 EST
    expect(seasonalFactor(w, Date.parse('2026-09-15T06:30:00Z'))).toBe(1); // Tuesday
  });

  it('resolves one-off and cron maintenance windows to intervals over the run', () => {
    const s = scenarioFrom(
      baseInput({
        duration: '15d',
        maintenance: [
          { scope: { cluster: 'train-a', node: 3 }, start: '2026-09-14T15:00:00Z', duration: '2h' },
          { scope: { cluster: 'train-b' }, cron: '0 6 * * sun', duration: '1h', tz: 'Europe/Berlin' },
        ],
      }),
    );
    const windows = resolveMaintenance(s, buildFleet(s));
    expect(windows.map((w) => [new Date(w.startMs).toISOString(), (w.endMs - w.startMs) / HOUR])).toEqual([
      ['2026-09-14T15:00:00.000Z', 2],
      ['2026-09-20T04:00:00.000Z', 1], // 06:00 CEST
      ['2026-09-27T04:00:00.000Z', 1],
    ]);
    expect(windows[0]?.hostname).toMatch(/^ip-10-16-0-13\.ec2\.internal$/);
  });
});

describe('maintenance windows in the simulation', () => {
  it('places nothing on a node in maintenance and stops what runs there when the window opens', () => {
    const s = scenarioFrom(
      baseInput({
        duration: '4h',
        fleet: [
          { cluster: 'train-a', region: 'us-east-1', instanceType: 'p5.48xlarge', nodes: 3, gpusPerNode: 8 },
        ],
        workload: { jobsPerDay: 1500, mix: { interactive: 0.7, batch: 0.3, distributed: 0 } },
        maintenance: [
          { scope: { cluster: 'train-a', node: 1 }, start: '2026-09-14T02:00:00Z', duration: '1h' },
        ],
      }),
    );
    const sim = new FleetSimulator(s, { retentionMs: 4 * HOUR, jobRetentionMs: 4 * HOUR });
    while (!sim.done) sim.step();
    const opens = Date.parse('2026-09-14T02:00:00Z');
    const node = sim.fleet.clusters.get('train-a')?.nodes[1];
    if (!node) throw new Error('no node');
    const onNode = [...sim.retainedJobs()].filter((j) => j.nodes.includes(node.index));
    expect(onNode.some((j) => (j.placedMs as number) >= opens && (j.placedMs as number) < opens + HOUR)).toBe(
      false,
    );
    const stopped = onNode.filter((j) =>
      j.transitions.some((t) => t.message?.includes('planned maintenance')),
    );
    expect(stopped.length).toBeGreaterThan(0);
    for (const j of stopped) expect(j.status).toBe('Stopped');
    for (let g = node.firstGpu; g < node.firstGpu + 8; g++) {
      expect(sim.gpuValues(g, opens + 30 * MIN)?.gpu_util).toBe(0);
    }
    expect(onNode.some((j) => (j.placedMs as number) >= opens + HOUR)).toBe(true);
  });
});

describe('SageMaker job lifecycle events', () => {
  let events: SageMakerTrainingJobEvent[];
  let sim: FleetSimulator;

  beforeAll(() => {
    sim = new FleetSimulator(committedScenario('demo.yaml'));
    events = [];
    while (!sim.done) events.push(...sim.step().events);
  });

  it('every event validates against lambdas/contracts/events.ts', () => {
    expect(events.length).toBeGreaterThan(300);
    for (const e of events) {
      const parsed = parseSageMakerJobEvent(JSON.stringify(e));
      if (!parsed.ok) throw new Error(`${e.detail.TrainingJobName}: ${parsed.detail}`);
    }
  });

  it('walks Starting → Downloading → Training → Uploading → Completed with rising LastModifiedTime', () => {
    const byJob = new Map<string, SageMakerTrainingJobEvent[]>();
    for (const e of events)
      byJob.set(e.detail.TrainingJobName, [...(byJob.get(e.detail.TrainingJobName) ?? []), e]);
    let completed = 0;
    for (const list of byJob.values()) {
      const times = list.map((e) => Number(e.detail.LastModifiedTime));
      for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1] as number);
      const statuses = list.map((e) => e.detail.SecondaryStatus);
      if (statuses.at(-1) === 'Completed') {
        completed++;
        expect(statuses).toEqual(['Starting', 'Downloading', 'Training', 'Uploading', 'Completed']);
      }
    }
    expect(completed).toBeGreaterThan(50);
  });

  it('failed jobs carry a FailureReason and only they do', () => {
    const failed = events.filter((e) => e.detail.TrainingJobStatus === 'Failed');
    expect(failed.length).toBeGreaterThan(0);
    for (const e of failed) expect(e.detail.FailureReason).toBeTruthy();
    for (const e of events.filter((x) => x.detail.TrainingJobStatus !== 'Failed')) {
      expect(e.detail.FailureReason).toBeUndefined();
    }
  });

  it('tags team, workload class, driver version, framework and image; long jobs checkpoint', () => {
    const parsed = events.map((e) => {
      const r = parseSageMakerJobEvent(JSON.stringify(e));
      if (!r.ok) throw new Error(r.detail);
      return r.event;
    });
    for (const e of parsed) {
      expect(Object.keys(e.detail.Tags)).toEqual(
        expect.arrayContaining(['team', 'workload-class', 'driver_version', 'framework', 'image']),
      );
    }
    const distributed = parsed.filter((e) => e.detail.Tags['workload-class'] === 'distributed');
    expect(distributed.length).toBeGreaterThan(0);
    for (const e of distributed) {
      expect(e.detail.CheckpointConfig?.S3Uri).toMatch(/^s3:\/\//);
      expect(e.detail.ResourceConfig?.InstanceCount).toBeGreaterThanOrEqual(2);
    }
  });

  it('interactive jobs last minutes, distributed ones hours', () => {
    const minutes = (cls: string) =>
      [...sim.retainedJobs()]
        .filter((j) => j.cls === cls && j.status === 'Completed' && j.trainingStartMs !== undefined)
        .map((j) => ((j.endMs as number) - (j.trainingStartMs as number)) / MIN)
        .sort((a, b) => a - b);
    const interactive = minutes('interactive');
    expect(interactive[Math.floor(interactive.length / 2)]).toBeLessThan(20);
    const batch = minutes('batch');
    expect(batch[Math.floor(batch.length / 2)]).toBeGreaterThan(20);
    for (const j of sim.retainedJobs()) {
      if (j.cls === 'distributed') expect(j.plannedTrainMs).toBeGreaterThanOrEqual(2 * HOUR);
    }
  });

  it('exposes each job as a TrainingJobState and its placement', () => {
    const running = sim.activeJobs().find((j) => j.nodes.length > 0);
    expect(running).toBeDefined();
    if (!running) return;
    const state = sim.jobState(running);
    expect(state).toMatchObject({ jobName: running.name, status: 'InProgress', workloadClass: running.cls });
    // Progress, plus the step-time breakdown for the jobs whose framework publishes one.
    expect(state.metricNames).toEqual(
      publishesStepTimes(running) ? ['train:loss', 'step_time', 'data_time', 'comm_time'] : ['train:loss'],
    );
    expect(sim.placement().get(running.name)?.nodes.length).toBe(running.nodeCount);
  });
});
