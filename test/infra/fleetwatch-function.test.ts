import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration, Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import {
  assertEnvironmentFits,
  FleetWatchFunction,
  LAMBDA_ENVIRONMENT_LIMIT_BYTES,
  TOKEN_VALUE_ALLOWANCE_BYTES,
} from '../../infra/constructs/fleetwatch-function';
import { buildFleetWatchApp } from '../../infra/fleetwatch-app';
import { ConfigError } from '../../lambdas/contracts/config';
import { ENV } from '../../lambdas/contracts/env';
import { CDK_JSON_CONTEXT, exampleConfig, tempDir } from './support/synth';

function fixtureStack() {
  const outdir = tempDir('fleetwatch-fn');
  const app = new App({ outdir, context: CDK_JSON_CONTEXT });
  const stack = new Stack(app, 'FixtureStack', { env: { region: 'us-east-1' } });
  const encryptionKey = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  return { app, stack, outdir, encryptionKey };
}

describe('FleetWatchFunction bundling (local esbuild, no Docker)', () => {
  // One real bundle of a handler that imports the AWS SDK.
  const { app, stack, outdir, encryptionKey } = fixtureStack();
  new FleetWatchFunction(stack, 'Fixture', {
    handlerName: 'sdk-fixture',
    entry: 'test/infra/fixtures/sdk-handler.ts',
    description: 'bundling fixture',
    timeout: Duration.seconds(10),
    environment: {},
    logRetention: logs.RetentionDays.ONE_WEEK,
    encryptionKey,
  });
  app.synth();
  const code = Template.fromStack(stack).findResources('AWS::Lambda::Function');
  const s3Key = Object.values(code)[0]?.Properties.Code.S3Key as string;
  const assetDir = join(outdir, `asset.${s3Key.replace(/\.zip$/, '')}`);
  const bundle = readFileSync(join(assetDir, 'index.js'), 'utf8');

  it('bundles the AWS SDK instead of using the runtime copy', () => {
    expect(bundle).not.toMatch(/require\("@aws-sdk\/client-sqs"\)/);
    expect(bundle).not.toMatch(/require\("@smithy\//);
    expect(bundle).toContain('aws-sdk-js'); // the SDK's user agent, so its code is in the bundle
  });

  it('is minified CommonJS with a source map', () => {
    expect(existsSync(join(assetDir, 'index.js.map'))).toBe(true);
    expect(bundle.split('\n').length).toBeLessThan(bundle.length / 1000);
    expect(bundle).toMatch(/module\.exports/);
    expect(bundle).toContain('//# sourceMappingURL=index.js.map');
  });
});

describe('Lambda environment size (4 KB)', () => {
  it('accepts exactly 4096 bytes of names and values', () => {
    const name = 'X';
    expect(() =>
      assertEnvironmentFits('f', { [name]: 'a'.repeat(LAMBDA_ENVIRONMENT_LIMIT_BYTES - name.length) }),
    ).not.toThrow();
  });

  it('rejects 4097 bytes, naming the function, the size and the limit', () => {
    const env = { X: 'a'.repeat(LAMBDA_ENVIRONMENT_LIMIT_BYTES) };
    expect(() => assertEnvironmentFits('collect-gpu-metrics', env)).toThrow(ConfigError);
    expect(() => assertEnvironmentFits('collect-gpu-metrics', env)).toThrow(
      /collect-gpu-metrics[\s\S]*about 4097 bytes; Lambda allows 4096 bytes \(4 KB\)/,
    );
  });

  it('counts multi-byte characters as bytes and unresolved tokens as the allowance', () => {
    expect(() => assertEnvironmentFits('f', { X: 'é'.repeat(2048) })).toThrow(/about 4097 bytes/);
    const token = Token.asString({ Ref: 'Something' });
    const rest = LAMBDA_ENVIRONMENT_LIMIT_BYTES - TOKEN_VALUE_ALLOWANCE_BYTES - 'T'.length - 'X'.length;
    expect(() => assertEnvironmentFits('f', { T: token, X: 'a'.repeat(rest) })).not.toThrow();
    expect(() => assertEnvironmentFits('f', { T: token, X: 'a'.repeat(rest + 1) })).toThrow(ConfigError);
  });

  it('fails the app (before bundling) when the configuration makes the environment too large', () => {
    const config = exampleConfig((c) => {
      // 40 fleets with long match filters: a big but otherwise valid configuration.
      c.fleets = Array.from({ length: 40 }, (_, i) => ({
        cluster: `cluster-${i}`,
        region: 'us-east-1',
        instanceType: 'p5.48xlarge',
        nodes: 16,
        source: {
          profile: 'dcgm-exporter',
          match: { ClusterName: `cluster-${i}`, Environment: 'production' },
        },
      }));
    });
    const app = new App({ context: CDK_JSON_CONTEXT });
    expect(() => buildFleetWatchApp(app, config)).toThrow(ConfigError);
    expect(() => buildFleetWatchApp(new App({ context: CDK_JSON_CONTEXT }), config)).toThrow(
      new RegExp(`Lambda allows 4096 bytes[\\s\\S]*${ENV.runtimeConfig}`),
    );
  });
});
