import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { JOBS_TABLE, modifiedDayOf } from '../../contracts/jobs-table';
import { isTerminalStatus, isTrainingJobStatus, jobKey, withoutUndefined } from '../../core/jobs/job-state';
import { newestWins } from '../../core/jobs/newest-wins';
import type { StatusTransition, TrainingJobState } from '../../core/model';
import type { ApplyOutcome, JobStore } from '../../core/ports';
import { DAY_MS } from '../../core/time';
import { anyOf, isConditionalCheckFailed, itemIsAbsent, namesUsedIn, storedIsOlderThan } from './conditions';

/**
 * JobStore on DynamoDB: one item per training job, pk = `<region>#<jobName>`, holding its current
 * state. A state is written only if it is newer than the stored one (LastModifiedTime), so
 * duplicate and out-of-order EventBridge deliveries, and the reconciliation sweep racing them,
 * are harmless. When the condition fails, ALL_OLD tells a duplicate (same LastModifiedTime) from
 * a stale state (older) without another read.
 *
 * Sparse attributes:
 *   active    = 'Y' only while InProgress or Stopping: a GSI on it lists running jobs without a
 *               scan (lambdas/contracts/jobs-table.ts; read by job-queries.ts).
 *   modifiedDay = UTC day of LastModifiedTime: partition of the "changed since" GSI. Items written
 *               before this attribute existed are missing from that index until their next
 *               state change (or the reconciliation sweep) rewrites them.
 *   expiresAt = epoch seconds, DynamoDB TTL, set once the job is terminal (jobs.retainDays after
 *               it ended).
 */
export interface DynamoDbJobStoreOptions {
  /** Days a finished job is kept (config jobs.retainDays). @default 90 */
  readonly retainDays?: number;
}

/** Bumped when the item layout changes incompatibly. */
export const JOB_ITEM_SCHEMA_VERSION = 1;

/** The stored item: the job state plus the key, layout version, sparse index flag and TTL. */
export type JobItem = Omit<TrainingJobState, 'status'> & {
  readonly pk: string;
  readonly schemaVersion: number;
  /** Read back as stored; fromItem checks it is a status FleetWatch knows. */
  readonly status: string;
  readonly active?: typeof JOBS_TABLE.activeValue;
  readonly modifiedDay: string;
  readonly expiresAt?: number;
};

export class DynamoDbJobStore implements JobStore {
  private readonly retainDays: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoDbJobStoreOptions = {},
  ) {
    this.retainDays = options.retainDays ?? 90;
  }

  async apply(state: TrainingJobState): Promise<ApplyOutcome> {
    const condition = anyOf(itemIsAbsent, storedIsOlderThan(':lm'));
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.toItem(state),
          ConditionExpression: condition,
          ExpressionAttributeNames: namesUsedIn(condition),
          ExpressionAttributeValues: { ':lm': state.lastModifiedTime },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'applied';
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      const stored =
        storedLastModified((err as { Item?: unknown }).Item) ??
        (await this.get(state.region, state.jobName))?.lastModifiedTime;
      const outcome = newestWins(stored, state.lastModifiedTime);
      // The condition failed, so the stored state is at least as new; 'applied' here would mean
      // the item vanished in between (TTL), which only an older state can race with.
      return outcome === 'applied' ? 'stale' : outcome;
    }
  }

  async get(region: string, jobName: string): Promise<TrainingJobState | undefined> {
    const res = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: jobKey(region, jobName) },
        ConsistentRead: true,
      }),
    );
    return res.Item === undefined ? undefined : fromItem(res.Item as JobItem);
  }

  private toItem(s: TrainingJobState): JobItem {
    const terminal = isTerminalStatus(s.status);
    const endedAt = s.trainingEndTime ?? s.lastModifiedTime;
    return withoutUndefined<JobItem>({
      ...s,
      pk: jobKey(s.region, s.jobName),
      schemaVersion: JOB_ITEM_SCHEMA_VERSION,
      tags: { ...s.tags },
      transitions: s.transitions.map((t) => withoutUndefined({ ...t })),
      metricNames: s.metricNames === undefined ? undefined : [...s.metricNames],
      active: s.status === 'InProgress' || s.status === 'Stopping' ? JOBS_TABLE.activeValue : undefined,
      modifiedDay: modifiedDayOf(s.lastModifiedTime),
      expiresAt: terminal ? Math.floor((endedAt + this.retainDays * DAY_MS) / 1000) : undefined,
    });
  }
}

/** The job state of a stored item (job-queries.ts reads the same items from the indexes). */
export function fromItem(item: JobItem): TrainingJobState {
  if (!isTrainingJobStatus(item.status)) {
    throw new Error(`Job store item ${item.pk} has status "${item.status}", which FleetWatch does not know`);
  }
  return withoutUndefined<TrainingJobState>({
    region: item.region,
    jobName: item.jobName,
    arn: item.arn,
    status: item.status,
    secondaryStatus: item.secondaryStatus,
    lastModifiedTime: Number(item.lastModifiedTime),
    creationTime: Number(item.creationTime),
    trainingStartTime: optionalNumber(item.trainingStartTime),
    trainingEndTime: optionalNumber(item.trainingEndTime),
    instanceType: item.instanceType,
    instanceCount: optionalNumber(item.instanceCount),
    failureReason: item.failureReason,
    tags: { ...(item.tags ?? {}) },
    team: item.team,
    workloadClass: item.workloadClass,
    transitions: (item.transitions ?? []).map((t) =>
      withoutUndefined<StatusTransition>({
        status: t.status,
        startTime: Number(t.startTime),
        endTime: optionalNumber(t.endTime),
        message: t.message,
      }),
    ),
    checkpointS3Uri: item.checkpointS3Uri,
    trainingTimeSeconds: optionalNumber(item.trainingTimeSeconds),
    billableTimeSeconds: optionalNumber(item.billableTimeSeconds),
    metricNames: item.metricNames === undefined ? undefined : [...item.metricNames],
  });
}

function optionalNumber(v: number | undefined): number | undefined {
  return v === undefined ? undefined : Number(v);
}

/**
 * LastModifiedTime of the item returned with a failed condition. The document client does not
 * unmarshall it, so it is a raw AttributeValue ({ N: "..." }); a plain number is accepted too.
 */
function storedLastModified(item: unknown): number | undefined {
  if (item === null || typeof item !== 'object') return undefined;
  const attr = (item as Record<string, unknown>).lastModifiedTime;
  if (typeof attr === 'number') return attr;
  if (attr !== null && typeof attr === 'object' && typeof (attr as { N?: unknown }).N === 'string') {
    return Number((attr as { N: string }).N);
  }
  return undefined;
}
