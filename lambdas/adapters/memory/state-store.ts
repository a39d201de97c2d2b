import type { StateStore, Versioned } from '../../core/ports';

export interface InMemoryStateStoreOptions {
  /**
   * How values cross the store boundary.
   * - 'clone': put stores a structured clone and get hands out another, so callers may mutate
   *   what they put or got (the DynamoDB and S3 stores serialise, which isolates the same way).
   * - 'frozen': put takes ownership of the value and deep-freezes it, get hands out that frozen
   *   value; a caller that mutates either throws (ESM is strict mode) instead of corrupting the
   *   store. For callers that only read what they got: detect-window parses the state into fresh
   *   objects, and in a simulation the two structured clones per window of the detection state
   *   (a day of job activity, hour-of-week baselines) cost more than the detectors reading it.
   * @default 'clone'
   */
  readonly values?: 'clone' | 'frozen';
}

/** In-memory StateStore with the same optimistic-version contract as the DynamoDB one. */
export class InMemoryStateStore implements StateStore {
  private readonly items = new Map<string, Versioned<unknown>>();
  private readonly frozen: boolean;

  constructor(options: InMemoryStateStoreOptions = {}) {
    this.frozen = options.values === 'frozen';
  }

  async get<T>(key: string): Promise<Versioned<T> | undefined> {
    const hit = this.items.get(key);
    if (hit === undefined) return undefined;
    return { value: (this.frozen ? hit.value : structuredClone(hit.value)) as T, version: hit.version };
  }

  async put<T>(key: string, value: T, expectedVersion: number | undefined): Promise<number | 'conflict'> {
    const current = this.items.get(key);
    if (current?.version !== expectedVersion) return 'conflict';
    const version = (current?.version ?? 0) + 1;
    this.items.set(key, { value: this.frozen ? deepFreeze(value) : structuredClone(value), version });
    return version;
  }
}

/**
 * Freezes every object and array reachable from `value` (state values are JSON-like trees). An
 * object that is already frozen is taken as frozen all the way down (what this function and the
 * detection state's parse produce) and not walked again: most of a day's detection state is job
 * entries carried unchanged from run to run, frozen once.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (Array.isArray(value)) for (const v of value) deepFreeze(v);
  else for (const k in value) deepFreeze((value as Record<string, unknown>)[k]);
  return value;
}
