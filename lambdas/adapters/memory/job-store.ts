import { jobKey } from '../../core/jobs/job-state';
import { newestWins } from '../../core/jobs/newest-wins';
import type { TrainingJobState } from '../../core/model';
import type { ApplyOutcome, JobQueries, JobStore } from '../../core/ports';

export interface InMemoryJobStoreOptions {
  /**
   * Forget a finished job (Completed, Failed, Stopped) once its last change is this far behind the
   * newest change stored, as the DynamoDB table's TTL does (jobs.retainDays after the end), so a
   * month-long simulation does not hold a million job states. A forgotten job leaves only its
   * LastModifiedTime, so apply() answers a late, duplicate or newer event exactly as before; get()
   * and all() no longer return it. Set it above every recentAndActive horizon (detection reaches
   * back 6 h + at most 1 day): a query reaching a forgotten job's time is counted in
   * `incompleteQueries`.
   * @default keep everything
   */
  readonly retainFinishedMs?: number;
}

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
 * plus the keys written since the index floor, the oldest `sinceMs` among the last
 * FLOOR_QUERIES queries. Several callers ask with different horizons (detection: now - 6 h, the
 * KPI run, the simulation's observers: the window start), so the floor follows the oldest of
 * them rather than the last one: raising it to a later horizon made the next older query a full
 * scan and clone of every job ever stored, once per window. A query older than the floor still
 * falls back to a full scan, so the answer never depends on the index. It returns the stored
 * (deep-frozen) states themselves; get() and all() return clones as before.
 */
export class InMemoryJobStore implements JobStore, JobQueries {
  private readonly items = new Map<string, Entry>();
  private readonly active = new Set<string>();
  /** Keys whose stored lastModifiedTime may be >= indexSinceMs (a superset, pruned lazily). */
  private readonly recent = new Set<string>();
  /** recent holds every key with lastModifiedTime >= this; -Infinity until the first query. */
  private indexSinceMs = Number.NEGATIVE_INFINITY;
  /** `sinceMs` of the last FLOOR_QUERIES index-served queries (ring); the floor is their minimum. */
  private readonly lastQueries: number[] = [];
  private nextQuery = 0;
  applyCalls = 0;
  /** Finished jobs forgotten under retainFinishedMs. */
  forgotten = 0;
  /** recentAndActive calls whose horizon reached a forgotten job's time (their answer may miss it). */
  incompleteQueries = 0;
  private readonly retainFinishedMs: number;
  /** LastModifiedTime of forgotten jobs, so newest-wins still holds for them. */
  private readonly tombstones = new Map<string, number>();
  /** Finished states in apply order (key, time); the head is forgotten first. */
  private finishedQueue: { key: string; time: number }[] = [];
  private finishedHead = 0;
  private newestMs = Number.NEGATIVE_INFINITY;
  /** Newest LastModifiedTime among forgotten jobs. */
  private forgottenThroughMs = Number.NEGATIVE_INFINITY;
  private nextSeq = 0;

  constructor(options: InMemoryJobStoreOptions = {}) {
    this.retainFinishedMs = options.retainFinishedMs ?? Number.POSITIVE_INFINITY;
  }

  async apply(state: TrainingJobState): Promise<ApplyOutcome> {
    this.applyCalls++;
    const key = jobKey(state.region, state.jobName);
    const existing = this.items.get(key);
    const outcome = newestWins(
      existing?.state.lastModifiedTime ?? this.tombstones.get(key),
      state.lastModifiedTime,
    );
    if (outcome === 'applied') {
      const stored = deepFreeze(structuredClone(state));
      if (existing === undefined) {
        this.tombstones.delete(key);
        this.items.set(key, { seq: this.nextSeq++, state: stored });
      } else existing.state = stored;
      if (isActive(stored)) this.active.add(key);
      else this.active.delete(key);
      if (stored.lastModifiedTime >= this.indexSinceMs) this.recent.add(key);
      if (stored.lastModifiedTime > this.newestMs) this.newestMs = stored.lastModifiedTime;
      if (this.retainFinishedMs !== Number.POSITIVE_INFINITY) {
        if (!isActive(stored)) this.finishedQueue.push({ key, time: stored.lastModifiedTime });
        this.forgetFinished();
      }
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
    if (sinceMs <= this.forgottenThroughMs) this.incompleteQueries++;
    if (sinceMs < this.indexSinceMs) {
      return this.all().filter((j) => isActive(j) || j.lastModifiedTime >= sinceMs);
    }
    this.raiseFloor(sinceMs);
    const hits: Entry[] = [];
    const seen = new Set<string>();
    for (const key of this.active) {
      const e = this.items.get(key);
      if (e !== undefined && !seen.has(key)) {
        seen.add(key);
        hits.push(e);
      }
    }
    for (const key of this.recent) {
      const e = this.items.get(key);
      if (e !== undefined && e.state.lastModifiedTime >= sinceMs && !seen.has(key)) {
        seen.add(key);
        hits.push(e);
      }
    }
    hits.sort((a, b) => a.seq - b.seq);
    // Stored states are deep-frozen copies: handing them out cannot let a caller change the store
    // (a write throws), and thousands of jobs per window are not cloned again.
    return hits.map((e) => e.state);
  }

  /** Forgets finished jobs whose last change is older than the retention (queue order). */
  private forgetFinished(): void {
    const horizonMs = this.newestMs - this.retainFinishedMs;
    const q = this.finishedQueue;
    while (this.finishedHead < q.length) {
      const head = q[this.finishedHead] as { key: string; time: number };
      if (head.time >= horizonMs) break;
      this.finishedHead++;
      const e = this.items.get(head.key);
      // Skip a queue entry superseded by a later state (kept, or queued again when it finishes).
      if (e === undefined || isActive(e.state) || e.state.lastModifiedTime !== head.time) continue;
      this.items.delete(head.key);
      this.recent.delete(head.key);
      this.tombstones.set(head.key, head.time);
      if (head.time > this.forgottenThroughMs) this.forgottenThroughMs = head.time;
      this.forgotten++;
    }
    if (this.finishedHead > 4096 && this.finishedHead * 2 > q.length) {
      this.finishedQueue = q.slice(this.finishedHead);
      this.finishedHead = 0;
    }
  }

  /** Records the query and moves the floor up to the oldest recent one, dropping older keys. */
  private raiseFloor(sinceMs: number): void {
    if (this.lastQueries.length < FLOOR_QUERIES) this.lastQueries.push(sinceMs);
    else this.lastQueries[this.nextQuery] = sinceMs;
    this.nextQuery = (this.nextQuery + 1) % FLOOR_QUERIES;
    let floor = sinceMs;
    for (const q of this.lastQueries) if (q < floor) floor = q;
    if (floor <= this.indexSinceMs) return;
    this.indexSinceMs = floor;
    for (const key of this.recent) {
      const e = this.items.get(key);
      if (e === undefined || e.state.lastModifiedTime < floor) this.recent.delete(key);
    }
  }
}

/** How many recent queries keep the index floor down (a few windows of every caller). */
const FLOOR_QUERIES = 64;

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
