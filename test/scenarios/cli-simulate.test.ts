import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { main } from '../../lambdas/cli/main';
import { runSimulate, type SimulateIo } from '../../lambdas/cli/simulate';
import { at, shortScenario } from './fixtures';

/** `fleetwatch simulate` as a user runs it: arguments, printed deliveries, files written, exit codes. */
function io(files: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  const written = new Map<string, string>();
  const cli: SimulateIo = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    readFile: async (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
      return text;
    },
    writeFile: async (path, text) => {
      written.set(path, text);
    },
  };
  return { cli, out: () => out.join(''), err: () => err.join(''), written };
}

const TINY = stringify(
  shortScenario({
    name: 'cli-tiny',
    duration: '2h',
    faults: [
      {
        id: 'x',
        kind: 'xid',
        at: at(50),
        target: { cluster: 'train-a', node: 0, gpu: 2 },
        params: { code: 79 },
      },
    ],
  }),
);

describe('fleetwatch simulate', () => {
  it('prints each delivery with its virtual time, then writes the JSON summary and the report', async () => {
    const t = io({ 'tiny.yaml': TINY });
    const code = await runSimulate(
      ['--scenario', 'tiny.yaml', '--json', 'out/summary.json', '--report', 'out/report'],
      t.cli,
    );
    expect(t.err()).toBe('');
    expect(code).toBe(0);
    const lines = t.out().split('\n');
    const page = lines.find((l) => / page +open +\[PAGE\] .*Xid 79/.test(l));
    expect(page).toMatch(/^2026-09-15T0\d:\d\d:00Z /);
    expect(t.out()).toMatch(/1\/1 faults detected/);
    const summary = JSON.parse(t.written.get('out/summary.json') ?? '{}');
    expect(summary.scenario).toBe('cli-tiny');
    expect(summary.faults[0]).toMatchObject({ id: 'x', detected: true, severity: 'page', cause: 'hardware' });
    const html = t.written.get('out/report/index.html') ?? '';
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg id="utilisation"');
    expect(html).toContain('cli-tiny');
  }, 60_000);

  it('reports a bad scenario file with the field and the problem, exit 2, and runs nothing', async () => {
    const bad = TINY.replace('duration: 2h', 'duration: two hours').replace('kind: xid', 'kind: xyd');
    const t = io({ 'bad.yaml': bad });
    const code = await runSimulate(['--scenario', 'bad.yaml'], t.cli);
    expect(code).toBe(2);
    expect(t.err()).toMatch(/invalid scenario bad\.yaml/);
    expect(t.err()).toMatch(/duration/);
    expect(t.err()).toMatch(/faults\[0\]\.kind|xyd/);
    expect(t.out()).toBe('');
  });

  it('refuses a missing file, a missing --scenario and an unknown backend with exit 2', async () => {
    const missing = io({});
    expect(await runSimulate(['--scenario', 'nope.yaml'], missing.cli)).toBe(2);
    expect(missing.err()).toMatch(/cannot read scenario nope\.yaml/);
    const none = io({});
    expect(await runSimulate([], none.cli)).toBe(2);
    expect(none.err()).toMatch(/--scenario <file> is required/);
    const backend = io({ 'tiny.yaml': TINY });
    expect(await runSimulate(['--scenario', 'tiny.yaml', '--backend', 'dynamo'], backend.cli)).toBe(2);
    expect(backend.err()).toMatch(/--backend must be one of memory, moto, got "dynamo"/);
  });

  it('is registered in the CLI', async () => {
    const t = io({});
    expect(await main(['simulate', '--help'], t.cli)).toBe(0);
    expect(t.out()).toMatch(/Usage: fleetwatch simulate --scenario <file>/);
  });
});
