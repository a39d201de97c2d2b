import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  type FleetWatchConfigInput,
  parseConfig,
  parseRuntimeConfig,
  runtimeConfigFrom,
} from '../../../lambdas/contracts/config';

const fleet0 = {
  cluster: 'train-a',
  region: 'us-east-1',
  instanceType: 'p5.48xlarge',
  nodes: 4,
  source: { profile: 'dcgm-exporter' },
};
const minimal: FleetWatchConfigInput = { homeRegion: 'us-east-1', fleets: [fleet0] };

function problemsOf(input: unknown): string[] {
  try {
    parseConfig(input, 'test.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected the configuration to be rejected');
}

function withFleet(patch: Record<string, unknown>): unknown {
  return { ...minimal, fleets: [{ ...fleet0, ...patch }] };
}

describe('parseConfig', () => {
  it('fills defaults: 5-minute cadence, 1-minute period, 24 h backfill horizon, Timestream sink', () => {
    const cfg = parseConfig(minimal);
    expect(cfg.collection).toMatchObject({ cadenceMinutes: 5, periodSeconds: 60, backfillHorizonHours: 24 });
    expect(cfg.sink.kind).toBe('timestream');
    expect(cfg.retention.logDays).toBe(30);
  });

  it.each([
    [
      withFleet({ region: 'us-east' }),
      'fleets[0].region: got "us-east"; expected an AWS region code such as us-east-1',
    ],
    [withFleet({ nodes: -1 }), 'fleets[0].nodes: got -1; must be at least 0'],
    [
      withFleet({ source: { profile: 'prometheus' } }),
      'fleets[0].source.profile: got "prometheus"; unknown profile "prometheus"; allowed: dcgm-exporter',
    ],
    [
      withFleet({ instanceType: 'p9.huge' }),
      'fleets[0].gpusPerNode: missing; required for instance type "p9.huge"',
    ],
    [
      withFleet({ source: { profile: 'dcgm-exporter', signals: ['gpu_utilization'] } }),
      'fleets[0].source.signals[0]: got "gpu_utilization"; allowed: "gpu_util"',
    ],
    [
      { ...minimal, collection: { cadenceMinutes: 90 } },
      'collection.cadenceMinutes: got 90; must be at most 60',
    ],
    [{ ...minimal, collection: { periodSeconds: 30 } }, 'collection.periodSeconds: got 30; allowed: 60, 300'],
    [{ ...minimal, retention: { logDays: 31 } }, 'retention.logDays: got 31; allowed: 1, 3, 5, 7, 14, 30'],
    [{ ...minimal, sink: { kind: 'influxdb' } }, 'sink.kind: got "influxdb"; allowed: "timestream", "none"'],
    [
      { ...minimal, notifications: { page: { emails: ['oncall'] } } },
      'notifications.page.emails[0]: got "oncall"; expected an e-mail address',
    ],
    [{ ...minimal, fleets: [] }, 'fleets: got []; must be at least 1 item(s)'],
    [{ ...minimal, colection: {} }, '(top level): unknown field(s) "colection" (check the spelling)'],
    [{ fleets: minimal.fleets }, 'homeRegion: missing; expected string'],
  ])('names the field, the value and what is allowed (%#)', (input, expected) => {
    expect(problemsOf(input).join('\n')).toContain(expected);
  });

  it('rejects the same cluster twice in one region', () => {
    const fleet = fleet0;
    expect(problemsOf({ ...minimal, fleets: [fleet, fleet] }).join('\n')).toContain(
      'fleets[1].cluster: got "train-a"; cluster "train-a" appears twice in region us-east-1',
    );
  });

  it('accepts a custom profile and refuses one that shadows a built-in', () => {
    const custom = {
      name: 'my-dcgm',
      namespace: 'Custom/GPU',
      nodeDimensions: ['InstanceId'],
      gpuDimension: 'gpu',
      signals: [{ signal: 'gpu_util', metricName: 'util' }],
    };
    const ok = parseConfig({
      ...minimal,
      profiles: [custom],
      fleets: [{ ...fleet0, source: { profile: 'my-dcgm' } }],
    });
    expect(ok.profiles[0]?.signals[0]).toMatchObject({ stat: 'Average', scale: 1, aggregation: 'per-gpu' });
    expect(problemsOf({ ...minimal, profiles: [{ ...custom, name: 'dcgm-exporter' }] }).join('\n')).toContain(
      '"dcgm-exporter" is a built-in profile',
    );
  });

  it('lists every problem at once rather than the first only', () => {
    expect(problemsOf(withFleet({ region: 'x', nodes: 1.5 }))).toHaveLength(2);
  });

  it('the committed example configuration is valid and describes two regions of p5 and p4d nodes', () => {
    const example = parseConfig(JSON.parse(readFileSync('config/fleetwatch.example.json', 'utf8')));
    expect(new Set(example.fleets.map((f) => f.region)).size).toBeGreaterThanOrEqual(2);
    expect(example.fleets.map((f) => f.instanceType)).toEqual(
      expect.arrayContaining(['p5.48xlarge', 'p4d.24xlarge']),
    );
  });
});

describe('runtimeConfigFrom', () => {
  it('resolves GPUs per node from the instance type and round-trips through the Lambda schema', () => {
    const runtime = runtimeConfigFrom(parseConfig(minimal));
    expect(runtime.fleets[0]?.gpusPerNode).toBe(8);
    expect(parseRuntimeConfig(JSON.parse(JSON.stringify(runtime)))).toEqual(runtime);
  });
});
