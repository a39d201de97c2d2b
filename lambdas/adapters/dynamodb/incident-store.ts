import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  INCIDENT_STATUSES,
  type Incident,
  type IncidentStatus,
  incidentSchema,
} from '../../contracts/incident';
import type { IncidentStore } from '../../core/ports';
import { DAY_MS } from '../../core/time';
import { CONDITION_NAMES, isConditionalCheckFailed, namesUsedIn, storedVersionIs } from './conditions';
import { queryPages } from './query-pages';

/**
 * IncidentStore on the incidents table (infra/constructs/incidents-table.ts): one item per
 * fingerprint, key `id` = the fingerprint (16 hex characters, so it never collides with the
 * calendar items `silence#...` / `maintenance#...` of calendar-store.ts).
 *
 * Item layout:
 *   id          fingerprint (table key)
 *   incidentId  `<fingerprint>-<episode>` (what people quote)
 *   body        the whole incident as JSON text: read and written whole by the router, and JSON
 *               keeps nested shapes exact whatever marshalling options the client was built with
 *   status, lastSeenMs   the `status-index` GSI key (partition, sort)
 *   changedMs   time of the newest history entry (listRecent)
 *   outbox      'pending' while a notification is unsent (a resolved incident stays "active")
 *   kind, severity       for people reading the table
 *   version     optimistic-write counter
 *   expiresAt   TTL (epoch s), set once resolved: `retainDays` after it resolved
 *
 * Writes are UpdateItem (SET of these attributes), not PutItem: the remediation state machines
 * append `remediationAudit`, `remediationStatus` and the approval token to the same item, and a
 * router write must not erase them.
 */
export interface DynamoDbIncidentStoreOptions {
  /** Days a resolved incident is kept before TTL deletes it. @default 90 */
  readonly retainDays?: number;
  /**
   * Called for a stored item that does not parse as an incident, when listing; the item is then
   * left out of the list. Without it, listing throws (one bad item must not hide silently).
   */
  readonly onInvalidItem?: (id: string, problems: string[]) => void;
}

/** GSI name and key attributes (mirrors INCIDENTS_TABLE in infra, which adapters may not import). */
export const INCIDENT_ITEM = {
  key: 'id',
  statusIndex: 'status-index',
  status: 'status',
  lastSeenMs: 'lastSeenMs',
  ttl: 'expiresAt',
} as const;

const ACTIVE_STATUSES: readonly IncidentStatus[] = ['pending', 'open', 'acknowledged'];
const OUTBOX_PENDING = 'pending';

interface IncidentItem {
  readonly id: string;
  readonly incidentId?: string;
  readonly body?: string;
  readonly version?: number;
}

export class DynamoDbIncidentStore implements IncidentStore {
  private readonly retainDays: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: DynamoDbIncidentStoreOptions = {},
  ) {
    this.retainDays = options.retainDays ?? 90;
  }

  async get(fingerprint: string): Promise<Incident | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { id: fingerprint }, ConsistentRead: true }),
    );
    const item = res.Item as IncidentItem | undefined;
    // An item without a body is a remediation upsert that ran before the router wrote the
    // incident (cannot normally happen): treat it as absent, put(version 0) will fill it.
    if (item?.body === undefined) return undefined;
    const parsed = parseItem(item);
    if ('problems' in parsed) {
      throw new Error(
        `Incident item ${fingerprint} in table ${this.tableName} is not a valid incident: ${parsed.problems.join('; ')}`,
      );
    }
    return parsed.incident;
  }

  async put(incident: Incident): Promise<Incident | 'conflict'> {
    const stored: Incident = { ...incident, version: incident.version + 1 };
    const body = JSON.stringify(stored);
    // Version 0: no incident there yet. A bare remediation upsert has no version, so it counts
    // as absent too (attribute_not_exists on the version, not the key).
    const condition =
      incident.version === 0 ? `attribute_not_exists(#version)` : storedVersionIs(':expected');
    const lastHistory = stored.history[stored.history.length - 1]?.at ?? stored.lastSeenMs;
    const outboxPending = stored.notifications.some((n) => n.status === 'pending');
    const resolvedAt = stored.status === 'resolved' ? (stored.resolvedAtMs ?? lastHistory) : undefined;
    const values: Record<string, unknown> = {};
    const names: Record<string, string> = { ...namesUsedIn(condition) };
    const set: string[] = [];
    const remove: string[] = [];
    // Every attribute goes through a placeholder: status, ttl and others are DynamoDB reserved words.
    const assign = (attr: string, value: unknown) => {
      names[`#${attr}`] = attr;
      if (value === undefined) remove.push(`#${attr}`);
      else {
        values[`:${attr}`] = value;
        set.push(`#${attr} = :${attr}`);
      }
    };
    assign('incidentId', stored.id);
    assign('body', body);
    assign(INCIDENT_ITEM.status, stored.status);
    assign(INCIDENT_ITEM.lastSeenMs, stored.lastSeenMs);
    assign('changedMs', Math.max(lastHistory, stored.lastSeenMs));
    assign('kind', stored.kind);
    assign('severity', stored.severity);
    assign(CONDITION_NAMES['#version'], stored.version);
    assign('outbox', outboxPending ? OUTBOX_PENDING : undefined);
    assign(
      INCIDENT_ITEM.ttl,
      resolvedAt === undefined ? undefined : Math.floor((resolvedAt + this.retainDays * DAY_MS) / 1000),
    );
    if (incident.version !== 0) values[':expected'] = incident.version;
    const update = `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: stored.fingerprint },
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return stored;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return 'conflict';
      throw err;
    }
  }

  async listActive(): Promise<Incident[]> {
    const out: Incident[] = [];
    for (const status of ACTIVE_STATUSES) out.push(...(await this.queryStatus(status)));
    // Resolved incidents whose resolved notification is still owed (the outbox).
    out.push(
      ...(await this.queryStatus('resolved', {
        filter: '#outbox = :outbox',
        names: { '#outbox': 'outbox' },
        values: { ':outbox': OUTBOX_PENDING },
      })),
    );
    return out;
  }

  /**
   * Every status partition of the index, filtered on lastSeenMs or changedMs >= sinceMs. Reads
   * whole partitions (a resolved incident acknowledged late has an old lastSeenMs, so the sort
   * key alone would miss it); resolved items are bounded by their TTL.
   */
  async listRecent(sinceMs: number): Promise<Incident[]> {
    const out: Incident[] = [];
    for (const status of INCIDENT_STATUSES) {
      out.push(
        ...(await this.queryStatus(status, {
          filter: '#lastSeen >= :since OR #changed >= :since',
          names: { '#lastSeen': INCIDENT_ITEM.lastSeenMs, '#changed': 'changedMs' },
          values: { ':since': sinceMs },
        })),
      );
    }
    return out;
  }

  private async queryStatus(
    status: IncidentStatus,
    extra?: { filter: string; names: Record<string, string>; values: Record<string, unknown> },
  ): Promise<Incident[]> {
    const out: Incident[] = [];
    for await (const items of queryPages<IncidentItem>(this.doc, {
      TableName: this.tableName,
      IndexName: INCIDENT_ITEM.statusIndex,
      KeyConditionExpression: '#status = :status',
      ExpressionAttributeNames: { '#status': INCIDENT_ITEM.status, ...(extra?.names ?? {}) },
      ExpressionAttributeValues: { ':status': status, ...(extra?.values ?? {}) },
      ...(extra ? { FilterExpression: extra.filter } : {}),
    })) {
      for (const raw of items) {
        const parsed = parseItem(raw);
        if ('incident' in parsed) {
          out.push(parsed.incident);
          continue;
        }
        if (this.options.onInvalidItem === undefined) {
          throw new Error(
            `Incident item ${raw.id} in table ${this.tableName} is not a valid incident: ${parsed.problems.join('; ')}`,
          );
        }
        this.options.onInvalidItem(raw.id, parsed.problems);
      }
    }
    return out;
  }
}

function parseItem(item: IncidentItem): { incident: Incident } | { problems: string[] } {
  if (typeof item.body !== 'string') return { problems: ['body: missing (not an incident item)'] };
  let json: unknown;
  try {
    json = JSON.parse(item.body);
  } catch (e) {
    return { problems: [`body: not JSON (${(e as Error).message})`] };
  }
  const parsed = incidentSchema.safeParse(json);
  if (!parsed.success) {
    return { problems: parsed.error.issues.map((i) => `${i.path.join('.') || '(incident)'}: ${i.message}`) };
  }
  if (parsed.data.fingerprint !== item.id) {
    return { problems: [`fingerprint: ${parsed.data.fingerprint} does not match the item key ${item.id}`] };
  }
  return { incident: parsed.data };
}
