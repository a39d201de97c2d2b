import type { FindingLabels } from '../../contracts/finding';

/**
 * The stable identity of an incident: a 64-bit FNV-1a hash (pure TypeScript, no node:crypto, so
 * the core stays portable) of the kind and the IDENTIFYING labels, sorted by name. `team` is an
 * attribute for routing, not identity: re-assigning a node to another team must not open a new
 * incident. The same key is the table key, the dedup key and the idempotency key.
 */
export const IDENTIFYING_LABELS = ['cluster', 'region', 'node', 'gpu', 'job', 'endpoint', 'feature'] as const;

export type HashFn = (text: string) => string;

export function fingerprintOf(kind: string, labels: FindingLabels, hash: HashFn = fnv1a64): string {
  const pairs = Object.entries(labels)
    .filter(([k, v]) => v !== undefined && (IDENTIFYING_LABELS as readonly string[]).includes(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // JSON escapes separators inside values, so {node:"a,b"} and {node:"a", gpu:"b"} cannot collide textually.
  return hash(JSON.stringify([kind, pairs]));
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;

/** FNV-1a, 64 bits, over the UTF-8 bytes of `text`; 16 lower-case hex digits. */
export function fnv1a64(text: string): string {
  let h = FNV_OFFSET;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= BigInt(byte);
    h = (h * FNV_PRIME) & MASK;
  }
  return h.toString(16).padStart(16, '0');
}
