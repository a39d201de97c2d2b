import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { JOBS_TABLE } from '../../lambdas/contracts/jobs-table';

export interface StateStoresProps {
  /** Customer-managed key for both tables. */
  readonly encryptionKey: kms.IKey;
  /**
   * Removal policy of both tables (watermarks, baselines and job history are not reproducible).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Name of the TTL attribute of the jobs table (epoch seconds), written by the job store adapter. */
export const JOBS_TABLE_TTL_ATTRIBUTE = JOBS_TABLE.ttlAttribute;

/**
 * FleetWatch's two DynamoDB tables, both keyed by a string `pk`, on-demand, with point-in-time
 * recovery and the customer-managed key:
 * - StateTable: small single-writer state (watermarks, metric inventories, detector state).
 * - JobsTable: current state and history of each SageMaker training job; finished jobs expire
 *   through TTL on `expiresAt`. Two GSIs serve the detectors (lambdas/contracts/jobs-table.ts):
 *   `active-jobs` (sparse, running jobs) and `modified-by-day` (jobs changed since a time). Both
 *   project ALL: the detectors read whole job states, and fetching them back by key would cost
 *   one read per job per run.
 */
export class StateStores extends Construct {
  readonly stateTable: dynamodb.Table;
  readonly jobsTable: dynamodb.Table;

  constructor(scope: Construct, id: string, props: StateStoresProps) {
    super(scope, id);
    const common = {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    } satisfies dynamodb.TableProps;
    this.stateTable = new dynamodb.Table(this, 'StateTable', common);
    this.jobsTable = new dynamodb.Table(this, 'JobsTable', {
      ...common,
      timeToLiveAttribute: JOBS_TABLE_TTL_ATTRIBUTE,
    });
    this.jobsTable.addGlobalSecondaryIndex({
      indexName: JOBS_TABLE.activeIndex,
      partitionKey: { name: JOBS_TABLE.activeAttribute, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    this.jobsTable.addGlobalSecondaryIndex({
      indexName: JOBS_TABLE.modifiedIndex,
      partitionKey: { name: JOBS_TABLE.modifiedDayAttribute, type: dynamodb.AttributeType.STRING },
      sortKey: { name: JOBS_TABLE.lastModifiedAttribute, type: dynamodb.AttributeType.NUMBER },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }

  /**
   * What the job store writers (ingest-job-events, reconcile-jobs) do: conditional PutItem and
   * GetItem on the table itself. Not grantReadWriteData: with indexes on the table it also grants
   * every index (`<table>/index/*`) and Scan/BatchWrite/Delete, none of which they use.
   */
  grantJobStoreWriter(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      resourceArns: [this.jobsTable.tableArn],
    });
    this.jobsTable.encryptionKey?.grant(grantee, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey');
    return grant;
  }

  /** Query on the jobs table's indexes (the detector's JobQueries), nothing else. */
  grantQueryJobIndexes(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:Query'],
      resourceArns: [JOBS_TABLE.activeIndex, JOBS_TABLE.modifiedIndex].map(
        (index) => `${this.jobsTable.tableArn}/index/${index}`,
      ),
    });
    this.jobsTable.encryptionKey?.grantDecrypt(grantee);
    return grant;
  }
}
