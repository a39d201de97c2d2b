import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, runtimeConfigFrom } from '../../../lambdas/contracts/config';
import { mapInventory } from '../../../lambdas/core/collection/series-mapping';
import { resolveSources } from '../../../lambdas/core/collection/sources';
import type { MetricQuery, SeriesRef } from '../../../lambdas/core/ports';
import { simulatorFleets, simulatorProfile } from '../../../lambdas/sim/profile';
import { FleetSimulator } from '../../../lambdas/sim/simulator';
import {
  emptyApiCalls,
  SimulatedCheckpoints,
  SimulatedJobProgress,
  SimulatedMetricSource,
  SimulatedTrainingJobApi,
} from '../../../lambdas/sim/sources';
import { baseInput, HOUR, MIN, scenarioFrom } from './fixtures';

const scenario = scenarioFrom(
  baseInput({
    duration: '5h',
    faults: [
      // Off the bus 30 min in and never back: after 3 h it is no longer RecentlyActive.
      {
        id: 'gone',
        kind: 'gpu_fell_off_bus',
        at: '2026-09-14T00:30:00Z',
        target: { cluster: 'train-a', node: 0, gpu: 0 },
      },
    ],
  }),
);

let sim: FleetSimulator;
beforeAll(() => {
  sim = new FleetSimulator(scenario);
  sim.runUntil(scenario.startMs + 4 * HOUR);
});

const util = (host: string, gpu: number): SeriesRef => ({
  namespace: 'CWAgent/DCGM',
  metricName: 'DCGM_FI_DEV_GPU_UTIL',
  dimensions: { ClusterName: 'train-a', Hostname: host, gpu: String(gpu) },
});
const query = (id: string, series: SeriesRef, stat = 'Average', periodSeconds = 60): MetricQuery => ({
  id,
  series,
  stat,
  periodSeconds,
});

describe('SimulatedMetricSource', () => {
  it('makes minute t visible from t + delay (default 2 minutes), with the simulated values', async () => {
    const source = new SimulatedMetricSource(sim);
    const node = sim.fleet.clusters.get('train-a')?.nodes[3];
    if (!node) throw new Error('no node');
    const now = sim.nowMs;
    const result = await source.fetch({
      region: 'us-east-1',
      queries: [query('q', util(node.hostname, 1))],
      startMs: now - 10 * MIN,
      endMs: now,
    });
    const d = result.data.get('q');
    expect(d?.timestamps.at(-1)).toBe(now - 2 * MIN);
    expect(d?.timestamps).toHaveLength(9);
    expect(d?.values.at(-1)).toBe(sim.gpuValues(node.firstGpu + 1, now - 2 * MIN)?.gpu_util);

    const slow = new SimulatedMetricSource(sim, { delayMs: 5 * MIN });
    const late = await slow.fetch({
      region: 'us-east-1',
      queries: [query('q', util(node.hostname, 1))],
      startMs: now - 10 * MIN,
      endMs: now,
    });
    expect(late.data.get('q')?.timestamps.at(-1)).toBe(now - 5 * MIN);
  });

  it('aggregates 5-minute periods by statistic', async () => {
    const source = new SimulatedMetricSource(sim);
    const node = sim.fleet.clusters.get('train-a')?.nodes[3];
    if (!node) throw new Error('no node');
    const start = sim.nowMs - 65 * MIN;
    const result = await source.fetch({
      region: 'us-east-1',
      queries: [
        query('max', util(node.hostname, 1), 'Maximum', 300),
        query('n', util(node.hostname, 1), 'SampleCount', 300),
      ],
      startMs: start,
      endMs: start + 10 * MIN,
    });
    const minutes = Array.from(
      { length: 5 },
      (_, i) => sim.gpuValues(node.firstGpu + 1, start + i * MIN)?.gpu_util ?? 0,
    );
    expect(result.data.get('max')?.values[0]).toBe(Math.max(...minutes));
    expect(result.data.get('n')?.values).toEqual([5, 5]);
  });

  it('lists series RecentlyActive in the last 3 h: a GPU gone for longer is not listed', async () => {
    const source = new SimulatedMetricSource(sim);
    const listed = await source.listSeries({
      region: 'us-east-1',
      namespace: 'CWAgent/DCGM',
      metricName: 'DCGM_FI_DEV_GPU_UTIL',
      match: { ClusterName: 'train-a' },
    });
    expect(listed.series).toHaveLength(12 * 8 - 1);
    const gone = sim.fleet.clusters.get('train-a')?.nodes[0]?.hostname;
    expect(listed.series.some((s) => s.dimensions.Hostname === gone && s.dimensions.gpu === '0')).toBe(false);
    expect(listed.calls).toBe(1);
    const otherRegion = await source.listSeries({
      region: 'us-west-2',
      namespace: 'CWAgent/DCGM',
      metricName: 'DCGM_FI_DEV_GPU_UTIL',
      match: {},
    });
    expect(otherRegion.series).toHaveLength(4 * 8);
  });

  it('counts calls and metrics requested like GetMetricData (500 queries per call)', async () => {
    const calls = emptyApiCalls();
    const source = new SimulatedMetricSource(sim, { calls });
    const nodes = sim.fleet.clusters.get('train-a')?.nodes ?? [];
    const queries = nodes.flatMap((n) =>
      Array.from({ length: 8 }, (_, g) => query(`${n.hostname}-${g}`, util(n.hostname, g))),
    );
    const many = [...queries, ...queries, ...queries, ...queries, ...queries, ...queries].map((q, i) => ({
      ...q,
      id: `q${i}`,
    }));
    const result = await source.fetch({
      region: 'us-east-1',
      queries: many,
      startMs: sim.nowMs - 5 * MIN,
      endMs: sim.nowMs,
    });
    expect(many).toHaveLength(576);
    expect(result.calls).toBe(2);
    expect(result.metricsRequested).toBe(576);
    expect(calls['cloudwatch:GetMetricData']).toBe(2);
  });

  it('feeds the collector: every listed series maps through simulatorProfile() with no leftovers', async () => {
    const config = parseConfig({
      homeRegion: 'us-east-1',
      fleets: simulatorFleets(scenario),
      profiles: [simulatorProfile()],
    });
    const sources = resolveSources(runtimeConfigFrom(config));
    const source = new SimulatedMetricSource(sim);
    const trainB = sources.find((s) => s.fleet.cluster === 'train-b');
    if (!trainB) throw new Error('no train-b source');
    const series: SeriesRef[] = [];
    for (const signal of trainB.signals) {
      const r = await source.listSeries({
        region: trainB.fleet.region,
        namespace: trainB.namespace,
        metricName: signal.metricName,
        match: trainB.fleet.source.match,
      });
      series.push(...r.series);
    }
    const mapping = mapInventory(trainB, series);
    expect(mapping.unmapped).toEqual([]);
    expect(mapping.mapped).toHaveLength(4 * 8 * trainB.signals.length);
  });
});

describe('SimulatedJobProgress, SimulatedCheckpoints, SimulatedTrainingJobApi', () => {
  const trainingJob = () => {
    const job = sim
      .activeJobs()
      .find(
        (j) =>
          j.secondary === 'Training' &&
          j.trainingStartMs !== undefined &&
          sim.nowMs - j.trainingStartMs > 20 * MIN,
      );
    if (!job) throw new Error('no job has been training for 20 minutes');
    return job;
  };

  it('returns minute-aligned progress timestamps keyed region#job, after the publishing delay', async () => {
    const job = trainingJob();
    const progress = new SimulatedJobProgress(sim);
    const result = await progress.progressTimestamps(
      [{ region: job.region, jobName: job.name, metricNames: ['train:loss'] }],
      sim.nowMs - 20 * MIN,
      sim.nowMs,
    );
    const ts = result.get(`${job.region}#${job.name}`) ?? [];
    expect(ts.length).toBeGreaterThan(3);
    for (const t of ts) expect(t % MIN).toBe(0);
    expect(Math.max(...ts)).toBeLessThanOrEqual(sim.nowMs - 2 * MIN);
    const unknown = await progress.progressTimestamps(
      [{ region: 'us-east-1', jobName: 'no-such-job', metricNames: ['train:loss'] }],
      sim.nowMs - 20 * MIN,
      sim.nowMs,
    );
    expect(unknown.get('us-east-1#no-such-job')).toEqual([]);
  });

  it('reports the newest checkpoint of a checkpointing job', async () => {
    const job = [...sim.retainedJobs()].find(
      (j) =>
        j.checkpointUri !== undefined &&
        j.secondary === 'Training' &&
        sim.nowMs - (j.trainingStartMs ?? sim.nowMs) > 40 * MIN,
    );
    if (!job?.checkpointUri) throw new Error('no checkpointing job has trained 40 minutes');
    const lister = new SimulatedCheckpoints(sim);
    const newest = await lister.newestObjectTime(job.checkpointUri);
    expect(newest).toBeDefined();
    expect(newest).toBeGreaterThan(job.trainingStartMs as number);
    expect(sim.nowMs - (newest as number)).toBeLessThanOrEqual(job.checkpointEveryMs as number);
    expect(await lister.newestObjectTime('s3://nowhere/')).toBeUndefined();
  });

  it('lists jobs modified in a window, newest first, and describes them', async () => {
    const api = new SimulatedTrainingJobApi(sim);
    const after = sim.nowMs - 15 * MIN;
    const listed = [];
    for await (const s of api.listModifiedSince('us-east-1', after)) listed.push(s);
    expect(listed.length).toBeGreaterThan(0);
    for (const s of listed) expect(s.lastModifiedTime).toBeGreaterThan(after);
    for (let i = 1; i < listed.length; i++) {
      expect(listed[i]?.lastModifiedTime).toBeLessThanOrEqual(listed[i - 1]?.lastModifiedTime as number);
    }
    const first = listed[0];
    if (!first) throw new Error('nothing listed');
    const state = await api.describe('us-east-1', first.jobName);
    expect(state.lastModifiedTime).toBe(first.lastModifiedTime);
    await expect(api.describe('us-east-1', 'no-such-job')).rejects.toThrow(
      /training job no-such-job not found in us-east-1/,
    );
  });
});
