import { describe, expect, it } from 'vitest';
import { resumedAfterStopMs } from '../../../lambdas/core/detect/jobs';
import { runCheckpointJob } from './checkpoint-runs';
import { job, MIN } from './job-fixtures';

/**
 * Issues 3/4: a stalled or idle job also stops checkpointing. Its checkpoint_stale finding is a
 * symptom of the stop (muted by inhibition while the stop's incident is open), and it must not
 * outlive the stop: after the job resumes nothing new is at risk until its next checkpoint is due,
 * so a checkpoint_stale still emitted after the stop's incident resolved opened a second incident
 * for the same fault (the demo's two duplicates).
 */

const START = Date.UTC(2026, 10, 24, 9);
const ck = job({
  jobName: 'ck-2',
  workloadClass: 'batch',
  trainingStartTime: START,
  checkpointS3Uri: 's3://ckpt/ck-2/',
  metricNames: ['train:loss'],
});
const STOPS = ['job.progress_stalled', 'job.hung', 'job.gpus_idle'];

/**
 * 5-minute runs from START. The job logs progress every 2 min and writes a checkpoint every 20 min
 * of WORK (every N steps), except while it is stopped in [stopFrom, stopTo) where it does neither;
 * `checkpointing: false` stops only the checkpoints from stopFrom on (a checkpoint stall proper).
 */
function simulate(opts: { stopFrom: number; stopTo: number; runs: number; checkpointing?: boolean }) {
  const stopped = (t: number) => t >= opts.stopFrom && t < opts.stopTo;
  return runCheckpointJob(ck, START, opts.runs, (now) => {
    const progress: number[] = [];
    let worked = 0;
    let newest: number | undefined;
    for (let t = START + MIN; t <= now; t += MIN) {
      if (stopped(t)) continue;
      worked += MIN;
      if ((t - START) % (2 * MIN) === 0 && t > now - 180 * MIN) progress.push(t);
      const writes = opts.checkpointing !== false || t < opts.stopFrom;
      if (worked % (20 * MIN) === 0 && writes) newest = t;
    }
    return { progress, newest };
  });
}

describe('checkpoint staleness after a job stop (issues 3/4)', () => {
  const stopFrom = START + 2 * 60 * MIN + 10 * MIN;
  const stopTo = stopFrom + 60 * MIN;

  it('the stale checkpoint of a stop shows while the job is stopped and ends with the stop', () => {
    const out = simulate({ stopFrom, stopTo, runs: 60 });
    const staleRuns = out.filter((r) => r.kinds.includes('job.checkpoint_stale'));
    const stopRuns = out.filter((r) => r.kinds.some((k) => STOPS.includes(k)));
    // The symptom is there (inhibition mutes it while the stop's incident is open) ...
    expect(staleRuns.length).toBeGreaterThan(0);
    expect(stopRuns.length).toBeGreaterThan(0);
    // ... but never outlives the stop finding: no run after the last stop finding still reports
    // it, so no second incident opens when the stop's incident resolves.
    const lastStop = Math.max(...stopRuns.map((r) => r.at));
    expect(staleRuns.filter((r) => r.at > lastStop)).toEqual([]);
    // And the stop ends at the resumption, before the job's next checkpoint is written 20 min later.
    expect(lastStop).toBeLessThan(stopTo + 20 * MIN);
    expect(out.filter((r) => r.at > stopTo).some((r) => r.kinds.length === 0)).toBe(true);
  });

  it('a job that keeps progressing but stops checkpointing is still flagged (a checkpoint stall)', () => {
    const out = simulate({ stopFrom, stopTo: stopFrom, runs: 60, checkpointing: false });
    expect(out.some((r) => r.kinds.some((k) => STOPS.includes(k)))).toBe(false);
    const first = out.find((r) => r.kinds.includes('job.checkpoint_stale'));
    expect(first).toBeDefined();
    // Learned a regular 20-min interval (3 gaps of 20): stale 25 min after the last checkpoint
    // (stopFrom - 10 min; its longest gap + 5 min), confirmed by a listing.
    expect(first?.at).toBeGreaterThan(stopFrom + 15 * MIN);
    expect(first?.at).toBeLessThanOrEqual(stopFrom + 50 * MIN);
    // Stays stale run after run (clean runs do not resolve it between listings).
    expect(
      out.filter((r) => r.at >= (first?.at ?? 0)).every((r) => r.kinds.includes('job.checkpoint_stale')),
    ).toBe(true);
  });
});

describe('resumedAfterStopMs', () => {
  const every2 = (from: number, to: number) => {
    const ts: number[] = [];
    for (let t = from; t <= to; t += 2 * MIN) ts.push(t);
    return ts;
  };
  it('is the first point after the latest gap longer than the stop gap', () => {
    const ts = [...every2(0, 60 * MIN), ...every2(100 * MIN, 120 * MIN), ...every2(150 * MIN, 160 * MIN)];
    expect(resumedAfterStopMs(ts, 20 * MIN)).toBe(150 * MIN);
    expect(resumedAfterStopMs(ts, 35 * MIN)).toBe(100 * MIN);
  });
  it('is undefined without such a gap, or while the job is still stopped', () => {
    expect(resumedAfterStopMs(every2(0, 60 * MIN), 20 * MIN)).toBeUndefined();
    expect(resumedAfterStopMs([], 20 * MIN)).toBeUndefined();
    // Unsorted input is sorted first: the gap is between 10 and 50 min.
    expect(resumedAfterStopMs([50 * MIN, 0, 10 * MIN, 52 * MIN], 20 * MIN)).toBe(50 * MIN);
  });
});
