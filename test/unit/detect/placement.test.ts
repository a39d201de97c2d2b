import { describe, expect, it } from 'vitest';
import { detectionConfigSchema } from '../../../lambdas/contracts/detection-config';
import { type Finding, findingSchema } from '../../../lambdas/contracts/finding';
import { type DetectionState, emptyDetectionState } from '../../../lambdas/core/detect/detection-state';
import type { JobPlacement } from '../../../lambdas/core/detect/jobs';
import { detectionSettingsFrom, progressKey, runDetectors } from '../../../lambdas/core/detect/run-detectors';
import type { GpuSample, TrainingJobState } from '../../../lambdas/core/model';
import { HOUR_MS } from '../../../lambdas/core/time';
import { idle, job, MIN, minutes, training } from './job-fixtures';

/**
 * Node-level metric profiles (dcgm-exporter by Hostname and gpu, the simulator) carry no job
 * label: the GPUs of a job are known from its placement. Exclusive nodes are attributed; a node
 * shared by several jobs is attributed to none of them (unknown, never the wrong job).
 */

const TUE_0900 = Date.UTC(2026, 10, 24, 9);
const NODES = ['ip-10-0-0-1', 'ip-10-0-0-2'];
const settings = detectionSettingsFrom(detectionConfigSchema.parse({}), []);

/** A distributed job (2 nodes) that trained with loss every minute, then went idle at `idleFrom`. */
const dist = job({
  jobName: 'llama-dist',
  instanceCount: 2,
  trainingStartTime: TUE_0900 - 3 * HOUR_MS,
  creationTime: TUE_0900 - 3 * HOUR_MS - 10 * MIN,
});

/** Unlabelled samples (node-level profile) of the given nodes for one 5-minute window. */
function unlabelled(nodes: readonly string[], from: number, idleFrom: number): GpuSample[] {
  return minutes({
    nodes,
    from,
    to: from + 5 * MIN,
    values: (t, g, r) => (t >= idleFrom ? idle(t, g, r) : training(t, g, r)),
  });
}

function runWindows(opts: {
  readonly jobs: readonly TrainingJobState[];
  readonly placement?: ReadonlyMap<string, JobPlacement>;
  readonly samples: (from: number) => GpuSample[];
  readonly lastProgressMs: number;
  readonly from: number;
  readonly n: number;
}): Finding[][] {
  let state: DetectionState = emptyDetectionState();
  const out: Finding[][] = [];
  for (let i = 0; i < opts.n; i++) {
    const startMs = opts.from + i * 5 * MIN;
    const endMs = startMs + 5 * MIN;
    const progress = new Map<string, number[]>();
    for (const j of opts.jobs) {
      const ts: number[] = [];
      for (let t = endMs - 3 * HOUR_MS; t < Math.min(endMs, opts.lastProgressMs); t += MIN) ts.push(t);
      progress.set(progressKey(j.region, j.jobName), ts);
    }
    const r = runDetectors({
      samples: opts.samples(startMs),
      window: { startMs, endMs },
      nowMs: endMs,
      jobs: opts.jobs,
      progress,
      checkpointListings: new Map(),
      ...(opts.placement ? { placement: opts.placement } : {}),
      state: JSON.parse(JSON.stringify(state)),
      settings,
    });
    for (const f of r.findings) expect(findingSchema.parse(f)).toEqual(f);
    state = r.state;
    out.push(r.findings);
  }
  return out;
}

const jobKinds = (fs: readonly Finding[]) =>
  fs.filter((f) => f.labels.job !== undefined).map((f) => `${f.kind}:${f.severity}:${f.cause}`);

describe('runDetectors with job placement', () => {
  const idleFrom = TUE_0900;

  it('a distributed job whose GPUs go idle and whose progress stops is idle (page, efficiency), not stalled', () => {
    const perRun = runWindows({
      jobs: [dist],
      placement: new Map([['llama-dist', { cluster: 'train-a', nodes: NODES }]]),
      samples: (from) => unlabelled(NODES, from, idleFrom),
      lastProgressMs: idleFrom,
      from: idleFrom - 10 * MIN,
      n: 8,
    });
    const all = perRun.flat().filter((f) => f.labels.job === 'llama-dist');
    expect(all.some((f) => f.kind === 'job.progress_stalled' || f.kind === 'job.hung')).toBe(false);
    const first = perRun.findIndex((fs) => fs.some((f) => f.kind === 'job.gpus_idle'));
    // Stall threshold of a distributed job with a 1-minute cadence: max(4 × 1, 5, 10) = 10 min.
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(4);
    const idleFinding = perRun[first]?.find((f) => f.kind === 'job.gpus_idle');
    expect(idleFinding).toMatchObject({ severity: 'page', cause: 'efficiency' });
    expect(idleFinding?.evidence.values?.idleGpuHours).toBeGreaterThan(0);
    expect(idleFinding?.evidence.values?.gpus).toBe(16);
    // One idle job, one finding: no efficiency.idle_allocation beside it in the same run.
    for (const fs of perRun) {
      if (fs.some((f) => f.kind === 'job.gpus_idle'))
        expect(fs.filter((f) => f.kind === 'efficiency.idle_allocation')).toEqual([]);
    }
  });

  it('without placement the same unlabelled telemetry says nothing about the job: only the missing progress', () => {
    const perRun = runWindows({
      jobs: [dist],
      samples: (from) => unlabelled(NODES, from, idleFrom),
      lastProgressMs: idleFrom,
      from: idleFrom - 10 * MIN,
      n: 8,
    });
    const kinds = new Set(perRun.flatMap(jobKinds));
    expect(kinds).toEqual(new Set(['job.progress_stalled:page:software']));
  });

  it('a node shared by two jobs is attributed to neither: no idle verdict from its GPUs', () => {
    const a = job({ jobName: 'nb-a', trainingStartTime: TUE_0900 - 3 * HOUR_MS, metricNames: [] });
    const b = job({ jobName: 'nb-b', trainingStartTime: TUE_0900 - 3 * HOUR_MS, metricNames: [] });
    const shared = ['ip-10-0-0-9'];
    const perRun = runWindows({
      jobs: [a, b],
      placement: new Map([
        ['nb-a', { cluster: 'train-a', nodes: shared }],
        ['nb-b', { cluster: 'train-a', nodes: shared }],
      ]),
      samples: (from) => unlabelled(shared, from, TUE_0900 - HOUR_MS),
      lastProgressMs: 0,
      from: TUE_0900,
      n: 10,
    });
    expect(perRun.flat().filter((f) => f.kind === 'job.gpus_idle')).toEqual([]);
    // The same idle node held by one job alone is judged (batch grace 30 min, idle for 60+).
    const alone = runWindows({
      jobs: [a],
      placement: new Map([['nb-a', { cluster: 'train-a', nodes: shared }]]),
      samples: (from) => unlabelled(shared, from, TUE_0900 - HOUR_MS),
      lastProgressMs: 0,
      from: TUE_0900,
      n: 10,
    });
    expect(alone.flat().some((f) => f.kind === 'job.gpus_idle' && f.labels.job === 'nb-a')).toBe(true);
  });
});
