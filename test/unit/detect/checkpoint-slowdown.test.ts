import { describe, expect, it } from 'vitest';
import { workSinceCheckpoint } from '../../../lambdas/core/detect/jobs';
import { HOUR_MS } from '../../../lambdas/core/time';
import { runCheckpointJob } from './checkpoint-runs';
import { job, MIN } from './job-fixtures';

/**
 * Issue 3/4 (fault kind dataloader_bottleneck): a job whose data loader slows it 3× reports
 * job.progress_slow; it also checkpoints 3× later in wall-clock time (every N steps), which is the
 * same problem, not a second incident. Staleness is judged by work at risk (progress datapoints
 * since the newest checkpoint) against the job's usual work between checkpoints.
 */

const START = Date.UTC(2026, 10, 24, 9);
const ck = job({
  jobName: 'ck-3',
  workloadClass: 'batch',
  trainingStartTime: START,
  checkpointS3Uri: 's3://ckpt/ck-3/',
  metricNames: ['train:loss'],
});

/**
 * 5-minute runs from START. One unit of work per minute at full speed, `slowdown`× slower from
 * `slowFrom`; a progress datapoint every 2 units of work and a checkpoint every 20 units (unless
 * `checkpointing` is false from `slowFrom`). Progress is read over the default 180-min lookback.
 */
function simulate(opts: { slowFrom: number; slowdown: number; runs: number; checkpointing?: boolean }) {
  return runCheckpointJob(ck, START, opts.runs, (now) => {
    const progress: number[] = [];
    let newest: number | undefined;
    let work = 0;
    for (let t = START + MIN; t <= now; t += MIN) {
      const before = Math.floor(work);
      work += t > opts.slowFrom ? 1 / opts.slowdown : 1;
      const after = Math.floor(work + 1e-9);
      if (after === before) continue;
      if (after % 2 === 0 && t > now - 180 * MIN) progress.push(t);
      const writes = opts.checkpointing !== false || t <= opts.slowFrom;
      if (after % 20 === 0 && writes) newest = t;
    }
    return { progress, newest };
  });
}

describe('checkpoint staleness of a slowed job (work at risk, issue 3/4)', () => {
  const slowFrom = START + 2 * HOUR_MS + 7 * MIN;

  it('a 3× slower job that keeps checkpointing every N steps is never stale, for ten hours', () => {
    const out = simulate({ slowFrom, slowdown: 3, runs: 12 * 12 });
    expect(out.filter((r) => r.kinds.includes('job.checkpoint_stale')).map((r) => r.at)).toEqual([]);
    // The slow-down itself is what is reported (job.progress_slow), so the test exercises the case.
    expect(out.some((r) => r.kinds.includes('job.progress_slow'))).toBe(true);
  });

  it('a 3× slower job that also stops checkpointing is still stale, once its work at risk is 1.5× usual', () => {
    const out = simulate({ slowFrom, slowdown: 3, runs: 12 * 6, checkpointing: false });
    const first = out.find((r) => r.kinds.includes('job.checkpoint_stale'));
    expect(first).toBeDefined();
    // Last checkpoint at slowFrom - 7 min (work 120); the job is regular (gaps of 20), so 25 units
    // of work at risk (its longest gap + 5) is reached ~7 + 18 × 3 = 61 min later (slowFrom + 54);
    // a listing confirms it within 15 min. Wall clock alone would have said 25 min.
    expect(first?.at).toBeGreaterThan(slowFrom + 50 * MIN);
    expect(first?.at).toBeLessThanOrEqual(slowFrom + 100 * MIN);
    const f = first?.findings.find((x) => x.kind === 'job.checkpoint_stale');
    expect(f?.evidence.values?.progressPointsSince).toBeGreaterThan(12.5);
  });
});

describe('workSinceCheckpoint', () => {
  const every = (from: number, to: number, step: number) => {
    const ts: number[] = [];
    for (let t = from; t <= to; t += step) ts.push(t);
    return ts;
  };
  it('counts points after the checkpoint up to the listing, at the usual (fastest) pace', () => {
    const ts = [...every(0, 60 * MIN, 2 * MIN), ...every(66 * MIN, 120 * MIN, 6 * MIN)];
    const w = workSinceCheckpoint(ts, 60 * MIN, 120 * MIN, 20 * MIN, 3 * HOUR_MS);
    expect(w?.points).toBe(10);
    expect(w?.usualPoints).toBe(10);
    // max(1.5 × 20, 20 + 10) = 30 min of work at 2 min a point.
    expect(w?.staleAfterPoints).toBe(15);
    expect(workSinceCheckpoint(ts, 60 * MIN, 90 * MIN, 20 * MIN, 3 * HOUR_MS)?.points).toBe(5);
  });
  it('is undefined when the pace is unknown or the lookback starts after the checkpoint', () => {
    expect(workSinceCheckpoint([0, 2 * MIN], 0, 10 * MIN, 20 * MIN, 3 * HOUR_MS)).toBeUndefined();
    expect(
      workSinceCheckpoint(every(30 * MIN, 60 * MIN, 2 * MIN), 10 * MIN, 60 * MIN, 20 * MIN, 3 * HOUR_MS),
    ).toBeUndefined();
  });
});
