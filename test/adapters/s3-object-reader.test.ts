import {
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3ObjectReader } from '../../lambdas/adapters/s3/object-reader';

/** Wire shapes of the S3 reads; test/integration/check-drift.test.ts runs the same adapter on moto. */
const s3Mock = mockClient(S3Client);
const client = new S3Client({ region: 'us-east-1' });
const T = new Date(Date.UTC(2026, 10, 24, 12));

/** The parts of the SDK's streaming body the adapter uses. */
function body(text: string) {
  let destroyed = false;
  const stream = {
    transformToString: async () => text,
    destroy: () => {
      destroyed = true;
    },
  };
  return { body: stream as never, destroyed: () => destroyed };
}

describe('S3ObjectReader', () => {
  let reader: S3ObjectReader;
  beforeEach(() => {
    s3Mock.reset();
    reader = new S3ObjectReader(client, { sleep: async () => {}, random: () => 0 });
  });

  it('reads an object as text by s3:// URI', async () => {
    s3Mock.on(GetObjectCommand).resolves({ ContentLength: 5, Body: body('hello').body });
    expect(await reader.readText('s3://bucket/a/b.json', 100)).toEqual({ status: 'ok', text: 'hello' });
    expect(s3Mock.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'bucket',
      Key: 'a/b.json',
    });
  });

  it('does not download an object over the cap: too_large, stream discarded', async () => {
    const b = body('x'.repeat(50));
    s3Mock.on(GetObjectCommand).resolves({ ContentLength: 50, Body: b.body });
    expect(await reader.readText('s3://bucket/big.jsonl', 10)).toEqual({ status: 'too_large', size: 50 });
    expect(b.destroyed()).toBe(true);
  });

  it('answers missing for NoSuchKey, and retries a 503 SlowDown', async () => {
    s3Mock
      .on(GetObjectCommand)
      .rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }));
    expect(await reader.readText('s3://bucket/none', 10)).toEqual({ status: 'missing' });
    s3Mock
      .on(GetObjectCommand)
      .rejectsOnce(
        new S3ServiceException({
          name: 'SlowDown',
          $fault: 'server',
          message: 'Reduce your request rate',
          $metadata: { httpStatusCode: 503 },
        }),
      )
      .resolves({ ContentLength: 2, Body: body('ok').body });
    expect(await reader.readText('s3://bucket/k', 10)).toEqual({ status: 'ok', text: 'ok' });
  });

  it('lists every page after StartAfter, filtered by LastModified, capped at maxKeys', async () => {
    s3Mock
      .on(ListObjectsV2Command)
      .resolvesOnce({
        IsTruncated: true,
        NextContinuationToken: 'c2',
        Contents: [
          { Key: 'dc/ep/v/2026/11/24/11/a.jsonl', Size: 10, LastModified: new Date(T.getTime() - 7_200_000) },
          { Key: 'dc/ep/v/2026/11/24/11/', Size: 0, LastModified: T },
          { Key: 'dc/ep/v/2026/11/24/12/b.jsonl', Size: 20, LastModified: T },
        ],
      })
      .resolvesOnce({ Contents: [{ Key: 'dc/ep/v/2026/11/24/12/c.jsonl', Size: 30, LastModified: T }] });
    const listing = await reader.listObjects('s3://cap/dc/ep/v/', {
      startAfterKey: 'dc/ep/v/2026/11/24/11',
      modifiedFromMs: T.getTime() - 3_600_000,
    });
    expect(listing).toEqual({
      truncated: false,
      objects: [
        {
          uri: 's3://cap/dc/ep/v/2026/11/24/12/b.jsonl',
          key: 'dc/ep/v/2026/11/24/12/b.jsonl',
          size: 20,
          lastModifiedMs: T.getTime(),
        },
        {
          uri: 's3://cap/dc/ep/v/2026/11/24/12/c.jsonl',
          key: 'dc/ep/v/2026/11/24/12/c.jsonl',
          size: 30,
          lastModifiedMs: T.getTime(),
        },
      ],
    });
    const inputs = s3Mock.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input);
    expect(inputs).toEqual([
      { Bucket: 'cap', Prefix: 'dc/ep/v/', StartAfter: 'dc/ep/v/2026/11/24/11' },
      { Bucket: 'cap', Prefix: 'dc/ep/v/', ContinuationToken: 'c2' },
    ]);

    s3Mock.reset();
    s3Mock.on(ListObjectsV2Command).resolves({
      Contents: [1, 2, 3].map((i) => ({ Key: `k${i}`, Size: 1, LastModified: T })),
    });
    expect(await reader.listObjects('s3://cap/', { maxKeys: 2 })).toMatchObject({
      truncated: true,
      objects: [{ key: 'k1' }, { key: 'k2' }],
    });
  });

  it('lists child prefixes with Delimiter "/"', async () => {
    s3Mock
      .on(ListObjectsV2Command)
      .resolves({ CommonPrefixes: [{ Prefix: 'dc/ep/AllTraffic/' }, { Prefix: 'dc/ep/Shadow/' }] });
    expect(await reader.listChildPrefixes('s3://cap/dc/ep')).toEqual([
      's3://cap/dc/ep/AllTraffic/',
      's3://cap/dc/ep/Shadow/',
    ]);
    expect(s3Mock.commandCalls(ListObjectsV2Command)[0]?.args[0].input).toEqual({
      Bucket: 'cap',
      Prefix: 'dc/ep/',
      Delimiter: '/',
    });
  });
});
