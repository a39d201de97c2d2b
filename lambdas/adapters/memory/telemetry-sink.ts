import type { GpuSample, TrainingJobState } from '../../core/model';
import type { SinkWriteResult, TelemetrySink } from '../../core/ports';

export interface InMemoryTelemetrySinkOptions {
  /**
   * Forget records older than this behind the newest one written (like a Timestream memory-store
   * retention), so a month-long simulation does not hold every GPU-minute. Records are kept while
   * a rewrite could still reach them: set it above the collector's backfill horizon.
   * @default keep everything
   */
  readonly retainMs?: number;
  /**
   * What is held per record. 'samples' (tests): the written GPU samples and job states, readable
   * through `gpu` and `jobs`. 'digests' (long simulations): only what the idempotency rule needs,
   * a 53-bit hash of each GPU record's values (as JSON would print them) per GPU and minute (~50 bytes instead of ~1 KB), and
   * nothing per job state (they are never rejected); `gpu` and `jobs` stay empty, `gpuRecords`
   * counts what is held. A different rewrite is rejected exactly as with 'samples' unless its
   * values hash equal to the first ones (chance ~1e-16 per rewrite).
   * @default 'samples'
   */
  readonly keep?: 'samples' | 'digests';
}

/**
 * In-memory telemetry sink that keeps Timestream's idempotency rule: the same key written again
 * with the same values is accepted, with different values it is rejected (first value kept).
 */
export class InMemoryTelemetrySink implements TelemetrySink {
  readonly name = 'memory';
  readonly gpu = new Map<string, GpuSample>();
  readonly jobs = new Map<string, TrainingJobState>();
  gpuWriteCalls = 0;
  jobWriteCalls = 0;
  private readonly retainMs: number;
  private readonly digestsOnly: boolean;
  /** 'digests' mode: per GPU (cluster|region|node|gpu), values hash by record time, in write order. */
  private readonly digests = new Map<string, Map<number, number>>();
  /**
   * The same per-GPU maps by labels object: the collector shares one labels object among the
   * samples of a series, so the text key is built once per series instead of once per sample.
   * Only adds a route to a map of `digests` (those are never removed), so the answer is the same.
   */
  private readonly digestsByLabels = new WeakMap<GpuSample['labels'], Map<number, number>>();
  private digestCount = 0;
  private newestGpuMs = Number.NEGATIVE_INFINITY;
  private newestJobMs = Number.NEGATIVE_INFINITY;

  constructor(options: InMemoryTelemetrySinkOptions = {}) {
    this.retainMs = options.retainMs ?? Number.POSITIVE_INFINITY;
    this.digestsOnly = options.keep === 'digests';
  }

  /** GPU records currently held (either mode). */
  get gpuRecords(): number {
    return this.digestsOnly ? this.digestCount : this.gpu.size;
  }

  async writeGpuSamples(samples: readonly GpuSample[]): Promise<SinkWriteResult> {
    this.gpuWriteCalls += Math.ceil(samples.length / 100);
    const rejected: { index: number; reason: string }[] = [];
    samples.forEach((s, index) => {
      if (!(this.digestsOnly ? this.keepDigest(s) : this.keepSample(s))) {
        rejected.push({
          index,
          reason: 'A record with the same dimensions and time but different values exists',
        });
        return;
      }
      if (s.time > this.newestGpuMs) this.newestGpuMs = s.time;
    });
    if (this.retainMs !== Number.POSITIVE_INFINITY) {
      const horizonMs = this.newestGpuMs - this.retainMs;
      if (this.digestsOnly) {
        for (const perGpu of this.digests.values())
          this.digestCount -= pruneOlder(perGpu, horizonMs, (_digest, time) => time);
      } else pruneOlder(this.gpu, horizonMs, (s) => s.time);
    }
    return { written: samples.length - rejected.length, rejected, calls: Math.ceil(samples.length / 100) };
  }

  async writeJobStates(jobs: readonly TrainingJobState[]): Promise<SinkWriteResult> {
    this.jobWriteCalls += Math.ceil(jobs.length / 100);
    if (!this.digestsOnly) {
      for (const j of jobs) {
        this.jobs.set(`${j.region}|${j.jobName}|${j.lastModifiedTime}`, j);
        if (j.lastModifiedTime > this.newestJobMs) this.newestJobMs = j.lastModifiedTime;
      }
      if (this.retainMs !== Number.POSITIVE_INFINITY)
        pruneOlder(this.jobs, this.newestJobMs - this.retainMs, (j) => j.lastModifiedTime);
    }
    return { written: jobs.length, rejected: [], calls: Math.ceil(jobs.length / 100) };
  }

  /** 'samples' mode: false when the key holds other values. */
  private keepSample(s: GpuSample): boolean {
    const key = `${s.labels.cluster}|${s.labels.region}|${s.labels.node}|${s.labels.gpu}|${s.time}`;
    const existing = this.gpu.get(key);
    if (existing !== undefined && JSON.stringify(existing.values) !== JSON.stringify(s.values)) return false;
    this.gpu.set(key, s);
    return true;
  }

  /** 'digests' mode: same rule over the values hash. */
  private keepDigest(s: GpuSample): boolean {
    let perGpu = this.digestsByLabels.get(s.labels);
    if (perGpu === undefined) {
      const gpuKey = `${s.labels.cluster}|${s.labels.region}|${s.labels.node}|${s.labels.gpu}`;
      perGpu = this.digests.get(gpuKey);
      if (perGpu === undefined) {
        perGpu = new Map();
        this.digests.set(gpuKey, perGpu);
      }
      this.digestsByLabels.set(s.labels, perGpu);
    }
    const digest = valuesDigest(s.values);
    const existing = perGpu.get(s.time);
    if (existing !== undefined) return existing === digest;
    perGpu.set(s.time, digest);
    this.digestCount++;
    return true;
  }
}

/**
 * Drops the oldest records in insertion order (roughly time order) until one is inside the
 * horizon: cheap, and a record written out of order is only kept a little longer. Returns how many
 * were dropped.
 */
function pruneOlder<K, V>(records: Map<K, V>, horizonMs: number, timeOf: (v: V, k: K) => number): number {
  let dropped = 0;
  for (const [key, v] of records) {
    if (timeOf(v, key) >= horizonMs) break;
    records.delete(key);
    dropped++;
  }
  return dropped;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/**
 * A 53-bit hash (cyrb53's two 32-bit lanes) of what JSON.stringify(values) would print, without
 * building the string: keys in order, undefined values skipped, every non-finite number hashed
 * alike (JSON prints null) and -0 as 0. Equal JSON gives an equal digest.
 */
function valuesDigest(values: Readonly<Record<string, number | undefined>>): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  const mix = (c: number) => {
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  };
  for (const key in values) {
    const v = values[key];
    if (v === undefined) continue;
    for (let i = 0; i < key.length; i++) mix(key.charCodeAt(i));
    if (Number.isFinite(v)) {
      f64[0] = v === 0 ? 0 : v;
      mix(u32[0] as number);
      mix(u32[1] as number);
    } else mix(0x6e756c6c); // "null"
    mix(0x2c); // separator
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
