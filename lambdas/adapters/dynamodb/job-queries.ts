import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { JOBS_TABLE, modifiedDayOf } from '../../contracts/jobs-table';
import { jobKey } from '../../core/jobs/job-state';
import type { TrainingJobState } from '../../core/model';
import type { JobQueries } from '../../core/ports';
import type { Clock } from '../../core/time';
import { DAY_MS } from '../../core/time';
import { fromItem, type JobItem } from './job-store';

/**
 * JobQueries over the jobs table's two GSIs (lambdas/contracts/jobs-table.ts, created by
 * infra/constructs/state-stores.ts):
 *
 *   active-jobs      Query active = 'Y'                                   → InProgress/Stopping
 *   modified-by-day  Query modifiedDay = d AND lastModifiedTime >= since  → one per UTC day
 *
 *   sinceMs                                    now
 *      |------- day d0 -------|---- d1 ----|--- d2 ---|
 *      Query(d0, >= since)     Query(d1)    Query(d2)   (d1, d2: the sort condition is a no-op)
 *
 * Both indexes project ALL attributes: the detectors need the whole state (transitions for
 * start latency, tags/team/workload class for cohorts, checkpoint URI, metric names), and a
 * KEYS_ONLY index would cost one GetItem per job on every run. Jobs in both results are merged by
 * key. GSI reads are eventually consistent: a state change a second old may be missing, which
 * the next run sees.
 */
export interface DynamoDbJobQueriesOptions {
  /** Refuses lookbacks longer than this (each day is a Query). @default 35 */
  readonly maxLookbackDays?: number;
}

const systemClock: Clock = { now: () => Date.now() };

export class DynamoDbJobQueries implements JobQueries {
  private readonly maxLookbackDays: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock = systemClock,
    options: DynamoDbJobQueriesOptions = {},
  ) {
    this.maxLookbackDays = options.maxLookbackDays ?? 35;
  }

  async recentAndActive(sinceMs: number): Promise<TrainingJobState[]> {
    const days = daysCovering(sinceMs, this.clock.now());
    if (days.length > this.maxLookbackDays) {
      throw new Error(
        `recentAndActive(${new Date(sinceMs).toISOString()}) spans ${days.length} days; at most ${this.maxLookbackDays} are allowed (one DynamoDB Query per day)`,
      );
    }
    const byKey = new Map<string, TrainingJobState>();
    const add = (items: JobItem[]) => {
      for (const item of items) {
        const state = fromItem(item);
        const key = jobKey(state.region, state.jobName);
        const known = byKey.get(key);
        // The two indexes can disagree for a moment (eventual consistency): keep the newest.
        if (known === undefined || known.lastModifiedTime < state.lastModifiedTime) byKey.set(key, state);
      }
    };
    add(
      await this.queryAll({
        IndexName: JOBS_TABLE.activeIndex,
        KeyConditionExpression: '#active = :active',
        ExpressionAttributeNames: { '#active': JOBS_TABLE.activeAttribute },
        ExpressionAttributeValues: { ':active': JOBS_TABLE.activeValue },
      }),
    );
    for (const day of days) {
      add(
        await this.queryAll({
          IndexName: JOBS_TABLE.modifiedIndex,
          KeyConditionExpression: '#day = :day AND #lm >= :since',
          ExpressionAttributeNames: {
            '#day': JOBS_TABLE.modifiedDayAttribute,
            '#lm': JOBS_TABLE.lastModifiedAttribute,
          },
          ExpressionAttributeValues: { ':day': day, ':since': sinceMs },
        }),
      );
    }
    return [...byKey.values()];
  }

  private async queryAll(query: {
    IndexName: string;
    KeyConditionExpression: string;
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues: Record<string, unknown>;
  }): Promise<JobItem[]> {
    const items: JobItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page: QueryCommandOutput = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          ...query,
          ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      items.push(...((page.Items ?? []) as JobItem[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  }
}

/** UTC days from the day of `sinceMs` to the day of `nowMs`, inclusive (at least one). */
export function daysCovering(sinceMs: number, nowMs: number): string[] {
  const first = Math.floor(sinceMs / DAY_MS);
  const last = Math.max(first, Math.floor(nowMs / DAY_MS));
  const days: string[] = [];
  for (let d = first; d <= last; d++) days.push(modifiedDayOf(d * DAY_MS));
  return days;
}
