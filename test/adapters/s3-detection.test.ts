import { gunzipSync, gzipSync } from 'node:zlib';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseS3Uri, S3CheckpointLister } from '../../lambdas/adapters/s3/checkpoints';
import { S3StateStore } from '../../lambdas/adapters/s3/state-store';

const s3Mock = mockClient(S3Client);
const client = new S3Client({ region: 'us-east-1' });

function s3Error(name: string, status: number): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: status },
    message: name,
  });
}

function gzBody(value: unknown) {
  // The part of the SDK's stream mixin the store uses.
  const bytes = new Uint8Array(gzipSync(Buffer.from(JSON.stringify(value))));
  return { transformToByteArray: async () => bytes };
}

beforeEach(() => s3Mock.reset());

describe('S3StateStore', () => {
  it('creates with If-None-Match: *, gzip JSON, version in metadata, no per-request SSE', async () => {
    s3Mock.on(PutObjectCommand).resolves({ ETag: '"e1"' });
    const store = new S3StateStore(client, 'state-bucket', { prefix: 'detect/' });
    expect(await store.put('detect/state', { a: [1, 2] }, undefined)).toBe(1);
    const input = s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      Bucket: 'state-bucket',
      Key: 'detect/detect/state.json.gz',
      IfNoneMatch: '*',
      Metadata: { 'fleetwatch-version': '1' },
    });
    expect(input?.IfMatch).toBeUndefined();
    expect(input?.ServerSideEncryption).toBeUndefined();
    expect(JSON.parse(gunzipSync(input?.Body as Buffer).toString())).toEqual({ a: [1, 2] });
  });

  it('updates with If-Match on the ETag it read, and returns the next version', async () => {
    s3Mock.on(GetObjectCommand).resolves({
      Body: gzBody({ n: 1 }),
      ETag: '"e7"',
      Metadata: { 'fleetwatch-version': '7' },
    } as never);
    s3Mock.on(PutObjectCommand).resolves({ ETag: '"e8"' });
    const store = new S3StateStore(client, 'b');
    expect(await store.get('k')).toEqual({ value: { n: 1 }, version: 7 });
    expect(await store.put('k', { n: 2 }, 7)).toBe(8);
    expect(s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({
      IfMatch: '"e7"',
      Metadata: { 'fleetwatch-version': '8' },
    });
    // The ETag of its own write is the condition of the next one, without another read.
    expect(await store.put('k', { n: 3 }, 8)).toBe(9);
    expect(s3Mock.commandCalls(PutObjectCommand)[1]?.args[0].input.IfMatch).toBe('"e8"');
    expect(s3Mock.commandCalls(HeadObjectCommand)).toHaveLength(0);
  });

  it('reads ETag and version with HeadObject when it has not seen the key, and conflicts on a version mismatch', async () => {
    s3Mock.on(HeadObjectCommand).resolves({ ETag: '"e4"', Metadata: { 'fleetwatch-version': '4' } });
    const store = new S3StateStore(client, 'b');
    expect(await store.put('k', 1, 3)).toBe('conflict');
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it.each([
    ['PreconditionFailed', 412],
    ['ConditionalRequestConflict', 409],
  ])('maps %s (%i) to conflict', async (name, status) => {
    s3Mock.on(PutObjectCommand).rejects(s3Error(name, status));
    expect(await new S3StateStore(client, 'b').put('k', 1, undefined)).toBe('conflict');
  });

  it('lets other errors propagate', async () => {
    s3Mock.on(PutObjectCommand).rejects(s3Error('AccessDenied', 403));
    await expect(new S3StateStore(client, 'b').put('k', 1, undefined)).rejects.toThrow('AccessDenied');
  });

  it('answers undefined for a missing key, and refuses odd keys', async () => {
    s3Mock.on(GetObjectCommand).rejects(s3Error('NoSuchKey', 404));
    const store = new S3StateStore(client, 'b');
    expect(await store.get('missing')).toBeUndefined();
    await expect(store.get('../etc')).rejects.toThrow(/State key "..\/etc" is not allowed/);
  });

  it('fails with the object name when the version metadata is missing', async () => {
    s3Mock.on(GetObjectCommand).resolves({ Body: gzBody(1), ETag: '"x"', Metadata: {} } as never);
    await expect(new S3StateStore(client, 'b', { prefix: 'p/' }).get('k')).rejects.toThrow(
      's3://b/p/k.json.gz has metadata fleetwatch-version=undefined',
    );
  });
});

describe('parseS3Uri', () => {
  it.each([
    ['s3://ckpt-bucket/jobs/a/', { bucket: 'ckpt-bucket', prefix: 'jobs/a/' }],
    ['s3://ckpt-bucket', { bucket: 'ckpt-bucket', prefix: '' }],
  ])('%s', (uri, expected) => expect(parseS3Uri(uri)).toEqual(expected));

  it.each([
    ['https://ckpt-bucket.s3.amazonaws.com/x', /is not an S3 URI; expected s3:\/\/<bucket>\/<prefix>/],
    ['s3://Bad_Bucket/x', /names bucket "Bad_Bucket", which is not a valid S3 bucket name/],
  ])('rejects %s', (uri, message) => expect(() => parseS3Uri(uri)).toThrow(message));
});

describe('S3CheckpointLister', () => {
  const t = (iso: string) => new Date(iso);

  it('pages through the prefix and returns the newest LastModified', async () => {
    s3Mock
      .on(ListObjectsV2Command)
      .resolvesOnce({
        Contents: [{ Key: 'a', LastModified: t('2024-05-14T10:00:00Z') }],
        IsTruncated: true,
        NextContinuationToken: 'tok',
      })
      .resolvesOnce({
        Contents: [{ Key: 'b', LastModified: t('2024-05-14T11:00:00Z') }],
        IsTruncated: false,
      });
    const lister = new S3CheckpointLister(() => client, { allowedBuckets: ['ckpt'] });
    expect(await lister.newestObjectTime('s3://ckpt/jobs/j1/')).toBe(Date.parse('2024-05-14T11:00:00Z'));
    const inputs = s3Mock.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input);
    expect(inputs).toEqual([
      { Bucket: 'ckpt', Prefix: 'jobs/j1/' },
      { Bucket: 'ckpt', Prefix: 'jobs/j1/', ContinuationToken: 'tok' },
    ]);
  });

  it('answers undefined for an empty prefix', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({ KeyCount: 0, IsTruncated: false });
    expect(
      await new S3CheckpointLister(() => client, { allowedBuckets: ['ckpt'] }).newestObjectTime(
        's3://ckpt/x/',
      ),
    ).toBeUndefined();
  });

  it('stops after maxPages and reports the truncation', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({
      Contents: [{ Key: 'a', LastModified: t('2024-05-14T10:00:00Z') }],
      IsTruncated: true,
      NextContinuationToken: 'again',
    });
    const truncated: unknown[] = [];
    const lister = new S3CheckpointLister(() => client, {
      allowedBuckets: ['ckpt'],
      maxPages: 3,
      onTruncated: (i) => truncated.push(i),
    });
    expect(await lister.newestObjectTime('s3://ckpt/x/')).toBe(Date.parse('2024-05-14T10:00:00Z'));
    expect(s3Mock.commandCalls(ListObjectsV2Command)).toHaveLength(3);
    expect(truncated).toEqual([{ uri: 's3://ckpt/x/', pages: 3 }]);
  });

  it('does not list a bucket outside jobs.checkpointBuckets, and reports AccessDenied as not permitted', async () => {
    s3Mock.on(ListObjectsV2Command).rejects(s3Error('AccessDenied', 403));
    const denied: string[] = [];
    const lister = new S3CheckpointLister(() => client, {
      allowedBuckets: ['ckpt'],
      onNotPermitted: (i) => denied.push(`${i.bucket}: ${i.reason}`),
    });
    expect(await lister.newestObjectTime('s3://other/x/')).toBeUndefined();
    expect(s3Mock.commandCalls(ListObjectsV2Command)).toHaveLength(0);
    expect(await lister.newestObjectTime('s3://ckpt/x/')).toBeUndefined();
    expect(denied).toEqual([
      'other: bucket not in config jobs.checkpointBuckets (the function has no s3:ListBucket on it)',
      'ckpt: AccessDenied',
    ]);
  });
});
