/**
 * Seeded randomness for the simulator. Two kinds, both deterministic for a seed:
 *
 * - `Rng`: a sequential sfc32 stream for things that happen in order (job arrivals, durations).
 *   `fork(name)` derives an independent stream from the parent's seed and a name, never from the
 *   parent's position, so adding a fault or a job class does not reshuffle any other stream.
 * - `noise(...)`: a stateless hash of integers to [0, 1), for per-GPU-minute telemetry jitter. The
 *   value for (gpu, minute, signal) is the same whenever it is asked for, which lets telemetry be
 *   generated lazily, only for the minutes someone fetches.
 */

/** 32-bit string hash (FNV-1a, then avalanche). */
export function hashString(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/** lowbias32 integer finaliser (Chris Wellons): good avalanche, cheap. */
export function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Stateless uniform in [0, 1) from a key and up to three integers. */
export function noise(key: number, a: number, b = 0, c = 0): number {
  let h = mix32(key ^ Math.imul(a | 0, 0x9e3779b1));
  h = mix32(h ^ Math.imul(b | 0, 0x85ebca77));
  h = mix32(h ^ Math.imul(c | 0, 0xc2b2ae3d));
  return h / 4_294_967_296;
}

/** Stateless approximately-normal value (sum of three uniforms, variance-corrected). */
export function noiseNormal(key: number, a: number, b = 0, c = 0): number {
  const u = noise(key, a, b, c) + noise(key ^ 0x5bd1e995, a, b, c) + noise(key ^ 0x1b873593, a, b, c);
  return (u - 1.5) * 2; // variance of the sum is 1/4, so ×2 gives unit variance
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    this.a = mix32(seed ^ 0x9e3779b9);
    this.b = mix32(seed ^ 0x243f6a88);
    this.c = mix32(seed ^ 0xb7e15162);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.next();
  }

  /** An independent stream for a named entity (a cluster, a fault, a job class). */
  fork(name: string): Rng {
    return new Rng(hashString(name, this.seed));
  }

  /** Uniform 32-bit unsigned integer (sfc32). */
  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4_294_967_296;
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal by Box-Muller, scaled. */
  normal(mean = 0, sd = 1): number {
    const u = 1 - this.next();
    const v = this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Log-normal with the given median and spread (sigma of the underlying normal). */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(this.normal(0, sigma));
  }

  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /**
   * Poisson count with mean `lambda`: Knuth's product method for small means, a rounded normal
   * approximation above 30 (arrivals per minute at reference scale are about 25).
   */
  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda > 30) return Math.max(0, Math.round(this.normal(lambda, Math.sqrt(lambda))));
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: cannot pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Picks by weight; weights need not sum to 1. */
  weighted<T extends string>(weights: Readonly<Record<T, number>>): T {
    const entries = Object.entries(weights) as [T, number][];
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [k, w] of entries) {
      r -= w;
      if (r < 0) return k;
    }
    return (entries[entries.length - 1] as [T, number])[0];
  }

  /** Fisher-Yates on a copy. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }
}
