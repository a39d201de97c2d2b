import { jobKey } from '../../core/jobs/job-state';
import { newestWins } from '../../core/jobs/newest-wins';
import type { TrainingJobState } from '../../core/model';
import type { ApplyOutcome, JobQueries, JobStore } from '../../core/ports';

interface Entry {
  /** Insertion order of the key (Map order), so indexed queries return jobs in the same order as all(). */
  readonly seq: number;
  state: TrainingJobState;
}

/**
 * In-memory JobStore with the DynamoDB store's newest-LastModifiedTime-wins contract.
 *
 * recentAndActive keeps an index so a month-long simulation (a million jobs) does not scan and clone
 * every job it ever saw once per detection window: the keys of jobs still InProgress or Stopping,
 * plus the keys written since the oldest `sinceMs` asked so far. A query older than that falls back
 * to a full scan, so the answer never depends on the index. It returns the stored (deep-frozen)
 * states themselves; get() and all() return clones as before.
 */
export class InMemoryJobStore implements JobStore, JobQueries {
  private readonly items = new Map<string, Entry>();
  private readonly active = new Set<string>();
  /** Keys whose stored lastModifiedTime may be >= indexSinceMs (a superset, pruned lazily). */
  private recent = new Set<string>();
  /** recent holds every key with lastModifiedTime >= this; -Infinity until the first query. */
  private indexSinceMs = Number.NEGATIVE_INFINITY;
  applyCalls = 0;

  async apply(state: TrainingJobState): Promise<ApplyOutcome> {
    this.applyCalls++;
    const key = jobKey(state.region, state.jobName);
    const existing = this.items.get(key);
    const outcome = newestWins(existing?.state.lastModifiedTime, state.lastModifiedTime);
    if (outcome === 'applied') {
      const stored = deepFreeze(structuredClone(state));
      if (existing === undefined) this.items.set(key, { seq: this.items.size, state: stored });
      else existing.state = stored;
      if (isActive(stored)) this.active.add(key);
      else this.active.delete(key);
      if (stored.lastModifiedTime >= this.indexSinceMs) this.recent.add(key);
    }
    return outcome;
  }

  async get(region: string, jobName: string): Promise<TrainingJobState | undefined> {
    const hit = this.items.get(jobKey(region, jobName));
    return hit === undefined ? undefined : structuredClone(hit.state);
  }

  all(): TrainingJobState[] {
    return [...this.items.values()].map((e) => structuredClone(e.state));
  }

  /** JobQueries over this store: same jobs, same order as filtering all(), without the full scan. */
  async recentAndActive(sinceMs: number): Promise<TrainingJobState[]> {
    if (sinceMs < this.indexSinceMs) {
      return this.all().filter((j) => isActive(j) || j.lastModifiedTime >= sinceMs);
    }
    this.indexSinceMs = sinceMs;
    const kept = new Set<string>();
    const hits: Entry[] = [];
    for (const key of this.recent) {
      const e = this.items.get(key);
      if (e !== undefined && e.state.lastModifiedTime >= sinceMs) kept.add(key);
    }
    this.recent = kept;
    for (const key of new Set([...this.active, ...kept])) {
      const e = this.items.get(key);
      if (e !== undefined) hits.push(e);
    }
    hits.sort((a, b) => a.seq - b.seq);
    // Stored states are deep-frozen copies: handing them out cannot let a caller change the store
    // (a write throws), and thousands of jobs per window are not cloned again.
    return hits.map((e) => e.state);
  }
}

function isActive(j: TrainingJobState): boolean {
  return j.status === 'InProgress' || j.status === 'Stopping';
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
