import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';
import { acknowledgeNag, iam5ResourceFinding } from '../nag';

export interface DetectionStateProps {
  /** Customer-managed key: the bucket's default encryption (SSE-KMS, bucket key on). */
  readonly encryptionKey: kms.IKey;
  /**
   * Baselines take a week of data to rebuild, hence RETAIN.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Key prefix of the detection state objects (lambdas/adapters/s3/state-store.ts). */
export const DETECTION_STATE_PREFIX = 'detect/';

/**
 * The S3 bucket of detector state: baselines and short per-series memory, one gzip'd JSON object
 * per key, read and written once per run by one writer (the collector, reserved concurrency 1),
 * with conditional writes (If-Match) instead of versioning.
 *
 * - SSE-KMS with the stack key as the bucket default, bucket key on (one KMS call per object
 *   per bucket-key period rather than per request); requests carry no SSE headers.
 * - TLS only, public access blocked, ACLs disabled, versioning off: each write replaces the whole
 *   state and the previous one has no use once replaced; a lost state is rebuilt from the
 *   telemetry within a baseline period, so versions would only add cost.
 * - No access log bucket (cdk-nag S1 acknowledged): only FleetWatch's own collector reads and
 *   writes here; CloudTrail data events can audit it if an account requires it.
 */
export class DetectionState extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: DetectionStateProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      versioned: false,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    acknowledgeNag(this.bucket, {
      id: 'AwsSolutions-S1',
      reason:
        'Detector state written and read only by the FleetWatch collector; an access-log bucket would need the same acknowledgement, and CloudTrail data events can audit it if required',
    });
  }

  /**
   * Objects under `prefix` expire `days` after they were written (records that are appended, like
   * the KPI usage records; the state objects themselves are rewritten in place and never expire).
   */
  expireUnder(prefix: string, days: number): void {
    this.bucket.addLifecycleRule({
      id: `expire-${prefix.replace(/[^a-z0-9]+/gi, '-')}`,
      prefix,
      expiration: Duration.days(days),
    });
  }

  /**
   * Read and write the state objects under the prefix: GetObject/PutObject on `<prefix>*`,
   * ListBucket restricted to that prefix (so a missing key is a 404, not a 403), and the key's
   * Decrypt/GenerateDataKey (named actions, no wildcards).
   */
  grantReadWriteState(grantee: iam.IGrantable & IConstruct, prefix = DETECTION_STATE_PREFIX): void {
    const objects = this.bucket.arnForObjects(`${prefix}*`);
    acknowledgeNag(grantee, {
      id: iam5ResourceFinding(grantee, objects),
      reason: `Objects under ${prefix} of the detection state bucket: one object per state key, keys chosen by the detectors`,
    });
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject', 's3:PutObject'], resourceArns: [objects] });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:ListBucket'],
      resourceArns: [this.bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
    });
    this.bucket.encryptionKey?.grant(grantee, 'kms:Decrypt', 'kms:GenerateDataKey');
  }
}

/**
 * s3:ListBucket on exactly the configured checkpoint buckets (config jobs.checkpointBuckets), in
 * this account's partition. Nothing when the list is empty: the checkpoint lister then answers
 * "not permitted" for every job without calling S3.
 */
export function grantListCheckpointBuckets(
  grantee: iam.IGrantable,
  scope: IConstruct,
  buckets: readonly string[],
): iam.Grant | undefined {
  if (buckets.length === 0) return undefined;
  const partition = Stack.of(scope).partition;
  return iam.Grant.addToPrincipal({
    grantee,
    actions: ['s3:ListBucket'],
    resourceArns: [...new Set(buckets)].map((b) => `arn:${partition}:s3:::${b}`),
  });
}
