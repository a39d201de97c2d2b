import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { CONFIG_CONTEXT_KEY, configPathFrom, loadConfigFile } from '../../infra/config-file';
import { ConfigError } from '../../lambdas/contracts/config';
import { SEVERITIES } from '../../lambdas/contracts/finding';
import { subscriptionsFor } from '../../lambdas/contracts/notifications-config';
import { EXAMPLE_CONFIG_PATH, exampleConfigInput, tempDir } from './support/synth';

const dir = tempDir('fleetwatch-config');
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('the committed example configuration', () => {
  const config = loadConfigFile(EXAMPLE_CONFIG_PATH);

  it('describes a realistic two-region fleet', () => {
    expect(config.homeRegion).toBe('us-east-1');
    expect(new Set(config.fleets.map((f) => f.region))).toEqual(new Set(['us-east-1', 'us-west-2']));
    expect(config.fleets.map((f) => [f.cluster, f.region, f.instanceType, f.source.profile])).toEqual([
      ['train-a', 'us-east-1', 'p5.48xlarge', 'dcgm-exporter'],
      ['train-b', 'us-west-2', 'p4d.24xlarge', 'dcgm-exporter'],
      ['sagemaker-research', 'us-west-2', 'p4d.24xlarge', 'sagemaker-training'],
    ]);
    expect(config.fleets.map((f) => f.nodes)).toEqual([48, 32, 0]);
    expect(config.fleets.every((f) => f.team !== undefined)).toBe(true);
  });

  it('uses example.com addresses only', () => {
    const emails = SEVERITIES.flatMap((s) => subscriptionsFor(config.notifications, s))
      .filter((s) => s.protocol === 'email')
      .map((s) => s.endpoint);
    expect(emails.length).toBeGreaterThan(0);
    for (const e of emails) expect(e).toMatch(/@example\.com$/);
  });
});

describe('configPathFrom', () => {
  const app = new App({ context: { [CONFIG_CONTEXT_KEY]: 'from-context.json' } });

  it('prefers FLEETWATCH_CONFIG over the context', () => {
    expect(configPathFrom(app, { FLEETWATCH_CONFIG: 'from-env.json' })).toBe('from-env.json');
    expect(configPathFrom(app, {})).toBe('from-context.json');
  });

  it('fails with how to fix it when neither is set', () => {
    expect(() => configPathFrom(new App(), {})).toThrow(
      /FLEETWATCH_CONFIG=<path>.*-c fleetwatch:config=<path>/,
    );
  });
});

describe('loadConfigFile', () => {
  it('names the file when it cannot be read', () => {
    const path = join(dir, 'missing.json');
    expect(() => loadConfigFile(path)).toThrow(ConfigError);
    expect(() => loadConfigFile(path)).toThrow(new RegExp(`${path}[\\s\\S]*cannot read the file`));
  });

  it('reports invalid JSON', () => {
    expect(() => loadConfigFile(file('broken.json', '{ "homeRegion": '))).toThrow(/not valid JSON/);
  });

  it('names the field, the bad value and what is allowed', () => {
    const input = exampleConfigInput();
    input.retention = { logDays: 45 as 30 };
    const path = file('bad-retention.json', JSON.stringify(input));
    expect(() => loadConfigFile(path)).toThrow(
      /retention\.logDays: got 45; allowed: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365/,
    );
  });
});
