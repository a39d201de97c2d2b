import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  binCounts,
  ksPValue,
  ksStatistic,
  ksTest,
  PSI_EPSILON,
  psiCategorical,
  psiFromCounts,
  psiNumeric,
  quantileBinEdges,
} from '../../../../lambdas/core/detect/drift/statistics';
import { normal, prng } from '../synthetic';

function gaussian(seed: number, n: number, mean = 0, sd = 1): number[] {
  const z = normal(prng(seed));
  return Array.from({ length: n }, () => mean + sd * z());
}

describe('PSI', () => {
  it.each([
    // Hand-computed: (0.6−0.5)·ln(0.6/0.5) + (0.4−0.5)·ln(0.4/0.5) = 0.018232 + 0.022314
    { name: 'a 50/50 → 60/40 split', b: [50, 50], r: [60, 40], psi: 0.040546 },
    { name: 'identical proportions at different n', b: [10, 30, 60], r: [100, 300, 600], psi: 0 },
    // A bin that empties uses ε: (ε−0.5)·ln(ε/0.5) + (1−0.5)·ln(1/0.5)
    {
      name: 'a bin that empties',
      b: [50, 50],
      r: [0, 100],
      psi: (PSI_EPSILON - 0.5) * Math.log(PSI_EPSILON / 0.5) + 0.5 * Math.log(2),
    },
  ])('$name → $psi', ({ b, r, psi }) => {
    expect(psiFromCounts(b, r)).toBeCloseTo(psi, 5);
  });

  it('is NaN for an empty side (no answer, not "no drift")', () => {
    expect(psiFromCounts([0, 0], [1, 2])).toBeNaN();
  });

  it('quantile edges drop ties instead of making empty bins', () => {
    // 90 % zeros: deciles 1..9 are all 0; an interpolated 9th decile (0.1) would make an empty bin.
    const flag = [...new Array<number>(900).fill(0), ...new Array<number>(100).fill(1)];
    expect(quantileBinEdges(flag, 10)).toEqual([0]);
    expect(binCounts(flag, [0])).toEqual([900, 100]);
  });

  it('bins hold edges[i−1] < v ≤ edges[i]', () => {
    expect(binCounts([-5, 1, 1.5, 2, 2.1, 99], [1, 2])).toEqual([2, 2, 2]);
  });

  it('a categorical mix change is over 0.2; resampling the same mix is under 0.1', () => {
    const rand = prng(7);
    const draw = (weights: Record<string, number>, n: number) =>
      Array.from({ length: n }, () => {
        let u = rand();
        for (const [k, w] of Object.entries(weights)) {
          u -= w;
          if (u <= 0) return k;
        }
        return Object.keys(weights)[0] as string;
      });
    const mix = { CA: 0.4, NY: 0.3, TX: 0.2, WA: 0.1 };
    const baseline = draw(mix, 2_000);
    expect(psiCategorical(baseline, draw(mix, 2_000))).toBeLessThan(0.02);
    expect(psiCategorical(baseline, draw({ CA: 0.15, NY: 0.3, TX: 0.2, WA: 0.35 }, 2_000))).toBeGreaterThan(
      0.2,
    );
  });
});

describe('KS', () => {
  it.each([
    { name: 'identical samples', a: [1, 2, 3], b: [1, 2, 3], d: 0 },
    { name: 'disjoint samples', a: [1, 2, 3], b: [4, 5], d: 1 },
    // ECDFs after 1: 1/2 vs 0; after 2: 1 vs 1/2; after 3: 1 vs 1 → max 1/2
    { name: 'interleaved', a: [1, 2], b: [2, 3], d: 0.5 },
    // Ties must move both ECDFs together: at 0 both jump to 0.5, at 1 both to 1.
    { name: 'ties across samples', a: [0, 0, 1, 1], b: [0, 1], d: 0 },
  ])('$name → D = $d', ({ a, b, d }) => {
    expect(ksStatistic(a, b)).toBeCloseTo(d, 12);
  });

  it.each([
    // Kolmogorov distribution: Q(1.36) ≈ 0.049, Q(1.63) ≈ 0.010 (large-sample critical values).
    { lambda: 1.36, p: 0.049 },
    { lambda: 1.63, p: 0.01 },
    { lambda: 0.5, p: 0.964 },
  ])('Q(λ = $lambda) ≈ $p for large samples', ({ lambda, p }) => {
    const n = 1_000_000;
    const d = lambda / Math.sqrt(n / 2);
    expect(ksPValue(d, n, n)).toBeCloseTo(p, 2);
  });

  it('no shift on 2,000 vs 2,000 samples is not significant; a 0.5σ mean shift is', () => {
    const baseline = gaussian(11, 2_000);
    const same = ksTest(baseline, gaussian(12, 2_000));
    expect(same.p).toBeGreaterThan(0.01);
    expect(same.d).toBeLessThan(0.06);
    const shifted = ksTest(baseline, gaussian(13, 2_000, 0.5));
    // Expected D ≈ Φ(0.25) − Φ(−0.25) ≈ 0.197.
    expect(shifted.d).toBeGreaterThan(0.15);
    expect(shifted.d).toBeLessThan(0.25);
    expect(shifted.p).toBeLessThan(1e-10);
  });

  it('numeric PSI grows with the shift', () => {
    const baseline = gaussian(21, 2_000);
    const small = psiNumeric(baseline, gaussian(22, 2_000, 0.1));
    const large = psiNumeric(baseline, gaussian(23, 2_000, 0.7));
    expect(small).toBeLessThan(0.05);
    expect(large).toBeGreaterThan(0.3);
  });
});

describe('properties', () => {
  const sample = fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 200 });
  const categories = fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { minLength: 1, maxLength: 200 });

  it('PSI ≥ 0, and 0 for a sample against itself (numeric and categorical)', () => {
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        expect(psiNumeric(a, b)).toBeGreaterThanOrEqual(0);
        expect(psiNumeric(a, a)).toBe(0);
      }),
    );
    fc.assert(
      fc.property(categories, categories, (a, b) => {
        expect(psiCategorical(a, b)).toBeGreaterThanOrEqual(0);
        expect(psiCategorical(a, a)).toBe(0);
      }),
    );
  });

  it('KS D is in [0, 1], symmetric, 0 against itself; p is in [0, 1]', () => {
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const d = ksStatistic(a, b);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(1);
        expect(ksStatistic(b, a)).toBe(d);
        expect(ksStatistic(a, a)).toBe(0);
        const p = ksPValue(d, a.length, b.length);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
      }),
    );
  });
});
