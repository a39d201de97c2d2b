import { describe, expect, it } from 'vitest';
import { ConfigError, type FleetWatchConfigInput, parseConfig } from '../../../lambdas/contracts/config';
import { parseS3Uri, resolveDriftConfig } from '../../../lambdas/contracts/drift-config';

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
const dataCapture = { s3Uri: 's3://capture-bucket/datacapture', baselineS3Uri: 's3://baselines/churn.csv' };

function problemsOf(input: unknown): string {
  try {
    parseConfig(input, 'test.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems.join('\n');
  }
  throw new Error('expected the configuration to be rejected');
}

describe('config: drift', () => {
  it('defaults to no endpoints, hourly, stale after 2 intervals, 24 h lookback', () => {
    expect(parseConfig(minimal).drift).toEqual({
      endpoints: [],
      scheduleMinutes: 60,
      staleFactor: 2,
      lookbackHours: 24,
    });
  });

  it('fills endpoint defaults, and resolves the region to the home region', () => {
    const cfg = parseConfig({ ...minimal, drift: { endpoints: [{ name: 'churn-prod', dataCapture }] } });
    expect(resolveDriftConfig(cfg.drift, 'eu-west-1').endpoints).toEqual([
      {
        name: 'churn-prod',
        region: 'eu-west-1',
        modelMonitor: false,
        dataCapture: { ...dataCapture, windowHours: 24, thresholds: {}, source: 'input' },
      },
    ]);
  });

  it('rejects a bad s3Uri naming the field, the value and the allowed form', () => {
    expect(
      problemsOf({
        ...minimal,
        drift: { endpoints: [{ name: 'churn', dataCapture: { ...dataCapture, s3Uri: 'https://bucket/x' } }] },
      }),
    ).toBe(
      'drift.endpoints[0].dataCapture.s3Uri: got "https://bucket/x"; expected s3://<bucket>/<prefix> with a valid bucket name',
    );
  });

  it('rejects an unknown feature type with the allowed ones', () => {
    expect(
      problemsOf({
        ...minimal,
        drift: {
          endpoints: [
            { name: 'churn', dataCapture: { ...dataCapture, features: [{ name: 'age', type: 'ordinal' }] } },
          ],
        },
      }),
    ).toBe(
      'drift.endpoints[0].dataCapture.features[0].type: got "ordinal"; allowed: "numeric", "categorical"',
    );
  });

  it('rejects an endpoint with nothing to check, duplicates, and unknown fields', () => {
    const problems = problemsOf({
      ...minimal,
      drift: {
        endpoints: [
          { name: 'a' },
          { name: 'b', modelMonitor: true, modelMonitorReportsS3Uri: 's3://reports/monitor' },
          { name: 'b', modelMonitor: true, tresholds: {} },
        ],
      },
    });
    expect(problems).toContain('drift.endpoints[2]: unknown field(s) "tresholds" (check the spelling)');
    const again = problemsOf({
      ...minimal,
      drift: {
        endpoints: [
          { name: 'a' },
          { name: 'b', modelMonitor: true, modelMonitorReportsS3Uri: 's3://reports/monitor' },
          { name: 'b', modelMonitor: true, modelMonitorReportsS3Uri: 's3://reports/monitor' },
        ],
      },
    });
    expect(again).toContain('endpoint "a" has nothing to check; set modelMonitor: true and/or dataCapture');
    expect(again).toContain(
      'drift.endpoints[2].name: got "b"; endpoint "b" appears twice in the same region',
    );
  });

  it('requires the reports location with modelMonitor (least-privilege S3 read)', () => {
    expect(problemsOf({ ...minimal, drift: { endpoints: [{ name: 'churn', modelMonitor: true }] } })).toBe(
      'drift.endpoints[0].modelMonitorReportsS3Uri: missing; required when modelMonitor is true: the S3 prefix the schedules of "churn" write reports to (check-drift is allowed to read only there)',
    );
  });

  it('parses s3 URIs', () => {
    expect(parseS3Uri('s3://bucket/a/b.json')).toEqual({ bucket: 'bucket', key: 'a/b.json' });
    expect(parseS3Uri('s3://bucket')).toEqual({ bucket: 'bucket', key: '' });
    expect(() => parseS3Uri('bucket/key')).toThrow('not an s3:// URI: "bucket/key"');
  });
});
