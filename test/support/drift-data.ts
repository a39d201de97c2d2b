/**
 * Generated drift data with a known shift, shared by the check-drift unit and integration tests:
 * a baseline dataset and endpoint Data Capture JSONL where `latency_ms` (numeric) moves by
 * +1.5 standard deviations and `region` (categorical) keeps its mix, or not, as asked.
 */

/** Deterministic PRNG (mulberry32), so a failing case reproduces. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(r: () => number): number {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

const REGIONS = ['us', 'eu', 'ap'] as const;

export interface Row {
  readonly latency_ms: number;
  readonly region: string;
}

export function rows(
  n: number,
  seed: number,
  shift: { latencySd?: number; regionSkew?: boolean } = {},
): Row[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const latency = 100 + 10 * (normal(r) + (shift.latencySd ?? 0));
    const u = r();
    const region = shift.regionSkew
      ? u < 0.8
        ? 'ap'
        : u < 0.9
          ? 'us'
          : 'eu'
      : (REGIONS[Math.floor(u * 3)] as string);
    return { latency_ms: Math.round(latency * 100) / 100, region };
  });
}

/** CSV with a header, as the baseline format documents. */
export function baselineCsv(data: readonly Row[]): string {
  return ['latency_ms,region', ...data.map((d) => `${d.latency_ms},${d.region}`)].join('\n');
}

/** Data Capture JSONL, alternating CSV and JSON payloads as real endpoints may send. */
export function captureJsonl(data: readonly Row[], startMs: number): string {
  return data
    .map((d, i) => {
      const csv = i % 2 === 0;
      return JSON.stringify({
        captureData: {
          endpointInput: {
            observedContentType: csv ? 'text/csv' : 'application/json',
            mode: 'INPUT',
            data: csv ? `${d.latency_ms},${d.region}` : JSON.stringify(d),
            encoding: csv ? 'CSV' : 'JSON',
          },
          endpointOutput: { observedContentType: 'text/csv', mode: 'OUTPUT', data: '0.5', encoding: 'CSV' },
        },
        eventMetadata: { eventId: `e-${i}`, inferenceTime: new Date(startMs + i * 1000).toISOString() },
        eventVersion: '0',
      });
    })
    .join('\n');
}
