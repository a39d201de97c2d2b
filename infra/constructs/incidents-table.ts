import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface IncidentsTableProps {
  /** Customer-managed key of the table. */
  readonly encryptionKey: kms.IKey;
  /**
   * Removal policy (incident history and the remediation audit trail are not reproducible).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Key, TTL and index names of the incidents table: the router, the CLI and the workflows share them. */
export const INCIDENTS_TABLE = {
  partitionKey: 'id',
  /** Epoch seconds after which DynamoDB deletes the item (resolved incidents, expired silences). */
  ttlAttribute: 'expiresAt',
  statusIndex: 'status-index',
  statusIndexPartitionKey: 'status',
  statusIndexSortKey: 'lastSeenMs',
} as const;

/**
 * The incidents table: incidents, silences and maintenance windows as items keyed by a string
 * `id` (an incident id is the fingerprint of its labels). The `status-index` GSI lists items by
 * status, newest first by `lastSeenMs`, which is what "incidents list" and the re-notify sweep
 * read. The remediation workflows write their audit trail and approval token onto the incident
 * item (infra/constructs/remediation.ts).
 */
export class IncidentsTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: IncidentsTableProps) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: INCIDENTS_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      timeToLiveAttribute: INCIDENTS_TABLE.ttlAttribute,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: INCIDENTS_TABLE.statusIndex,
      partitionKey: { name: INCIDENTS_TABLE.statusIndexPartitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: INCIDENTS_TABLE.statusIndexSortKey, type: dynamodb.AttributeType.NUMBER },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }

  /** UpdateItem only (what the remediation workflows need to write their audit entries). */
  grantUpdateItem(grantee: iam.IGrantable): iam.Grant {
    return this.table.grant(grantee, 'dynamodb:UpdateItem');
  }
}
