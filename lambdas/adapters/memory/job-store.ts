import { jobKey } from '../../core/jobs/job-state';
import { newestWins } from '../../core/jobs/newest-wins';
import type { TrainingJobState } from '../../core/model';
import type { ApplyOutcome, JobStore } from '../../core/ports';

/** In-memory JobStore with the DynamoDB store's newest-LastModifiedTime-wins contract. */
export class InMemoryJobStore implements JobStore {
  private readonly items = new Map<string, TrainingJobState>();
  applyCalls = 0;

  async apply(state: TrainingJobState): Promise<ApplyOutcome> {
    this.applyCalls++;
    const key = jobKey(state.region, state.jobName);
    const outcome = newestWins(this.items.get(key)?.lastModifiedTime, state.lastModifiedTime);
    if (outcome === 'applied') this.items.set(key, structuredClone(state));
    return outcome;
  }

  async get(region: string, jobName: string): Promise<TrainingJobState | undefined> {
    const hit = this.items.get(jobKey(region, jobName));
    return hit === undefined ? undefined : structuredClone(hit);
  }

  all(): TrainingJobState[] {
    return [...this.items.values()].map((s) => structuredClone(s));
  }
}
