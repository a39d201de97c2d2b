import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface EncryptionKeyProps {
  /**
   * Alias of the key (without the `alias/` prefix).
   * @default - no alias
   */
  readonly alias?: string;
  /**
   * What happens to the key when it leaves the stack. Data encrypted with it (tables, queues,
   * logs, the Timestream database) is unreadable without it, hence RETAIN.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The customer-managed KMS key (annual rotation on) that encrypts FleetWatch's tables, queues,
 * log groups and Timestream database. Its policy lets CloudWatch Logs in this stack's region use
 * it for log groups of this account; every other use goes through grantXxx() on the resources.
 */
export class EncryptionKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: EncryptionKeyProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: `FleetWatch data key (${stack.stackName})`,
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      ...(props.alias === undefined ? {} : { alias: props.alias }),
    });
    // CloudWatch Logs encrypts log groups with the key only when the key policy names the
    // regional logs principal; the condition limits it to log groups of this account and region.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsInThisRegion',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: [
          'kms:Encrypt',
          'kms:Decrypt',
          'kms:ReEncryptFrom',
          'kms:ReEncryptTo',
          'kms:GenerateDataKey',
          'kms:GenerateDataKeyWithoutPlaintext',
          'kms:DescribeKey',
        ],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
  }
}
