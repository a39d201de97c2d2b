import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { ConfigError, type FleetWatchConfig, parseConfig } from '../lambdas/contracts/config';

/** CDK context key (set in cdk.json, or `-c fleetwatch:config=<path>`) naming the config file. */
export const CONFIG_CONTEXT_KEY = 'fleetwatch:config';
/** Environment variable naming the config file; it takes precedence over the context value. */
export const CONFIG_ENV_VAR = 'FLEETWATCH_CONFIG';

/** The config file path: FLEETWATCH_CONFIG, else the `fleetwatch:config` context value. */
export function configPathFrom(app: App, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[CONFIG_ENV_VAR];
  if (fromEnv) return fromEnv;
  const fromContext: unknown = app.node.tryGetContext(CONFIG_CONTEXT_KEY);
  if (typeof fromContext === 'string' && fromContext.length > 0) return fromContext;
  throw new ConfigError('(no configuration file)', [
    `set ${CONFIG_ENV_VAR}=<path> or pass -c ${CONFIG_CONTEXT_KEY}=<path> (cdk.json names config/fleetwatch.example.json)`,
  ]);
}

/** Reads and validates a FleetWatch configuration file; every failure is a ConfigError. */
export function loadConfigFile(path: string): FleetWatchConfig {
  let text: string;
  try {
    text = readFileSync(resolve(path), 'utf8');
  } catch (e) {
    throw new ConfigError(path, [`cannot read the file: ${(e as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(path, [`not valid JSON: ${(e as Error).message}`]);
  }
  return parseConfig(json, path);
}
