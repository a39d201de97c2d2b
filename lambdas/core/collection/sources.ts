import type { RuntimeConfig, RuntimeFleet } from '../../contracts/config';
import { builtinProfiles, type MetricSourceProfile, type ProfileSignal } from '../../contracts/profiles';
import type { Signal } from '../../contracts/signals';

/**
 * A collection source: one fleet read through one metric source profile. It is the unit that
 * owns a watermark, so its id must stay stable across deploys: `${region}/${cluster}/${profile}`.
 */
export interface CollectionSource {
  readonly id: string;
  readonly fleet: RuntimeFleet;
  readonly profile: MetricSourceProfile;
  /** The profile's namespace unless the fleet overrides it (CloudWatch agent `namespace`). */
  readonly namespace: string;
  /** Profile signals to collect, after the fleet's `source.signals` filter. */
  readonly signals: readonly ProfileSignal[];
  /** Compiled `profile.job.pattern`, when the profile carries the job name in a dimension. */
  readonly jobPattern?: RegExp;
  /** Signals the fleet asked for that its profile does not provide (a config smell worth a warning). */
  readonly missingSignals: readonly Signal[];
}

export class SourceResolutionError extends Error {
  override readonly name = 'SourceResolutionError';
}

export function sourceId(fleet: Pick<RuntimeFleet, 'region' | 'cluster'>, profileName: string): string {
  return `${fleet.region}/${fleet.cluster}/${profileName}`;
}

/**
 * Resolves every fleet of the runtime config to its source. Custom profiles come from config;
 * config validation already rejects custom profiles named like built-ins, so lookup order does
 * not matter. Problems the synth-time validation cannot see (a job pattern that is not a valid
 * regular expression, a profile missing at runtime) fail early with the fleet and field named.
 */
export function resolveSources(config: Pick<RuntimeConfig, 'fleets' | 'profiles'>): CollectionSource[] {
  const profiles = new Map<string, MetricSourceProfile>();
  for (const p of [...builtinProfiles(), ...config.profiles]) profiles.set(p.name, p);

  return config.fleets.map((fleet, i) => {
    const profile = profiles.get(fleet.source.profile);
    if (profile === undefined) {
      throw new SourceResolutionError(
        `fleets[${i}].source.profile: unknown profile "${fleet.source.profile}" for cluster ${fleet.cluster}; ` +
          `known: ${[...profiles.keys()].join(', ')}`,
      );
    }
    const wanted = fleet.source.signals;
    const signals =
      wanted === undefined ? profile.signals : profile.signals.filter((s) => wanted.includes(s.signal));
    const provided = new Set(profile.signals.map((s) => s.signal));
    const missingSignals = (wanted ?? []).filter((s) => !provided.has(s));
    return {
      id: sourceId(fleet, profile.name),
      fleet,
      profile,
      namespace: fleet.source.namespace ?? profile.namespace,
      signals,
      missingSignals,
      ...(profile.job !== undefined ? { jobPattern: compileJobPattern(profile, i) } : {}),
    };
  });
}

function compileJobPattern(profile: MetricSourceProfile, fleetIndex: number): RegExp {
  const pattern = profile.job?.pattern ?? '';
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (err) {
    throw new SourceResolutionError(
      `profile "${profile.name}" (used by fleets[${fleetIndex}]): job.pattern ${JSON.stringify(pattern)} is not a valid regular expression (${(err as Error).message})`,
    );
  }
  if (!pattern.includes('(?<job>')) {
    throw new SourceResolutionError(
      `profile "${profile.name}" (used by fleets[${fleetIndex}]): job.pattern ${JSON.stringify(pattern)} needs a named group (?<job>...) holding the job name`,
    );
  }
  return re;
}
