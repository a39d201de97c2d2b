import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type KnownChange,
  knownChangeSchema,
  type MaintenanceWindow,
  maintenanceWindowSchema,
  occurrencesOf,
  type Silence,
  silenceSchema,
} from '../../contracts/calendar';
import type { CalendarStore, ChangeLog } from '../../core/ports';
import { DAY_MS } from '../../core/time';
import { isConditionalCheckFailed } from './conditions';
import { INCIDENT_ITEM } from './incident-store';
import { queryPages } from './query-pages';

/**
 * CalendarStore on the incidents table: silences and run-time maintenance windows are items next
 * to the incidents, keyed `silence#<id>` and `maintenance#<id>` (an incident key is 16 hex
 * characters, so the `#` keeps them apart).
 *
 * They are listed through the same `status-index` GSI, in partitions of their own
 * (`status` = `calendar#silence` / `calendar#maintenance`) that IncidentStore.listActive never
 * queries (it asks for incident statuses only). The index sort key `lastSeenMs` holds the item's
 * END (epoch ms), so "silences ending after now" is one key-condition query; a recurring window
 * has no end and stores Number.MAX_SAFE_INTEGER.
 *
 * TTL (`expiresAt`): `retainDays` after the end, so expired silences and past one-off windows
 * remain listable for a while (what was muted last week) and then delete themselves.
 */
export interface DynamoDbCalendarStoreOptions {
  /** Days an ended silence or one-off window is kept. @default 7 */
  readonly retainDays?: number;
}

export const CALENDAR_ITEM = {
  silencePrefix: 'silence#',
  maintenancePrefix: 'maintenance#',
  silencePartition: 'calendar#silence',
  maintenancePartition: 'calendar#maintenance',
  changePrefix: 'change#',
  changePartition: 'calendar#change',
} as const;

const NO_END = Number.MAX_SAFE_INTEGER;

interface CalendarItem {
  readonly id: string;
  readonly body?: string;
}

export class DynamoDbCalendarStore implements CalendarStore {
  private readonly retainDays: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoDbCalendarStoreOptions = {},
  ) {
    this.retainDays = options.retainDays ?? 7;
  }

  async silences(nowMs: number): Promise<Silence[]> {
    const items = await this.query(CALENDAR_ITEM.silencePartition, nowMs);
    return items.map((i) => parseBody(i, silenceSchema, 'silence'));
  }

  async maintenanceWindows(): Promise<MaintenanceWindow[]> {
    const items = await this.query(CALENDAR_ITEM.maintenancePartition);
    return items.map((i) => parseBody(i, maintenanceWindowSchema, 'maintenance window'));
  }

  async putSilence(silence: Silence): Promise<void> {
    const valid = silenceSchema.parse(silence);
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: this.item(
          CALENDAR_ITEM.silencePrefix + valid.id,
          CALENDAR_ITEM.silencePartition,
          valid,
          Date.parse(valid.end),
        ),
      }),
    );
  }

  /** Sets the end to now (at least 1 ms after the start, so the silence stays valid). */
  async expireSilence(id: string, nowMs: number): Promise<boolean> {
    const key = CALENDAR_ITEM.silencePrefix + id;
    const res = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { [INCIDENT_ITEM.key]: key }, ConsistentRead: true }),
    );
    const current = res.Item as CalendarItem | undefined;
    if (current === undefined) return false;
    const silence = parseBody(current, silenceSchema, 'silence');
    const endMs = Math.max(nowMs, Date.parse(silence.start) + 1);
    const ended: Silence = { ...silence, end: new Date(endMs).toISOString() };
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: key },
          UpdateExpression: 'SET #body = :body, #end = :end, #ttl = :ttl',
          ConditionExpression: 'attribute_exists(#id)',
          ExpressionAttributeNames: {
            '#body': 'body',
            '#end': INCIDENT_ITEM.lastSeenMs,
            '#ttl': INCIDENT_ITEM.ttl,
            '#id': INCIDENT_ITEM.key,
          },
          ExpressionAttributeValues: {
            ':body': JSON.stringify(ended),
            ':end': endMs,
            ':ttl': this.ttlOf(endMs),
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  async putMaintenanceWindow(id: string, window: MaintenanceWindow): Promise<void> {
    const valid = maintenanceWindowSchema.parse(window);
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: this.item(
          CALENDAR_ITEM.maintenancePrefix + id,
          CALENDAR_ITEM.maintenancePartition,
          valid,
          oneOffEnd(valid) ?? NO_END,
        ),
      }),
    );
  }

  /** Removes a run-time maintenance window; false when there is none with that id. */
  async deleteMaintenanceWindow(id: string): Promise<boolean> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { id: CALENDAR_ITEM.maintenancePrefix + id },
          ConditionExpression: 'attribute_exists(#id)',
          ExpressionAttributeNames: { '#id': INCIDENT_ITEM.key },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  private item(id: string, partition: string, value: object, endMs: number): Record<string, unknown> {
    return {
      [INCIDENT_ITEM.key]: id,
      [INCIDENT_ITEM.status]: partition,
      [INCIDENT_ITEM.lastSeenMs]: endMs,
      body: JSON.stringify(value),
      ...(endMs === NO_END ? {} : { [INCIDENT_ITEM.ttl]: this.ttlOf(endMs) }),
    };
  }

  private ttlOf(endMs: number): number {
    return Math.floor((endMs + this.retainDays * DAY_MS) / 1000);
  }

  /** Every item of a calendar partition (all pages), optionally only those ending after `afterMs`. */
  private async query(partition: string, afterMs?: number): Promise<CalendarItem[]> {
    const out: CalendarItem[] = [];
    for await (const items of queryPages<CalendarItem>(this.doc, {
      TableName: this.tableName,
      IndexName: INCIDENT_ITEM.statusIndex,
      KeyConditionExpression:
        afterMs === undefined ? '#status = :partition' : '#status = :partition AND #end > :after',
      ExpressionAttributeNames: {
        '#status': INCIDENT_ITEM.status,
        ...(afterMs === undefined ? {} : { '#end': INCIDENT_ITEM.lastSeenMs }),
      },
      ExpressionAttributeValues: {
        ':partition': partition,
        ...(afterMs === undefined ? {} : { ':after': afterMs }),
      },
    }))
      out.push(...items);
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

/**
 * ChangeLog on the incidents table: known changes (deploys, driver upgrades) recorded at run
 * time, e.g. by a deploy pipeline or the CLI, as items `change#<id>` in the index partition
 * `calendar#change` with the index sort key `lastSeenMs` = the change time. The changes listed in
 * the config (calendar.postChange.changes) are merged by the router itself, so they are not
 * repeated here. Kept `retainDays` (default 7) after the change.
 */
export class DynamoDbChangeLog implements ChangeLog {
  private readonly retainDays: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: { readonly retainDays?: number } = {},
  ) {
    this.retainDays = options.retainDays ?? 7;
  }

  async recordChange(id: string, change: KnownChange): Promise<void> {
    const valid = knownChangeSchema.parse(change);
    const atMs = Date.parse(valid.at);
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          [INCIDENT_ITEM.key]: CALENDAR_ITEM.changePrefix + id,
          [INCIDENT_ITEM.status]: CALENDAR_ITEM.changePartition,
          [INCIDENT_ITEM.lastSeenMs]: atMs,
          body: JSON.stringify(valid),
          [INCIDENT_ITEM.ttl]: Math.floor((atMs + this.retainDays * DAY_MS) / 1000),
        },
      }),
    );
  }

  async changesSince(sinceMs: number): Promise<KnownChange[]> {
    const out: KnownChange[] = [];
    for await (const items of queryPages<CalendarItem>(this.doc, {
      TableName: this.tableName,
      IndexName: INCIDENT_ITEM.statusIndex,
      KeyConditionExpression: '#status = :partition AND #at >= :since',
      ExpressionAttributeNames: { '#status': INCIDENT_ITEM.status, '#at': INCIDENT_ITEM.lastSeenMs },
      ExpressionAttributeValues: { ':partition': CALENDAR_ITEM.changePartition, ':since': sinceMs },
    }))
      for (const item of items) out.push(parseBody(item, knownChangeSchema, 'known change'));
    return out;
  }
}

/** End of a one-off window (epoch ms); undefined for a recurring one. */
function oneOffEnd(w: MaintenanceWindow): number | undefined {
  if (w.start === undefined) return undefined;
  const occ = occurrencesOf(w, Date.parse(w.start), Date.parse(w.start) + 1);
  return occ[0]?.endMs;
}

function parseBody<T>(
  item: CalendarItem,
  schema: {
    safeParse(
      x: unknown,
    ):
      | { success: true; data: T }
      | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
  },
  what: string,
): T {
  let json: unknown;
  try {
    json = JSON.parse(item.body ?? '');
  } catch (e) {
    throw new Error(`Calendar item ${item.id}: body is not JSON (${(e as Error).message})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.map(String).join('.') || '(item)'}: ${i.message}`,
    );
    throw new Error(`Calendar item ${item.id} is not a valid ${what}: ${problems.join('; ')}`);
  }
  return parsed.data;
}
