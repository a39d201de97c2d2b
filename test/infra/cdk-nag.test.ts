import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { buildFleetWatchApp } from '../../infra/fleetwatch-app';
import { CDK_JSON_CONTEXT, exampleConfig, synthFleetWatch } from './support/synth';

interface PluginReport {
  pluginName: string;
  conclusion: string;
  violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[];
}

/** Every acknowledgement in the app: construct path, rule id, reason. */
function acknowledgements(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          path: c.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

describe('cdk-nag AwsSolutions', () => {
  // Synthesis itself throws when cdk-nag reports an error-level finding (vitest runs CDK in
  // "inmemory" mode), so reaching the assertions already means no unacknowledged errors.
  const synthesized = synthFleetWatch(exampleConfig());
  const report = JSON.parse(readFileSync(join(synthesized.outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: PluginReport[];
  };

  it('reports no unacknowledged finding, errors or warnings', () => {
    const findings = report.pluginReports
      .filter((p) => p.pluginName === 'AwsSolutions')
      .flatMap((p) =>
        p.violations.map((v) => `${v.ruleName} ${v.violatingConstructs.map((c) => c.constructPath)}`),
      );
    expect(findings).toEqual([]);
  });

  it('reports no template validation finding that is not acknowledged', () => {
    const all = report.pluginReports.flatMap((p) =>
      p.violations.map((v) => `${p.pluginName}: ${v.ruleName}`),
    );
    expect(all).toEqual([]);
  });

  it('is really checking: a non-compliant queue fails synthesis with its rule ids', () => {
    const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
    const { home } = buildFleetWatchApp(app, exampleConfig());
    new sqs.Queue(home, 'NonCompliantQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    expect(() => app.synth()).toThrow(
      /AwsSolutions-SQS3[\s\S]*NonCompliantQueue|NonCompliantQueue[\s\S]*AwsSolutions-SQS3/,
    );
  });

  it('acknowledges exactly these findings, each with a reason', () => {
    const acks = acknowledgements(synthesized.stacks.home.node.root);
    for (const ack of acks) expect(ack.reason.length, `${ack.path} ${ack.id}`).toBeGreaterThan(30);
    const iam5Star = 'AwsSolutions-IAM5[Resource::*]';
    const kmsActions = [
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
    ];
    const trainingJobs = ['us-east-1', 'us-west-2'].map(
      (r) => `AwsSolutions-IAM5[Resource::arn:aws:sagemaker:${r}:<AWS::AccountId>:training-job/*]`,
    );
    const fn = (name: string) => [
      `${name}: AwsSolutions-L1`,
      `${name}: ${iam5Star}`,
      ...kmsActions.map((k) => `${name}: ${k}`),
    ];
    expect(acks.map((a) => `${a.path}: ${a.id}`).sort()).toEqual(
      [
        ...fn('FleetWatch/CollectGpuMetrics'),
        'FleetWatch/CollectGpuMetrics: AwsSolutions-IAM5[Resource::*]', // CloudWatch reads
        'FleetWatch/CollectGpuMetrics: AwsSolutions-IAM5[Resource::*]', // Timestream DescribeEndpoints
        ...fn('FleetWatch/IngestJobEvents'),
        'FleetWatch/IngestJobEvents: AwsSolutions-IAM5[Resource::*]', // Timestream DescribeEndpoints
        ...fn('FleetWatch/ReconcileJobs'),
        'FleetWatch/ReconcileJobs: AwsSolutions-IAM5[Resource::*]', // ListTrainingJobs
        'FleetWatch/ReconcileJobs: AwsSolutions-IAM5[Resource::*]', // Timestream DescribeEndpoints
        ...trainingJobs.map((id) => `FleetWatch/ReconcileJobs: ${id}`),
        // Remediation: log delivery, X-Ray, DescribeInstanceStatus; jobs/instances chosen at run time.
        'FleetWatch/Remediation/StopTrainingJob: AwsSolutions-IAM5[Resource::*]',
        `FleetWatch/Remediation/StopTrainingJob: ${trainingJobs[0]}`,
        'FleetWatch/Remediation/QuarantineNode: AwsSolutions-IAM5[Resource::*]',
        'FleetWatch/Remediation/RetrainOnDrift: AwsSolutions-IAM5[Resource::*]',
        'FleetWatch/Remediation/QuarantineNode: AwsSolutions-IAM5[Resource::arn:aws:ec2:us-east-1:<AWS::AccountId>:instance/*]',
        'FleetWatch/Schedules/Role: AwsSolutions-IAM5[Resource::<CollectGpuMetricsFunction59C41D6F.Arn>:*]',
        'FleetWatch/Schedules/Role: AwsSolutions-IAM5[Resource::<ReconcileJobsFunctionA91BD211.Arn>:*]',
        'FleetWatch/Schedules/ScheduleDlq: AwsSolutions-SQS3',
        // The incident router (route-incidents, sweep-incidents) and the sweep's schedule.
        ...fn('FleetWatch/IncidentRouter/RouteIncidents'),
        ...fn('FleetWatch/IncidentRouter/SweepIncidents'),
        'FleetWatch/Schedules/Role: AwsSolutions-IAM5[Resource::<IncidentRouterSweepIncidentsFunction83DF9A09.Arn>:*]',
        'FleetWatch/TelemetrySink/RejectedDataBucket: AwsSolutions-S1',
        'FleetWatch/DetectionState/Bucket: AwsSolutions-S1',
        // Detector state objects under detect/ (the collector runs detection).
        'FleetWatch/CollectGpuMetrics: AwsSolutions-IAM5[Resource::<DetectionStateBucket43BA1E75.Arn>/detect/*]',
        // KPIs (issue 6): compute-kpis reads the usage records the collector's detection run writes.
        ...fn('FleetWatch/Kpis/ComputeKpis'),
        'FleetWatch/Kpis/ComputeKpis: AwsSolutions-IAM5[Resource::<DetectionStateBucket43BA1E75.Arn>/kpi/usage/*]',
        'FleetWatch/CollectGpuMetrics: AwsSolutions-IAM5[Resource::<DetectionStateBucket43BA1E75.Arn>/kpi/usage/*]',
        'FleetWatch/Schedules/Role: AwsSolutions-IAM5[Resource::<KpisComputeKpisFunction597FDB91.Arn>:*]',
        'FleetWatch/TelemetrySink: CloudFormation-Validate::W3697',
        'FleetWatch-Forwarder-us-west-2/TrainingJobEvents/ForwardingDlq: AwsSolutions-SQS3',
      ].sort(),
    );
  });
});
