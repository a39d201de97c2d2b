import { ConfigError, parseRuntimeConfig, type RuntimeConfig } from '../contracts/config';
import { ENV } from '../contracts/env';
import { requireEnv } from './env';

/** The RuntimeConfig infra wrote into the Lambda environment, validated with the same schema. */
export function runtimeConfigFromEnv(): RuntimeConfig {
  const source = `environment variable ${ENV.runtimeConfig}`;
  let json: unknown;
  try {
    json = JSON.parse(requireEnv(ENV.runtimeConfig));
  } catch (err) {
    if (err instanceof SyntaxError) throw new ConfigError(source, [`not valid JSON (${err.message})`]);
    throw err;
  }
  return parseRuntimeConfig(json, source);
}
