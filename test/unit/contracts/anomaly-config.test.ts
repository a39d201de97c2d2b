import { describe, expect, it } from 'vitest';
import { ConfigError, type FleetWatchConfigInput, parseConfig } from '../../../lambdas/contracts/config';

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
const alarm = { name: 'gpu-util', namespace: 'CWAgent', metricName: 'DCGM_FI_DEV_GPU_UTIL' };

function problemsOf(input: unknown): string {
  try {
    parseConfig(input, 'test.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems.join('\n');
  }
  throw new Error('expected the configuration to be rejected');
}

describe('config: anomalyAlarms and maintenance', () => {
  it('default to none', () => {
    const cfg = parseConfig(minimal);
    expect(cfg.anomalyAlarms).toEqual([]);
    expect(cfg.maintenance).toEqual([]);
  });

  it('fill the alarm defaults: Average, 300 s, 2σ, below, 3 of 3, ticket, efficiency', () => {
    const [a] = parseConfig({ ...minimal, anomalyAlarms: [alarm] }).anomalyAlarms;
    expect(a).toEqual({
      ...alarm,
      stat: 'Average',
      periodSeconds: 300,
      stdDevs: 2,
      direction: 'below',
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      severity: 'ticket',
      cause: 'efficiency',
    });
  });

  it.each([
    [
      { anomalyAlarms: [{ ...alarm, name: 'GPU Util' }] },
      'anomalyAlarms[0].name: got "GPU Util"; expected lower-case letters, digits and "-"',
    ],
    [
      { anomalyAlarms: [{ ...alarm, direction: 'up' }] },
      'anomalyAlarms[0].direction: got "up"; allowed: "both", "above", "below"',
    ],
    [
      { anomalyAlarms: [{ ...alarm, cause: 'cosmic-rays' }] },
      'anomalyAlarms[0].cause: got "cosmic-rays"; allowed:',
    ],
    [
      { anomalyAlarms: [{ ...alarm, stat: 'Median' }] },
      'anomalyAlarms[0].stat: got "Median"; expected Average, Sum',
    ],
    [
      { anomalyAlarms: [{ ...alarm, datapointsToAlarm: 5 }] },
      'anomalyAlarms[0].datapointsToAlarm: got 5; must not exceed evaluationPeriods (3)',
    ],
    [
      { anomalyAlarms: [{ ...alarm, periodSeconds: 3600, evaluationPeriods: 25, datapointsToAlarm: 1 }] },
      'anomalyAlarms[0].evaluationPeriods: got 25; periodSeconds × evaluationPeriods must be at most one day',
    ],
    [
      { anomalyAlarms: [alarm, alarm] },
      'anomalyAlarms[1].name: got "gpu-util"; anomaly alarm "gpu-util" appears twice',
    ],
    [
      { maintenance: [{ start: '2026-11-28T06:00:00Z', end: '2026-11-28T02:00:00Z' }] },
      'maintenance[0].end: got "2026-11-28T02:00:00Z"; must be after start (2026-11-28T06:00:00Z)',
    ],
    [
      { maintenance: [{ start: 'tomorrow', end: '2026-11-28T02:00:00Z' }] },
      'maintenance[0].start: got "tomorrow"',
    ],
    [
      { maintenance: [{ start: '2026-11-28T02:00:00Z', end: '2026-11-28T06:00:00Z', every: 'week' }] },
      'maintenance[0]: unknown field(s) "every"',
    ],
  ])('names the field, the value and what is allowed (%#)', (patch, expected) => {
    expect(problemsOf({ ...minimal, ...patch })).toContain(expected);
  });
});
