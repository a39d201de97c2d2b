import type * as events from 'aws-cdk-lib/aws-events';

/**
 * The EventBridge pattern of SageMaker training job state changes. Used by the home-region rule
 * (to the job events queue) and by the forwarder rules of the other fleet regions, so both match
 * exactly the same events.
 */
export const TRAINING_JOB_STATE_CHANGE: events.EventPattern = {
  source: ['aws.sagemaker'],
  detailType: ['SageMaker Training Job State Change'],
};
