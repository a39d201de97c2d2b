import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeNag, iam5ResourceFinding } from '../nag';

export interface InvocationSchedulesProps {
  /** Customer-managed key of the schedules' dead-letter queue. */
  readonly encryptionKey: kms.IKey;
  /**
   * Attempts EventBridge Scheduler makes to invoke a target after the first one fails.
   * @default 3
   */
  readonly retryAttempts?: number;
  /**
   * How long failed invocations stay in the dead-letter queue.
   * @default Duration.days(14) (the SQS maximum)
   */
  readonly deadLetterRetention?: Duration;
}

export interface RateScheduleOptions {
  /** The function invoked on each tick (asynchronously). */
  readonly target: lambda.IFunction;
  /** Interval between ticks, at least one minute (Scheduler's precision). */
  readonly every: Duration;
  readonly description: string;
}

/**
 * EventBridge Scheduler schedules that invoke FleetWatch functions at a fixed rate, sharing one
 * execution role and one dead-letter queue. Every schedule fires exactly on time (flexible time
 * window OFF) and retries a failed invocation only while it is younger than its own interval:
 * after that the next tick supersedes it (the functions catch up from their watermarks).
 */
export class InvocationSchedules extends Construct {
  readonly deadLetterQueue: sqs.Queue;
  readonly role: iam.Role;
  private readonly retryAttempts: number;

  constructor(scope: Construct, id: string, props: InvocationSchedulesProps) {
    super(scope, id);
    this.retryAttempts = props.retryAttempts ?? 3;
    this.deadLetterQueue = new sqs.Queue(this, 'ScheduleDlq', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: props.deadLetterRetention ?? Duration.days(14),
    });
    acknowledgeNag(this.deadLetterQueue, {
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the schedule targets',
    });
    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'Role', {
      description: 'EventBridge Scheduler: invoke FleetWatch functions, dead-letter failures',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    });
    // Scheduler sends to the (encrypted) DLQ with this role: SendMessage is added by the
    // targets, the key use is granted here.
    props.encryptionKey.grant(this.role, 'kms:GenerateDataKey', 'kms:Decrypt');
  }

  /** Adds a schedule invoking `options.target` every `options.every`. */
  addRateSchedule(id: string, options: RateScheduleOptions): scheduler.Schedule {
    if (options.every.toSeconds() < 60) {
      throw new Error(
        `Schedule ${id}: EventBridge Scheduler fires at most once a minute; got ${options.every.toHumanString()}`,
      );
    }
    acknowledgeNag(this.role, {
      id: iam5ResourceFinding(this, `${options.target.functionArn}:*`),
      reason: `lambda:InvokeFunction on the versions and aliases of ${id}'s function only (CDK grantInvoke)`,
    });
    const maxEventAge = Duration.seconds(Math.min(options.every.toSeconds(), Duration.days(1).toSeconds()));
    return new scheduler.Schedule(this, id, {
      description: options.description,
      schedule: scheduler.ScheduleExpression.rate(options.every),
      timeWindow: scheduler.TimeWindow.off(),
      target: new schedulerTargets.LambdaInvoke(options.target, {
        role: this.role,
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: this.retryAttempts,
        maxEventAge,
      }),
    });
  }
}
