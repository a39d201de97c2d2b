import type { FeatureRow, FeatureSpec, FeatureValue } from '../core/detect/drift/data-capture';

/**
 * The baseline dataset of FleetWatch's own drift check, read from S3. Two formats, chosen by the
 * object key:
 *
 *   *.csv   CSV with a header row naming the features (unquoted cells, as SageMaker's CSV
 *           serialiser and most exports write them); one record per line
 *   other   JSON Lines: one object per line, keyed by feature name
 *
 * When the config lists no features they are taken from the baseline: the header (CSV) or the
 * keys in first-seen order (JSONL), numeric when every non-empty value is a number. Rows that do
 * not parse are counted and reported, never fatal.
 */
export interface ParsedBaseline {
  readonly features: FeatureSpec[];
  readonly rows: FeatureRow[];
  /** 1-based line numbers and reasons of the lines that were not used (first 20 kept). */
  readonly bad: { line: number; reason: string }[];
  readonly badCount: number;
}

const KEEP_BAD = 20;

export function isCsvBaseline(uri: string): boolean {
  return /\.csv$/i.test(uri);
}

export function parseBaselineDataset(
  text: string,
  format: 'csv' | 'jsonl',
  configured?: readonly FeatureSpec[],
): ParsedBaseline {
  const records: { line: number; record: Record<string, unknown> }[] = [];
  const bad: { line: number; reason: string }[] = [];
  let badCount = 0;
  const reject = (line: number, reason: string) => {
    badCount++;
    if (bad.length < KEEP_BAD) bad.push({ line, reason });
  };
  const lines = text.split(/\r?\n/);
  let columns: string[] = [];

  if (format === 'csv') {
    const headerAt = lines.findIndex((l) => l.trim() !== '');
    if (headerAt < 0) return { features: [...(configured ?? [])], rows: [], bad, badCount };
    columns = (lines[headerAt] as string).split(',').map((c) => c.trim());
    for (let i = headerAt + 1; i < lines.length; i++) {
      const l = (lines[i] as string).trim();
      if (l === '') continue;
      const cells = l.split(',').map((c) => c.trim());
      if (cells.length !== columns.length) {
        reject(i + 1, `expected ${columns.length} cells, got ${cells.length}`);
        continue;
      }
      records.push({ line: i + 1, record: Object.fromEntries(columns.map((c, j) => [c, cells[j]])) });
    }
  } else {
    const keys = new Set<string>();
    for (const [i, raw] of lines.entries()) {
      const l = raw.trim();
      if (l === '') continue;
      let v: unknown;
      try {
        v = JSON.parse(l);
      } catch {
        reject(i + 1, 'not JSON');
        continue;
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        reject(i + 1, 'not a JSON object');
        continue;
      }
      for (const k of Object.keys(v)) keys.add(k);
      records.push({ line: i + 1, record: v as Record<string, unknown> });
    }
    columns = [...keys];
  }

  const features = configured
    ? [...configured]
    : inferFeatures(
        columns,
        records.map((r) => r.record),
      );
  const rows: FeatureRow[] = [];
  for (const { line, record } of records) {
    const row: Record<string, FeatureValue> = {};
    let problem: string | undefined;
    for (const f of features) {
      const v = cell(record[f.name], f);
      if (v === undefined) {
        problem = `feature '${f.name}' is not a number: ${JSON.stringify(record[f.name])?.slice(0, 40)}`;
        break;
      }
      row[f.name] = v;
    }
    if (problem !== undefined) reject(line, problem);
    else rows.push(row);
  }
  return { features, rows, bad, badCount };
}

function inferFeatures(
  columns: readonly string[],
  records: readonly Record<string, unknown>[],
): FeatureSpec[] {
  return columns.map((name) => {
    const numeric = records.every((r) => {
      const v = r[name];
      return isEmpty(v) || (typeof v === 'number' && Number.isFinite(v)) || isNumericString(v);
    });
    return { name, type: numeric ? 'numeric' : 'categorical' };
  });
}

/** undefined: the value cannot be a value of this feature. */
function cell(raw: unknown, f: FeatureSpec): FeatureValue | undefined {
  if (isEmpty(raw)) return null;
  if (f.type === 'categorical') {
    return typeof raw === 'object' ? undefined : String(raw);
  }
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  return isNumericString(raw) ? Number(raw) : undefined;
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

function isNumericString(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v));
}
