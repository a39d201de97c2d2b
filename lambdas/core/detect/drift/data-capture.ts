import type { Finding, Severity } from '../../../contracts/finding';
import { dataCaptureLineSchema } from '../../../contracts/model-monitor';
import { roundTo } from '../../numbers';
import { buildFinding, DRIFT_KINDS, labelsOf } from './model-monitor';
import { DEFAULT_PSI_BINS, ksTest, psiCategorical, psiNumeric } from './statistics';
import { type DriftedItem, summarizeDrift } from './summary';

/**
 * Our own drift check, because Model Monitor is closed to new customers: endpoint Data Capture
 * (JSONL in S3) against a baseline dataset, per feature — KS (and PSI over baseline quantile bins)
 * for numeric features, PSI for categorical ones — producing the same 'model.drift.data_quality'
 * findings as Model Monitor's baseline_drift_check: one per endpoint and check, listing the drifted
 * features worst first (summary.ts), so one drifted model is one incident and one ticket.
 */

export interface FeatureSpec {
  readonly name: string;
  readonly type: 'numeric' | 'categorical';
}

/** A missing or empty value is null: it counts towards neither distribution. */
export type FeatureValue = number | string | null;
export type FeatureRow = Readonly<Record<string, FeatureValue>>;

export interface BadLine {
  /** The S3 key it came from, when the caller parsed several objects. */
  readonly file?: string;
  /** 1-based line number in the JSONL object. */
  readonly line: number;
  readonly reason: string;
}

export interface ParsedCapture {
  readonly rows: FeatureRow[];
  readonly bad: BadLine[];
  /** Range of eventMetadata.inferenceTime over good lines, epoch ms; undefined when none carried one. */
  readonly window?: { startMs: number; endMs: number };
}

export interface ParseCaptureOptions {
  /** Which side of the capture holds the features. @default 'input' */
  readonly source?: 'input' | 'output';
  /** Stamped on bad lines so the report can point at the object. */
  readonly file?: string;
}

/**
 * Parses Data Capture JSONL into feature rows. CSV payloads are positional (no header, as
 * SageMaker's CSV serialiser sends them) and may hold several records, one per line; JSON payloads
 * are an object by feature name, an array by position, an array of those, or { instances: [...] }.
 * Every line that yields nothing usable is in `bad` with its line number.
 */
export function parseDataCapture(
  jsonl: string,
  features: readonly FeatureSpec[],
  options: ParseCaptureOptions = {},
): ParsedCapture {
  const rows: FeatureRow[] = [];
  const bad: BadLine[] = [];
  let startMs = Number.POSITIVE_INFINITY;
  let endMs = Number.NEGATIVE_INFINITY;
  const lines = jsonl.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const text = (lines[i] as string).trim();
    if (text === '') continue;
    const result = parseLine(text, features, options.source ?? 'input');
    if (typeof result === 'string') {
      bad.push(
        options.file === undefined
          ? { line: i + 1, reason: result }
          : { file: options.file, line: i + 1, reason: result },
      );
      continue;
    }
    rows.push(...result.rows);
    if (result.timeMs !== undefined) {
      startMs = Math.min(startMs, result.timeMs);
      endMs = Math.max(endMs, result.timeMs);
    }
  }
  return Number.isFinite(startMs) ? { rows, bad, window: { startMs, endMs } } : { rows, bad };
}

function parseLine(
  text: string,
  features: readonly FeatureSpec[],
  source: 'input' | 'output',
): { rows: FeatureRow[]; timeMs?: number } | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  const parsed = dataCaptureLineSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return `not a Data Capture record: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`;
  }
  const capture =
    source === 'input' ? parsed.data.captureData.endpointInput : parsed.data.captureData.endpointOutput;
  if (!capture) return `no endpoint${source === 'input' ? 'Input' : 'Output'}`;

  let format: 'CSV' | 'JSON';
  let payload = capture.data;
  if (capture.encoding === 'BASE64') {
    const decoded = decodeBase64(capture.data);
    if (decoded === undefined) return 'data is not valid base64';
    payload = decoded;
    const ct = (capture.observedContentType ?? '').toLowerCase();
    if (ct.includes('csv')) format = 'CSV';
    else if (ct.includes('json')) format = 'JSON';
    else return `base64 payload of unsupported content type '${capture.observedContentType ?? ''}'`;
  } else format = capture.encoding;

  const records = format === 'CSV' ? csvRecords(payload) : jsonRecords(payload);
  if (typeof records === 'string') return records;
  if (records.length === 0) return 'empty payload';
  const rows: FeatureRow[] = [];
  for (const r of records) {
    const row = toRow(r, features);
    if (typeof row === 'string') return row;
    rows.push(row);
  }
  const t = parsed.data.eventMetadata.inferenceTime;
  return t === undefined ? { rows } : { rows, timeMs: Date.parse(t) };
}

type RawRecord = readonly unknown[] | Readonly<Record<string, unknown>>;

function csvRecords(payload: string): RawRecord[] | string {
  const records: RawRecord[] = [];
  for (const line of payload.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    if (line.includes('"')) return 'quoted CSV is not supported';
    records.push(line.split(',').map((c) => c.trim()));
  }
  return records;
}

function jsonRecords(payload: string): RawRecord[] | string {
  let v: unknown;
  try {
    v = JSON.parse(payload);
  } catch {
    return 'JSON payload does not parse';
  }
  if (isObject(v) && Array.isArray(v['instances'])) v = v['instances'];
  if (Array.isArray(v)) {
    // An array of records, or one positional record.
    if (v.length > 0 && v.every((x) => Array.isArray(x) || isObject(x))) return v as RawRecord[];
    return [v];
  }
  if (isObject(v)) return [v];
  return 'JSON payload is neither an object nor an array';
}

function toRow(record: RawRecord, features: readonly FeatureSpec[]): FeatureRow | string {
  if (Array.isArray(record) && record.length !== features.length) {
    return `expected ${features.length} values, got ${record.length}`;
  }
  const row: Record<string, FeatureValue> = {};
  for (const [i, f] of features.entries()) {
    const raw = Array.isArray(record) ? record[i] : (record as Readonly<Record<string, unknown>>)[f.name];
    const value = cell(raw, f);
    if (typeof value === 'object' && value !== null) return value.error;
    row[f.name] = value;
  }
  return row;
}

function cell(raw: unknown, f: FeatureSpec): FeatureValue | { error: string } {
  if (raw === undefined || raw === null || raw === '') return null;
  if (f.type === 'categorical') {
    if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
    return { error: `feature '${f.name}' is not a scalar` };
  }
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(n))
    return { error: `feature '${f.name}' is not a number: ${JSON.stringify(raw)?.slice(0, 40)}` };
  return n;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function decodeBase64(s: string): string | undefined {
  try {
    const binary = atob(s.replace(/\s+/g, ''));
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

export interface DriftThresholds {
  /** PSI above this is drift (categorical, and numeric over quantile bins). @default 0.2 */
  readonly psi?: number;
  /** KS p-value below this is drift for numeric features... @default 0.01 */
  readonly ksPValue?: number;
  /**
   * ...provided D is at least this: with tens of thousands of rows KS calls any trivial shift
   * significant, so an effect-size floor keeps findings actionable. @default 0.1
   */
  readonly ksStatisticMin?: number;
  /** Fewer non-null values than this on either side: not judged. @default 100 */
  readonly minSamples?: number;
}

export const DEFAULT_DRIFT_THRESHOLDS: Required<DriftThresholds> = {
  psi: 0.2,
  ksPValue: 0.01,
  ksStatisticMin: 0.1,
  minSamples: 100,
};

export interface CheckDriftInput {
  readonly baseline: readonly FeatureRow[];
  readonly recent: readonly FeatureRow[];
  readonly features: readonly FeatureSpec[];
  readonly thresholds?: DriftThresholds;
  readonly endpoint: string;
  readonly team?: string;
  /** Window of the recent data (e.g. ParsedCapture.window). @default nowMs..nowMs */
  readonly window?: { startMs: number; endMs: number };
  readonly nowMs: number;
  /** @default ticket */
  readonly severity?: Severity;
  /** @default 10 */
  readonly psiBins?: number;
  /** Lines parseDataCapture could not use: reported as one finding, never dropped silently. */
  readonly badLines?: readonly BadLine[];
}

export interface FeatureDrift {
  readonly feature: string;
  readonly type: FeatureSpec['type'];
  readonly nBaseline: number;
  readonly nRecent: number;
  readonly psi?: number;
  readonly ks?: number;
  readonly p?: number;
  readonly verdict: 'drift' | 'stable' | 'insufficient';
}

export interface CheckDriftResult {
  readonly features: FeatureDrift[];
  readonly findings: Finding[];
}

export function checkDrift(input: CheckDriftInput): CheckDriftResult {
  const t = { ...DEFAULT_DRIFT_THRESHOLDS, ...input.thresholds };
  const window = input.window ?? { startMs: input.nowMs, endMs: input.nowMs };
  const labels = labelsOf(input.endpoint, input.team);
  const results = input.features.map((f) => judge(f, input, t));

  const findings: Finding[] = [];
  const drifted = results.filter((r) => r.verdict === 'drift').map((r) => driftedItem(r, t));
  if (drifted.length > 0) {
    const judged = results.filter((r) => r.verdict !== 'insufficient').length;
    const summary = summarizeDrift({
      items: drifted,
      checked: judged,
      noun: 'features',
      endpoint: input.endpoint,
      check: `baseline_drift_check (KS p < ${t.ksPValue} with D ≥ ${t.ksStatisticMin}, or PSI > ${t.psi})`,
    });
    findings.push(
      buildFinding({
        kind: DRIFT_KINDS.DataQuality,
        severity: input.severity,
        title: summary.title,
        labels,
        window,
        values: {
          ...summary.values,
          psi_threshold: t.psi,
          ks_p_value_threshold: t.ksPValue,
          ks_statistic_min: t.ksStatisticMin,
        },
        detail: summary.detail,
        nowMs: input.nowMs,
      }),
    );
  }

  const thin = results.filter((r) => r.verdict === 'insufficient');
  if (thin.length > 0) {
    findings.push(
      buildFinding({
        kind: 'model.drift.insufficient_data',
        severity: 'info',
        title: `Too few samples to judge drift on ${input.endpoint} (${thin.length} feature${thin.length === 1 ? '' : 's'})`,
        labels,
        window,
        values: { min_samples: t.minSamples, features: thin.length },
        detail: thin
          .map(
            (r) =>
              `${r.feature}: n baseline ${r.nBaseline}, n recent ${r.nRecent} (need ${t.minSamples} each)`,
          )
          .join('; '),
        nowMs: input.nowMs,
      }),
    );
  }
  const bad = input.badLines ?? [];
  if (bad.length > 0) {
    findings.push(
      buildFinding({
        kind: 'model.drift.capture_invalid',
        // Info: a few malformed requests are normal traffic; the drift verdicts above still stand.
        severity: 'info',
        title: `${bad.length} unreadable Data Capture line${bad.length === 1 ? '' : 's'} for ${input.endpoint}`,
        labels,
        window,
        values: { bad_lines: bad.length, rows: input.recent.length },
        detail: bad
          .slice(0, 20)
          .map((b) => `${b.file ? `${b.file}:` : 'line '}${b.line}: ${b.reason}`)
          .join('; '),
        nowMs: input.nowMs,
      }),
    );
  }
  return { features: results, findings };
}

/**
 * A drifted feature for the endpoint finding. Its score is how far past its threshold the worst
 * test that fired is (PSI / PSI threshold, KS D / D floor), so features sort by severity whichever
 * test caught them.
 */
function driftedItem(r: FeatureDrift, t: Required<DriftThresholds>): DriftedItem {
  const psiFired = r.psi !== undefined && r.psi > t.psi;
  const ksFired = r.ks !== undefined && r.p !== undefined && r.p < t.ksPValue && r.ks >= t.ksStatisticMin;
  const psiScore = psiFired ? (r.psi as number) / t.psi : 0;
  const ksScore = ksFired ? (r.ks as number) / Math.max(t.ksStatisticMin, 1e-9) : 0;
  const values: Record<string, number> = { n_baseline: r.nBaseline, n_recent: r.nRecent };
  if (r.psi !== undefined) values['psi'] = round(r.psi);
  if (r.ks !== undefined) values['ks'] = round(r.ks);
  if (r.p !== undefined) values['p'] = r.p;
  const stats = [
    r.ks !== undefined ? `KS D=${round(r.ks)} p=${r.p?.toExponential(2)}${ksFired ? ' (drift)' : ''}` : '',
    r.psi !== undefined ? `PSI=${round(r.psi)}${psiFired ? ' (drift)' : ''}` : '',
  ].filter((x) => x !== '');
  return {
    name: r.feature,
    score: Math.max(psiScore, ksScore),
    brief: psiScore >= ksScore ? `PSI ${round(r.psi ?? 0, 2)}` : `KS D ${round(r.ks ?? 0, 2)}`,
    detail: `${r.type}, ${stats.join(', ')}, n baseline ${r.nBaseline}, n recent ${r.nRecent}`,
    values,
  };
}

function judge(f: FeatureSpec, input: CheckDriftInput, t: Required<DriftThresholds>): FeatureDrift {
  const bins = input.psiBins ?? DEFAULT_PSI_BINS;
  if (f.type === 'numeric') {
    const b = numbers(input.baseline, f.name);
    const r = numbers(input.recent, f.name);
    const base = { feature: f.name, type: f.type, nBaseline: b.length, nRecent: r.length };
    if (b.length < t.minSamples || r.length < t.minSamples) return { ...base, verdict: 'insufficient' };
    const { d, p } = ksTest(b, r);
    const psi = psiNumeric(b, r, bins);
    const drift = (p < t.ksPValue && d >= t.ksStatisticMin) || psi > t.psi;
    return { ...base, psi, ks: d, p, verdict: drift ? 'drift' : 'stable' };
  }
  const b = strings(input.baseline, f.name);
  const r = strings(input.recent, f.name);
  const base = { feature: f.name, type: f.type, nBaseline: b.length, nRecent: r.length };
  if (b.length < t.minSamples || r.length < t.minSamples) return { ...base, verdict: 'insufficient' };
  const psi = psiCategorical(b, r);
  return { ...base, psi, verdict: psi > t.psi ? 'drift' : 'stable' };
}

function numbers(rows: readonly FeatureRow[], name: string): number[] {
  const out: number[] = [];
  for (const row of rows) {
    const v = row[name];
    if (typeof v === 'number' && Number.isFinite(v)) out.push(v);
    else if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) out.push(Number(v));
  }
  return out;
}

function strings(rows: readonly FeatureRow[], name: string): string[] {
  const out: string[] = [];
  for (const row of rows) {
    const v = row[name];
    if (v !== null && v !== undefined && v !== '') out.push(String(v));
  }
  return out;
}

const round = (x: number, digits = 4): number => roundTo(x, digits);
