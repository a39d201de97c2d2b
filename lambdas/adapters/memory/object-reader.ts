import { parseS3Uri } from '../../contracts/drift-config';
import type {
  ListObjectsOptions,
  ObjectListing,
  ObjectReader,
  ReadTextResult,
  StoredObject,
} from '../../core/ports';

const DEFAULT_MAX_KEYS = 10_000;

/**
 * In-memory ObjectReader with the S3 semantics the drift check relies on (lambdas/adapters/s3/
 * object-reader.ts): keys listed in UTF-8 byte order, StartAfter compared with the whole key,
 * LastModified filters, maxKeys truncation, one "directory" level via listChildPrefixes, missing
 * and oversized objects as outcomes. Used by simulated runs (lambdas/wiring/simulation-drift.ts)
 * and tests; objects are put and deleted by the owner, as a writer of the bucket would.
 */
export class InMemoryObjectReader implements ObjectReader {
  /** By s3:// URI. */
  private readonly objects = new Map<string, { text: string; size: number; lastModifiedMs: number }>();
  /** Reads served, by URI (what a run actually downloaded). */
  readonly reads = new Map<string, number>();

  put(uri: string, text: string, lastModifiedMs: number): void {
    parseS3Uri(uri);
    this.objects.set(uri, { text, size: Buffer.byteLength(text), lastModifiedMs });
  }

  delete(uri: string): boolean {
    return this.objects.delete(uri);
  }

  has(uri: string): boolean {
    return this.objects.has(uri);
  }

  /** Every stored URI, in key order. */
  uris(): string[] {
    return [...this.objects.keys()].sort(byKey);
  }

  get size(): number {
    return this.objects.size;
  }

  async readText(uri: string, maxBytes: number): Promise<ReadTextResult> {
    parseS3Uri(uri);
    const o = this.objects.get(uri);
    if (o === undefined) return { status: 'missing' };
    if (o.size > maxBytes) return { status: 'too_large', size: o.size };
    this.reads.set(uri, (this.reads.get(uri) ?? 0) + 1);
    return { status: 'ok', text: o.text };
  }

  async listObjects(prefixUri: string, options: ListObjectsOptions = {}): Promise<ObjectListing> {
    const { bucket, key: prefix } = parseS3Uri(prefixUri);
    const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    const out: StoredObject[] = [];
    for (const uri of this.uris()) {
      const { bucket: b, key } = parseS3Uri(uri);
      if (b !== bucket || !key.startsWith(prefix) || key.endsWith('/')) continue;
      if (options.startAfterKey !== undefined && byKey(key, options.startAfterKey) <= 0) continue;
      const o = this.objects.get(uri);
      if (o === undefined) continue;
      if (options.modifiedFromMs !== undefined && o.lastModifiedMs < options.modifiedFromMs) continue;
      if (options.modifiedToMs !== undefined && o.lastModifiedMs >= options.modifiedToMs) continue;
      if (out.length >= maxKeys) return { objects: out, truncated: true };
      out.push({ uri, key, size: o.size, lastModifiedMs: o.lastModifiedMs });
    }
    return { objects: out, truncated: false };
  }

  async listChildPrefixes(prefixUri: string): Promise<string[]> {
    const { bucket, key } = parseS3Uri(prefixUri);
    const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
    const children = new Set<string>();
    for (const uri of this.objects.keys()) {
      const { bucket: b, key: k } = parseS3Uri(uri);
      if (b !== bucket || !k.startsWith(prefix)) continue;
      const slash = k.indexOf('/', prefix.length);
      if (slash >= 0) children.add(`s3://${bucket}/${k.slice(0, slash + 1)}`);
    }
    return [...children].sort(byKey);
  }
}

/** S3 lists keys in UTF-8 binary order; for the ASCII keys used here that is code-unit order. */
function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
