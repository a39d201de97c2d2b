/**
 * Evaluates the default series detector on seeded NAB-like series and prints NAB-style scores.
 *
 *   npx tsx bench/detect-eval.ts [--sensitivity low|medium|high|<0..1>] [--seasonality ...] [--series 20] [--seed 1] [--verbose]
 *
 * Series: 5-minute points, 4,000 each, a daily cycle plus one of six noise families (smooth,
 * autocorrelated, bursty, CPU with cron spikes, skewed latency, flat with outliers), and 1-3
 * injected anomalies (spike, dip, level shift, variance change) after the probation period.
 * Scoring follows the Numenta Anomaly Benchmark: one window per anomaly, 10 % of the series split
 * between them and centred on the onset; the first detection in a window scores by how early it
 * is (scaled sigmoid), a detection outside every window costs 0.11 (less just after a window), a
 * missed window costs 1; detections in the first 15 % (probation) are ignored; the total is
 * normalised so that 0 = reporting nothing and 100 = perfect.
 */
import { parseArgs } from 'node:util';
import {
  detectSeriesAnomalies,
  type Seasonality,
  type Sensitivity,
} from '../lambdas/core/detect/series-detector';
import {
  BASES,
  type Base,
  baseSeries,
  INJECTED,
  type Injected,
  type Injection,
  inject,
  prng,
  type SyntheticSeries,
  toPoints,
} from '../test/unit/detect/synthetic';

const N = 4_000;
const WEIGHTS = { tp: 1, fp: 0.11, fn: 1 } as const;

/** Injection sizes per kind, in sigmas of the base noise (bursty bases need bigger spikes than their bursts). */
function sizeFor(kind: Injected, base: Base, rand: () => number): { size: number; length: number } {
  const r = (lo: number, hi: number) => lo + (hi - lo) * rand();
  const int = (lo: number, hi: number) => Math.floor(r(lo, hi + 1));
  switch (kind) {
    case 'spike':
      return { size: base === 'bursty' ? r(35, 50) : r(7, 12), length: int(1, 3) };
    case 'dip':
      return { size: base === 'bursty' ? 6 : r(5, 8), length: int(3, 24) };
    case 'level_shift_up':
    case 'level_shift_down':
      return { size: base === 'bursty' ? r(4, 6) : r(3, 6), length: int(300, 1500) };
    case 'variance_change':
      return { size: r(3, 5), length: int(150, 400) };
  }
}

/** `clean` gives the same series without the anomalies (every report is then a false positive). */
export function makeCorpus(count: number, seed: number, clean = false): SyntheticSeries[] {
  const rand = prng(seed);
  const corpus: SyntheticSeries[] = [];
  for (let s = 0; s < count; s++) {
    const base = BASES[s % BASES.length] as Base;
    const k = 1 + Math.floor(rand() * 3);
    const window = Math.floor((0.1 * N) / k);
    // Onsets after probation (15 %) plus half a window, spread so windows do not overlap.
    const start = Math.ceil(0.15 * N) + window;
    const slot = Math.floor((N - start - window) / k);
    const injections: Injection[] = [];
    for (let a = 0; a < k; a++) {
      const kind = INJECTED[Math.floor(rand() * INJECTED.length)] as Injected;
      const { size, length } = sizeFor(kind, base, rand);
      const index = start + a * slot + Math.floor(rand() * Math.max(1, slot - length / 2 - window));
      injections.push({ kind, index, length: Math.min(length, slot), size });
    }
    const { values, sigma } = baseSeries({
      base,
      n: N,
      seed: seed * 1000 + s,
      dailyAmplitude: 1 + 3 * rand(),
    });
    if (!clean) inject(values, sigma, injections, seed * 1000 + s);
    corpus.push({
      name: `${String(s).padStart(2, '0')}-${base}`,
      base,
      points: toPoints(values),
      injections: clean ? [] : injections,
    });
  }
  return corpus;
}

/** NAB's scaled sigmoid: +1 at the window start, 0 at its end, towards -1 well after it. */
const scaledSigmoid = (x: number) => (x > 3 ? -1 : 2 / (1 + Math.exp(5 * x)) - 1);

interface FileScore {
  name: string;
  raw: number;
  windows: number;
  detected: number;
  fp: number;
  detections: number;
  delays: number[];
  byKind: Map<Injected, { n: number; hit: number }>;
}

export function scoreFile(series: SyntheticSeries, detections: readonly number[]): FileScore {
  const n = series.points.length;
  const probation = Math.min(Math.floor(0.15 * n), 0.15 * 5000);
  const width = Math.floor((0.1 * n) / series.injections.length);
  const windows = series.injections.map((inj) => ({
    inj,
    lo: Math.max(0, inj.index - Math.floor(width / 2)),
    hi: Math.min(n - 1, inj.index + Math.ceil(width / 2) - 1),
    hit: false,
  }));
  let raw = 0;
  let fp = 0;
  const delays: number[] = [];
  const counted = detections.filter((i) => i >= probation);
  for (const i of counted) {
    const w = windows.find((x) => i >= x.lo && i <= x.hi);
    if (w) {
      if (w.hit) continue;
      w.hit = true;
      const len = w.hi - w.lo + 1;
      raw += (WEIGHTS.tp * scaledSigmoid(-(w.hi - i + 1) / len)) / scaledSigmoid(-1);
      delays.push(i - w.inj.index);
    } else {
      fp++;
      const prev = windows.filter((x) => x.hi < i).pop();
      const unweighted = prev ? scaledSigmoid(Math.abs(prev.hi - i) / (prev.hi - prev.lo)) : -1;
      raw += WEIGHTS.fp * unweighted;
    }
  }
  const byKind = new Map<Injected, { n: number; hit: number }>();
  for (const w of windows) {
    if (!w.hit) raw -= WEIGHTS.fn;
    const k = byKind.get(w.inj.kind) ?? { n: 0, hit: 0 };
    byKind.set(w.inj.kind, { n: k.n + 1, hit: k.hit + (w.hit ? 1 : 0) });
  }
  return {
    name: series.name,
    raw,
    windows: windows.length,
    detected: windows.filter((w) => w.hit).length,
    fp,
    detections: counted.length,
    delays,
    byKind,
  };
}

export interface EvalSummary {
  nabScore: number;
  recall: number;
  precision: number;
  falsePositives: number;
  medianDelay: number;
  files: FileScore[];
}

export function evaluate(
  corpus: readonly SyntheticSeries[],
  options: { sensitivity?: Sensitivity; seasonality?: Seasonality },
): EvalSummary {
  const files = corpus.map((s) =>
    scoreFile(
      s,
      detectSeriesAnomalies(s.points, options).map((a) => a.index),
    ),
  );
  const windows = files.reduce((a, f) => a + f.windows, 0);
  const detected = files.reduce((a, f) => a + f.detected, 0);
  const fp = files.reduce((a, f) => a + f.fp, 0);
  const raw = files.reduce((a, f) => a + f.raw, 0);
  const nullScore = -WEIGHTS.fn * windows;
  const perfect = WEIGHTS.tp * windows;
  const delays = files.flatMap((f) => f.delays).sort((a, b) => a - b);
  return {
    nabScore: (100 * (raw - nullScore)) / (perfect - nullScore),
    recall: detected / windows,
    precision: detected / Math.max(1, detected + fp),
    falsePositives: fp,
    medianDelay: delays[Math.floor(delays.length / 2)] ?? Number.NaN,
    files,
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      sensitivity: { type: 'string', default: 'medium' },
      seasonality: { type: 'string', default: 'auto' },
      series: { type: 'string', default: '20' },
      seed: { type: 'string', default: '1' },
      verbose: { type: 'boolean', default: false },
    },
  });
  const sensitivity: Sensitivity = /^[\d.]+$/.test(values.sensitivity)
    ? Number(values.sensitivity)
    : (values.sensitivity as Sensitivity);
  const corpus = makeCorpus(Number(values.series), Number(values.seed));
  const started = performance.now();
  const r = evaluate(corpus, { sensitivity, seasonality: values.seasonality as Seasonality });
  const ms = performance.now() - started;
  if (values.verbose) {
    for (const f of r.files) {
      const kinds = [...f.byKind].map(([k, v]) => `${k} ${v.hit}/${v.n}`).join(', ');
      console.log(
        `${f.name.padEnd(16)} windows ${f.detected}/${f.windows}  FP ${f.fp}  delays [${f.delays.join(', ')}]  (${kinds})`,
      );
    }
  }
  const kinds = new Map<string, { n: number; hit: number }>();
  for (const f of r.files) {
    for (const [k, v] of f.byKind) {
      const cur = kinds.get(k) ?? { n: 0, hit: 0 };
      kinds.set(k, { n: cur.n + v.n, hit: cur.hit + v.hit });
    }
  }
  console.log(
    `NAB-style score ${r.nabScore.toFixed(1)} | recall ${(100 * r.recall).toFixed(0)}% | precision ${(100 * r.precision).toFixed(0)}% | ` +
      `false positives ${r.falsePositives} in ${corpus.length} series | median delay ${r.medianDelay} points | ${ms.toFixed(0)} ms`,
  );
  console.log(`recall by kind: ${[...kinds].map(([k, v]) => `${k} ${v.hit}/${v.n}`).join(', ')}`);
  const clean = makeCorpus(Number(values.series), Number(values.seed), true);
  const cleanReports = clean.map(
    (c) =>
      detectSeriesAnomalies(c.points, { sensitivity, seasonality: values.seasonality as Seasonality }).filter(
        (a) => a.index >= 0.15 * c.points.length,
      ).length,
  );
  const total = cleanReports.reduce((a, b) => a + b, 0);
  console.log(
    `same series without anomalies: ${total} reports in ${clean.length} series ` +
      `(${((1000 * total) / (clean.length * N * 0.85)).toFixed(2)} per 1,000 points scored)`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) main();
