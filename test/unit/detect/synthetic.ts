import type { TimedValue } from '../../../lambdas/core/detect/seasonal-baseline';

/**
 * Seeded synthetic metric series for the detector tests and bench/detect-eval.ts: shaped like
 * CloudWatch EC2 series (5-minute points, a daily cycle, noise of several families) with anomalies
 * injected at known indices.
 */

export const FIVE_MIN = 300_000;
/** 2014-02-10 00:00:00 UTC, a Monday. */
export const T0 = Date.UTC(2014, 1, 10);

/** mulberry32: tiny, fast, good enough for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function normal(rand: () => number): () => number {
  return () => {
    const u = Math.max(rand(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
}

export const BASES = ['smooth', 'ar', 'bursty', 'cpu', 'latency', 'flat-noisy'] as const;
export type Base = (typeof BASES)[number];
export const INJECTED = ['spike', 'dip', 'level_shift_up', 'level_shift_down', 'variance_change'] as const;
export type Injected = (typeof INJECTED)[number];

export interface Injection {
  readonly kind: Injected;
  readonly index: number;
  /** Points the anomaly lasts (a level shift may last to the end). */
  readonly length: number;
  /** Size in robust sigmas of the base noise (spike, dip, shift) or the variance factor. */
  readonly size: number;
}

export interface SyntheticSeries {
  readonly name: string;
  readonly base: Base;
  readonly points: TimedValue[];
  readonly injections: readonly Injection[];
}

export interface BaseSpec {
  readonly base: Base;
  readonly n: number;
  readonly seed: number;
  /** Amplitude of the daily cycle as a multiple of the noise sigma. @default 3 */
  readonly dailyAmplitude?: number;
}

/** Noise sigma of each base, so injections can be sized in sigmas. */
export function baseSeries(spec: BaseSpec): { values: number[]; sigma: number; level: number } {
  const rand = prng(spec.seed);
  const gauss = normal(rand);
  const amp = spec.dailyAmplitude ?? 3;
  const values: number[] = [];
  const daily = (i: number) => Math.sin((2 * Math.PI * i) / 288 - Math.PI / 2);
  switch (spec.base) {
    case 'smooth': {
      const level = 50;
      const sigma = 2;
      for (let i = 0; i < spec.n; i++) values.push(level + amp * sigma * daily(i) + sigma * gauss());
      return { values, sigma, level };
    }
    case 'ar': {
      // Strongly autocorrelated wander around a daily cycle, like a CPU following load.
      const level = 40;
      const sigma = 3;
      let e = 0;
      const phi = 0.9;
      for (let i = 0; i < spec.n; i++) {
        e = phi * e + Math.sqrt(1 - phi * phi) * sigma * gauss();
        values.push(level + amp * sigma * daily(i) + e);
      }
      return { values, sigma, level };
    }
    case 'bursty': {
      // Network / disk bytes: log-normal floor with frequent short bursts of heavy-tailed size.
      const level = 1_000;
      const sigma = 150;
      let burst = 0;
      let burstSize = 0;
      for (let i = 0; i < spec.n; i++) {
        if (burst === 0 && rand() < 0.01) {
          burst = 1 + Math.floor(rand() * 4);
          burstSize = level * (1 + 3 * rand() ** 2);
        }
        const b = burst > 0 ? burstSize : 0;
        if (burst > 0) burst--;
        values.push(level * Math.exp(0.15 * gauss()) * (1 + (0.3 * amp * (daily(i) + 1)) / 3) + b);
      }
      return { values, sigma, level };
    }
    case 'cpu': {
      // Bounded percent with occasional brief busy spikes (cron jobs) that are normal.
      const level = 25;
      const sigma = 1.5;
      for (let i = 0; i < spec.n; i++) {
        const cron = i % 288 === 100 || i % 288 === 101 ? 20 : 0;
        const v = level + amp * sigma * daily(i) + sigma * gauss() + cron;
        values.push(Math.min(100, Math.max(0, v)));
      }
      return { values, sigma, level };
    }
    case 'latency': {
      // Right-skewed request latency (gamma-ish via a squared normal) with a daily cycle.
      const level = 120;
      const sigma = 10;
      for (let i = 0; i < spec.n; i++) {
        const g = gauss();
        values.push(level + amp * sigma * daily(i) + sigma * (0.7 * g + 0.3 * (g * g - 1)));
      }
      return { values, sigma, level };
    }
    case 'flat-noisy': {
      // No daily cycle at all: white noise with rare, normal single-point outliers.
      const level = 10;
      const sigma = 1;
      for (let i = 0; i < spec.n; i++) {
        const outlier = rand() < 0.003 ? sigma * 4 * (rand() < 0.5 ? -1 : 1) : 0;
        values.push(level + sigma * gauss() + outlier);
      }
      return { values, sigma, level };
    }
  }
}

/** Applies injections in place (values only). */
export function inject(
  values: number[],
  sigma: number,
  injections: readonly Injection[],
  seed: number,
  floorAtZero = true,
): void {
  const gauss = normal(prng(seed ^ 0x5bd1e995));
  for (const inj of injections) {
    const end = Math.min(values.length, inj.index + inj.length);
    for (let i = inj.index; i < end; i++) {
      const v = values[i] as number;
      switch (inj.kind) {
        case 'spike':
          values[i] = v + inj.size * sigma;
          break;
        case 'dip':
          values[i] = v - inj.size * sigma;
          break;
        case 'level_shift_up':
          values[i] = v + inj.size * sigma;
          break;
        case 'level_shift_down':
          values[i] = v - inj.size * sigma;
          break;
        case 'variance_change':
          values[i] = v + (inj.size - 1) * sigma * gauss();
          break;
      }
      if (floorAtZero) values[i] = Math.max(0, values[i] as number);
    }
  }
}

export function toPoints(values: readonly number[], start = T0, cadenceMs = FIVE_MIN): TimedValue[] {
  return values.map((v, i) => ({ t: start + i * cadenceMs, v }));
}

export function synthetic(name: string, spec: BaseSpec, injections: readonly Injection[]): SyntheticSeries {
  const { values, sigma } = baseSeries(spec);
  inject(values, sigma, injections, spec.seed);
  return { name, base: spec.base, points: toPoints(values), injections };
}
