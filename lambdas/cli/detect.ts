import { parseArgs } from 'node:util';
import {
  defaultProbation,
  detectSeriesAnomalies,
  inferCadence,
  SEASONALITIES,
  SENSITIVITIES,
  type Seasonality,
  type Sensitivity,
} from '../core/detect/series-detector';

/**
 * `fleetwatch detect <file.csv>`: runs the statistical series detector (the same core code as the
 * Lambdas) over one exported metric series and prints each anomaly as a JSON line.
 */

export const DETECT_USAGE = `Usage: fleetwatch detect <file.csv> [--seasonality auto|none|daily|weekly] [--sensitivity low|medium|high|<0..1>]

Reads one metric series as CSV, "timestamp,value" per line (a header line is optional), and prints
one JSON line per anomaly: {"timestamp": ..., "score": ..., "kind": ...}.

  timestamp    "2014-02-14 14:30:00" (UTC), ISO 8601 with or without a zone, or epoch seconds/ms;
               printed back exactly as written in the file
  score        0.5 (just over the threshold) to 1 (far beyond it)
  kind         spike | dip | level_shift_up | level_shift_down | variance_change

Options:
  --seasonality   auto (default): daily or weekly when the history shows it, else none
  --sensitivity   medium (default); low reports less, high more; or a number in (0, 1)

The first 15 % of the series (at most 750 points) is a warm-up: nothing is reported there.
Exit status: 0 on success (with or without anomalies), 2 for bad arguments or a malformed file.`;

/** What a subcommand needs from the process; tests pass fakes. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readFile(path: string): Promise<string>;
}

/** A problem in the input, with the 1-based line it is on. */
export class CsvError extends Error {
  override readonly name = 'CsvError';
  constructor(
    readonly line: number,
    readonly problem: string,
  ) {
    super(`line ${line}: ${problem}`);
  }
}

export interface SeriesRow {
  /** Epoch ms. */
  readonly t: number;
  readonly v: number;
  /** The timestamp as written in the file, for output in the same style. */
  readonly label: string;
  readonly line: number;
}

export interface ParsedSeries {
  /** Sorted by time, one row per timestamp. */
  readonly rows: SeriesRow[];
  /** Things worth telling the user that are not errors (sorting, duplicates). */
  readonly notes: string[];
}

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const EPOCH = /^\d+(\.\d+)?$/;
/** Epoch values at or above this are milliseconds (1e11 s would be the year 5138). */
const EPOCH_MS_FROM = 1e11;

/**
 * Parses "2014-02-14 14:30:00", "2014-02-14T14:30:00Z", "2014-02-14T14:30:00.5+01:00", a date alone,
 * or epoch seconds / milliseconds. Without a zone the time is UTC: CloudWatch exports are UTC, and
 * the result must not depend on the machine's time zone. Returns undefined when it is none of these.
 */
export function parseTimestamp(text: string): number | undefined {
  if (EPOCH.test(text)) {
    const n = Number(text);
    return n >= EPOCH_MS_FROM ? Math.round(n) : Math.round(n * 1000);
  }
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const parts = [Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s)] as const;
  const [year, month, day, hour, minute, second] = parts;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second) + Math.round(Number(`0${frac}`) * 1000);
  // Date.UTC rolls 2014-02-30 over to March; a round trip catches impossible dates and times.
  const check = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    check.getUTCHours() !== hour ||
    check.getUTCMinutes() !== minute ||
    check.getUTCSeconds() !== second
  ) {
    return undefined;
  }
  return ms - zoneOffsetMs(zone);
}

function zoneOffsetMs(zone: string | undefined): number {
  if (!zone || zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  return sign * (hours * 60 + minutes) * 60_000;
}

/** Splits one CSV line into trimmed fields; double-quoted fields may hold commas and "" escapes. */
export function splitCsvLine(line: string, lineNo: number): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new CsvError(lineNo, 'a quoted field is not closed (missing ")');
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      while (line[i] === ' ' || line[i] === '\t') i++;
      if (i < line.length && line[i] !== ',') {
        throw new CsvError(lineNo, 'unexpected text after a quoted field');
      }
      fields.push(value.trim());
    } else {
      const comma = line.indexOf(',', i);
      const end = comma < 0 ? line.length : comma;
      fields.push(line.slice(i, end).trim());
      i = end;
    }
    if (i >= line.length) return fields;
    i++; // the comma
  }
}

/**
 * Parses a `timestamp,value` CSV. The first non-blank line is a header when neither field parses.
 * Every other line must be a valid row: a bad row is an error naming its line, never skipped.
 * Rows are sorted by time; rows sharing a timestamp are averaged.
 */
export function parseSeriesCsv(text: string): ParsedSeries {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  const rows: SeriesRow[] = [];
  let headerChecked = false;
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    if (raw.trim() === '') return;
    const fields = splitCsvLine(raw, lineNo);
    if (fields.length !== 2) {
      throw new CsvError(lineNo, `expected 2 fields (timestamp,value), found ${fields.length}`);
    }
    const [ts, val] = fields as [string, string];
    const t = parseTimestamp(ts);
    const v = NUMBER.test(val) ? Number(val) : undefined;
    if (!headerChecked) {
      headerChecked = true;
      if (t === undefined && v === undefined) return; // a header such as "timestamp,value"
    }
    if (t === undefined) {
      throw new CsvError(
        lineNo,
        `timestamp ${JSON.stringify(ts)} is not "YYYY-MM-DD HH:MM:SS", ISO 8601 or epoch seconds/ms`,
      );
    }
    if (v === undefined || !Number.isFinite(v)) {
      throw new CsvError(lineNo, `value ${JSON.stringify(val)} is not a number`);
    }
    rows.push({ t, v, label: ts, line: lineNo });
  });

  const notes: string[] = [];
  const sorted = rows.every((r, i) => i === 0 || (rows[i - 1] as SeriesRow).t <= r.t);
  if (!sorted) {
    notes.push('rows were not in time order; they were sorted');
    rows.sort((a, b) => a.t - b.t || a.line - b.line);
  }
  const merged: SeriesRow[] = [];
  let duplicates = 0;
  for (let i = 0; i < rows.length; ) {
    const first = rows[i] as SeriesRow;
    let j = i;
    let sum = 0;
    while (j < rows.length && (rows[j] as SeriesRow).t === first.t) sum += (rows[j++] as SeriesRow).v;
    duplicates += j - i - 1;
    merged.push({ ...first, v: sum / (j - i) });
    i = j;
  }
  if (duplicates > 0) {
    notes.push(`${duplicates} row(s) repeated an earlier timestamp; values at the same time were averaged`);
  }
  return { rows: merged, notes };
}

function parseSensitivity(text: string): Sensitivity | undefined {
  if ((SENSITIVITIES as readonly string[]).includes(text)) return text as Sensitivity;
  const n = NUMBER.test(text) ? Number(text) : Number.NaN;
  return n > 0 && n < 1 ? n : undefined;
}

/** Rounds for printing: enough digits to compare, no float noise. */
const round = (x: number, digits: number) => Number(x.toPrecision(digits));

/** Runs `detect` with its arguments (after the subcommand); returns the exit status. */
export async function runDetect(args: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parseDetectArgs>;
  try {
    parsed = parseDetectArgs(args);
  } catch (e) {
    io.stderr(`fleetwatch detect: ${(e as Error).message}\n\n${DETECT_USAGE}\n`);
    return 2;
  }
  if (parsed.help) {
    io.stdout(`${DETECT_USAGE}\n`);
    return 0;
  }
  const { file, seasonality, sensitivity } = parsed;
  let text: string;
  try {
    text = await io.readFile(file);
  } catch (e) {
    io.stderr(
      `fleetwatch detect: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`,
    );
    return 2;
  }
  let series: ParsedSeries;
  try {
    series = parseSeriesCsv(text);
  } catch (e) {
    if (e instanceof CsvError) {
      io.stderr(`fleetwatch detect: ${file} ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  for (const note of series.notes) io.stderr(`fleetwatch detect: note: ${note}\n`);
  if (series.rows.length < 2) {
    io.stderr(`fleetwatch detect: ${file} has ${series.rows.length} data row(s); at least 2 are needed\n`);
    return 2;
  }
  const points = series.rows.map((r) => ({ t: r.t, v: r.v }));
  const warmUp = defaultProbation(points.length, inferCadence(points));
  if (warmUp >= points.length) {
    io.stderr(
      `fleetwatch detect: note: ${points.length} points are all warm-up (the first ${warmUp} at this cadence); nothing can be reported\n`,
    );
  }
  const anomalies = detectSeriesAnomalies(points, { seasonality, sensitivity });
  const out = anomalies.map((a) => {
    const row = series.rows[a.index] as SeriesRow;
    return JSON.stringify({
      timestamp: row.label,
      score: round(a.score, 4),
      kind: a.kind,
      value: row.v,
      expected: round(a.expected, 6),
    });
  });
  if (out.length > 0) io.stdout(`${out.join('\n')}\n`);
  return 0;
}

function parseDetectArgs(args: string[]): {
  help: boolean;
  file: string;
  seasonality: Seasonality;
  sensitivity: Sensitivity;
} {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      seasonality: { type: 'string', default: 'auto' },
      sensitivity: { type: 'string', default: 'medium' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return { help: true, file: '', seasonality: 'auto', sensitivity: 'medium' };
  if (positionals.length !== 1) {
    throw new Error(
      positionals.length === 0 ? 'missing <file.csv>' : `expected one file, got ${positionals.length}`,
    );
  }
  const seasonality = values.seasonality as Seasonality;
  if (!SEASONALITIES.includes(seasonality)) {
    throw new Error(`--seasonality must be one of ${SEASONALITIES.join(', ')}, got "${values.seasonality}"`);
  }
  const sensitivity = parseSensitivity(values.sensitivity);
  if (sensitivity === undefined) {
    throw new Error(
      `--sensitivity must be low, medium, high or a number in (0, 1), got "${values.sensitivity}"`,
    );
  }
  return { help: false, file: positionals[0] as string, seasonality, sensitivity };
}
