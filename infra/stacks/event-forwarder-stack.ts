import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { EventForwarder } from '../constructs/event-forwarder';
import { TRAINING_JOB_STATE_CHANGE } from '../constructs/training-job-events';

export interface EventForwarderStackProps extends StackProps {
  /** FleetWatch's home region, whose default event bus receives the forwarded events. */
  readonly homeRegion: string;
}

/**
 * Deployed in each fleet region other than the home region: forwards SageMaker training job state
 * changes to the home region's default event bus, where FleetWatch's rule picks them up.
 */
export class EventForwarderStack extends Stack {
  readonly forwarder: EventForwarder;

  constructor(scope: Construct, id: string, props: EventForwarderStackProps) {
    super(scope, id, {
      description: `FleetWatch: forwards SageMaker training job state changes to ${props.homeRegion}`,
      ...props,
    });
    this.forwarder = new EventForwarder(this, 'TrainingJobEvents', {
      eventPattern: TRAINING_JOB_STATE_CHANGE,
      targetRegion: props.homeRegion,
      description: `SageMaker training job state changes to FleetWatch in ${props.homeRegion}`,
    });
  }
}
