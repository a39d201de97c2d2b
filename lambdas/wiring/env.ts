import { ENV, type EnvName } from '../contracts/env';

/** The only place that reads process.env. Missing required settings fail with the variable name. */
export function readEnv(name: EnvName): string | undefined {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
}

export function requireEnv(name: EnvName): string {
  const v = readEnv(name);
  if (v === undefined) {
    throw new Error(`Environment variable ${name} is not set; the stack sets it on every FleetWatch Lambda`);
  }
  return v;
}

export function homeRegion(): string {
  return readEnv(ENV.awsRegion) ?? 'us-east-1';
}
