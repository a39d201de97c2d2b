import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { hourPrefixes, S3UsageStore, usageKey } from '../../lambdas/adapters/s3/usage-store';
import { type WindowUsageRecord, windowUsage } from '../../lambdas/core/kpi/window-usage';
import type { GpuSample } from '../../lambdas/core/model';
import { MINUTE_MS } from '../../lambdas/core/time';
import { resetClients, s3Client } from '../../lambdas/wiring/clients';
import { uniqueSuffix, useMoto } from '../support/aws-env';

/**
 * S3UsageStore on the real SDK v3 against moto: records written per window under hour prefixes,
 * read back over a range that spans an hour boundary, merged per job and node; a corrupt object
 * and a schema-invalid object are reported and skipped, not fatal.
 */
const { region } = useMoto();
resetClients();
const bucket = `fw-usage-${uniqueSuffix()}`;
const T0 = Date.UTC(2026, 10, 24, 8, 50);

function windowRecord(startMs: number): WindowUsageRecord {
  const samples: GpuSample[] = [];
  for (let t = startMs; t < startMs + 5 * MINUTE_MS; t += MINUTE_MS)
    for (const gpu of ['0', '1'])
      samples.push({
        time: t,
        labels: {
          cluster: 'train-a',
          region,
          instanceType: 'p5.48xlarge',
          node: 'node-a',
          gpu,
          job: 'llm-1',
        },
        values: { sm_active: 0.5 },
      });
  return windowUsage({
    window: { startMs, endMs: startMs + 5 * MINUTE_MS },
    samples,
    jobs: [
      {
        region,
        jobName: 'llm-1',
        arn: `arn:aws:sagemaker:${region}:123456789012:training-job/llm-1`,
        status: 'InProgress',
        secondaryStatus: 'Training',
        lastModifiedTime: T0 - 60 * MINUTE_MS,
        creationTime: T0 - 70 * MINUTE_MS,
        trainingStartTime: T0 - 60 * MINUTE_MS,
        instanceType: 'p5.48xlarge',
        instanceCount: 1,
        tags: {},
        transitions: [],
      },
    ],
    progress: new Map([[`${region}#llm-1`, [startMs, startMs + 2 * MINUTE_MS, startMs + 4 * MINUTE_MS]]]),
    checkpoints: new Map(),
    maintenance: [],
    bucketMs: MINUTE_MS,
  });
}

describe('S3UsageStore on moto', () => {
  const s3 = () => s3Client(region);
  beforeAll(async () => {
    await s3().send(new CreateBucketCommand({ Bucket: bucket }));
  });

  it('writes one gzipped object per window under its hour prefix', async () => {
    const store = new S3UsageStore(s3(), bucket);
    await store.record(windowRecord(T0));
    const key = usageKey('kpi/usage/', T0);
    expect(key).toBe('kpi/usage/2026-11-24/08/2026-11-24T08:50:00.000Z.json.gz');
    const res = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(res.ContentType).toBe('application/gzip');
    expect((await res.Body?.transformToByteArray())?.[0]).toBe(0x1f); // gzip magic
  });

  it('reads a range across an hour boundary, merges per job and node, and skips bad objects', async () => {
    const unreadable: { key: string; reason: string }[] = [];
    const writer = new S3UsageStore(s3(), bucket);
    // Four windows 08:50..09:10 (08:50 already written by the first test).
    for (const m of [55, 60, 65]) await writer.record(windowRecord(T0 + (m - 50) * MINUTE_MS));
    const gz = promisify(gzip);
    await s3().send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'kpi/usage/2026-11-24/09/garbage.json.gz',
        Body: 'not gzip',
      }),
    );
    await s3().send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'kpi/usage/2026-11-24/09/old-version.json.gz',
        Body: await gz(Buffer.from(JSON.stringify({ version: 0, window: {} }))),
      }),
    );

    const reader = new S3UsageStore(s3(), bucket, {
      concurrency: 2,
      onUnreadable: (u) => unreadable.push({ key: u.key, reason: u.reason }),
    });
    // 08:52..09:10: 3 of the 08:50 window's 5 minutes, then three whole windows.
    const from = T0 + 2 * MINUTE_MS;
    const to = T0 + 20 * MINUTE_MS;
    const [jobs, nodes] = await Promise.all([reader.usage(from, to), reader.nodes(from, to)]);
    expect(jobs).toHaveLength(1);
    const job = jobs[0];
    // Buckets overlapping the range: 08:52..09:09, 18 minutes × 2 GPUs observed.
    expect(job?.buckets).toHaveLength(18);
    expect(job?.buckets.reduce((a, b) => a + b.observedGpuMinutes, 0)).toBe(36);
    expect(nodes).toHaveLength(1);
    expect(nodes[0]?.presentMinutes).toBeCloseTo(18, 9);
    expect(nodes[0]?.gpus).toBe(8);
    expect(unreadable.sort((a, b) => a.key.localeCompare(b.key))).toEqual([
      { key: 'kpi/usage/2026-11-24/09/garbage.json.gz', reason: 'corrupt' },
      { key: 'kpi/usage/2026-11-24/09/old-version.json.gz', reason: 'invalid' },
    ]);
  });

  it('returns nothing for a range with no records', async () => {
    const store = new S3UsageStore(s3(), bucket);
    expect(await store.usage(T0 + 48 * 60 * MINUTE_MS, T0 + 49 * 60 * MINUTE_MS)).toEqual([]);
    expect(hourPrefixes('kpi/usage/', T0, T0 + 11 * MINUTE_MS)).toEqual([
      'kpi/usage/2026-11-24/08/',
      'kpi/usage/2026-11-24/09/',
    ]);
  });
});
