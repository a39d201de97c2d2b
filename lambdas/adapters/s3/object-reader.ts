import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { parseS3Uri } from '../../contracts/drift-config';
import type {
  ListObjectsOptions,
  ObjectListing,
  ObjectReader,
  ReadTextResult,
  StoredObject,
} from '../../core/ports';
import { backoffMs, isTransient, type Sleep, sleepFor } from '../aws-retry';

/**
 * ObjectReader over S3 GetObject / ListObjectsV2. The client comes from the wiring (path-style
 * addressing for local emulators, region redirects followed for buckets in other regions).
 *
 * Size cap: GetObject's ContentLength is checked before the body is read; an oversized object is
 * reported as 'too_large' and its stream is discarded unread, so a runaway capture file cannot
 * exhaust the Lambda's memory.
 */
export interface S3ObjectReaderOptions {
  /** Attempts per call on throttling (SlowDown) / 5xx / network errors. @default 4 */
  readonly maxAttempts?: number;
  /** @default 200 */
  readonly baseDelayMs?: number;
  /** @default 5000 */
  readonly maxDelayMs?: number;
  readonly sleep?: Sleep;
  readonly random?: () => number;
}

const DEFAULT_MAX_KEYS = 10_000;

export class S3ObjectReader implements ObjectReader {
  private readonly opts: Required<S3ObjectReaderOptions>;

  constructor(
    private readonly client: S3Client,
    options: S3ObjectReaderOptions = {},
  ) {
    this.opts = {
      maxAttempts: Math.max(1, options.maxAttempts ?? 4),
      baseDelayMs: options.baseDelayMs ?? 200,
      maxDelayMs: options.maxDelayMs ?? 5_000,
      sleep: options.sleep ?? sleepFor,
      random: options.random ?? Math.random,
    };
  }

  async readText(s3Uri: string, maxBytes: number): Promise<ReadTextResult> {
    const { bucket, key } = parseS3Uri(s3Uri);
    return this.retry(async () => {
      let res: GetObjectCommandOutput;
      try {
        res = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      } catch (err) {
        if (isMissing(err)) return { status: 'missing' } as const;
        throw err;
      }
      if (res.ContentLength !== undefined && res.ContentLength > maxBytes) {
        (res.Body as { destroy?: () => void } | undefined)?.destroy?.();
        return { status: 'too_large', size: res.ContentLength } as const;
      }
      const text = (await res.Body?.transformToString('utf-8')) ?? '';
      if (Buffer.byteLength(text) > maxBytes)
        return { status: 'too_large', size: Buffer.byteLength(text) } as const;
      return { status: 'ok', text } as const;
    });
  }

  async listObjects(prefixUri: string, options: ListObjectsOptions = {}): Promise<ObjectListing> {
    const { bucket, key: prefix } = parseS3Uri(prefixUri);
    const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    const objects: StoredObject[] = [];
    let token: string | undefined;
    do {
      const res = await this.retry(() =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            ...(token !== undefined
              ? { ContinuationToken: token }
              : options.startAfterKey !== undefined
                ? { StartAfter: options.startAfterKey }
                : {}),
          }),
        ),
      );
      for (const o of res.Contents ?? []) {
        if (o.Key === undefined || o.Key.endsWith('/')) continue;
        const modified = o.LastModified?.getTime() ?? 0;
        if (options.modifiedFromMs !== undefined && modified < options.modifiedFromMs) continue;
        if (options.modifiedToMs !== undefined && modified >= options.modifiedToMs) continue;
        if (objects.length >= maxKeys) return { objects, truncated: true };
        objects.push({
          uri: `s3://${bucket}/${o.Key}`,
          key: o.Key,
          size: o.Size ?? 0,
          lastModifiedMs: modified,
        });
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token !== undefined);
    return { objects, truncated: false };
  }

  async listChildPrefixes(prefixUri: string): Promise<string[]> {
    const { bucket, key } = parseS3Uri(prefixUri);
    const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
    const out: string[] = [];
    let token: string | undefined;
    do {
      const res = await this.retry(() =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            Delimiter: '/',
            ...(token !== undefined ? { ContinuationToken: token } : {}),
          }),
        ),
      );
      for (const p of res.CommonPrefixes ?? []) if (p.Prefix) out.push(`s3://${bucket}/${p.Prefix}`);
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token !== undefined);
    return out;
  }

  private async retry<T>(send: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (err) {
        if (!isTransient(err) || attempt >= this.opts.maxAttempts) throw err;
        await this.opts.sleep(
          backoffMs(attempt, this.opts.baseDelayMs, this.opts.maxDelayMs, this.opts.random),
        );
      }
    }
  }
}

function isMissing(err: unknown): boolean {
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
