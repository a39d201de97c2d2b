import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/contracts/env';
import { exampleConfig, synthFleetWatch } from './support/synth';

/**
 * Detection on AWS (issue 3): the detector state bucket, the jobs table indexes, and what the
 * collector (which runs detection) may do with them, the findings queue and checkpoint buckets.
 */
const withBuckets = synthFleetWatch(
  exampleConfig((c) => {
    c.jobs = { ...(c.jobs ?? {}), checkpointBuckets: ['ml-checkpoints', 'ml-checkpoints-eu'] };
  }),
  { nag: false },
);
const template = withBuckets.home;
const json = template.toJSON() as {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
};

function logicalId(type: string, prefix: string): string {
  const id = Object.entries(json.Resources).find(([k, r]) => r.Type === type && k.startsWith(prefix))?.[0];
  if (id === undefined) throw new Error(`no ${type} starting with ${prefix}`);
  return id;
}

/** Statements of the collector's policies. */
function collectorStatements(): Record<string, unknown>[] {
  return Object.values(json.Resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        JSON.stringify(r.Properties.Roles ?? []).includes('CollectGpuMetrics'),
    )
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
}

describe('detection state bucket', () => {
  it('is KMS-encrypted with the stack key (bucket key), unversioned, private, TLS-only', () => {
    const bucket = logicalId('AWS::S3::Bucket', 'DetectionStateBucket');
    expect(json.Resources[bucket]?.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [expect.stringMatching(/^EncryptionKey/), 'Arn'] },
            },
          },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    expect(json.Resources[bucket]?.Properties.VersioningConfiguration).toBeUndefined();
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('expires the KPI usage records after retention.kpiUsageDays, and never the state objects', () => {
    const rulesOf = (t: typeof json): Record<string, unknown>[] => {
      const bucket = Object.entries(t.Resources).find(
        ([k, r]) => r.Type === 'AWS::S3::Bucket' && k.startsWith('DetectionStateBucket'),
      )?.[1];
      const lifecycle = bucket?.Properties.LifecycleConfiguration as
        | { Rules: Record<string, unknown>[] }
        | undefined;
      if (lifecycle === undefined)
        throw new Error('the detection state bucket has no lifecycle configuration');
      return lifecycle.Rules;
    };
    const rules = rulesOf(json);
    expect(rules).toContainEqual(
      expect.objectContaining({ Prefix: 'kpi/usage/', ExpirationInDays: 35, Status: 'Enabled' }),
    );
    // Only the usage records expire: no rule without a prefix, none on detect/ or the KPI state.
    const expiring = rules.filter((r) => r.ExpirationInDays !== undefined);
    expect(expiring.map((r) => r.Prefix)).toEqual(['kpi/usage/']);
    const shorter = synthFleetWatch(
      exampleConfig((c) => {
        c.retention = { ...(c.retention ?? {}), kpiUsageDays: 7 };
      }),
      { nag: false },
    ).home.toJSON() as typeof json;
    expect(rulesOf(shorter)).toContainEqual(
      expect.objectContaining({ Prefix: 'kpi/usage/', ExpirationInDays: 7 }),
    );
  });
});

describe('jobs table indexes', () => {
  it('has the sparse active index and the modified-by-day index, both projecting ALL', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: [
        {
          IndexName: 'active-jobs',
          KeySchema: [{ AttributeName: 'active', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: 'modified-by-day',
          KeySchema: [
            { AttributeName: 'modifiedDay', KeyType: 'HASH' },
            { AttributeName: 'lastModifiedTime', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });
});

describe('collector grants for detection', () => {
  const statements = collectorStatements();
  const bucket = logicalId('AWS::S3::Bucket', 'DetectionStateBucket');
  const jobsTable = logicalId('AWS::DynamoDB::Table', 'StateStoresJobsTable');

  it('reads and writes only objects under detect/ and lists only that prefix', () => {
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject'],
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/detect/*']] },
    });
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: { 'Fn::GetAtt': [bucket, 'Arn'] },
      Condition: { StringLike: { 's3:prefix': ['detect/*'] } },
    });
  });

  it('queries the two job indexes, not the table', () => {
    const query = statements.find((s) => JSON.stringify(s.Action) === '"dynamodb:Query"');
    expect(query?.Resource).toEqual(
      ['active-jobs', 'modified-by-day'].map((index) => ({
        'Fn::Join': ['', [{ 'Fn::GetAtt': [jobsTable, 'Arn'] }, `/index/${index}`]],
      })),
    );
  });

  it('sends to the findings queue', () => {
    const queue = logicalId('AWS::SQS::Queue', 'AnomalyAlarmsFindingsQueue');
    const send = statements.find((s) => JSON.stringify(s.Action).includes('sqs:SendMessage'));
    expect(send?.Resource).toEqual({ 'Fn::GetAtt': [queue, 'Arn'] });
  });

  it('lists exactly the configured checkpoint buckets', () => {
    const list = statements.filter((s) => s.Action === 's3:ListBucket' && s.Condition === undefined);
    // The stack has an explicit region, so CDK resolves the partition at synth time.
    expect(list.map((s) => s.Resource)).toEqual([
      ['arn:aws:s3:::ml-checkpoints', 'arn:aws:s3:::ml-checkpoints-eu'],
    ]);
  });

  it('grants no checkpoint listing when none is configured', () => {
    const plain = synthFleetWatch(exampleConfig(), { nag: false }).home.toJSON() as typeof json;
    const listing = Object.values(plain.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement)
      .filter((s) => s.Action === 's3:ListBucket' && s.Condition === undefined);
    expect(listing).toEqual([]);
  });

  it('passes the bucket, the queue URL and the checkpoint buckets (runtime config) to the collector', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'collect-gpu-metrics',
          [ENV.detectionStateBucket]: { Ref: bucket },
          [ENV.findingsQueueUrl]: { Ref: logicalId('AWS::SQS::Queue', 'AnomalyAlarmsFindingsQueue') },
          [ENV.runtimeConfig]: Match.stringLikeRegexp(
            '"checkpointBuckets":\\["ml-checkpoints","ml-checkpoints-eu"\\]',
          ),
        }),
      },
    });
  });
});
