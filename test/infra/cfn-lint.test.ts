import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleConfig, synthFleetWatch } from './support/synth';

/**
 * cfn-lint (AWS's CloudFormation linter) on every synthesized template. Exit code bits: 2 errors,
 * 4 warnings, 8 informational. Errors always fail; a warning passes only if its rule is listed
 * here with the reason.
 */
const ALLOWED_WARNINGS: Record<string, string> = {
  W3005:
    'CDK adds DependsOn from each function to its role although Role: GetAtt already implies it (known CDK noise, harmless)',
  W3697:
    'Timestream for LiveAnalytics is in maintenance mode (closed to new customers since 2025-06-20): it is the specified default sink, the stack description and TelemetrySinkNotice output say so, and sink.kind "none" removes it',
};

interface CfnLintMatch {
  Filename: string;
  Level: 'Error' | 'Warning' | 'Informational';
  Message: string;
  Rule: { Id: string };
  Location: { Path: (string | number)[] };
}

function cfnLint(files: string[]): { status: number; matches: CfnLintMatch[] } {
  const r = spawnSync('cfn-lint', ['--format', 'json', '--', ...files], { encoding: 'utf8' });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error('cfn-lint not found: pip install cfn-lint==1.51.0');
  }
  if (r.error) throw r.error;
  if (r.status === null || (r.status & 1) !== 0) {
    throw new Error(`cfn-lint failed to run (exit ${r.status}): ${r.stderr}`);
  }
  return { status: r.status, matches: JSON.parse(r.stdout || '[]') as CfnLintMatch[] };
}

describe.each([
  ['example configuration', () => exampleConfig()],
  [
    'sink "none"',
    () =>
      exampleConfig((c) => {
        c.sink = { kind: 'none' };
      }),
  ],
])('cfn-lint: %s', (_name, config) => {
  const { outdir } = synthFleetWatch(config());
  // Only the templates: manifest.json and the asset manifests give false errors.
  const templates = readdirSync(outdir)
    .filter((f) => f.endsWith('.template.json'))
    .map((f) => join(outdir, f));
  // Run lazily inside the tests, so a missing cfn-lint fails each of them with its message.
  let result: ReturnType<typeof cfnLint> | undefined;
  const lint = () => {
    result ??= cfnLint(templates);
    return result;
  };
  const describeMatch = (m: CfnLintMatch) => `${m.Rule.Id} ${m.Location.Path.join('/')}: ${m.Message}`;

  it('lints every stack template (home and forwarder)', () => {
    expect(templates.map((t) => t.slice(outdir.length + 1)).sort()).toEqual([
      'FleetWatch-Forwarder-us-west-2.template.json',
      'FleetWatch.template.json',
    ]);
  });

  it('finds no errors', () => {
    const { status, matches } = lint();
    expect(matches.filter((m) => m.Level === 'Error').map(describeMatch)).toEqual([]);
    expect(status & 2).toBe(0);
  });

  it('finds no warnings other than the allowed ones', () => {
    const { matches } = lint();
    expect(
      matches.filter((m) => m.Level === 'Warning' && !(m.Rule.Id in ALLOWED_WARNINGS)).map(describeMatch),
    ).toEqual([]);
  });
});
