import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DetectionState,
  detectionStateJsonBytes,
  detectionStateSchema,
  emptyDetectionState,
  jobStateKey,
  jobStateKeyOf,
  parseDetectionState,
} from '../../../lambdas/core/detect/detection-state';
import { HOUR_MS } from '../../../lambdas/core/time';

const NOW = Date.UTC(2026, 10, 25, 14);
const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/** A state with job activity entries whose keys are written out of schema order. */
function stateWith(jobs: Record<string, { runs: [number, number, 0 | 1 | 2][]; seenAtMs: number }>) {
  return { ...emptyDetectionState(NOW), jobs } as DetectionState;
}

describe('parseDetectionState reuses job entries it checked before', () => {
  it('returns what the schema returns: same values, same key order, same JSON', () => {
    const value = stateWith({
      '["us-east-1","b"]': { runs: [[NOW - HOUR_MS, NOW, 2]], seenAtMs: NOW },
      '["us-east-1","ä-job"]': { runs: [], seenAtMs: NOW - HOUR_MS },
    });
    const parsed = parseDetectionState(value);
    const reference = detectionStateSchema.parse(value);
    expect(parsed.reset).toBeUndefined();
    expect(parsed.state).toEqual(reference);
    expect(JSON.stringify(parsed.state)).toBe(JSON.stringify(reference));
  });

  it('hands back a checked, frozen entry as is the next time, and never a changed one', () => {
    const first = parseDetectionState(
      stateWith({ '["r","a"]': { seenAtMs: NOW, runs: [[NOW - HOUR_MS, NOW, 1]] } }),
    ).state;
    const entry = first.jobs['["r","a"]'];
    expect(Object.isFrozen(entry)).toBe(true);
    expect(Object.isFrozen(entry?.runs[0])).toBe(true);
    // The next run carries the entry by reference (as runDetectors does for untouched jobs).
    const second = parseDetectionState({ ...first, jobs: { ...first.jobs } }).state;
    expect(second.jobs['["r","a"]']).toBe(entry);
    // An equal but unknown object is checked and copied, not trusted.
    const copy = { seenAtMs: NOW, runs: [[NOW - HOUR_MS, NOW, 1]] };
    const third = parseDetectionState({ ...first, jobs: { '["r","a"]': copy } }).state;
    expect(third.jobs['["r","a"]']).not.toBe(copy);
    expect(third.jobs['["r","a"]']).toEqual(copy);
  });

  it('still rejects an invalid entry next to known ones, with the schema own issues', () => {
    const first = parseDetectionState(stateWith({ '["r","a"]': { seenAtMs: NOW, runs: [] } })).state;
    const bad = { ...first, jobs: { ...first.jobs, '["r","b"]': { seenAtMs: -1, runs: [] } } };
    const r = parseDetectionState(bad);
    expect(r.reset?.reason).toBe('invalid');
    expect(r.reset?.detail).toMatch(/jobs\.\["r","b"\]\.seenAtMs/);
    expect(r.state).toEqual(emptyDetectionState());
    const extra = parseDetectionState({ ...first, jobs: { '["r","c"]': { seenAtMs: NOW, runs: [], x: 1 } } });
    expect(extra.reset?.reason).toBe('invalid');
    const hole = parseDetectionState({ ...first, jobs: { ...first.jobs, '["r","d"]': undefined } });
    expect(hole.reset?.reason).toBe('invalid');
  });
});

describe('detectionStateJsonBytes', () => {
  it('is the UTF-8 length of the JSON, for known, unknown and no job entries', () => {
    const empty = emptyDetectionState(NOW);
    expect(detectionStateJsonBytes(empty, utf8)).toBe(utf8(JSON.stringify(empty)));
    const parsed = parseDetectionState(
      stateWith({
        '["eu-west-1","ü"]': { seenAtMs: NOW, runs: [[NOW - 2 * HOUR_MS, NOW, 0]] },
        '["eu-west-1","x"]': { seenAtMs: NOW, runs: [] },
      }),
    ).state;
    const mixed = { ...parsed, jobs: { ...parsed.jobs, '["eu-west-1","new"]': { seenAtMs: NOW, runs: [] } } };
    const withHole = { ...mixed, jobs: { ...mixed.jobs, '["eu-west-1","gone"]': undefined } };
    expect(detectionStateJsonBytes(withHole as unknown as DetectionState, utf8)).toBe(
      utf8(JSON.stringify(withHole)),
    );
    // Twice: the second call uses the remembered sizes of the frozen entries.
    expect(detectionStateJsonBytes(mixed, utf8)).toBe(utf8(JSON.stringify(mixed)));
    expect(detectionStateJsonBytes(mixed, utf8)).toBe(utf8(JSON.stringify(mixed)));
  });

  it('measures a known entry again when it appears under another key', () => {
    const parsed = parseDetectionState(stateWith({ '["r","a"]': { seenAtMs: NOW, runs: [] } })).state;
    const entry = parsed.jobs['["r","a"]'];
    expect(detectionStateJsonBytes(parsed, utf8)).toBe(utf8(JSON.stringify(parsed)));
    const renamed = { ...parsed, jobs: { '["r","a-much-longer-name"]': entry } } as DetectionState;
    expect(detectionStateJsonBytes(renamed, utf8)).toBe(utf8(JSON.stringify(renamed)));
  });

  it('matches JSON.stringify for arbitrary job records (property)', () => {
    const run = fc.tuple(fc.nat(), fc.nat(), fc.constantFrom(0 as const, 1 as const, 2 as const));
    const activity = fc.record({ seenAtMs: fc.nat(), runs: fc.array(run, { maxLength: 4 }) });
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), activity, { maxKeys: 6 }), (jobs) => {
        const value = stateWith(jobs);
        const parsed = parseDetectionState(value);
        const reference = detectionStateSchema.safeParse(value);
        expect(parsed.reset === undefined).toBe(reference.success);
        if (!reference.success) return;
        expect(JSON.stringify(parsed.state)).toBe(JSON.stringify(reference.data));
        expect(detectionStateJsonBytes(parsed.state, utf8)).toBe(utf8(JSON.stringify(parsed.state)));
      }),
    );
  });
});

describe('jobStateKeyOf', () => {
  it('is jobStateKey of the job, remembered only for frozen job objects', () => {
    const frozen = Object.freeze({ region: 'us-east-1', jobName: 'a' });
    expect(jobStateKeyOf(frozen)).toBe(jobStateKey('us-east-1', 'a'));
    expect(jobStateKeyOf(frozen)).toBe(jobStateKey('us-east-1', 'a'));
    // A mutable job may be renamed between calls: its key follows.
    const mutable = { region: 'us-east-1', jobName: 'b' };
    expect(jobStateKeyOf(mutable)).toBe(jobStateKey('us-east-1', 'b'));
    mutable.jobName = 'c';
    expect(jobStateKeyOf(mutable)).toBe(jobStateKey('us-east-1', 'c'));
  });
});
