import type { Incident } from '../../contracts/incident';
import type { IncidentStore } from '../../core/ports';

/** In-memory IncidentStore with the DynamoDB contract: one item per fingerprint, optimistic versions. */
export class InMemoryIncidentStore implements IncidentStore {
  private readonly items = new Map<string, Incident>();
  /** Count of puts refused with 'conflict' (tests assert retries). */
  conflicts = 0;
  /** Makes the next `n` puts fail with 'conflict', as if another writer got there first. */
  injectConflicts = 0;

  async get(fingerprint: string): Promise<Incident | undefined> {
    const hit = this.items.get(fingerprint);
    return hit === undefined ? undefined : structuredClone(hit);
  }

  async put(incident: Incident): Promise<Incident | 'conflict'> {
    const current = this.items.get(incident.fingerprint);
    if (this.injectConflicts > 0 || (current?.version ?? 0) !== incident.version) {
      if (this.injectConflicts > 0) this.injectConflicts--;
      this.conflicts++;
      return 'conflict';
    }
    const stored = { ...structuredClone(incident), version: incident.version + 1 };
    this.items.set(incident.fingerprint, stored);
    return structuredClone(stored);
  }

  async listActive(): Promise<Incident[]> {
    return this.cloned((i) => i.status !== 'resolved' || i.notifications.some((n) => n.status === 'pending'));
  }

  async listRecent(sinceMs: number): Promise<Incident[]> {
    return this.cloned(
      (i) => i.lastSeenMs >= sinceMs || (i.history[i.history.length - 1]?.at ?? 0) >= sinceMs,
    );
  }

  /** Every stored incident, by fingerprint (tests). */
  all(): Incident[] {
    return this.cloned(() => true);
  }

  /**
   * Clones of the stored incidents that match, by fingerprint. Filters before cloning: the sweep
   * lists active incidents every window, and a month-long run holds hundreds of resolved ones
   * that used to be cloned each time only to be dropped.
   */
  private cloned(keep: (i: Incident) => boolean): Incident[] {
    return [...this.items.values()]
      .filter(keep)
      .sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1))
      .map((i) => structuredClone(i));
  }
}
