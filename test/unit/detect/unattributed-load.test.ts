import { describe, expect, it } from 'vitest';
import { detectionConfigSchema } from '../../../lambdas/contracts/detection-config';
import { type Finding, findingSchema } from '../../../lambdas/contracts/finding';
import { type DetectionState, emptyDetectionState } from '../../../lambdas/core/detect/detection-state';
import type { JobPlacement } from '../../../lambdas/core/detect/jobs';
import { detectionSettingsFrom, progressKey, runDetectors } from '../../../lambdas/core/detect/run-detectors';
import { detectUnattributedLoad } from '../../../lambdas/core/detect/unattributed-load';
import type { GpuSample, TrainingJobState } from '../../../lambdas/core/model';
import { HOUR_MS } from '../../../lambdas/core/time';
import { job, MIN, minutes, training } from './job-fixtures';

/**
 * A utilisation burner runs outside any training job (or on a node shared by sub-node jobs, where
 * node-level telemetry cannot say whose GPU it is): the per-job busy-not-working check never sees
 * it. The GPU-level check judges those GPUs, carrying each run across 5-minute windows.
 */

const TUE_0900 = Date.UTC(2026, 10, 24, 9);
const settings = detectionSettingsFrom(detectionConfigSchema.parse({}), []);
/** gpu_util pinned high, SMs nearly idle, low power on an H100 (700 W TDP). */
const spinning = () => ({ gpu_util: 99, sm_active: 0.04, tensor_active: 0, power: 224 });
const kindOf = (fs: readonly Finding[]) => fs.filter((f) => f.kind === 'efficiency.busy_not_working');

function live(opts: {
  readonly jobs?: readonly TrainingJobState[];
  readonly placement?: ReadonlyMap<string, JobPlacement>;
  readonly progressStopsAt?: number;
  readonly samples: (from: number) => GpuSample[];
  readonly n: number;
}): { perRun: Finding[][]; states: DetectionState[] } {
  let state = emptyDetectionState();
  const perRun: Finding[][] = [];
  const states: DetectionState[] = [];
  const jobs = opts.jobs ?? [];
  for (let i = 0; i < opts.n; i++) {
    const startMs = TUE_0900 + i * 5 * MIN;
    const endMs = startMs + 5 * MIN;
    const progress = new Map(
      jobs.map((j) => {
        const ts: number[] = [];
        for (let t = endMs - 2 * HOUR_MS; t < Math.min(endMs, opts.progressStopsAt ?? endMs); t += MIN)
          ts.push(t);
        return [progressKey(j.region, j.jobName), ts] as const;
      }),
    );
    const r = runDetectors({
      samples: opts.samples(startMs),
      window: { startMs, endMs },
      nowMs: endMs,
      jobs,
      progress,
      checkpointListings: new Map(),
      ...(opts.placement ? { placement: opts.placement } : {}),
      state: JSON.parse(JSON.stringify(state)),
      settings,
    });
    for (const f of r.findings) expect(findingSchema.parse(f)).toEqual(f);
    state = r.state;
    states.push(state);
    perRun.push(r.findings);
  }
  return { perRun, states };
}

const burner = (from: number) =>
  minutes({ nodes: ['ip-10-0-0-9'], gpus: 1, from, to: from + 5 * MIN, values: spinning });

describe('busy-not-working GPUs that no training job holds', () => {
  it('fires once 10 consecutive minutes were seen across two windows, labelled with node and GPU', () => {
    const { perRun, states } = live({ samples: burner, n: 3 });
    expect(kindOf(perRun[0] ?? [])).toEqual([]);
    expect(Object.values(states[0]?.unattributedRuns ?? {})).toEqual([[TUE_0900, TUE_0900 + 4 * MIN]]);
    const f = kindOf(perRun[1] ?? []);
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({
      severity: 'ticket',
      cause: 'efficiency',
      labels: { node: 'ip-10-0-0-9', gpu: '0' },
      evidence: { values: { minutes: 10, tdpWatts: 700 } },
    });
    expect(kindOf(perRun[2] ?? [])[0]?.evidence.values?.minutes).toBe(15);
  });

  it('a broken run starts over, and a GPU that trains normally never counts', () => {
    const { perRun, states } = live({
      samples: (from) =>
        minutes({
          nodes: ['ip-10-0-0-9'],
          gpus: 2,
          from,
          to: from + 5 * MIN,
          // GPU 0 spins except in the 7th minute; GPU 1 trains.
          values: (t, gpu, r) => (gpu === 0 && t !== TUE_0900 + 6 * MIN ? spinning() : training(t, gpu, r)),
        }),
      n: 3,
    });
    expect(kindOf(perRun[1] ?? [])).toEqual([]);
    // Minutes 7..14 are 8 minutes: not yet.
    expect(kindOf(perRun[2] ?? [])).toEqual([]);
    expect(Object.keys(states[2]?.unattributedRuns ?? {})).toHaveLength(1);
  });

  it('leaves GPUs credited to a job to the per-job check (15 min)', () => {
    const j = job({ jobName: 'spin-1', trainingStartTime: TUE_0900 - 2 * HOUR_MS });
    const { perRun } = live({
      jobs: [j],
      samples: (from) =>
        minutes({
          job: 'spin-1',
          nodes: ['ip-10-0-0-1'],
          gpus: 1,
          from,
          to: from + 5 * MIN,
          values: spinning,
        }),
      n: 3,
    });
    // Run 2 (10 min): nothing yet; run 3 (15 min): the per-job finding, labelled with the job.
    expect(kindOf(perRun[1] ?? [])).toEqual([]);
    expect(kindOf(perRun[2] ?? []).map((f) => f.labels.job)).toEqual(['spin-1']);
  });

  it('on a node where a job is found stalled, the job finding explains the spinning GPU', () => {
    const j = job({ jobName: 'stuck-1', trainingStartTime: TUE_0900 - 2 * HOUR_MS });
    const placement = new Map<string, JobPlacement>([
      ['stuck-1', { cluster: 'c1', nodes: ['ip-10-0-0-9'] }],
      // A second job on the node: node-level samples cannot be attributed to either.
      ['other-1', { cluster: 'c1', nodes: ['ip-10-0-0-9'] }],
    ]);
    const other = job({ jobName: 'other-1', trainingStartTime: TUE_0900 - 2 * HOUR_MS });
    const { perRun } = live({
      jobs: [j, other],
      placement,
      progressStopsAt: TUE_0900 - 30 * MIN,
      samples: burner,
      n: 3,
    });
    const all = perRun.flat();
    expect(all.some((f) => f.kind === 'job.progress_stalled' || f.kind === 'job.hung')).toBe(true);
    expect(kindOf(all)).toEqual([]);
  });

  it('the pure check continues a carried run and reports none below the threshold', () => {
    const samples = minutes({
      nodes: ['n1'],
      gpus: 1,
      from: TUE_0900,
      to: TUE_0900 + 5 * MIN,
      values: spinning,
    });
    const window = { startMs: TUE_0900, endMs: TUE_0900 + 5 * MIN };
    const fresh = detectUnattributedLoad({ samples, carried: {}, window, nowMs: window.endMs });
    expect(fresh.findings).toEqual([]);
    const key = Object.keys(fresh.runs)[0] as string;
    const carried = detectUnattributedLoad({
      samples,
      carried: { [key]: [TUE_0900 - 6 * MIN, TUE_0900 - MIN] },
      window,
      nowMs: window.endMs,
    });
    expect(carried.findings[0]?.evidence.values?.minutes).toBe(11);
  });
});
