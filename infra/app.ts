#!/usr/bin/env node
// The CDK app (cdk.json "app"): one `cdk deploy` for FleetWatch. The configuration file comes
// from FLEETWATCH_CONFIG or the `fleetwatch:config` context; an invalid configuration stops synth
// with a message naming the field, the value and what is allowed (no stack trace).
import { App } from 'aws-cdk-lib';
import { ConfigError } from '../lambdas/contracts/config';
import { configPathFrom, loadConfigFile } from './config-file';
import { buildFleetWatchApp } from './fleetwatch-app';

const app = new App();
try {
  const config = loadConfigFile(configPathFrom(app));
  buildFleetWatchApp(app, config);
  app.synth();
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  console.error(e.message);
  process.exit(1);
}
