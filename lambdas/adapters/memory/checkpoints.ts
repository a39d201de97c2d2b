import type { CheckpointLister } from '../../core/ports';

/**
 * In-memory checkpoint prefixes: newest object time per s3:// prefix. Counts calls and the
 * largest number in flight at once (the use case bounds its concurrency); prefixes listed in
 * `failing` throw like an S3 error would.
 */
export class InMemoryCheckpointLister implements CheckpointLister {
  private readonly newest = new Map<string, number>();
  readonly failing = new Set<string>();
  readonly calls: string[] = [];
  inFlight = 0;
  maxInFlight = 0;

  set(s3Uri: string, newestMs: number): this {
    this.newest.set(s3Uri, newestMs);
    return this;
  }

  async newestObjectTime(s3Uri: string): Promise<number | undefined> {
    this.calls.push(s3Uri);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await Promise.resolve(); // let other listings start, as real I/O would
      if (this.failing.has(s3Uri)) throw new Error(`AccessDenied: ListObjectsV2 on ${s3Uri}`);
      return this.newest.get(s3Uri);
    } finally {
      this.inFlight--;
    }
  }
}
