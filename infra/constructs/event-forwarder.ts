import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../nag';

export interface EventForwarderProps {
  /** Events to forward. */
  readonly eventPattern: events.EventPattern;
  /** Region whose default event bus (same account) receives the events. */
  readonly targetRegion: string;
  readonly description: string;
  /**
   * How long undeliverable events stay in the dead-letter queue.
   * @default Duration.days(14) (the SQS maximum)
   */
  readonly deadLetterRetention?: Duration;
}

/**
 * Forwards matching events from this region's default event bus to the default bus of another
 * region of the same account. Events that cannot be delivered land in a dead-letter queue
 * encrypted with SSE-SQS: EventBridge itself holds these events under AWS-owned keys, so a
 * customer-managed key in every forwarding region would add cost and key policy, not protection.
 */
export class EventForwarder extends Construct {
  readonly rule: events.Rule;
  readonly role: iam.Role;
  readonly deadLetterQueue: sqs.Queue;
  readonly targetBusArn: string;

  constructor(scope: Construct, id: string, props: EventForwarderProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (!Token.isUnresolved(stack.region) && props.targetRegion === stack.region) {
      throw new Error(
        `EventForwarder: target region ${props.targetRegion} must differ from this stack's region ${stack.region}`,
      );
    }
    this.targetBusArn = stack.formatArn({
      service: 'events',
      region: props.targetRegion,
      resource: 'event-bus',
      resourceName: 'default',
    });
    this.deadLetterQueue = new sqs.Queue(this, 'ForwardingDlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: props.deadLetterRetention ?? Duration.days(14),
    });
    acknowledgeNag(this.deadLetterQueue, {
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the forwarding rule target',
    });
    this.role = new iam.Role(this, 'Role', {
      description: `Forward events to the default event bus in ${props.targetRegion}`,
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    });
    const bus = events.EventBus.fromEventBusArn(this, 'TargetBus', this.targetBusArn);
    this.rule = new events.Rule(this, 'Rule', {
      description: props.description,
      eventPattern: props.eventPattern,
      targets: [new targets.EventBus(bus, { role: this.role, deadLetterQueue: this.deadLetterQueue })],
    });
  }
}
