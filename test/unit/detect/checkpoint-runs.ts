import { expect } from 'vitest';
import { detectionConfigSchema } from '../../../lambdas/contracts/detection-config';
import { type Finding, findingSchema } from '../../../lambdas/contracts/finding';
import {
  type DetectionState,
  emptyDetectionState,
  jobStateKey,
} from '../../../lambdas/core/detect/detection-state';
import {
  checkpointChecksDue,
  detectionSettingsFrom,
  progressKey,
  runDetectors,
} from '../../../lambdas/core/detect/run-detectors';
import type { TrainingJobState } from '../../../lambdas/core/model';
import { MIN } from './job-fixtures';

const settings = detectionSettingsFrom(detectionConfigSchema.parse({}), []);

/** What one checkpointing job shows at a run: its progress datapoints and newest checkpoint. */
export interface JobTimeline {
  readonly progress: number[];
  readonly newest: number | undefined;
}

/**
 * Runs detection every 5 minutes from `startMs` over one checkpointing job, as the use case does:
 * the prefix is listed whenever checkpointChecksDue says so, the state is carried over (as JSON),
 * and every finding must parse. Returns each run's job-health kinds and findings.
 */
export function runCheckpointJob(
  job: TrainingJobState,
  startMs: number,
  runs: number,
  timeline: (nowMs: number) => JobTimeline,
): { at: number; kinds: string[]; findings: Finding[] }[] {
  const key = jobStateKey(job.region, job.jobName);
  let state: DetectionState = emptyDetectionState();
  const out: { at: number; kinds: string[]; findings: Finding[] }[] = [];
  for (let i = 1; i <= runs; i++) {
    const now = startMs + i * 5 * MIN;
    const { progress, newest } = timeline(now);
    const due = checkpointChecksDue(state, [job], now, 15 * MIN, 10).length > 0;
    const r = runDetectors({
      samples: [],
      window: { startMs: now - 5 * MIN, endMs: now },
      nowMs: now,
      jobs: [job],
      progress: new Map([[progressKey(job.region, job.jobName), progress]]),
      checkpointListings: due ? new Map([[key, newest]]) : new Map(),
      state: JSON.parse(JSON.stringify(state)),
      settings,
    });
    for (const f of r.findings) expect(findingSchema.parse(f)).toEqual(f);
    state = r.state;
    // Job-health kinds only (the fixture job also misses its scheduling SLA, irrelevant here).
    const kinds = r.findings.map((f) => f.kind).filter((k) => k.startsWith('job.'));
    out.push({ at: now, kinds, findings: r.findings });
  }
  return out;
}
