import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { StateStore, Versioned } from '../../core/ports';
import { errorName, httpStatus } from '../aws-retry';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/**
 * StateStore on S3: one gzip'd JSON object per key, `<prefix><key>.json.gz`, for state that
 * outgrows a 400 KB DynamoDB item (detector baselines: cohorts × signals × 168 hours of week).
 *
 * Versions live in object metadata (`x-amz-meta-fleetwatch-version`); the write is conditional on
 * the object's ETag as this store last saw it (If-Match), or on its absence when creating
 * (If-None-Match: *). S3 answers 412 PreconditionFailed when another writer replaced the object
 * and 409 ConditionalRequestConflict when a conflicting write is in flight; both are 'conflict'.
 * A put without a prior get in this process first reads the ETag and version with HeadObject.
 * moto 5.2.1 honours both headers (checked against a moto server: a second If-None-Match: * and
 * a stale If-Match are both 412), so the integration test exercises the real race.
 *
 * Encryption: the bucket's default encryption (SSE-KMS with the stack key, bucket key on) applies;
 * requests carry no SSE headers so the store works unchanged against any bucket set up that way.
 */
export interface S3StateStoreOptions {
  /** Key prefix, e.g. `detect/`. @default '' */
  readonly prefix?: string;
}

export const VERSION_METADATA = 'fleetwatch-version';

export class S3StateStore implements StateStore {
  private readonly prefix: string;
  /** ETag and version last read or written per key: what the next conditional write compares with. */
  private readonly seen = new Map<string, { etag: string; version: number }>();

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    options: S3StateStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? '';
  }

  async get<T>(key: string): Promise<Versioned<T> | undefined> {
    const objectKey = this.objectKey(key);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      const bytes = await res.Body?.transformToByteArray();
      if (bytes === undefined) throw new Error(`s3://${this.bucket}/${objectKey} has no body`);
      const version = parseVersion(res.Metadata?.[VERSION_METADATA], this.bucket, objectKey);
      if (res.ETag !== undefined) this.seen.set(key, { etag: res.ETag, version });
      const json = (await gunzipAsync(bytes)).toString('utf8');
      return { value: JSON.parse(json) as T, version };
    } catch (err) {
      if (isNotFound(err)) {
        this.seen.delete(key);
        return undefined;
      }
      throw err;
    }
  }

  async put<T>(key: string, value: T, expectedVersion: number | undefined): Promise<number | 'conflict'> {
    const objectKey = this.objectKey(key);
    let condition: { IfMatch: string } | { IfNoneMatch: '*' };
    if (expectedVersion === undefined) {
      condition = { IfNoneMatch: '*' };
    } else {
      const current = await this.current(key, objectKey);
      if (current === undefined || current.version !== expectedVersion) return 'conflict';
      condition = { IfMatch: current.etag };
    }
    const version = (expectedVersion ?? 0) + 1;
    const body = await gzipAsync(Buffer.from(JSON.stringify(value) ?? 'null', 'utf8'));
    try {
      const res = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: objectKey,
          Body: body,
          ContentType: 'application/gzip',
          Metadata: { [VERSION_METADATA]: String(version) },
          ...condition,
        }),
      );
      if (res.ETag !== undefined) this.seen.set(key, { etag: res.ETag, version });
      else this.seen.delete(key);
      return version;
    } catch (err) {
      if (isConditionFailure(err)) {
        this.seen.delete(key);
        return 'conflict';
      }
      throw err;
    }
  }

  /** The ETag/version to compare with: as last seen here, else as S3 has it now. */
  private async current(
    key: string,
    objectKey: string,
  ): Promise<{ etag: string; version: number } | undefined> {
    const seen = this.seen.get(key);
    if (seen !== undefined) return seen;
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      if (head.ETag === undefined) return undefined;
      return {
        etag: head.ETag,
        version: parseVersion(head.Metadata?.[VERSION_METADATA], this.bucket, objectKey),
      };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private objectKey(key: string): string {
    if (key === '' || key.startsWith('/') || key.split('/').includes('..')) {
      throw new Error(`State key "${key}" is not allowed: use a relative path such as "detect/state"`);
    }
    return `${this.prefix}${key}.json.gz`;
  }
}

function parseVersion(raw: string | undefined, bucket: string, key: string): number {
  const version = Number(raw);
  if (raw === undefined || !Number.isSafeInteger(version) || version < 1) {
    throw new Error(
      `s3://${bucket}/${key} has metadata ${VERSION_METADATA}=${JSON.stringify(raw)}; expected a positive integer written by FleetWatch`,
    );
  }
  return version;
}

function isNotFound(err: unknown): boolean {
  const name = errorName(err);
  return name === 'NoSuchKey' || name === 'NotFound' || httpStatus(err) === 404;
}

function isConditionFailure(err: unknown): boolean {
  const name = errorName(err);
  const status = httpStatus(err);
  // Other 409s on PutObject (e.g. OperationAborted) are not about our condition: they propagate.
  return name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status === 412;
}
