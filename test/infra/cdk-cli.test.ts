import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/repo-root';
import { exampleConfigInput, tempDir } from './support/synth';

/**
 * `npx cdk synth` as a user runs it: through the CLI and cdk.json, with no AWS credentials, no
 * region and no CDK environment variables (vitest's own AWS_* settings are removed too).
 */
function cdkSynth(args: string[], extraEnv: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(AWS_|CDK_)/.test(k) && k !== 'NODE_ENV' && k !== 'FLEETWATCH_CONFIG') env[k] = v;
  }
  const outdir = tempDir('fleetwatch-cli');
  const r = spawnSync('npx', ['cdk', 'synth', '--quiet', '--output', outdir, ...args], {
    cwd: REPO_ROOT,
    env: { ...env, ...extraEnv },
    encoding: 'utf8',
    timeout: 240_000,
  });
  // npm may warn about the user's npmrc; that is not ours.
  const stderr = r.stderr
    .split('\n')
    .filter((l) => !l.startsWith('npm warn'))
    .join('\n');
  return { status: r.status, stdout: r.stdout, stderr, outdir };
}

function badConfigFile(): string {
  const input = exampleConfigInput();
  input.retention = { logDays: 45 as 30 };
  const fleet = input.fleets[1];
  if (!fleet) throw new Error('the example has a second fleet');
  fleet.region = 'us-west2';
  const path = join(tempDir('fleetwatch-bad'), 'bad.json');
  writeFileSync(path, JSON.stringify(input));
  return path;
}

describe('cdk synth (CLI, offline, no credentials)', () => {
  it('synthesizes the committed example with the real handlers bundled', { timeout: 240_000 }, () => {
    const r = cdkSynth([]);
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(r.outdir)).toEqual(
      expect.arrayContaining(['FleetWatch.template.json', 'FleetWatch-Forwarder-us-west-2.template.json']),
    );
    const template = JSON.parse(readFileSync(join(r.outdir, 'FleetWatch.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }>;
    };
    const functions = Object.values(template.Resources).filter((res) => res.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(3);
    for (const fn of functions) {
      const asset = `asset.${fn.Properties.Code?.S3Key?.replace(/\.zip$/, '')}`;
      expect(existsSync(join(r.outdir, asset, 'index.js')), asset).toBe(true);
    }
  });

  it.each([
    ['FLEETWATCH_CONFIG', (path: string) => ({ args: [], env: { FLEETWATCH_CONFIG: path } })],
    ['-c fleetwatch:config', (path: string) => ({ args: ['-c', `fleetwatch:config=${path}`], env: {} })],
  ])(
    'stops on an invalid configuration given through %s: each field, value and what is allowed, no stack trace',
    { timeout: 120_000 },
    (_how, how) => {
      const path = badConfigFile();
      const { args, env } = how(path);
      const r = cdkSynth(args, env);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(`Invalid FleetWatch configuration in ${path}:`);
      expect(r.stderr).toContain(
        'fleets[1].region: got "us-west2"; expected an AWS region code such as us-east-1',
      );
      expect(r.stderr).toMatch(/retention\.logDays: got 45; allowed: 1, 3, 5, 7, 14, 30, 60, 90/);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.stderr).not.toMatch(/node:internal|ZodError/);
      expect(readdirSync(r.outdir).filter((f) => f.endsWith('.template.json'))).toEqual([]);
    },
  );
});
