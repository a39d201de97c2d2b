import { MINUTE_MS } from './duration';
import { hashString, noise, noiseNormal } from './rng';
import type { FaultSpec } from './scenario';

/**
 * Endpoint traffic for model_drift faults: SageMaker Data Capture JSONL (the format
 * lambdas/core/detect/drift/data-capture.ts parses: CSV payloads, positional, no header) and a
 * baseline dataset drawn from the undrifted distribution. After the fault's onset the numeric
 * features shift by `params.shift` standard deviations (default 1.5) and the categorical mix
 * moves towards "partner".
 */

export interface DriftFeature {
  readonly name: string;
  readonly type: 'numeric' | 'categorical';
}

export const DRIFT_FEATURES: readonly DriftFeature[] = [
  { name: 'account_age_days', type: 'numeric' },
  { name: 'basket_value', type: 'numeric' },
  { name: 'session_minutes', type: 'numeric' },
  { name: 'channel', type: 'categorical' },
];

const NUMERIC = [
  { mean: 420, sd: 160 },
  { mean: 85, sd: 30 },
  { mean: 14, sd: 6 },
] as const;
const CHANNELS = ['web', 'app', 'store', 'partner'] as const;
const BASE_MIX = [0.5, 0.35, 0.12, 0.03];
const DRIFT_MIX = [0.3, 0.25, 0.1, 0.35];

export class DrifterEndpoints {
  private readonly byName = new Map<string, { startMs: number; endMs: number; shift: number }>();

  constructor(
    private readonly seed: number,
    faults: readonly FaultSpec[],
    private readonly recordsPerMinute = 6,
  ) {
    for (const f of faults) {
      if (f.target.endpoint === undefined) continue;
      this.byName.set(f.target.endpoint, {
        startMs: f.atMs,
        endMs: f.durationMs === undefined ? Number.POSITIVE_INFINITY : f.atMs + f.durationMs,
        shift: Number(f.params.shift ?? 1.5),
      });
    }
  }

  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  /** Data Capture JSONL for requests in [fromMs, toMs), one line per request. */
  dataCapture(endpoint: string, fromMs: number, toMs: number): string {
    const e = this.byName.get(endpoint);
    const key = hashString(endpoint, this.seed);
    const lines: string[] = [];
    const first = Math.ceil(fromMs / MINUTE_MS) * MINUTE_MS;
    for (let m = first; m < toMs; m += MINUTE_MS) {
      const drifted = e !== undefined && m >= e.startMs && m < e.endMs;
      for (let r = 0; r < this.recordsPerMinute; r++) {
        const minute = m / MINUTE_MS;
        const csv = row(key, minute, r, drifted ? (e?.shift ?? 0) : 0);
        const score = noise(key, minute, r, 77).toFixed(4);
        const tMs = m + Math.floor((r * MINUTE_MS) / this.recordsPerMinute);
        lines.push(
          JSON.stringify({
            captureData: {
              endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data: csv, encoding: 'CSV' },
              endpointOutput: {
                observedContentType: 'text/csv; charset=utf-8',
                mode: 'OUTPUT',
                data: score,
                encoding: 'CSV',
              },
            },
            eventMetadata: {
              eventId: uuidLike(key, minute, r),
              inferenceTime: new Date(tMs).toISOString(),
            },
            eventVersion: '0',
          }),
        );
      }
    }
    return lines.join('\n');
  }

  /** Baseline dataset (CSV with a header), from the undrifted distribution. */
  baselineCsv(endpoint: string, rows = 2_000): string {
    const key = hashString(`baseline:${endpoint}`, this.seed);
    const out = [DRIFT_FEATURES.map((f) => f.name).join(',')];
    for (let i = 0; i < rows; i++) out.push(row(key, i, 0, 0));
    return out.join('\n');
  }
}

function row(key: number, a: number, b: number, shift: number): string {
  const values = NUMERIC.map((f, i) => {
    const v = f.mean + f.sd * (noiseNormal(key, a, b, i) + shift);
    return Math.max(0, v).toFixed(2);
  });
  const mix = shift > 0 ? DRIFT_MIX : BASE_MIX;
  let u = noise(key, a, b, 9);
  let channel: string = CHANNELS[0];
  for (let i = 0; i < CHANNELS.length; i++) {
    u -= mix[i] as number;
    if (u < 0) {
      channel = CHANNELS[i] as string;
      break;
    }
  }
  return [...values, channel].join(',');
}

function uuidLike(key: number, a: number, b: number): string {
  const hex = (k: number, n: number) =>
    Math.floor(noise(key, a, b, k) * 0xffffffff)
      .toString(16)
      .padStart(8, '0')
      .slice(0, n);
  return `${hex(11, 8)}-${hex(12, 4)}-4${hex(13, 3)}-a${hex(14, 3)}-${hex(15, 8)}${hex(16, 4)}`;
}
