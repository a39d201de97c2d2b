import { describe, expect, it } from 'vitest';
import { detectionConfigSchema } from '../../../lambdas/contracts/detection-config';
import { type Finding, findingSchema } from '../../../lambdas/contracts/finding';
import {
  type DetectionState,
  emptyDetectionState,
  jobStateKey,
  parseDetectionState,
} from '../../../lambdas/core/detect/detection-state';
import { detectionSettingsFrom, progressKey, runDetectors } from '../../../lambdas/core/detect/run-detectors';
import type { GpuSample, TrainingJobState } from '../../../lambdas/core/model';
import { HOUR_MS } from '../../../lambdas/core/time';
import { job, MIN, minutes, training } from './job-fixtures';

/**
 * Busy-not-working needs 15 consecutive minutes; live windows are 5 minutes. The run of each GPU
 * is carried across windows in the detection state (only GPUs in such a run, dropped when the
 * job stops training), so the check fires in live operation, not only on backfill windows.
 */

const TUE_0900 = Date.UTC(2026, 10, 24, 9);
const settings = detectionSettingsFrom(detectionConfigSchema.parse({}), []);
/** gpu_util pinned high, SMs nearly idle, low power on an H100 (700 W TDP): busy, not working. */
const spinning = () => ({ gpu_util: 97, sm_active: 0.04, tensor_active: 0, power: 150 });

function live(opts: {
  readonly jobs: (i: number) => readonly TrainingJobState[];
  readonly samples: (from: number, i: number) => GpuSample[];
  readonly n: number;
}): { perRun: Finding[][]; states: DetectionState[] } {
  let state = emptyDetectionState();
  const perRun: Finding[][] = [];
  const states: DetectionState[] = [];
  for (let i = 0; i < opts.n; i++) {
    const startMs = TUE_0900 + i * 5 * MIN;
    const endMs = startMs + 5 * MIN;
    const jobs = opts.jobs(i);
    const progress = new Map(
      jobs.map((j) => {
        const ts: number[] = [];
        for (let t = endMs - 2 * HOUR_MS; t < endMs; t += MIN) ts.push(t);
        return [progressKey(j.region, j.jobName), ts] as const;
      }),
    );
    const r = runDetectors({
      samples: opts.samples(startMs, i),
      window: { startMs, endMs },
      nowMs: endMs,
      jobs,
      progress,
      checkpointListings: new Map(),
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

const j = job({ jobName: 'spin-1', trainingStartTime: TUE_0900 - 2 * HOUR_MS });
const fires = (fs: readonly Finding[]) => fs.some((f) => f.kind === 'efficiency.busy_not_working');

describe('busy-not-working across live 5-minute windows', () => {
  it('fires once 15 consecutive minutes have been seen over three windows, and keeps firing while it lasts', () => {
    const { perRun, states } = live({
      jobs: () => [j],
      samples: (from) =>
        minutes({
          job: 'spin-1',
          nodes: ['ip-10-0-0-1'],
          gpus: 2,
          from,
          to: from + 5 * MIN,
          values: spinning,
        }),
      n: 5,
    });
    expect(perRun.map(fires)).toEqual([false, false, true, true, true]);
    const f = perRun[2]?.find((x) => x.kind === 'efficiency.busy_not_working');
    expect(f?.evidence.values).toMatchObject({ gpus: 2, longestMinutes: 15 });
    // Bounded memory: one [first, last] pair per GPU in a run.
    expect(states[1]?.busyRuns?.[jobStateKey('us-east-1', 'spin-1')]).toEqual({
      'ip-10-0-0-1/0': [TUE_0900, TUE_0900 + 9 * MIN],
      'ip-10-0-0-1/1': [TUE_0900, TUE_0900 + 9 * MIN],
    });
  });

  it('a working minute in between restarts the count', () => {
    const { perRun } = live({
      jobs: () => [j],
      samples: (from, i) =>
        minutes({
          job: 'spin-1',
          nodes: ['ip-10-0-0-1'],
          gpus: 1,
          from,
          to: from + 5 * MIN,
          // Run 2 trains in its last minute: 14 minutes, then a fresh run.
          values: (t, g, r) => (i === 2 && t === from + 4 * MIN ? training(t, g, r) : spinning()),
        }),
      n: 6,
    });
    expect(perRun.map(fires)).toEqual([false, false, false, false, false, true]);
  });

  it('the memory is dropped when the job stops training', () => {
    const ended: TrainingJobState = {
      ...j,
      status: 'Completed',
      secondaryStatus: 'Completed',
      trainingEndTime: TUE_0900 + 10 * MIN,
      lastModifiedTime: TUE_0900 + 10 * MIN,
    };
    const { states } = live({
      jobs: (i) => [i < 2 ? j : ended],
      samples: (from, i) =>
        i < 2
          ? minutes({
              job: 'spin-1',
              nodes: ['ip-10-0-0-1'],
              gpus: 1,
              from,
              to: from + 5 * MIN,
              values: spinning,
            })
          : [],
      n: 3,
    });
    expect(Object.keys(states[1]?.busyRuns ?? {})).toHaveLength(1);
    expect(states[2]?.busyRuns ?? {}).toEqual({});
  });

  it('a state written before busyRuns existed still parses', () => {
    const { busyRuns: _none, ...old } = emptyDetectionState(TUE_0900);
    expect(parseDetectionState(JSON.parse(JSON.stringify(old))).reset).toBeUndefined();
  });
});
