import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliIo, CsvError, parseSeriesCsv, parseTimestamp, splitCsvLine } from '../../lambdas/cli/detect';
import { main } from '../../lambdas/cli/main';

// Fixtures (test/fixtures/detect) were generated with test/unit/detect/synthetic.ts: 'smooth' base,
// 5-minute points from 2014-02-10; spike-5min.csv seed 7 with a 12-sigma spike at row 1100;
// level-shift-iso.csv seed 11 with a 6-sigma drop from row 1000 to the end.
const ROOT = resolve(import.meta.dirname, '../..');
const fixture = (name: string) => `test/fixtures/detect/${name}`;

/** Runs the real entry point, as a user would: `npx fleetwatch ...` resolves to bin/fleetwatch.mjs. */
function fleetwatch(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/fleetwatch.mjs', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('fleetwatch detect (spawned)', () => {
  it.each([
    // spike-5min.csv: header, "YYYY-MM-DD HH:MM:SS", a 12-sigma spike at row 1100.
    { file: 'spike-5min.csv', timestamp: '2014-02-13 19:40:00', kind: 'spike' },
    // level-shift-iso.csv: no header, CRLF, ISO 8601 with Z, a 6-sigma drop from row 1000 on.
    { file: 'level-shift-iso.csv', timestamp: '2014-02-13T11:20:00Z', kind: 'level_shift_down' },
  ])(
    '$file: one JSON line per anomaly, the known one at $timestamp in the input’s style',
    ({ file, timestamp, kind }) => {
      const r = fleetwatch('detect', fixture(file));
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const lines = jsonLines(r.stdout);
      expect(lines.length).toBeGreaterThanOrEqual(1);
      expect(lines.length).toBeLessThanOrEqual(3);
      for (const line of lines) {
        expect(Object.keys(line).slice(0, 3)).toEqual(['timestamp', 'score', 'kind']);
        expect(typeof line.timestamp).toBe('string');
        expect(line.score).toBeGreaterThanOrEqual(0.5);
        expect(line.score).toBeLessThan(1);
      }
      expect(lines).toContainEqual(expect.objectContaining({ timestamp, kind }));
    },
  );

  it('accepts the options', () => {
    const r = fleetwatch('detect', fixture('spike-5min.csv'), '--seasonality', 'daily', '--sensitivity=0.7');
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout)).toContainEqual(expect.objectContaining({ timestamp: '2014-02-13 19:40:00' }));
  });

  it('a malformed row: exit 2 and a message naming the file, the line and the problem', () => {
    const r = fleetwatch('detect', fixture('malformed.csv'));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('malformed.csv line 5: value "abc" is not a number');
  });

  it('an unknown command: exit 2 and the usage on stderr', () => {
    const r = fleetwatch('detcet', 'x.csv');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "detcet"');
    expect(r.stderr).toContain('Usage: fleetwatch <command>');
  });
});

/** In-process runs with a fake file system and captured output. */
function run(argv: string[], files: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    readFile: async (path) => {
      if (!Object.hasOwn(files, path)) throw Object.assign(new Error('not found'), { code: 'ENOENT' });
      return files[path] as string;
    },
  };
  return main(argv, io).then((code) => ({ code, stdout, stderr }));
}

describe('main (in process)', () => {
  it.each([
    { argv: ['--help'], code: 0, out: 'stdout', text: 'detect' },
    { argv: [], code: 2, out: 'stderr', text: 'Usage: fleetwatch <command>' },
    { argv: ['detect', '--help'], code: 0, out: 'stdout', text: '--seasonality' },
    { argv: ['detect'], code: 2, out: 'stderr', text: 'missing <file.csv>' },
    { argv: ['detect', 'a.csv', 'b.csv'], code: 2, out: 'stderr', text: 'expected one file, got 2' },
    {
      argv: ['detect', 'a.csv', '--seasonality', 'hourly'],
      code: 2,
      out: 'stderr',
      text: '--seasonality must be one of',
    },
    {
      argv: ['detect', 'a.csv', '--sensitivity', '1.5'],
      code: 2,
      out: 'stderr',
      text: '--sensitivity must be',
    },
    {
      argv: ['detect', 'a.csv', '--frobnicate'],
      code: 2,
      out: 'stderr',
      text: "Unknown option '--frobnicate'",
    },
    { argv: ['detect', 'missing.csv'], code: 2, out: 'stderr', text: 'cannot read missing.csv: ENOENT' },
  ])('$argv → exit $code', async ({ argv, code, out, text }) => {
    const r = await run(argv);
    expect(r.code).toBe(code);
    expect(out === 'stdout' ? r.stdout : r.stderr).toContain(text);
  });

  it('a file with a header only is an error, not an empty success', async () => {
    const r = await run(['detect', 'h.csv'], { 'h.csv': 'timestamp,value\n' });
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toContain('0 data row(s)');
  });

  it('says so when the whole series is warm-up', async () => {
    const r = await run(['detect', 's.csv'], { 's.csv': '1392388200,1\n1392388500,2\n1392388800,3\n' });
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(r.stderr).toContain('3 points are all warm-up');
  });

  it('tells on stderr when it sorted rows or averaged duplicates, and still succeeds', async () => {
    const r = await run(['detect', 'u.csv'], {
      'u.csv': '2014-01-01 00:05:00,2\n2014-01-01 00:00:00,1\n2014-01-01 00:00:00,3\n',
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('sorted');
    expect(r.stderr).toContain('averaged');
  });
});

describe('parseTimestamp', () => {
  it.each([
    { text: '2014-02-14 14:30:00', ms: Date.UTC(2014, 1, 14, 14, 30) },
    { text: '2014-02-14 14:30', ms: Date.UTC(2014, 1, 14, 14, 30) },
    { text: '2014-02-14T14:30:00', ms: Date.UTC(2014, 1, 14, 14, 30) },
    { text: '2014-02-14T14:30:00Z', ms: Date.UTC(2014, 1, 14, 14, 30) },
    { text: '2014-02-14T14:30:00.250Z', ms: Date.UTC(2014, 1, 14, 14, 30, 0, 250) },
    { text: '2014-02-14T16:30:00+02:00', ms: Date.UTC(2014, 1, 14, 14, 30) },
    { text: '2014-02-14T09:00:00-0530', ms: Date.UTC(2014, 1, 14, 14, 30) },
    { text: '2014-02-14', ms: Date.UTC(2014, 1, 14) },
    { text: '1392388200', ms: Date.UTC(2014, 1, 14, 14, 30) },
    { text: '1392388200000', ms: Date.UTC(2014, 1, 14, 14, 30) },
    { text: '1392388200.5', ms: Date.UTC(2014, 1, 14, 14, 30, 0, 500) },
    { text: '2014-02-30 00:00:00', ms: undefined },
    { text: '2014-02-14 24:00:00', ms: undefined },
    { text: '14/02/2014 14:30', ms: undefined },
    { text: 'yesterday', ms: undefined },
    { text: '', ms: undefined },
  ])('$text → $ms', ({ text, ms }) => {
    expect(parseTimestamp(text)).toBe(ms);
  });
});

describe('parseSeriesCsv', () => {
  const t = (s: string) => Date.UTC(2014, 0, 1, 0, Number(s));

  it.each([
    { name: 'a header and LF', text: 'timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,2\n' },
    { name: 'no header and CRLF', text: '2014-01-01 00:00:00,1\r\n2014-01-01 00:05:00,2\r\n' },
    {
      name: 'blank lines and spaces',
      text: '\n  timestamp , value \n\n 2014-01-01 00:00:00 , 1 \n\n2014-01-01 00:05:00,2',
    },
    {
      name: 'quoted fields',
      text: '"timestamp","value"\n"2014-01-01 00:00:00","1"\n"2014-01-01 00:05:00", "2"\n',
    },
    {
      name: 'a byte-order mark',
      text: '\uFEFFtimestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,2\n',
    },
    { name: 'rows out of order', text: '2014-01-01 00:05:00,2\n2014-01-01 00:00:00,1\n' },
    {
      name: 'a duplicated timestamp',
      text: '2014-01-01 00:00:00,0\n2014-01-01 00:00:00,2\n2014-01-01 00:05:00,2\n',
    },
    { name: 'scientific notation', text: '2014-01-01 00:00:00,1e0\n2014-01-01 00:05:00,.2E1\n' },
  ])('reads $name', ({ text }) => {
    const { rows } = parseSeriesCsv(text);
    expect(rows.map((r) => [r.t, r.v])).toEqual([
      [t('0'), 1],
      [t('5'), 2],
    ]);
    expect(rows[0]?.label).toBe('2014-01-01 00:00:00');
  });

  it.each([
    {
      name: 'a non-numeric value',
      text: 'timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,n/a\n',
      line: 3,
      problem: 'value "n/a" is not a number',
    },
    { name: 'an empty value', text: '2014-01-01 00:00:00,\n', line: 1, problem: 'value "" is not a number' },
    { name: 'NaN', text: '2014-01-01 00:00:00,NaN\n', line: 1, problem: 'is not a number' },
    {
      name: 'a bad timestamp after the header',
      text: 'timestamp,value\n\n14/02/2014,3\n',
      line: 3,
      problem: 'timestamp "14/02/2014" is not',
    },
    {
      name: 'a second header line',
      text: 'timestamp,value\ntimestamp,value\n',
      line: 2,
      problem: 'timestamp "timestamp"',
    },
    {
      name: 'three fields',
      text: '2014-01-01 00:00:00,1,2\n',
      line: 1,
      problem: 'expected 2 fields (timestamp,value), found 3',
    },
    { name: 'one field', text: 'timestamp,value\n2014-01-01 00:00:00\n', line: 2, problem: 'found 1' },
    { name: 'an unclosed quote', text: '"2014-01-01 00:00:00,1\n', line: 1, problem: 'not closed' },
  ])('rejects $name at line $line', ({ text, line, problem }) => {
    let error: unknown;
    try {
      parseSeriesCsv(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CsvError);
    expect((error as CsvError).line).toBe(line);
    expect((error as CsvError).message).toContain(problem);
  });

  it('splits quoted fields with commas and escaped quotes', () => {
    expect(splitCsvLine('"a, b","say ""hi""", c', 1)).toEqual(['a, b', 'say "hi"', 'c']);
  });
});
