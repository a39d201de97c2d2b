import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { FleetWatchConfig } from '../lambdas/contracts/config';
import { EventForwarderStack } from './stacks/event-forwarder-stack';
import { FleetWatchStack } from './stacks/fleetwatch-stack';

export interface FleetWatchStacks {
  readonly home: FleetWatchStack;
  /** One per fleet region other than the home region, keyed by region. */
  readonly forwarders: ReadonlyMap<string, EventForwarderStack>;
}

export interface BuildOptions {
  /**
   * Run the cdk-nag AwsSolutions checks at synth (findings must be fixed or acknowledged).
   * @default true
   */
  readonly nag?: boolean;
}

/**
 * Builds FleetWatch into `app`: the home stack (named after config.name, in config.homeRegion)
 * and one forwarder stack per other fleet region. Stacks are environment-agnostic in the account
 * (unresolved) so `cdk synth` needs no AWS credentials; the region is fixed from the config.
 */
export function buildFleetWatchApp(
  app: App,
  config: FleetWatchConfig,
  options: BuildOptions = {},
): FleetWatchStacks {
  if (options.nag ?? true) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  }
  const home = new FleetWatchStack(app, config.name, {
    env: { region: config.homeRegion },
    config,
  });
  const forwarders = new Map<string, EventForwarderStack>();
  const otherRegions = [...new Set(config.fleets.map((f) => f.region))].filter(
    (r) => r !== config.homeRegion,
  );
  for (const region of otherRegions.sort()) {
    forwarders.set(
      region,
      new EventForwarderStack(app, `${config.name}-Forwarder-${region}`, {
        env: { region },
        homeRegion: config.homeRegion,
      }),
    );
  }
  return { home, forwarders };
}
