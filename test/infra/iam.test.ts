import { describe, expect, it } from 'vitest';
import { exampleConfig, synthFleetWatch } from './support/synth';

/**
 * Least privilege across every synthesized stack. Actions that IAM can only grant on "*" (no
 * resource-level permissions) are listed here explicitly, with the reason; anything else on "*"
 * fails, as does any "*" or "service:*" action in an Allow.
 */
const RESOURCE_STAR_ALLOWED: Record<string, string> = {
  'cloudwatch:GetMetricData': 'no resource-level permissions',
  'cloudwatch:ListMetrics': 'no resource-level permissions',
  'sagemaker:ListTrainingJobs': 'no resource-level permissions',
  'sagemaker:ListMonitoringSchedules': 'no resource-level permissions (check-drift)',
  'sagemaker:ListMonitoringExecutions': 'no resource-level permissions (check-drift)',
  'timestream:DescribeEndpoints': 'no resource-level permissions (endpoint discovery)',
  'xray:PutTraceSegments': 'no resource-level permissions (Lambda active tracing)',
  'xray:PutTelemetryRecords': 'no resource-level permissions (Lambda active tracing)',
  // Step Functions: CDK's statement for logging to CloudWatch Logs (vended log delivery) and X-Ray.
  'logs:CreateLogDelivery': 'no resource-level permissions (Step Functions log delivery)',
  'logs:GetLogDelivery': 'no resource-level permissions (Step Functions log delivery)',
  'logs:UpdateLogDelivery': 'no resource-level permissions (Step Functions log delivery)',
  'logs:DeleteLogDelivery': 'no resource-level permissions (Step Functions log delivery)',
  'logs:ListLogDeliveries': 'no resource-level permissions (Step Functions log delivery)',
  'logs:PutResourcePolicy': 'no resource-level permissions (Step Functions log delivery)',
  'logs:DescribeResourcePolicies': 'no resource-level permissions (Step Functions log delivery)',
  'logs:DescribeLogGroups': 'no resource-level permissions (Step Functions log delivery)',
  'xray:GetSamplingRules': 'no resource-level permissions (Step Functions tracing)',
  'xray:GetSamplingTargets': 'no resource-level permissions (Step Functions tracing)',
  'ec2:DescribeInstanceStatus': 'no resource-level permissions (quarantine-node health check)',
};

interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Principal?: unknown;
}
interface PolicyDocument {
  Statement: Statement[];
}
interface Properties {
  PolicyDocument?: PolicyDocument;
  KeyPolicy?: PolicyDocument;
  Policies?: { PolicyDocument: PolicyDocument }[];
}
interface Found {
  where: string;
  statement: Statement;
}

const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
const isServiceWildcard = (action: string) => action === '*' || /^[a-z0-9-]+:\*$/i.test(action);

const variants = {
  example: synthFleetWatch(exampleConfig()),
  'sink none': synthFleetWatch(
    exampleConfig((c) => {
      c.sink = { kind: 'none' };
    }),
  ),
  // check-drift exists only with drift endpoints; the example config has none.
  drift: synthFleetWatch(
    exampleConfig((c) => {
      c.drift = {
        endpoints: [
          {
            name: 'churn',
            modelMonitor: true,
            modelMonitorReportsS3Uri: 's3://mm-reports/monitor',
            dataCapture: { s3Uri: 's3://capture/dc', baselineS3Uri: 's3://baselines/churn.csv' },
          },
        ],
      };
    }),
  ),
};

function collect(templates: Iterable<[string, Record<string, unknown>]>) {
  const identity: Found[] = [];
  const resource: Found[] = [];
  for (const [stackName, template] of templates) {
    const resources = template.Resources as Record<string, { Type: string; Properties: Properties }>;
    for (const [id, r] of Object.entries(resources)) {
      const where = `${stackName}/${id}`;
      const add = (target: Found[], doc: PolicyDocument | undefined) => {
        for (const statement of doc?.Statement ?? []) target.push({ where, statement });
      };
      if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
        add(identity, r.Properties.PolicyDocument);
      if (r.Type === 'AWS::IAM::Role') {
        for (const p of r.Properties.Policies ?? []) add(identity, p.PolicyDocument);
      }
      if (r.Type === 'AWS::KMS::Key') add(resource, r.Properties.KeyPolicy);
      if (r.Type === 'AWS::SQS::QueuePolicy' || r.Type === 'AWS::S3::BucketPolicy')
        add(resource, r.Properties.PolicyDocument);
    }
  }
  return { identity, resource };
}

describe.each(Object.entries(variants))('least-privilege IAM (%s)', (_name, synthesized) => {
  const templates: [string, Record<string, unknown>][] = [
    ['home', synthesized.home.toJSON()],
    ...[...synthesized.forwarders].map(
      ([region, t]) => [`forwarder-${region}`, t.toJSON()] as [string, Record<string, unknown>],
    ),
  ];
  const { identity, resource } = collect(templates);

  it('finds the policies it checks', () => {
    expect(identity.length).toBeGreaterThan(10);
    expect(resource.length).toBeGreaterThan(5);
  });

  it('identity policies: no NotAction/NotResource, no "*" or "service:*" action', () => {
    const bad = identity.filter(
      ({ statement: s }) =>
        s.NotAction !== undefined || s.NotResource !== undefined || list(s.Action).some(isServiceWildcard),
    );
    expect(bad).toEqual([]);
  });

  it('identity policies: Resource "*" only for actions without resource-level permissions', () => {
    const bad = identity
      .filter(({ statement: s }) => s.Effect === 'Allow' && list(s.Resource).includes('*'))
      .flatMap(({ where, statement: s }) =>
        list(s.Action)
          .filter((a) => !(a in RESOURCE_STAR_ALLOWED))
          .map((action) => ({ where, action })),
      );
    expect(bad).toEqual([]);
  });

  it('identity policies: a "*" inside an action name (kms:GenerateDataKey*) only on the FleetWatch key', () => {
    const bad = identity.filter(({ statement: s }) => {
      const partial = list(s.Action).filter((a) => a.includes('*'));
      if (partial.length === 0) return false;
      const onlyKms = partial.every((a) => a.startsWith('kms:'));
      const onlyKey = list(s.Resource).every((r) =>
        JSON.stringify(r).match(/^\{"Fn::GetAtt":\["EncryptionKey[0-9A-F]+","Arn"\]\}$/),
      );
      return !(onlyKms && onlyKey);
    });
    expect(bad).toEqual([]);
  });

  it('resource policies: nothing is allowed to everyone, and no "*" or "service:*" Allow...', () => {
    const allows = resource.filter(({ statement: s }) => s.Effect === 'Allow');
    expect(allows.filter(({ statement: s }) => JSON.stringify(s.Principal).includes('"*"'))).toEqual([]);
    const wildcard = allows.filter(({ statement: s }) => list(s.Action).some(isServiceWildcard));
    // ...except the key policy statement that delegates the key to this account's IAM (the AWS
    // default key policy; without it no IAM policy could use the key and the key is unmanageable).
    expect(wildcard.map(({ statement }) => statement)).toEqual([
      {
        Effect: 'Allow',
        Action: 'kms:*',
        Principal: { AWS: { 'Fn::Join': ['', ['arn:aws:iam::', { Ref: 'AWS::AccountId' }, ':root']] } },
        Resource: '*',
      },
    ]);
  });

  it('every service principal in a resource policy is bound to this account or a source ARN', () => {
    const unbound = resource.filter(
      ({ statement: s }) =>
        s.Effect === 'Allow' &&
        JSON.stringify(s.Principal).includes('"Service"') &&
        !JSON.stringify(s).match(/aws:SourceAccount|aws:SourceArn|kms:EncryptionContext:aws:logs:arn/),
    );
    expect(unbound).toEqual([]);
  });
});
