import { describe, expect, it } from 'vitest';
import { copyRecord, filterRecord } from '../../../lambdas/core/detect/detection-state';

/** What pruneDetectionState built before: the reference filterRecord must match exactly. */
const viaEntries = <T>(r: Record<string, T>, keep: (v: T, k: string) => boolean) =>
  Object.fromEntries(Object.entries(r).filter(([k, v]) => keep(v, k)));

describe('filterRecord', () => {
  it('keeps the accepted entries in the order (and with the keys) Object.fromEntries would', () => {
    const r: Record<string, number> = {
      '["us-east-1","b"]': 5,
      '1700000000000': 1,
      '["us-east-1","a"]': 2,
      '1600000000000': 7,
      z: 0,
    };
    const keep = (v: number) => v > 0;
    const got = filterRecord(r, keep);
    expect(got).toEqual(viaEntries(r, keep));
    expect(Object.keys(got)).toEqual(Object.keys(viaEntries(r, keep)));
    expect(JSON.stringify(got)).toBe(JSON.stringify(viaEntries(r, keep)));
    expect('z' in got).toBe(false);
  });

  it('passes the key to the predicate and returns a new object', () => {
    const r = { '10': 'a', '20': 'b' };
    const got = filterRecord(r, (_v, k) => Number(k) > 15);
    expect(got).toEqual({ '20': 'b' });
    expect(got).not.toBe(r);
  });

  it('defines a "__proto__" key as data, as fromEntries does, instead of setting the prototype', () => {
    const r = JSON.parse('{"__proto__": {"polluted": 1}, "a": 1}') as Record<string, unknown>;
    const got = filterRecord(r, () => true);
    expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
    expect(Object.keys(got)).toEqual(['__proto__', 'a']);
    expect(JSON.stringify(got)).toBe(JSON.stringify(viaEntries(r, () => true)));
  });
});

describe('copyRecord', () => {
  it('is what { ...r } makes: a new object, same keys, same order, same values', () => {
    const v = { x: 1 };
    const r: Record<string, unknown> = { '["r","b"]': v, '7': 2, '["r","a"]': 3, '3': 4 };
    const got = copyRecord(r);
    expect(got).not.toBe(r);
    expect(Object.keys(got)).toEqual(Object.keys({ ...r }));
    expect(got).toEqual({ ...r });
    expect(got['["r","b"]']).toBe(v);
  });
});
