import { describe, expect, it } from 'vitest';
import { detectionConfigSchema } from '../../../lambdas/contracts/detection-config';
import { type Finding, findingSchema } from '../../../lambdas/contracts/finding';
import {
  type DetectionState,
  emptyDetectionState,
  jobStateKey,
} from '../../../lambdas/core/detect/detection-state';
import {
  checkpointLongestGap,
  checkpointStaleAfterMs,
  REGULAR_MIN_GAPS,
} from '../../../lambdas/core/detect/jobs';
import {
  checkpointChecksDue,
  checkpointGaps,
  detectionSettingsFrom,
  runDetectors,
} from '../../../lambdas/core/detect/run-detectors';
import { HOUR_MS } from '../../../lambdas/core/time';
import { job, MIN } from './job-fixtures';

/**
 * A checkpoint stall is judged against the job's own interval, learned from successive listings
 * of its checkpoint prefix, not only against the class's absolute bound (3 h for batch jobs, far
 * longer than a job that checkpoints every 20 minutes should go without one).
 */

const START = Date.UTC(2026, 10, 24, 9);
const settings = detectionSettingsFrom(detectionConfigSchema.parse({}), []);
const KEY = jobStateKey('us-east-1', 'ck-1');
const ck = job({
  jobName: 'ck-1',
  workloadClass: 'batch',
  trainingStartTime: START,
  checkpointS3Uri: 's3://ckpt/ck-1/',
  metricNames: [],
});
const stale = (fs: readonly Finding[]) => fs.filter((f) => f.kind === 'job.checkpoint_stale');

/**
 * 5-minute runs from START; the job writes a checkpoint every 20 min until `stopsAt`; the prefix
 * is listed whenever checkpointChecksDue says so (15-minute cadence), as the use case does.
 */
function simulate(stopsAt: number, runs: number) {
  let state: DetectionState = emptyDetectionState();
  const out: { at: number; findings: Finding[]; listed: boolean }[] = [];
  for (let i = 1; i <= runs; i++) {
    const now = START + i * 5 * MIN;
    const due = checkpointChecksDue(state, [ck], now, 15 * MIN, 10).length > 0;
    let newest: number | undefined;
    for (let t = START + 20 * MIN; t <= Math.min(now, stopsAt); t += 20 * MIN) newest = t;
    const r = runDetectors({
      samples: [],
      window: { startMs: now - 5 * MIN, endMs: now },
      nowMs: now,
      jobs: [ck],
      progress: new Map(),
      checkpointListings: due ? new Map([[KEY, newest]]) : new Map(),
      state: JSON.parse(JSON.stringify(state)),
      settings,
    });
    for (const f of r.findings) expect(findingSchema.parse(f)).toEqual(f);
    state = r.state;
    out.push({ at: now, findings: r.findings, listed: due });
  }
  return { out, state };
}

describe('checkpoint staleness against the job own interval', () => {
  it('learns the 20-minute interval and stays quiet while checkpoints keep coming', () => {
    const { out, state } = simulate(Number.POSITIVE_INFINITY, 36);
    expect(out.flatMap((r) => stale(r.findings))).toEqual([]);
    const gaps = state.checkpoints[KEY]?.gapsMs ?? [];
    expect(gaps.length).toBeGreaterThanOrEqual(3);
    // Listings every 15 min see each 20-min checkpoint: gaps of 20 min, sometimes 40 when two
    // checkpoints fall between listings (the median stays 20).
    expect(gaps.every((g) => g % (20 * MIN) === 0)).toBe(true);
  });

  it('flags a stall of a regular job 5 min past its longest gap, confirmed by a listing', () => {
    // Last checkpoint at 01:00 after start, after three gaps of 20 min: the job is regular, so it is
    // stale after min(max(1.5 × 20, 20 + 10), 20 + 5) = 25 min: 01:25, listed at the next run.
    const lastCheckpoint = START + HOUR_MS;
    const { out } = simulate(lastCheckpoint, 30);
    const first = out.find((r) => stale(r.findings).length > 0);
    expect(first).toBeDefined();
    expect(first?.listed).toBe(true);
    expect(first?.at).toBeGreaterThan(lastCheckpoint + 25 * MIN);
    expect(first?.at).toBeLessThanOrEqual(lastCheckpoint + 30 * MIN);
    const f = stale(first?.findings ?? [])[0];
    expect(f).toMatchObject({ cause: 'data-io', severity: 'ticket', labels: { job: 'ck-1' } });
    expect(f?.evidence.values?.intervalMinutes).toBe(20);
  });

  it('threshold: half an interval late, at least 10 min late, never beyond the class bound', () => {
    expect(checkpointStaleAfterMs(20 * MIN, 3 * HOUR_MS)).toBe(30 * MIN);
    expect(checkpointStaleAfterMs(10 * MIN, 3 * HOUR_MS)).toBe(20 * MIN);
    expect(checkpointStaleAfterMs(4 * HOUR_MS, 3 * HOUR_MS)).toBe(3 * HOUR_MS);
  });

  it('threshold of a regular job: its longest gap + max(5 min, 20 %), never later than the generic one', () => {
    const generic = (i: number) => checkpointStaleAfterMs(i, 3 * HOUR_MS);
    const own = (i: number, longest: number) =>
      checkpointStaleAfterMs(i, 3 * HOUR_MS, undefined, undefined, longest);
    // Every 26 min like clockwork: 31.2 min (26 + 20 %), not 39.
    expect(generic(26 * MIN)).toBe(39 * MIN);
    expect(own(26 * MIN, 26 * MIN)).toBe(31.2 * MIN);
    // Every 20 min: 25 (the 5-min floor beats 20 % = 4 min).
    expect(own(20 * MIN, 20 * MIN)).toBe(25 * MIN);
    // An evaluation every few checkpoints showed a 40-min gap: past it, capped by the generic 30.
    expect(own(20 * MIN, 40 * MIN)).toBe(30 * MIN);
    expect(own(20 * MIN, 22 * MIN)).toBe(27 * MIN);
    // Never beyond the class bound.
    expect(own(4 * HOUR_MS, 4 * HOUR_MS)).toBe(3 * HOUR_MS);
  });

  it('trusts a job as regular only after REGULAR_MIN_GAPS gaps', () => {
    expect(checkpointLongestGap(undefined)).toBeUndefined();
    expect(checkpointLongestGap([20 * MIN, 21 * MIN])).toBeUndefined();
    expect(checkpointLongestGap([20 * MIN, 26 * MIN, 21 * MIN])).toBe(26 * MIN);
    expect(REGULAR_MIN_GAPS).toBe(3);
  });

  it('gaps: the first after an empty listing counts from training start; none before a listing', () => {
    const empty = { checkedAtMs: START + 5 * MIN, newestMs: null, seenAtMs: START + 5 * MIN };
    expect(checkpointGaps(empty, START + 20 * MIN, START)).toEqual([20 * MIN]);
    // Never listed before: the newest object may be any of many, so no gap is learned.
    expect(checkpointGaps(undefined, START + 3 * HOUR_MS, START)).toEqual([]);
    const seen = { ...empty, newestMs: START + 20 * MIN, gapsMs: [20 * MIN] };
    expect(checkpointGaps(seen, START + 40 * MIN, START)).toEqual([20 * MIN, 20 * MIN]);
    // Nothing new: nothing learned.
    expect(checkpointGaps(seen, START + 20 * MIN, START)).toEqual([20 * MIN]);
  });
});
