import { describe, expect, it } from 'vitest';
import { findingSchema } from '../../../../lambdas/contracts/finding';
import {
  checkDrift,
  type FeatureRow,
  type FeatureSpec,
} from '../../../../lambdas/core/detect/drift/data-capture';
import { fitList, MAX_FEATURE_EVIDENCE, summarizeDrift } from '../../../../lambdas/core/detect/drift/summary';

/** One finding per endpoint must stay small and readable however many features drifted. */

const item = (name: string, score: number) => ({
  name,
  score,
  brief: `PSI ${score}`,
  detail: `PSI=${score}`,
  values: { psi: score },
});

describe('summarizeDrift', () => {
  it('sorts worst first, unknown scores last, ties in input order', () => {
    const s = summarizeDrift({
      items: [item('a', 1), item('b', Number.NaN), item('c', 3), item('d', 1)],
      checked: 6,
      noun: 'features',
      endpoint: 'ep',
      check: 'baseline_drift_check',
    });
    expect(s.sorted.map((i) => i.name)).toEqual(['c', 'a', 'd', 'b']);
    expect(s.title).toBe(
      '4 of 6 features drifted on endpoint ep: c (PSI 3), a (PSI 1), d (PSI 1), b (PSI NaN)',
    );
    expect(s.values).toMatchObject({ features_checked: 6, features_drifted: 4, 'c.psi': 3 });
  });

  it('caps the evidence at MAX_FEATURE_EVIDENCE features and says how many more drifted', () => {
    const items = Array.from({ length: 40 }, (_, i) => item(`feature_${String(i).padStart(2, '0')}`, 40 - i));
    const s = summarizeDrift({ items, checked: 40, noun: 'features', endpoint: 'ep', check: 'x' });
    expect(Object.keys(s.values).filter((k) => k.endsWith('.psi'))).toHaveLength(MAX_FEATURE_EVIDENCE);
    expect(s.values['features_without_evidence']).toBe(40 - MAX_FEATURE_EVIDENCE);
    expect(s.values['feature_00.psi']).toBe(40);
    expect(s.values['feature_39.psi']).toBeUndefined();
    expect(s.title.length).toBeLessThanOrEqual(200);
    expect(s.title).toMatch(
      /^40 of 40 features drifted on endpoint ep: feature_00 \(PSI 40\), .*, \+\d+ more$/,
    );
  });
});

describe('fitList', () => {
  it('lists what fits and names the rest', () => {
    expect(fitList('p: ', ['aa', 'bb', 'cc'], ', ', 100)).toBe('p: aa, bb, cc');
    expect(fitList('p: ', ['aa', 'bb', 'cc'], ', ', 16)).toBe('p: aa, +2 more');
    // The first entry is always named, cut if it alone is too long.
    expect(fitList('p: ', ['a'.repeat(50), 'bb'], ', ', 20)).toBe(`p: ${'a'.repeat(7)}…, +1 more`);
  });
});

describe('checkDrift with many drifted features', () => {
  it('stays one valid finding well under the 256 KiB message budget', () => {
    // 200 features (the config maximum) with 256-character names, every one shifted.
    const features: FeatureSpec[] = Array.from({ length: 200 }, (_, i) => ({
      name: `${String(i).padStart(3, '0')}_${'x'.repeat(252)}`,
      type: 'categorical',
    }));
    const row = (v: string): FeatureRow => Object.fromEntries(features.map((f) => [f.name, v]));
    const baseline = Array.from({ length: 200 }, (_, i) => row(i % 2 === 0 ? 'a' : 'b'));
    const recent = Array.from({ length: 200 }, (_, i) => row(i % 10 === 0 ? 'a' : 'c'));
    const { findings } = checkDrift({ baseline, recent, features, endpoint: 'wide-model', nowMs: 0 });
    expect(findings).toHaveLength(1);
    const [f] = findings;
    expect(findingSchema.parse(f)).toEqual(f);
    expect(Buffer.byteLength(JSON.stringify(f))).toBeLessThan(64 * 1024);
    expect(f?.evidence.values?.['features_drifted']).toBe(200);
    expect(f?.evidence.values?.['features_without_evidence']).toBe(200 - MAX_FEATURE_EVIDENCE);
    expect(f?.title).toMatch(/^200 of 200 features drifted on endpoint wide-model: 000_x+…, \+199 more$/);
    expect(f?.evidence.detail).toMatch(/\+\d+ more$/);
  });
});
