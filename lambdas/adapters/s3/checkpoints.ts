import { ListObjectsV2Command, type ListObjectsV2CommandOutput, type S3Client } from '@aws-sdk/client-s3';
import type { CheckpointLister } from '../../core/ports';
import { errorMessage, errorName, httpStatus } from '../aws-retry';

/**
 * CheckpointLister over S3 ListObjectsV2: the newest LastModified under a training job's
 * CheckpointConfig.S3Uri.
 *
 * Permissions are least-privilege: the stack grants s3:ListBucket only on the buckets named in
 * config `jobs.checkpointBuckets`. A URI in any other bucket is not listed at all (no call, so no
 * AccessDenied noise) and answers undefined, as does an AccessDenied from S3 itself; both are
 * reported through `onNotPermitted` so the wiring counts them (CheckpointsNotPermitted).
 *
 * Cost bound: S3 lists keys in lexicographic order, not by time, so finding the newest object
 * means reading every key under the prefix. Listing stops after `maxPages` pages of 1,000 keys
 * (default 10: 10,000 checkpoint files, 10 requests); a truncated listing still returns the newest
 * time it saw and is reported through `onTruncated`. Jobs that keep more checkpoint files than
 * that should rotate them or use a narrower prefix.
 *
 * Region: one client (the home region's); S3 redirects are followed by the SDK only within a
 * region, so checkpoint buckets in other regions need a client for that region. `clientFor`
 * receives the bucket name, so the wiring can map buckets to regional clients when needed.
 */
export interface S3CheckpointListerOptions {
  /** Buckets the function may list (config jobs.checkpointBuckets); others answer undefined. */
  readonly allowedBuckets: readonly string[];
  /** @default 10 */
  readonly maxPages?: number;
  readonly onNotPermitted?: (info: { bucket: string; reason: string }) => void;
  readonly onTruncated?: (info: { uri: string; pages: number }) => void;
}

export interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Parses s3://bucket/prefix (prefix may be empty); throws a message naming the bad part. */
export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(uri);
  if (match === null) {
    throw new Error(`Checkpoint URI "${uri}" is not an S3 URI; expected s3://<bucket>/<prefix>`);
  }
  const bucket = match[1] ?? '';
  if (!BUCKET.test(bucket)) {
    throw new Error(
      `Checkpoint URI "${uri}" names bucket "${bucket}", which is not a valid S3 bucket name (3-63 lower-case letters, digits, "." or "-")`,
    );
  }
  return { bucket, prefix: match[2] ?? '' };
}

export class S3CheckpointLister implements CheckpointLister {
  private readonly allowed: ReadonlySet<string>;
  private readonly maxPages: number;

  constructor(
    private readonly clientFor: (bucket: string) => S3Client,
    private readonly options: S3CheckpointListerOptions,
  ) {
    this.allowed = new Set(options.allowedBuckets);
    this.maxPages = Math.max(1, options.maxPages ?? 10);
  }

  async newestObjectTime(s3Uri: string): Promise<number | undefined> {
    const { bucket, prefix } = parseS3Uri(s3Uri);
    if (!this.allowed.has(bucket)) {
      this.options.onNotPermitted?.({
        bucket,
        reason: 'bucket not in config jobs.checkpointBuckets (the function has no s3:ListBucket on it)',
      });
      return undefined;
    }
    const client = this.clientFor(bucket);
    let newest: number | undefined;
    let token: string | undefined;
    let pages = 0;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            ...(token !== undefined ? { ContinuationToken: token } : {}),
          }),
        );
      } catch (err) {
        if (errorName(err) === 'AccessDenied' || httpStatus(err) === 403) {
          this.options.onNotPermitted?.({ bucket, reason: errorMessage(err) });
          return undefined;
        }
        throw err;
      }
      pages++;
      for (const object of page.Contents ?? []) {
        const t = object.LastModified?.getTime();
        if (t !== undefined && (newest === undefined || t > newest)) newest = t;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined && pages < this.maxPages);
    if (token !== undefined) this.options.onTruncated?.({ uri: s3Uri, pages });
    return newest;
  }
}
