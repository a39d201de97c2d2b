import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAD_TO_SIGMA,
  mad,
  median,
  quantile,
  robustScaleSorted,
  robustStats,
  robustZ,
  SortedWindow,
  sortedCopy,
  weightedMedian,
} from '../../../lambdas/core/detect/robust';

const finite = fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true });

describe('median and MAD', () => {
  it.each([
    { values: [3], median: 3, mad: 0 },
    { values: [1, 2, 3], median: 2, mad: 1 * MAD_TO_SIGMA },
    { values: [4, 1, 3, 2], median: 2.5, mad: 1 * MAD_TO_SIGMA },
    { values: [1, 1, 2, 2, 4, 6, 9], median: 2, mad: 1 * MAD_TO_SIGMA },
    { values: [5, 5, 5, 5], median: 5, mad: 0 },
    // One wild value moves neither.
    { values: [10, 11, 12, 13, 1e9], median: 12, mad: 1 * MAD_TO_SIGMA },
    { values: [-3, -1, 0, 1, 3], median: 0, mad: 1 * MAD_TO_SIGMA },
  ])('of $values: median $median, scaled MAD $mad', ({ values, median: m, mad: d }) => {
    expect(median(values)).toBe(m);
    expect(mad(values)).toBeCloseTo(d, 10);
    expect(robustStats(values)).toMatchObject({ n: values.length, median: m });
  });

  it('is NaN for no data', () => {
    expect(median([])).toBeNaN();
    expect(mad([])).toBeNaN();
  });

  it('estimates sigma of normal data (MAD × 1.4826)', () => {
    // Deterministic normal quantiles of 0.5/n ... (n-0.5)/n: an ideal normal sample.
    const n = 2001;
    const sample = Array.from({ length: n }, (_, i) => 7 + 3 * inverseNormal((i + 0.5) / n));
    expect(mad(sample)).toBeCloseTo(3, 1);
    expect(median(sample)).toBeCloseTo(7, 6);
  });

  it('matches a brute-force MAD (the O(n) merge is exact)', () => {
    fc.assert(
      fc.property(fc.array(finite, { minLength: 1, maxLength: 60 }), (xs) => {
        const m = median(xs);
        const brute = median(xs.map((x) => Math.abs(x - m))) * MAD_TO_SIGMA;
        expect(mad(xs)).toBeCloseTo(brute, 6);
      }),
    );
  });

  it('does not depend on the order of the data', () => {
    fc.assert(
      fc.property(
        fc
          .array(finite, { minLength: 1, maxLength: 80 })
          .chain((xs) => fc.tuple(fc.constant(xs), fc.shuffledSubarray(xs, { minLength: xs.length }))),
        ([xs, shuffled]) => {
          expect(median(shuffled)).toBe(median(xs));
          expect(mad(shuffled)).toBe(mad(xs));
        },
      ),
    );
  });

  it('MAD is never negative', () => {
    fc.assert(
      fc.property(fc.array(finite, { minLength: 1, maxLength: 80 }), (xs) => {
        expect(mad(xs)).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('a single huge outlier moves the median by at most one order statistic and barely moves the MAD', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 9, maxLength: 60 }),
        fc.double({ min: 1e8, max: 1e12, noNaN: true }),
        (xs, huge) => {
          const sorted = sortedCopy(xs);
          const withOutlier = [...xs, huge];
          const m = median(withOutlier);
          // The new median lies between the old middle order statistics.
          expect(m).toBeGreaterThanOrEqual(sorted[Math.floor((xs.length - 1) / 2)] as number);
          expect(m).toBeLessThanOrEqual(sorted[Math.ceil(xs.length / 2)] as number);
          // The MAD stays within the data's own range, nowhere near the outlier.
          expect(mad(withOutlier)).toBeLessThanOrEqual(200 * MAD_TO_SIGMA);
        },
      ),
    );
  });
});

describe('quantile (linear interpolation, R type 7)', () => {
  it.each([
    { p: 0, q: 1 },
    { p: 0.25, q: 1.75 },
    { p: 0.5, q: 2.5 },
    { p: 1, q: 4 },
  ])('of 1..4 at p=$p is $q', ({ p, q }) => {
    expect(quantile([4, 2, 3, 1], p)).toBe(q);
  });

  it('rejects p outside [0, 1]', () => {
    expect(() => quantile([1, 2], 1.5)).toThrow(/\[0, 1\]/);
  });
});

describe('robustScaleSorted', () => {
  it.each([
    { name: 'normal spread uses the MAD', values: [1, 2, 3, 4, 5], expected: 1 * MAD_TO_SIGMA },
    // Mostly zeros (a counter that rarely moves): MAD and IQR are 0, the 10-90 % range is not.
    {
      name: 'mostly constant falls back to a wider range',
      values: [...Array(17).fill(0), 5, 6, 7],
      expected: 5.1 / 2.563 /* q90 interpolates 5..6 */,
    },
    { name: 'all equal is 0', values: [2, 2, 2], expected: 0 },
  ])('$name', ({ values, expected }) => {
    expect(robustScaleSorted(sortedCopy(values))).toBeCloseTo(expected, 6);
  });
});

describe('robustZ', () => {
  it.each([
    { value: 14, center: 10, scale: 2, floor: 0, z: 2 },
    { value: 6, center: 10, scale: 2, floor: 0, z: -2 },
    { value: 14, center: 10, scale: 0.5, floor: 4, z: 1 },
    { value: 10, center: 10, scale: 0, floor: 0, z: 0 },
    { value: 11, center: 10, scale: 0, floor: 0, z: Number.POSITIVE_INFINITY },
    { value: 9, center: 10, scale: 0, floor: 0, z: Number.NEGATIVE_INFINITY },
  ])('($value - $center) / max($scale, $floor) = $z', ({ value, center, scale, floor, z }) => {
    expect(robustZ(value, center, scale, floor)).toBe(z);
  });
});

describe('weightedMedian', () => {
  it.each([
    { values: [1, 2, 3], weights: [1, 1, 1], m: 2 },
    { values: [1, 2, 3], weights: [1, 1, 10], m: 3 },
    { values: [5, 1], weights: [3, 1], m: 5 },
    { values: [1, 2], weights: [0, 0], m: Number.NaN },
  ])('of $values weighted $weights is $m', ({ values, weights, m }) => {
    expect(weightedMedian(values, weights)).toEqual(m);
  });
});

describe('SortedWindow', () => {
  it('agrees with batch statistics over the last `capacity` values at every step', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(finite, { minLength: 1, maxLength: 60 }),
        (cap, xs) => {
          const w = new SortedWindow(cap);
          xs.forEach((x, i) => {
            w.push(x);
            const last = xs.slice(Math.max(0, i + 1 - cap), i + 1);
            expect(w.size).toBe(last.length);
            expect(w.values()).toEqual(last);
            expect(w.median()).toBe(median(last));
            expect(w.mad()).toBeCloseTo(mad(last), 9);
            expect(w.kthLargest(1)).toBe(Math.max(...last));
            expect(w.meanOf((v) => v)).toBeCloseTo(last.reduce((a, b) => a + b, 0) / last.length, 6);
          });
        },
      ),
    );
  });

  it('rebuilds from its values (what a serialised state stores)', () => {
    const w = new SortedWindow(5, [5, 1, 4, 2, 8, 7]);
    const copy = new SortedWindow(5, w.values());
    expect(copy.values()).toEqual([1, 4, 2, 8, 7]);
    expect(copy.median()).toBe(w.median());
  });

  it.each([
    { name: 'capacity 0', make: () => new SortedWindow(0) },
    { name: 'fractional capacity', make: () => new SortedWindow(2.5) },
    { name: 'NaN value', make: () => new SortedWindow(3, [Number.NaN]) },
  ])('rejects $name', ({ make }) => {
    expect(make).toThrow(RangeError);
  });

  it('kthLargest is NaN when the window holds fewer than k values', () => {
    expect(new SortedWindow(4, [1, 2]).kthLargest(3)).toBeNaN();
  });
});

/** Acklam's rational approximation of the normal quantile (|error| < 1.2e-9): test data only. */
function inverseNormal(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const [a0, a1, a2, a3, a4, a5] = a as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = b as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = c as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = d as [number, number, number, number];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) /
      ((((d0 * q + d1) * q + d2) * q + d3) * q + 1)
    );
  }
  if (p > 1 - lo) return -inverseNormal(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) /
    (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1)
  );
}
