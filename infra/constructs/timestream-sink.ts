import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as timestream from 'aws-cdk-lib/aws-timestream';
import { Construct, type IConstruct } from 'constructs';
import { acknowledgeNag } from '../nag';

/** Shown in the stack description and as a stack output whenever this sink is deployed. */
export const TIMESTREAM_AVAILABILITY_NOTICE =
  'Amazon Timestream for LiveAnalytics is closed to new AWS customers since 2025-06-20: deploying ' +
  'sink.kind "timestream" works only in an account onboarded before that date. Otherwise set ' +
  'sink.kind to "none" (detection still runs) or replace the sink adapter.';

export interface TimestreamSinkProps {
  /** Timestream database name (config sink.databaseName). */
  readonly databaseName: string;
  /** Customer-managed key of the database. */
  readonly encryptionKey: kms.IKey;
  /** Memory-store retention of both tables, 1 to 8,766 hours. */
  readonly memoryStoreRetentionHours: number;
  /** Magnetic-store retention of both tables, 1 to 73,000 days. */
  readonly magneticStoreRetentionDays: number;
  /**
   * Days the rejected-record reports of magnetic-store writes stay in their bucket.
   * @default 90
   */
  readonly rejectedDataRetentionDays?: number;
  /**
   * Removal policy of the database, its tables and the rejected-data bucket.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Table names are part of the contract with the sink adapter (passed to it through env vars). */
export const TIMESTREAM_TABLES = { gpuMetrics: 'gpu_metrics', trainingJobs: 'training_jobs' } as const;

/**
 * The Timestream for LiveAnalytics telemetry sink: one database (customer-managed key) with the
 * `gpu_metrics` and `training_jobs` tables. Magnetic-store writes are on, so a collector that
 * backfills minutes older than the memory-store retention is not rejected; records the magnetic
 * store rejects asynchronously are reported to an S3 bucket (SSE-S3, TLS only, no public access,
 * expiring).
 */
export class TimestreamSink extends Construct {
  readonly database: timestream.CfnDatabase;
  readonly gpuMetricsTable: timestream.CfnTable;
  readonly trainingJobsTable: timestream.CfnTable;
  readonly rejectedDataBucket: s3.Bucket;
  readonly databaseName: string;

  constructor(scope: Construct, id: string, props: TimestreamSinkProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.databaseName = props.databaseName;

    this.rejectedDataBucket = new s3.Bucket(this, 'RejectedDataBucket', {
      // SSE-S3: Timestream writes the reports with EncryptionOption SSE_S3, which needs no key grant.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'expire-rejected-record-reports',
          expiration: Duration.days(props.rejectedDataRetentionDays ?? 90),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      removalPolicy,
    });

    this.database = new timestream.CfnDatabase(this, 'Database', {
      databaseName: props.databaseName,
      kmsKeyId: props.encryptionKey.keyArn,
    });
    this.database.applyRemovalPolicy(removalPolicy);

    this.gpuMetricsTable = this.table('GpuMetricsTable', TIMESTREAM_TABLES.gpuMetrics, props, removalPolicy);
    this.trainingJobsTable = this.table(
      'TrainingJobsTable',
      TIMESTREAM_TABLES.trainingJobs,
      props,
      removalPolicy,
    );

    // CDK's built-in template validation flags Timestream's maintenance mode; the stack says so
    // in its description and TelemetrySinkNotice output, and sink.kind "none" avoids it.
    Validations.of(this).acknowledge({
      id: 'CloudFormation-Validate::W3697',
      reason: `Timestream for LiveAnalytics is the specified default sink. ${TIMESTREAM_AVAILABILITY_NOTICE}`,
    });
    acknowledgeNag(this.rejectedDataBucket, {
      id: 'AwsSolutions-S1',
      reason:
        'Only Timestream writes here (rejected-record reports); an access-log bucket would need the same acknowledgement, and CloudTrail data events can audit it if required',
    });
  }

  /** WriteRecords on the GPU metrics table (plus DescribeEndpoints, see grantWriteRecords). */
  grantWriteGpuMetrics(grantee: iam.IGrantable & IConstruct): iam.Grant {
    return this.grantWriteRecords(grantee, this.gpuMetricsTable);
  }

  /** WriteRecords on the training jobs table (plus DescribeEndpoints, see grantWriteRecords). */
  grantWriteTrainingJobs(grantee: iam.IGrantable & IConstruct): iam.Grant {
    return this.grantWriteRecords(grantee, this.trainingJobsTable);
  }

  private grantWriteRecords(grantee: iam.IGrantable & IConstruct, table: timestream.CfnTable): iam.Grant {
    // The SDK discovers the regional cell endpoint before writing; DescribeEndpoints has no
    // resource-level permissions, so it can only be granted on "*".
    acknowledgeNag(grantee, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'timestream:DescribeEndpoints (endpoint discovery before WriteRecords) has no resource-level permissions',
    });
    iam.Grant.addToPrincipal({ grantee, actions: ['timestream:DescribeEndpoints'], resourceArns: ['*'] });
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['timestream:WriteRecords'],
      resourceArns: [table.attrArn],
    });
  }

  private table(
    id: string,
    tableName: string,
    props: TimestreamSinkProps,
    removalPolicy: RemovalPolicy,
  ): timestream.CfnTable {
    const table = new timestream.CfnTable(this, id, {
      databaseName: this.database.ref,
      tableName,
      retentionProperties: {
        MemoryStoreRetentionPeriodInHours: String(props.memoryStoreRetentionHours),
        MagneticStoreRetentionPeriodInDays: String(props.magneticStoreRetentionDays),
      },
      magneticStoreWriteProperties: {
        EnableMagneticStoreWrites: true,
        MagneticStoreRejectedDataLocation: {
          S3Configuration: {
            BucketName: this.rejectedDataBucket.bucketName,
            EncryptionOption: 'SSE_S3',
            ObjectKeyPrefix: `${tableName}/`,
          },
        },
      },
    });
    table.applyRemovalPolicy(removalPolicy);
    return table;
  }
}
