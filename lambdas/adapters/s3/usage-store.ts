import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { CAUSES } from '../../contracts/finding';
import type { JobUsage, NodeWindow } from '../../core/kpi/goodput';
import { UsageMerger, WINDOW_USAGE_VERSION, type WindowUsageRecord } from '../../core/kpi/window-usage';
import type { NodeInventory, UsageRecorder, UsageSource } from '../../core/ports';
import { errorMessage, errorName, httpStatus } from '../aws-retry';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/**
 * Usage records on S3: one gzip'd JSON object per detection window, partitioned by hour so a
 * KPI range lists only its own hours:
 *
 *   <prefix>YYYY-MM-DD/HH/<window start ISO>.json.gz       prefix default 'kpi/usage/'
 *   e.g. kpi/usage/2026-11-24/08/2026-11-24T08:05:00.000Z.json.gz
 *
 * Reads list the hour prefixes of [start, end) plus the hour before (a window that started
 * before the range may reach into it), fetch the objects a few at a time, validate them, and
 * merge them per job and per node (mergeUsageRecords). An object that vanished between list and
 * get, cannot be gunzipped or parsed, or fails the schema is an input issue (onUnreadable), never
 * a crash: the KPIs are then computed from the windows that remain.
 *
 * computeKpis asks usage() and nodes() for the same range at once; both share one read.
 */
export interface S3UsageStoreOptions {
  /** @default 'kpi/usage/' */
  readonly prefix?: string;
  /** Objects read at once. @default 8 */
  readonly concurrency?: number;
  /** Longest window a record may cover (how far back before the range to list). @default 1 h */
  readonly maxWindowMs?: number;
  /** Called once per object that could not be used, with the reason. */
  readonly onUnreadable?: (u: {
    key: string;
    reason: 'missing' | 'corrupt' | 'invalid';
    detail: string;
  }) => void;
  /** Called once per merge issue (e.g. a record whose window is empty). */
  readonly onIssue?: (issue: { subject: string; problem: string }) => void;
}

export const USAGE_PREFIX = 'kpi/usage/';
const HOUR_MS = 3_600_000;

/** Object key of a window record. */
export function usageKey(prefix: string, windowStartMs: number): string {
  const iso = new Date(windowStartMs).toISOString();
  return `${prefix}${iso.slice(0, 10)}/${iso.slice(11, 13)}/${iso}.json.gz`;
}

/** Hour prefixes covering [startMs, endMs). */
export function hourPrefixes(prefix: string, startMs: number, endMs: number): string[] {
  const out: string[] = [];
  for (let h = Math.floor(startMs / HOUR_MS) * HOUR_MS; h < endMs; h += HOUR_MS) {
    const iso = new Date(h).toISOString();
    out.push(`${prefix}${iso.slice(0, 10)}/${iso.slice(11, 13)}/`);
  }
  return out;
}

const num = z.number().finite();
const nonNeg = num.min(0);
const window = z.object({ startMs: num, endMs: num });
const bucketSchema = z.object({
  startMs: num,
  endMs: num,
  observedGpuMinutes: nonNeg,
  trainingGpuMinutes: nonNeg,
  progressingGpuMinutes: nonNeg,
  progressingSmGpuMinutes: nonNeg,
  dataWaitGpuMinutes: nonNeg.optional(),
  commGpuMinutes: nonNeg.optional(),
});
const jobSchema = z.object({
  jobName: z.string().min(1),
  region: z.string().min(1),
  cluster: z.string().min(1),
  team: z.string().min(1),
  instanceType: z.string().optional(),
  gpus: nonNeg,
  allocations: z.array(window),
  buckets: z.array(bucketSchema),
  outcome: z.enum(['running', 'completed', 'failed', 'stopped']),
  checkpoints: z.array(num),
  failureCause: z.enum(CAUSES).optional(),
  cohort: z.record(z.string(), z.string()).optional(),
});
const nodeSchema = z.object({
  node: z.string().min(1),
  region: z.string().min(1),
  cluster: z.string().min(1),
  team: z.string().optional(),
  instanceType: z.string(),
  gpus: nonNeg,
  presentMinutes: nonNeg,
  maintenanceMinutes: nonNeg,
  unhealthyMinutes: nonNeg,
  hardwareFaults: nonNeg,
});
export const windowUsageRecordSchema = z.object({
  version: z.literal(WINDOW_USAGE_VERSION),
  window,
  jobs: z.array(jobSchema),
  nodes: z.array(nodeSchema),
  unattributedSamples: nonNeg,
  issues: z.array(z.object({ subject: z.string(), problem: z.string() })),
});

interface Merged {
  readonly jobs: JobUsage[];
  readonly nodes: NodeWindow[];
}

export class S3UsageStore implements UsageRecorder, UsageSource, NodeInventory {
  private readonly prefix: string;
  private readonly concurrency: number;
  private readonly maxWindowMs: number;
  /** The last range read, shared by the usage() and nodes() calls of one KPI run. */
  private last: { startMs: number; endMs: number; merged: Promise<Merged> } | undefined;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly options: S3UsageStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? USAGE_PREFIX;
    this.concurrency = Math.max(1, options.concurrency ?? 8);
    this.maxWindowMs = options.maxWindowMs ?? HOUR_MS;
  }

  async record(usage: WindowUsageRecord): Promise<void> {
    const body = await gzipAsync(Buffer.from(JSON.stringify(usage), 'utf8'));
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: usageKey(this.prefix, usage.window.startMs),
        Body: body,
        ContentType: 'application/gzip',
      }),
    );
    this.last = undefined;
  }

  async usage(startMs: number, endMs: number): Promise<JobUsage[]> {
    return (await this.read(startMs, endMs)).jobs;
  }

  async nodes(startMs: number, endMs: number): Promise<NodeWindow[]> {
    return (await this.read(startMs, endMs)).nodes;
  }

  private read(startMs: number, endMs: number): Promise<Merged> {
    if (this.last?.startMs !== startMs || this.last.endMs !== endMs) {
      const merged = this.load(startMs, endMs);
      this.last = { startMs, endMs, merged };
      // A failed read is not cached: the next call tries again.
      merged.catch(() => {
        if (this.last?.merged === merged) this.last = undefined;
      });
    }
    return this.last.merged;
  }

  private async load(startMs: number, endMs: number): Promise<Merged> {
    const keys: string[] = [];
    for (const p of hourPrefixes(this.prefix, startMs - this.maxWindowMs, endMs))
      keys.push(...(await this.list(p)));
    // Records are folded into the merger as they arrive: a day at 12,000 GPUs is ~300 MB of JSON.
    const merger = new UsageMerger(startMs, endMs);
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const key = keys[next++] as string;
        const r = await this.get(key);
        if (r && r.window.startMs < endMs && r.window.endMs > startMs) merger.add(r);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, keys.length) }, worker));
    const merged = merger.result();
    for (const issue of merged.issues) this.options.onIssue?.(issue);
    return { jobs: merged.jobs, nodes: merged.nodes };
  }

  private async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const res = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of res.Contents ?? []) if (o.Key?.endsWith('.json.gz')) keys.push(o.Key);
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  private async get(key: string): Promise<WindowUsageRecord | undefined> {
    let bytes: Uint8Array | undefined;
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      bytes = await res.Body?.transformToByteArray();
    } catch (err) {
      if (errorName(err) === 'NoSuchKey' || httpStatus(err) === 404) {
        this.options.onUnreadable?.({
          key,
          reason: 'missing',
          detail: `${errorName(err)}: ${errorMessage(err)}`,
        });
        return undefined;
      }
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse((await gunzipAsync(bytes ?? new Uint8Array())).toString('utf8'));
    } catch (err) {
      this.options.onUnreadable?.({
        key,
        reason: 'corrupt',
        detail: `${errorName(err)}: ${errorMessage(err)}`,
      });
      return undefined;
    }
    const parsed = windowUsageRecordSchema.safeParse(json);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      this.options.onUnreadable?.({
        key,
        reason: 'invalid',
        detail: `${first?.path.join('.') ?? ''}: ${first?.message ?? 'invalid'} (${parsed.error.issues.length} issue(s))`,
      });
      return undefined;
    }
    return parsed.data as WindowUsageRecord;
  }
}
