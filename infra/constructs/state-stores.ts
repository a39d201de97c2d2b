import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

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
export const JOBS_TABLE_TTL_ATTRIBUTE = 'expiresAt';

/**
 * FleetWatch's two DynamoDB tables, both keyed by a string `pk`, on-demand, with point-in-time
 * recovery and the customer-managed key:
 * - StateTable: small single-writer state (watermarks, metric inventories, detector state).
 * - JobsTable: current state and history of each SageMaker training job; finished jobs expire
 *   through TTL on `expiresAt`.
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
  }
}
