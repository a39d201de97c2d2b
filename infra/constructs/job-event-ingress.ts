import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { TRAINING_JOB_STATE_CHANGE } from './training-job-events';

export interface JobEventIngressProps {
  /** Customer-managed key of both queues. */
  readonly encryptionKey: kms.IKey;
  /**
   * Visibility timeout of the job events queue. AWS advises at least six times the timeout of
   * the consuming function, so a retried batch is not handed out while it is still running.
   */
  readonly visibilityTimeout: Duration;
  /**
   * Receives after which a message moves to the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * How long messages stay in the dead-letter queue.
   * @default Duration.days(14) (the SQS maximum)
   */
  readonly deadLetterRetention?: Duration;
}

/**
 * How SageMaker training job state changes reach FleetWatch: an EventBridge rule on the default
 * bus (which also receives the events forwarded from the other fleet regions) sends them to the
 * JobEventsQueue; messages the consumer cannot process after maxReceiveCount receives, and
 * events EventBridge cannot deliver, end up in the JobEventsDlq. Both kinds are job events, so
 * a redrive from the DLQ to the queue is always the right repair.
 */
export class JobEventIngress extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: JobEventIngressProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'JobEventsDlq', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: props.deadLetterRetention ?? Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'JobEventsQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      visibilityTimeout: props.visibilityTimeout,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
    this.rule = new events.Rule(this, 'TrainingJobStateChangeRule', {
      description: 'SageMaker training job state changes (this region and forwarded) to FleetWatch',
      eventPattern: TRAINING_JOB_STATE_CHANGE,
      targets: [
        new targets.SqsQueue(this.queue, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });
    // EventBridge also writes undeliverable events into the DLQ. Both queues share one key and
    // the SqsQueue target grants EventBridge (this account) that key, which covers the DLQ too.
  }
}
