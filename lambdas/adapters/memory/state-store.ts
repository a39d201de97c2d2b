import type { StateStore, Versioned } from '../../core/ports';

/** In-memory StateStore with the same optimistic-version contract as the DynamoDB one. */
export class InMemoryStateStore implements StateStore {
  private readonly items = new Map<string, Versioned<unknown>>();

  async get<T>(key: string): Promise<Versioned<T> | undefined> {
    const hit = this.items.get(key);
    return hit === undefined ? undefined : { value: structuredClone(hit.value) as T, version: hit.version };
  }

  async put<T>(key: string, value: T, expectedVersion: number | undefined): Promise<number | 'conflict'> {
    const current = this.items.get(key);
    if (current?.version !== expectedVersion) return 'conflict';
    const version = (current?.version ?? 0) + 1;
    this.items.set(key, { value: structuredClone(value), version });
    return version;
  }
}
