import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { anomalyAlarmName, parseAlarmTimestamp } from '../../../lambdas/contracts/alarm-event';
import { anomalyAlarmSchema } from '../../../lambdas/contracts/config';
import { findingSchema } from '../../../lambdas/contracts/finding';
import {
  type AlarmEventResult,
  findingFromAlarmEvent,
  UNKNOWN_ALARM_RUNBOOK,
} from '../../../lambdas/core/detect/alarm-events';

interface EventFixture {
  [key: string]: unknown;
  detail: { [key: string]: unknown; state: Record<string, unknown> };
}

function fixture(name: 'alarm' | 'ok' | 'insufficient-data' | 'malformed'): EventFixture {
  const url = new URL(`../../fixtures/cloudwatch/alarm-state-change-${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as EventFixture;
}

const NOW = Date.UTC(2026, 10, 24, 19, 5, 30);
const STACK = 'FleetWatch';
const gpuUtil = anomalyAlarmSchema.parse({
  name: 'train-a-gpu-util',
  namespace: 'CWAgent',
  metricName: 'DCGM_FI_DEV_GPU_UTIL',
  dimensions: { ClusterName: 'train-a' },
  severity: 'page',
  cause: 'efficiency',
  runbook: 'docs/runbooks/fleet.utilisation_drop.md',
});
const collector = anomalyAlarmSchema.parse({
  name: 'collector-datapoints',
  namespace: 'FleetWatch',
  metricName: 'DatapointsCollected',
  stat: 'Sum',
});
const ALARMS = [collector, gpuUtil];

function convert(event: unknown, alarms = ALARMS): AlarmEventResult {
  return findingFromAlarmEvent({ event, alarms, stackName: STACK, nowMs: NOW });
}

function ok(result: AlarmEventResult) {
  if (!result.ok) throw new Error(`expected a finding, got ${JSON.stringify(result.problems)}`);
  // Every finding must pass the schema the router validates.
  expect(findingSchema.safeParse(result.finding).error).toBeUndefined();
  return result;
}

describe('findingFromAlarmEvent: ALARM of an anomaly-band alarm', () => {
  const { outcome, finding } = ok(convert(fixture('alarm')));
  const alarmAt = Date.parse('2026-11-24T19:05:12.349Z');

  it('is a firing finding with the configured severity, cause and runbook', () => {
    expect(outcome).toBe('firing');
    expect(finding).toMatchObject({
      schemaVersion: 1,
      kind: 'alarm.train_a_gpu_util',
      severity: 'page',
      cause: 'efficiency',
      runbook: 'docs/runbooks/fleet.utilisation_drop.md',
      labels: { region: 'us-east-1', cluster: 'train-a' },
      detectedAt: NOW,
    });
    expect(finding.title).toContain('FleetWatch-anomaly-train-a-gpu-util');
    expect(finding.summary).toMatch(/^FleetWatch anomaly alarm "train-a-gpu-util"/);
  });

  it('takes the datapoints and the band from reasonData', () => {
    expect(finding.evidence.values).toEqual({
      value: 31.6,
      datapoint_1: 38.9,
      datapoint_2: 34.2,
      datapoint_3: 31.6,
      band_lower: 58.5,
      band_upper: 84.6,
    });
    expect(finding.evidence.detail).toMatch(/^Thresholds Crossed: 3 out of the last 3 datapoints/);
  });

  it('has a window of evaluationPeriods × period ending at the state timestamp', () => {
    expect(finding.evidence.window).toEqual({ startMs: alarmAt - 3 * 300_000, endMs: alarmAt });
  });
});

describe('findingFromAlarmEvent: OK and INSUFFICIENT_DATA', () => {
  it('OK is a resolved marker with the same kind and labels as the firing finding', () => {
    const firing = ok(convert(fixture('alarm'))).finding;
    const { outcome, finding } = ok(convert(fixture('ok')));
    expect(outcome).toBe('resolved');
    expect(finding.kind).toBe(firing.kind);
    expect(finding.labels).toEqual(firing.labels);
    expect(finding.severity).toBe('info');
    expect(finding.evidence.values).toMatchObject({ resolved: 1, value: 66.8, band_lower: 59 });
    expect(finding.title).toMatch(/^Resolved: /);
  });

  it('INSUFFICIENT_DATA is an info finding of its own kind, without datapoints', () => {
    const { outcome, finding } = ok(convert(fixture('insufficient-data')));
    expect(outcome).toBe('no_data');
    expect(finding.kind).toBe('alarm.train_a_gpu_util.insufficient_data');
    expect(finding.severity).toBe('info');
    expect(finding.evidence.values).toEqual({});
    expect(finding.evidence.detail).toBe('Insufficient Data: 3 datapoints were unknown.');
  });
});

describe('findingFromAlarmEvent: alarms FleetWatch does not know', () => {
  it('an unknown alarm name becomes a ticket with cause software and says why', () => {
    const { outcome, finding } = ok(convert(fixture('alarm'), [collector]));
    expect(outcome).toBe('firing');
    expect(finding).toMatchObject({ kind: 'alarm.unknown', severity: 'ticket', cause: 'software' });
    expect(finding.runbook).toBe(UNKNOWN_ALARM_RUNBOOK);
    expect(finding.evidence.detail).toMatch(
      /^alarm "FleetWatch-anomaly-train-a-gpu-util" is not in config.anomalyAlarms/,
    );
    // Without the configuration, the cluster still comes from the alarm's metric and the
    // window from the datapoints reported.
    expect(finding.labels).toEqual({ region: 'us-east-1', cluster: 'train-a' });
    const end = Date.parse('2026-11-24T19:05:12.349Z');
    expect(finding.evidence.window).toEqual({ startMs: end - 3 * 300_000, endMs: end });
  });

  it('matches by the full stack-prefixed name, not by the configured name alone', () => {
    const result = findingFromAlarmEvent({
      event: fixture('alarm'),
      alarms: ALARMS,
      stackName: 'Other',
      nowMs: NOW,
    });
    expect(ok(result).finding.kind).toBe('alarm.unknown');
    expect(anomalyAlarmName('Other', 'train-a-gpu-util')).toBe('Other-anomaly-train-a-gpu-util');
  });
});

describe('findingFromAlarmEvent: malformed events are values, not exceptions', () => {
  it.each([
    ['an unknown state value', fixture('malformed'), 'detail.state.value', /ALARM/],
    [
      'a missing alarm name',
      (() => {
        const e = fixture('alarm');
        delete e.detail.alarmName;
        return e;
      })(),
      'detail.alarmName',
      /string/,
    ],
    [
      'another detail-type',
      { ...fixture('alarm'), 'detail-type': 'SageMaker Training Job State Change' },
      'detail-type',
      /CloudWatch Alarm State Change/,
    ],
    [
      'reasonData that is not JSON',
      (() => {
        const e = fixture('alarm');
        e.detail.state.reasonData = '{"recentDatapoints": [1,';
        return e;
      })(),
      'detail.state.reasonData',
      /not a JSON string/,
    ],
    [
      'reasonData datapoints that are not numbers',
      (() => {
        const e = fixture('alarm');
        e.detail.state.reasonData = JSON.stringify({ recentDatapoints: ['high'] });
        return e;
      })(),
      'detail.state.reasonData.recentDatapoints[0]',
      /number/,
    ],
    [
      'a timestamp that is not a time',
      (() => {
        const e = fixture('alarm');
        e.detail.state.timestamp = 'yesterday';
        return e;
      })(),
      'detail.state.timestamp',
      /ISO-8601/,
    ],
    ['not an object at all', 'ALARM', '', /object/],
  ])('%s', (_name, event, field, problem) => {
    let result: AlarmEventResult | undefined;
    expect(() => {
      result = convert(event);
    }).not.toThrow();
    if (result === undefined || result.ok) throw new Error('expected problems');
    expect(result.problems).toContainEqual({ field, problem: expect.stringMatching(problem) });
  });

  it('accepts fields it does not use (alarmTags, unknown top-level fields)', () => {
    const e = fixture('alarm');
    e.detail.alarmTags = { team: 'llm-pretrain' };
    e.detail.alarmTagsStatus = 'SUCCESS';
    e['new-field'] = true;
    expect(ok(convert(e)).outcome).toBe('firing');
  });
});

describe('parseAlarmTimestamp', () => {
  it.each([
    ['2026-11-24T19:05:12.349+0000', Date.UTC(2026, 10, 24, 19, 5, 12, 349)],
    ['2026-11-24T21:05:12.349+0200', Date.UTC(2026, 10, 24, 19, 5, 12, 349)],
    ['2026-11-24T19:05:12Z', Date.UTC(2026, 10, 24, 19, 5, 12)],
  ])('%s', (text, ms) => {
    expect(parseAlarmTimestamp(text)).toBe(ms);
  });

  it('is NaN for text that is not a CloudWatch time', () => {
    expect(parseAlarmTimestamp('24/11/26 19:05:12')).toBeNaN();
  });
});
