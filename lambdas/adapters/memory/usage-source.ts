import type { InputIssue, JobUsage, NodeWindow, TimeWindow } from '../../core/kpi/goodput';
import { mergeUsageRecords, type WindowUsageRecord } from '../../core/kpi/window-usage';
import type { NodeInventory, UsageRecorder, UsageSource } from '../../core/ports';

const overlaps = (a: TimeWindow, startMs: number, endMs: number) => a.startMs < endMs && a.endMs > startMs;

/**
 * In-memory UsageSource: what the detection run will record per window, held in a list. Returns
 * the jobs whose allocation or usage overlaps the range, with only the overlapping buckets (the
 * goodput arithmetic clips partial buckets itself).
 */
export class InMemoryUsageSource implements UsageSource {
  private readonly jobs = new Map<string, JobUsage>();

  constructor(initial: readonly JobUsage[] = []) {
    for (const j of initial) this.record(j);
  }

  /** Adds or replaces a job's usage (keyed by region and job name). */
  record(job: JobUsage): void {
    this.jobs.set(`${job.region}#${job.jobName}`, structuredClone(job));
  }

  async usage(startMs: number, endMs: number): Promise<JobUsage[]> {
    const out: JobUsage[] = [];
    for (const j of this.jobs.values()) {
      const buckets = j.buckets.filter((b) => overlaps(b, startMs, endMs));
      if (buckets.length === 0 && !j.allocations.some((a) => overlaps(a, startMs, endMs))) continue;
      out.push(structuredClone({ ...j, buckets }));
    }
    return out;
  }
}

/**
 * In-memory NodeInventory keyed by window: tests and the simulator give each window its nodes
 * (the AWS side will derive them from the fleet config, the collected series and the maintenance
 * calendar). A window with nothing recorded has no capacity.
 */
export class InMemoryNodeInventory implements NodeInventory {
  private readonly windows = new Map<string, NodeWindow[]>();

  set(window: TimeWindow, nodes: readonly NodeWindow[]): void {
    this.windows.set(`${window.startMs}-${window.endMs}`, structuredClone([...nodes]));
  }

  async nodes(startMs: number, endMs: number): Promise<NodeWindow[]> {
    return structuredClone(this.windows.get(`${startMs}-${endMs}`) ?? []);
  }
}

/**
 * In-memory usage records: the detection run's UsageRecorder and the KPI Lambda's UsageSource and
 * NodeInventory in one object, with the same merge as the S3 store (mergeUsageRecords). Give the
 * same instance to detectWindow (deps.usage) and computeKpis (deps.usage and deps.inventory), in
 * tests and in the simulator. Merge issues (invalid windows) are kept in `issues`.
 */
export class InMemoryUsageRecords implements UsageRecorder, UsageSource, NodeInventory {
  private readonly records = new Map<number, WindowUsageRecord>();
  readonly issues: InputIssue[] = [];

  /** Stores the window's record; recording the same window start again replaces it. */
  async record(usage: WindowUsageRecord): Promise<void> {
    this.records.set(usage.window.startMs, structuredClone(usage));
  }

  /** Every stored record, oldest window first. */
  all(): WindowUsageRecord[] {
    return [...this.records.values()]
      .sort((a, b) => a.window.startMs - b.window.startMs)
      .map((r) => structuredClone(r));
  }

  async usage(startMs: number, endMs: number): Promise<JobUsage[]> {
    return this.merged(startMs, endMs).jobs;
  }

  async nodes(startMs: number, endMs: number): Promise<NodeWindow[]> {
    return this.merged(startMs, endMs).nodes;
  }

  private merged(startMs: number, endMs: number) {
    const inRange = [...this.records.values()].filter(
      (r) => r.window.startMs < endMs && r.window.endMs > startMs,
    );
    const m = mergeUsageRecords(inRange, startMs, endMs);
    this.issues.push(...m.issues);
    return structuredClone(m);
  }
}
