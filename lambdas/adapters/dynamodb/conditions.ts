/**
 * Named sub-conditions for DynamoDB condition expressions, so a conditional write reads like
 * prose: `anyOf(itemIsAbsent, storedIsOlderThan(':lm'))`. Attribute names go through
 * placeholders (#pk, #lm, #version) declared in CONDITION_NAMES.
 */
export const CONDITION_NAMES = {
  '#pk': 'pk',
  '#lm': 'lastModifiedTime',
  '#version': 'version',
} as const;

export const itemIsAbsent = 'attribute_not_exists(#pk)';

export function storedIsOlderThan(lastModifiedPlaceholder: string): string {
  return `#lm < ${lastModifiedPlaceholder}`;
}

export function storedVersionIs(versionPlaceholder: string): string {
  return `#version = ${versionPlaceholder}`;
}

export function anyOf(...conditions: string[]): string {
  return conditions.map((c) => `(${c})`).join(' OR ');
}

/** Only the placeholders an expression uses (DynamoDB rejects unused ExpressionAttributeNames). */
export function namesUsedIn(expression: string): Record<string, string> {
  return Object.fromEntries(Object.entries(CONDITION_NAMES).filter(([p]) => expression.includes(p)));
}

export function isConditionalCheckFailed(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}
