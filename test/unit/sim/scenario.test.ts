import { describe, expect, it } from 'vitest';
import { parseDurationMs } from '../../../lambdas/sim/duration';
import { loadScenario, type ScenarioInput, validateScenario } from '../../../lambdas/sim/scenario';
import { baseInput, committedScenario } from './fixtures';

type Fault = NonNullable<ScenarioInput['faults']>[number];
const fault = (f: Partial<Fault>): Fault => ({
  id: 'f1',
  kind: 'xid',
  at: '2026-09-14T05:17:00Z',
  target: { cluster: 'train-a', node: 4, gpu: 6 },
  params: { code: 79 },
  ...f,
});

describe('scenario validation: each bad field gets its own message', () => {
  const cases: [string, ScenarioInput, string][] = [
    [
      'node out of range',
      baseInput({ faults: [fault({}), fault({ id: 'f2', target: { cluster: 'train-a', node: 14 } })] }),
      'faults[1].target.node: 14 is out of range; cluster train-a has nodes 0-11',
    ],
    [
      'gpu out of range',
      baseInput({ faults: [fault({ target: { cluster: 'train-b', node: 1, gpu: 8 } })] }),
      'faults[0].target.gpu: 8 is out of range; p4d.24xlarge nodes in train-b have GPUs 0-7',
    ],
    [
      'unknown cluster',
      baseInput({ faults: [fault({ target: { cluster: 'train-z', node: 1 } })] }),
      'faults[0].target.cluster: unknown cluster "train-z"; the fleet has train-a, train-b',
    ],
    [
      'fault outside the run',
      baseInput({ faults: [fault({ at: '2026-09-15T05:17:00Z' })] }),
      'faults[0].at: 2026-09-15T05:17:00Z is outside the scenario (2026-09-14T00:00:00.000Z to 2026-09-14T06:00:00.000Z)',
    ],
    [
      'xid without code',
      baseInput({ faults: [fault({ params: {} })] }),
      'faults[0].params.code: missing; required for xid',
    ],
    [
      'driver regression without its params',
      baseInput({
        faults: [
          fault({ kind: 'driver_regression', target: { cluster: 'train-a', fraction: 0.5 }, params: {} }),
        ],
      }),
      'faults[0].params.driverVersion: missing; required for driver_regression',
    ],
    [
      'unknown parameter',
      baseInput({ faults: [fault({ params: { code: 79, colour: 'red' } })] }),
      'faults[0].params.colour: unknown parameter for xid; allowed: code',
    ],
    [
      'job fault without a job selector',
      baseInput({ faults: [fault({ kind: 'job_stall', target: { cluster: 'train-a' }, params: {} })] }),
      'faults[0].target.job: missing; a job_stall fault targets { cluster, job }',
    ],
    [
      'model fault aimed at a node',
      baseInput({
        faults: [fault({ kind: 'model_drift', target: { cluster: 'train-a', node: 1 }, params: {} })],
      }),
      'faults[0].target.cluster: not allowed for a model_drift fault; its target is { endpoint }',
    ],
    [
      'bad seasonal time zone',
      baseInput({
        workload: {
          jobsPerDay: 10,
          mix: { interactive: 1, batch: 0, distributed: 0 },
          seasonal: [{ days: ['mon'], from: '02:00', to: '04:00', tz: 'Mars/Olympus', loadFactor: 2 }],
        },
      }),
      'workload.seasonal[0].tz: "Mars/Olympus" is not an IANA time zone',
    ],
    [
      'mix not summing to 1',
      baseInput({ workload: { jobsPerDay: 10, mix: { interactive: 0.5, batch: 0.4, distributed: 0.2 } } }),
      'workload.mix: interactive + batch + distributed must sum to 1; got 1.1',
    ],
    [
      'bad cron',
      baseInput({
        maintenance: [{ scope: { cluster: 'train-a' }, cron: '0 6 * *', duration: '1h', tz: 'UTC' }],
      }),
      'maintenance[0].cron: "0 6 * *" is not a cron expression',
    ],
    [
      'bad maintenance tz',
      baseInput({
        maintenance: [{ scope: { cluster: 'train-a' }, cron: '0 6 * * sun', duration: '1h', tz: 'Nowhere' }],
      }),
      'maintenance[0].tz: "Nowhere" is not an IANA time zone',
    ],
    [
      'maintenance scope out of range',
      baseInput({
        maintenance: [
          { scope: { cluster: 'train-b', node: 4 }, start: '2026-09-14T01:00:00Z', duration: '1h' },
        ],
      }),
      'maintenance[0].scope.node: 4 is out of range; cluster train-b has nodes 0-3',
    ],
    [
      'bad duration unit',
      baseInput({ duration: '36 hours' }),
      'duration: got "36 hours"; a duration such as 90s',
    ],
    [
      'unknown fault kind',
      baseInput({ faults: [fault({ kind: 'cosmic_ray' as Fault['kind'] })] }),
      'faults[0].kind: got "cosmic_ray"; allowed: "xid"',
    ],
    [
      'misspelt top-level field',
      { ...baseInput(), fualts: [] } as unknown as ScenarioInput,
      '(top level): unknown field(s) "fualts"',
    ],
    [
      'duplicate fault id',
      baseInput({ faults: [fault({}), fault({})] }),
      'faults[1].id: "f1" appears twice; fault ids must be unique',
    ],
    [
      'fell off bus needs a GPU',
      baseInput({
        faults: [fault({ kind: 'gpu_fell_off_bus', target: { cluster: 'train-a', node: 2 }, params: {} })],
      }),
      'faults[0].target: a gpu_fell_off_bus fault hits one GPU; give { cluster, node, gpu }',
    ],
    [
      'utilisation drop out of range',
      baseInput({
        faults: [
          fault({ kind: 'fleet_utilisation_drop', target: { cluster: 'train-a' }, params: { drop: 1.5 } }),
        ],
      }),
      'faults[0].params.drop: 1.5 is out of range; allowed 0.01 to 1',
    ],
  ];

  it.each(cases)('%s', (_name, input, message) => {
    const result = validateScenario(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.some((e) => e.startsWith(message))).toBe(true);
  });

  it('reports every semantic problem at once', () => {
    const result = validateScenario(
      baseInput({
        faults: [
          fault({ target: { cluster: 'train-a', node: 14 } }),
          fault({ id: 'f2', kind: 'ecc_dbe', params: {}, target: { cluster: 'nope' } }),
          fault({ id: 'f3', at: '2027-01-01T00:00:00Z' }),
        ],
      }),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toHaveLength(3);
  });
});

describe('loadScenario', () => {
  const yamlText = `name: example
seed: 42
start: "2026-09-14T00:00:00Z"
duration: 36h
tick: 1m
fleet:
  - { cluster: train-a, region: us-east-1, instanceType: p5.48xlarge, nodes: 12, gpusPerNode: 8 }
workload:
  jobsPerDay: 900
  mix: { interactive: 0.5, batch: 0.4, distributed: 0.1 }
  seasonal:
    - { days: [mon, tue, wed, thu, fri], from: "02:00", to: "04:30", tz: America/New_York, loadFactor: 2.5 }
maintenance:
  - { scope: { cluster: train-a }, start: "2026-09-14T15:00:00Z", duration: 2h }
  - { scope: { cluster: train-a }, cron: "0 6 * * sun", duration: 1h, tz: UTC }
faults:
  - { id: f1, kind: xid, at: "2026-09-14T05:17:00Z", target: { cluster: train-a, node: 4, gpu: 6 }, params: { code: 79 } }
  - { id: f2, kind: job_stall, at: "2026-09-14T13:22:00Z", target: { cluster: train-a, job: running-distributed } }
`;

  it('accepts the exact example of issue 5', () => {
    const result = loadScenario(yamlText, 'example.yaml');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.scenario.durationMs).toBe(36 * 3_600_000);
    expect(result.scenario.faults.map((f) => f.id)).toEqual(['f1', 'f2']);
    // job_stall without a duration gets its kind's default (documented in docs/scenarios.md).
    expect(result.scenario.faults[1]?.durationMs).toBe(180 * 60_000);
  });

  it('accepts the same scenario as JSON', () => {
    const yaml = loadScenario(yamlText, 'example.yaml');
    if (!yaml.ok) throw new Error('yaml failed');
    const asJson = JSON.stringify({
      name: 'example',
      seed: 42,
      start: '2026-09-14T00:00:00Z',
      duration: '36h',
      fleet: [{ cluster: 'train-a', region: 'us-east-1', instanceType: 'p5.48xlarge', nodes: 12 }],
      workload: { jobsPerDay: 900, mix: { interactive: 0.5, batch: 0.4, distributed: 0.1 } },
    });
    const json = loadScenario(asJson, 'example.json');
    expect(json.ok).toBe(true);
    if (json.ok) expect(json.scenario.fleet[0]?.gpusPerNode).toBe(8); // from the GPU catalogue
  });

  it('names the file and the line of a semantic error in YAML', () => {
    const bad = yamlText.replace('node: 4, gpu: 6', 'node: 14, gpu: 6');
    const result = loadScenario(bad, 'example.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      'example.yaml:17: faults[0].target.node: 14 is out of range; cluster train-a has nodes 0-11',
    ]);
  });

  it('reports YAML syntax errors with line and column', () => {
    const result = loadScenario('name: x\nfleet: [\n', 'broken.yaml');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]).toMatch(/^broken\.yaml:\d+:\d+: not valid YAML/);
  });

  it('reports broken JSON', () => {
    const result = loadScenario('{"name": ', 'broken.json');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]).toMatch(/^broken\.json: not valid JSON/);
  });

  it('parses durations in s, m, h, d and combinations', () => {
    expect(parseDurationMs('90s')).toBe(90_000);
    expect(parseDurationMs('1h30m')).toBe(90 * 60_000);
    expect(parseDurationMs('30d')).toBe(30 * 86_400_000);
    expect(parseDurationMs('1w')).toBeUndefined();
  });

  it('loads the committed scenarios', () => {
    const demo = committedScenario('demo.yaml');
    expect(demo.faults.map((f) => f.kind)).toEqual(
      expect.arrayContaining(['xid', 'job_stall', 'thermal_throttle', 'driver_regression']),
    );
    const reference = committedScenario('reference-30d.yaml');
    const gpus = reference.fleet.reduce((s, f) => s + f.nodes * f.gpusPerNode, 0);
    expect(gpus).toBe(1200);
    expect(new Set(reference.fleet.map((f) => f.region)).size).toBe(2);
    expect(reference.faults.length).toBeGreaterThanOrEqual(38);
    expect(reference.maintenance).toHaveLength(4);
  });
});
