import type { TrainingJobState } from '../../core/model';
import type { JobQueries } from '../../core/ports';
import type { InMemoryJobStore } from './job-store';

/**
 * In-memory JobQueries over the in-memory job store (or a fixed list): every job still InProgress
 * or Stopping, plus every job whose state changed at or after `sinceMs`.
 */
export class InMemoryJobQueries implements JobQueries {
  calls: number[] = [];
  /** Set to make the next calls fail (the job store is unreachable). */
  failWith: Error | undefined;

  constructor(private readonly source: InMemoryJobStore | { all(): TrainingJobState[] }) {}

  static of(jobs: readonly TrainingJobState[]): InMemoryJobQueries {
    return new InMemoryJobQueries({ all: () => jobs.map((j) => structuredClone(j)) });
  }

  async recentAndActive(sinceMs: number): Promise<TrainingJobState[]> {
    this.calls.push(sinceMs);
    if (this.failWith) throw this.failWith;
    return this.source
      .all()
      .filter((j) => j.status === 'InProgress' || j.status === 'Stopping' || j.lastModifiedTime >= sinceMs);
  }
}
