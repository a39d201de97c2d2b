import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { afterAll } from 'vitest';
import { buildFleetWatchApp, type FleetWatchStacks } from '../../../infra/fleetwatch-app';
import { REPO_ROOT } from '../../../infra/repo-root';
import type { FleetWatchConfig, FleetWatchConfigInput } from '../../../lambdas/contracts/config';
import { parseConfig } from '../../../lambdas/contracts/config';

const tempDirs = new Set<string>();
// Registered while the importing test file is collected, so it runs after that file's tests.
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
});

/** A fresh temporary directory, removed when the test process exits (assemblies hold bundles). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

/** The context of cdk.json (feature flags): tests synthesize with the same flags as `cdk synth`. */
export const CDK_JSON_CONTEXT: Record<string, unknown> = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }
).context;

export const EXAMPLE_CONFIG_PATH = join(REPO_ROOT, 'config', 'fleetwatch.example.json');

/** The committed example configuration, as written (input form). */
export function exampleConfigInput(): FleetWatchConfigInput {
  return JSON.parse(readFileSync(EXAMPLE_CONFIG_PATH, 'utf8')) as FleetWatchConfigInput;
}

/** The example configuration, optionally changed, validated like the app does. */
export function exampleConfig(change: (input: FleetWatchConfigInput) => void = () => {}): FleetWatchConfig {
  const input = exampleConfigInput();
  change(input);
  return parseConfig(input, 'test configuration');
}

export interface SynthOptions {
  /**
   * Bundle the Lambda code with esbuild. Off by default: templates do not depend on the bundle
   * contents, and the handlers are being written in parallel; bundling is covered on its own.
   */
  readonly bundle?: boolean;
  readonly nag?: boolean;
}

export interface Synthesized {
  readonly stacks: FleetWatchStacks;
  readonly assembly: CloudAssembly;
  readonly outdir: string;
  readonly home: Template;
  readonly forwarders: ReadonlyMap<string, Template>;
}

/** Synthesizes the whole FleetWatch app into a fresh temporary cloud assembly directory. */
export function synthFleetWatch(config: FleetWatchConfig, options: SynthOptions = {}): Synthesized {
  const outdir = tempDir('fleetwatch-cdk');
  const app = new App({
    outdir,
    context: {
      ...CDK_JSON_CONTEXT,
      // Mute rules and excluded ranges depend on "now" (ended windows get none): pin it so the
      // example config's one-off maintenance window is always in the future.
      'fleetwatch:synthTime': '2026-11-24T00:00:00Z',
      // An empty list of stacks to bundle makes CDK skip esbuild (the asset is a placeholder).
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
  });
  const stacks = buildFleetWatchApp(app, config, { nag: options.nag ?? true });
  const assembly = app.synth();
  const forwarders = new Map([...stacks.forwarders].map(([region, s]) => [region, Template.fromStack(s)]));
  return { stacks, assembly, outdir, home: Template.fromStack(stacks.home), forwarders };
}
