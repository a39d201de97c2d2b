import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  type FleetWatchConfigInput,
  parseConfig,
  parseRuntimeConfig,
  runtimeConfigFrom,
} from '../../../lambdas/contracts/config';
import { DEFAULT_PROGRESS_METRIC_NAMES } from '../../../lambdas/contracts/detection-config';

const minimal: FleetWatchConfigInput = {
  homeRegion: 'us-east-1',
  fleets: [
    {
      cluster: 'train-a',
      region: 'us-east-1',
      instanceType: 'p5.48xlarge',
      nodes: 4,
      source: { profile: 'dcgm-exporter' },
    },
  ],
};

function problemsOf(detection: unknown): string[] {
  try {
    parseConfig({ ...minimal, detection }, 'test.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('detection config section', () => {
  it('is optional: a config without it gets the defaults', () => {
    const cfg = parseConfig(minimal);
    expect(cfg.detection).toEqual({
      progressMetricNames: [...DEFAULT_PROGRESS_METRIC_NAMES],
      progressLookbackMinutes: 180,
      stepTimeMetricNames: {
        step: ['step_time', 'train:step_time'],
        dataWait: ['data_time', 'train:data_time'],
        communication: ['comm_time', 'train:comm_time'],
      },
      classes: {},
      sla: {},
      fleetDropThreshold: 0.08,
      fleetDropWindowMinutes: 60,
      sensitivity: 'medium',
      checkpointCheckEveryMinutes: 15,
      maxCheckpointChecksPerRun: 100,
    });
  });

  it('reaches the Lambdas through the runtime config, with the maintenance windows', () => {
    const cfg = parseConfig({
      ...minimal,
      detection: { sensitivity: 'high', classes: { batch: { idleGraceMinutes: 20 } } },
      maintenance: [{ start: '2026-12-01T02:00:00Z', end: '2026-12-01T04:00:00Z' }],
    });
    const runtime = parseRuntimeConfig(JSON.parse(JSON.stringify(runtimeConfigFrom(cfg))));
    expect(runtime.detection?.sensitivity).toBe('high');
    expect(runtime.detection?.classes.batch).toEqual({ idleGraceMinutes: 20 });
    expect(runtime.maintenance).toHaveLength(1);
  });

  it('keeps runtime configs written before the section valid', () => {
    const runtime = runtimeConfigFrom(parseConfig(minimal));
    const { detection: _d, maintenance: _m, ...older } = runtime;
    expect(parseRuntimeConfig(JSON.parse(JSON.stringify(older))).detection).toBeUndefined();
  });

  it.each([
    [{ sensitivity: 'extreme' }, 'detection.sensitivity: got "extreme"; allowed: "low", "medium", "high"'],
    [{ fleetDropThreshold: 8 }, 'detection.fleetDropThreshold: got 8; must be at most 1'],
    [{ classes: { gpu: { idleGraceMinutes: 5 } } }, 'detection.classes: unknown field(s) "gpu"'],
    [{ classes: { batch: { idleGrace: 5 } } }, 'detection.classes.batch: unknown field(s) "idleGrace"'],
    [{ progressMetricNames: [] }, 'detection.progressMetricNames: got []; must be at least 1 item(s)'],
    [
      {
        cohortDimensions: [
          { name: 'driver', tag: 'a' },
          { name: 'driver', tag: 'b' },
        ],
      },
      'detection.cohortDimensions[1].name: got "driver"; cohort dimension "driver" appears twice',
    ],
  ])('rejects %j naming the field and what is allowed', (detection, message) => {
    expect(problemsOf(detection).join('\n')).toContain(message);
  });
});
