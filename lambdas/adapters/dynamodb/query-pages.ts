import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

/**
 * The items of a Query, one page at a time, following LastEvaluatedKey until DynamoDB says there
 * is no more (a page holds at most 1 MB, so a long partition always spans several).
 */
/** `T` is the stored item shape the caller validates (DynamoDB returns untyped maps). */
export async function* queryPages<T>(
  doc: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, 'ExclusiveStartKey'>,
): AsyncGenerator<T[]> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const res = await doc.send(
      new QueryCommand({ ...input, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }),
    );
    yield (res.Items ?? []) as T[];
    startKey = res.LastEvaluatedKey;
  } while (startKey !== undefined);
}
