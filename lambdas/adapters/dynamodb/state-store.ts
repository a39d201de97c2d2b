import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { StateStore, Versioned } from '../../core/ports';
import type { Clock } from '../../core/time';
import { isConditionalCheckFailed, itemIsAbsent, namesUsedIn, storedVersionIs } from './conditions';

/**
 * StateStore on one DynamoDB table (key `pk`): item { pk, value, version, updatedAt }.
 * Optimistic concurrency: a write names the version it read; losing a race is the 'conflict'
 * outcome, not an error.
 *
 * `value` is stored as JSON text: the state is read and written whole by one writer, JSON keeps
 * JS numbers and nested shapes exactly, and it sidesteps DynamoDB marshalling pitfalls
 * (undefined fields, empty sets) whatever options the injected client was built with.
 */
/** DynamoDB's item limit is 400 KB; leave room for the key and the other attributes. */
const MAX_VALUE_BYTES = 390_000;

const systemClock: Clock = { now: () => Date.now() };

interface StateItem {
  readonly pk: string;
  readonly value: string;
  readonly version: number;
  readonly updatedAt: string;
}

export class DynamoDbStateStore implements StateStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock = systemClock,
  ) {}

  async get<T>(key: string): Promise<Versioned<T> | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: key }, ConsistentRead: true }),
    );
    const item = res.Item as StateItem | undefined;
    if (item === undefined) return undefined;
    return { value: JSON.parse(item.value) as T, version: Number(item.version) };
  }

  async put<T>(key: string, value: T, expectedVersion: number | undefined): Promise<number | 'conflict'> {
    const json = JSON.stringify(value) ?? 'null';
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > MAX_VALUE_BYTES) {
      throw new Error(
        `State "${key}" is ${bytes} bytes as JSON; DynamoDB items are limited to 400 KB. Split it into smaller keys.`,
      );
    }
    const version = (expectedVersion ?? 0) + 1;
    const condition = expectedVersion === undefined ? itemIsAbsent : storedVersionIs(':expected');
    const item: StateItem = {
      pk: key,
      value: json,
      version,
      updatedAt: new Date(this.clock.now()).toISOString(),
    };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: condition,
          ExpressionAttributeNames: namesUsedIn(condition),
          ...(expectedVersion === undefined
            ? {}
            : { ExpressionAttributeValues: { ':expected': expectedVersion } }),
        }),
      );
      return version;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return 'conflict';
      throw err;
    }
  }
}
