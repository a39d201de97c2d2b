import { describe, expect, it } from 'vitest';
import { sinkRejectionCategory } from '../../../lambdas/core/collection/sink-rejections';
import { advanceWatermarks, parseWatermarkState } from '../../../lambdas/core/collection/watermarks';

describe('parseWatermarkState', () => {
  it.each([
    { name: 'no item yet', value: undefined, sources: {}, problems: 0 },
    {
      name: 'a valid item',
      value: { sources: { 'us-east-1/a/p': 1_000 } },
      sources: { 'us-east-1/a/p': 1_000 },
      problems: 0,
    },
    { name: 'a wrong shape', value: { watermarks: [] }, sources: {}, problems: 1 },
    { name: 'null', value: null, sources: {}, problems: 1 },
    {
      name: 'one bad entry next to a good one',
      value: { sources: { good: 60_000, bad: 'yesterday', negative: -1 } },
      sources: { good: 60_000 },
      problems: 2,
    },
  ])('$name', ({ value, sources, problems }) => {
    const out = parseWatermarkState(value);
    expect(out.state.sources).toEqual(sources);
    expect(out.problems).toHaveLength(problems);
  });

  it('names the field and the bad value', () => {
    expect(parseWatermarkState({ sources: { x: 'soon' } }).problems).toEqual([
      'collector/watermarks.sources["x"]: expected epoch milliseconds, got "soon"',
    ]);
  });
});

describe('advanceWatermarks', () => {
  it('moves the given sources forward only and leaves others alone', () => {
    const state = { sources: { a: 100, b: 500, c: 50 } };
    expect(advanceWatermarks(state, ['a', 'b', 'new'], 300).sources).toEqual({
      a: 300,
      b: 500,
      c: 50,
      new: 300,
    });
    expect(state.sources.a).toBe(100); // not mutated
  });
});

describe('sinkRejectionCategory', () => {
  it.each([
    ['A record with the same dimensions, time and measure name but a different value exists', 'duplicate'],
    ['A record with the same dimensions and time but different values exists', 'duplicate'],
    ['The record timestamp is outside the time range of the memory store retention', 'retention'],
    ['Number of dimensions exceeds the limit', 'limits'],
    ['Something new', 'other'],
  ])('%s → %s', (reason, category) => {
    expect(sinkRejectionCategory(reason)).toBe(category);
  });
});
