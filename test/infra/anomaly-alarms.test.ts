import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { MAX_EXCLUDED_TIME_RANGES } from '../../infra/constructs/anomaly-alarms';
import { NORTH_STAR_ALARM_NAME } from '../../infra/constructs/kpi-function';
import { pipelineAlarmNamePrefix } from '../../infra/constructs/pipeline-alarms';
import { exampleConfig, synthFleetWatch } from './support/synth';

const config = exampleConfig();
const { stacks, home } = synthFleetWatch(config);
const stack = stacks.home;
const logicalId = (c: { node: { defaultChild?: unknown } } | CfnElement) =>
  stack.getLogicalId(('node' in c && c.node.defaultChild ? c.node.defaultChild : c) as CfnElement);

// The example: train-a-gpu-util (CWAgent DCGM_FI_DEV_GPU_UTIL Average per ClusterName, 2σ, below)
// and collector-datapoints (FleetWatch DatapointsCollected Sum, 3σ, below, 2 of 3); one
// maintenance window 2026-11-28 02:00–06:00 UTC.
describe('anomaly detectors', () => {
  it('train each model without the maintenance window, in UTC', () => {
    home.hasResourceProperties('AWS::CloudWatch::AnomalyDetector', {
      SingleMetricAnomalyDetector: {
        Namespace: 'CWAgent',
        MetricName: 'DCGM_FI_DEV_GPU_UTIL',
        Stat: 'Average',
        Dimensions: [{ Name: 'ClusterName', Value: 'train-a' }],
      },
      Configuration: {
        MetricTimeZone: 'UTC',
        ExcludedTimeRanges: [{ StartTime: '2026-11-28T02:00:00', EndTime: '2026-11-28T06:00:00' }],
      },
    });
    home.hasResourceProperties('AWS::CloudWatch::AnomalyDetector', {
      SingleMetricAnomalyDetector: {
        Namespace: 'FleetWatch',
        MetricName: 'DatapointsCollected',
        Stat: 'Sum',
        Dimensions: [{ Name: 'service', Value: 'collect-gpu-metrics' }],
      },
      Configuration: {
        MetricTimeZone: 'UTC',
        ExcludedTimeRanges: [{ StartTime: '2026-11-28T02:00:00', EndTime: '2026-11-28T06:00:00' }],
      },
    });
  });
});

describe('anomaly-detection alarms', () => {
  it('compare m1 with ANOMALY_DETECTION_BAND(m1, stdDevs) through ThresholdMetricId', () => {
    home.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'FleetWatch-anomaly-train-a-gpu-util',
      ActionsEnabled: false,
      ComparisonOperator: 'LessThanLowerThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      ThresholdMetricId: 'ad1',
      TreatMissingData: 'missing',
      Threshold: Match.absent(),
      Metrics: [
        {
          Id: 'm1',
          ReturnData: true,
          MetricStat: {
            Metric: {
              Namespace: 'CWAgent',
              MetricName: 'DCGM_FI_DEV_GPU_UTIL',
              Dimensions: [{ Name: 'ClusterName', Value: 'train-a' }],
            },
            Period: 300,
            Stat: 'Average',
          },
        },
        { Id: 'ad1', ReturnData: true, Expression: 'ANOMALY_DETECTION_BAND(m1, 2)', Label: Match.anyValue() },
      ],
    });
  });

  it('take the band width, datapoints and direction from the config', () => {
    home.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'FleetWatch-anomaly-collector-datapoints',
      DatapointsToAlarm: 2,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'ANOMALY_DETECTION_BAND(m1, 3)' })]),
    });
    const both = synthFleetWatch(
      exampleConfig((c) => {
        c.anomalyAlarms = [{ name: 'util', namespace: 'CWAgent', metricName: 'X', direction: 'both' }];
      }),
      { nag: false },
    ).home;
    both.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'FleetWatch-anomaly-util',
      ComparisonOperator: 'LessThanLowerOrGreaterThanUpperThreshold',
    });
  });

  it('carry the runbook in their description', () => {
    home.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'FleetWatch-anomaly-train-a-gpu-util',
      AlarmDescription: Match.stringLikeRegexp('Runbook: docs/runbooks/fleet\\.utilisation_drop\\.md'),
    });
  });

  it('are created after their detector (and deleted before it)', () => {
    const [detector] = stack.anomalyAlarms.detectors;
    const [alarm] = stack.anomalyAlarms.alarms;
    if (!detector || !alarm) throw new Error('expected a detector and an alarm');
    const template = home.toJSON() as { Resources: Record<string, { DependsOn?: string[] }> };
    expect(template.Resources[logicalId(alarm)]?.DependsOn).toContain(logicalId(detector));
  });
});

describe('alarm state changes to the FindingsQueue', () => {
  const queue = () => logicalId(stack.findingsQueue);
  const dlq = () => logicalId(stack.anomalyAlarms.deadLetterQueue);

  it('the rule matches state changes of this stack’s anomaly alarms by ARN prefix', () => {
    home.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        resources: [
          {
            prefix: {
              'Fn::Join': [
                '',
                ['arn:aws:cloudwatch:us-east-1:', { Ref: 'AWS::AccountId' }, ':alarm:FleetWatch-anomaly-'],
              ],
            },
          },
        ],
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [queue(), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlq(), 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
        }),
      ],
    });
  });

  it('the queue is encrypted with the CMK and redrives to its DLQ after 5 receives', () => {
    const key = { 'Fn::GetAtt': [logicalId(stack.encryptionKey.key), 'Arn'] };
    home.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: key,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq(), 'Arn'] }, maxReceiveCount: 5 },
    });
    home.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: key, MessageRetentionPeriod: 1_209_600 });
  });

  it('both queues refuse requests without TLS', () => {
    for (const q of [queue(), dlq()]) {
      home.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: q }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('outputs the queue URL', () => {
    home.hasOutput('FindingsQueueUrl', { Value: { Ref: queue() } });
  });
});

describe('maintenance windows beyond the CloudWatch limit', () => {
  it('keeps the 10 most recent of 12 windows', () => {
    const day = (d: number) => String(d).padStart(2, '0');
    const windows = Array.from({ length: 12 }, (_, i) => ({
      start: `2026-10-${day(i + 1)}T01:00:00Z`,
      end: `2026-10-${day(i + 1)}T03:30:00+00:00`,
    }));
    const { home: twelve } = synthFleetWatch(
      exampleConfig((c) => {
        c.maintenance = [...windows].reverse();
      }),
      { nag: false },
    );
    const expected = windows.slice(2).map((_, i) => ({
      StartTime: `2026-10-${day(i + 3)}T01:00:00`,
      EndTime: `2026-10-${day(i + 3)}T03:30:00`,
    }));
    expect(expected).toHaveLength(MAX_EXCLUDED_TIME_RANGES);
    twelve.hasResourceProperties('AWS::CloudWatch::AnomalyDetector', {
      Configuration: { MetricTimeZone: 'UTC', ExcludedTimeRanges: expected },
    });
  });

  it('converts offsets to UTC', () => {
    const { home: offset } = synthFleetWatch(
      exampleConfig((c) => {
        c.maintenance = [{ start: '2026-12-01T22:00:00-05:00', end: '2026-12-02T01:00:00-05:00' }];
      }),
      { nag: false },
    );
    offset.hasResourceProperties('AWS::CloudWatch::AnomalyDetector', {
      Configuration: {
        MetricTimeZone: 'UTC',
        ExcludedTimeRanges: [{ StartTime: '2026-12-02T03:00:00', EndTime: '2026-12-02T06:00:00' }],
      },
    });
  });

  it('without anomaly alarms, creates only the north-star detector and alarm and keeps the findings queue', () => {
    const { home: none } = synthFleetWatch(
      exampleConfig((c) => {
        c.anomalyAlarms = [];
      }),
      { nag: false },
    );
    // The north-star goodput alarm (kpi-function.ts) is always there.
    none.resourceCountIs('AWS::CloudWatch::AnomalyDetector', 1);
    // The pipeline alarms on FleetWatch itself (infra/constructs/pipeline-alarms.ts) remain.
    const alarmNames = Object.values(none.findResources('AWS::CloudWatch::Alarm')).map((r) =>
      String(r.Properties.AlarmName),
    );
    expect(alarmNames.filter((n) => !n.startsWith(pipelineAlarmNamePrefix('FleetWatch')))).toEqual([
      `FleetWatch-anomaly-${NORTH_STAR_ALARM_NAME}`,
    ]);
    none.hasOutput('FindingsQueueUrl', Match.anyValue());
  });
});
