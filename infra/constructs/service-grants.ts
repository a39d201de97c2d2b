import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { acknowledgeNag, iam5ResourceFinding } from '../nag';

/**
 * Grants for AWS APIs that CDK has no grantXxx() for. Where an API has no resource-level
 * permissions its grant is on "*", acknowledged for cdk-nag with that reason; test/infra/iam.test.ts
 * allows "*" for exactly these actions.
 */

/** Reads GPU metrics from CloudWatch in any region: GetMetricData and ListMetrics. */
export function grantReadCloudWatchMetrics(grantee: iam.IGrantable & IConstruct): iam.Grant {
  acknowledgeNag(grantee, {
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'cloudwatch:GetMetricData and cloudwatch:ListMetrics have no resource-level permissions; "*" is the only possible resource',
  });
  return iam.Grant.addToPrincipal({
    grantee,
    actions: ['cloudwatch:GetMetricData', 'cloudwatch:ListMetrics'],
    resourceArns: ['*'],
  });
}

/**
 * Reconciles SageMaker training jobs in the given regions: ListTrainingJobs (on "*"), and
 * DescribeTrainingJob and ListTags on this account's training jobs in those regions only.
 */
export function grantReadTrainingJobs(
  grantee: iam.IGrantable & IConstruct,
  regions: readonly string[],
): iam.Grant {
  if (regions.length === 0) throw new Error('grantReadTrainingJobs: at least one region is required');
  const stack = Stack.of(grantee);
  const trainingJobArns = [...new Set(regions)].map((region) =>
    stack.formatArn({ service: 'sagemaker', region, resource: 'training-job', resourceName: '*' }),
  );
  acknowledgeNag(
    grantee,
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'sagemaker:ListTrainingJobs has no resource-level permissions; "*" is the only possible resource',
    },
    ...trainingJobArns.map((arn) => ({
      id: iam5ResourceFinding(stack, arn),
      reason:
        'DescribeTrainingJob/ListTags on any training job of this account in a fleet region: the sweep repairs every job, whatever its name',
    })),
  );
  iam.Grant.addToPrincipal({ grantee, actions: ['sagemaker:ListTrainingJobs'], resourceArns: ['*'] });
  return iam.Grant.addToPrincipal({
    grantee,
    actions: ['sagemaker:DescribeTrainingJob', 'sagemaker:ListTags'],
    resourceArns: trainingJobArns,
  });
}
