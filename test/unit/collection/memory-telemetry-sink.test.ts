import { describe, expect, it } from 'vitest';
import { InMemoryTelemetrySink } from '../../../lambdas/adapters/memory/telemetry-sink';
import type { GpuLabels, GpuSample } from '../../../lambdas/core/model';

/**
 * The in-memory sink's two modes (adapters/memory/telemetry-sink.ts): 'digests' keeps only a hash
 * per GPU and minute, and must accept and reject exactly like 'samples' (Timestream's rule: same
 * values again accepted, other values rejected), and forget records beyond the retention.
 */
const MIN = 60_000;
const T0 = Date.parse('2026-09-07T00:00:00Z');
const labels = (gpu: number): GpuLabels => ({
  cluster: 'train-a',
  region: 'us-east-1',
  instanceType: 'p5.48xlarge',
  node: 'ip-10-0-0-1',
  gpu: String(gpu),
});
const sample = (gpu: number, minute: number, util: number): GpuSample => ({
  time: T0 + minute * MIN,
  labels: labels(gpu),
  values: { gpu_util: util, power: 400 + gpu },
});

describe('InMemoryTelemetrySink', () => {
  it("accepts and rejects the same writes in 'digests' mode as in 'samples' mode", async () => {
    const batches: GpuSample[][] = [
      [sample(0, 0, 50), sample(1, 0, 60), sample(0, 1, 55)],
      [sample(0, 0, 50), sample(1, 0, 61), sample(0, 1, 55), sample(1, 1, 70)], // one conflict
      [{ ...sample(0, 1, 55), values: { power: 400, gpu_util: 55 } }], // same values, other key order
      // JSON prints -0 as 0, NaN and Infinity as null, and skips undefined: the digest must agree.
      [{ ...sample(2, 0, 0), values: { gpu_util: -0, power: Number.NaN, temperature: undefined } }],
      [{ ...sample(2, 0, 0), values: { gpu_util: 0, power: Number.POSITIVE_INFINITY } }],
      [{ ...sample(2, 0, 0), values: { gpu_util: 0, power: 1 } }],
      [{ ...sample(2, 0, 0), values: { gpu_util: 0 } }],
    ];
    const full = new InMemoryTelemetrySink();
    const digests = new InMemoryTelemetrySink({ keep: 'digests' });
    const outcomes: number[] = [];
    for (const b of batches) {
      const a = await full.writeGpuSamples(b);
      const d = await digests.writeGpuSamples(b);
      expect(d).toEqual(a);
      outcomes.push(d.rejected.length);
    }
    expect(outcomes).toEqual([0, 1, 1, 0, 0, 1, 1]);
    expect((await digests.writeGpuSamples(batches[1] ?? [])).rejected.map((r) => r.index)).toEqual([1]);
    expect(digests.gpuRecords).toBe(5);
    expect(full.gpuRecords).toBe(5);
    expect(digests.gpu.size).toBe(0);
  });

  it("'digests' mode: one GPU reached through shared and separate labels objects is one record set", async () => {
    // The collector shares a labels object among a series' samples; another series of the same
    // GPU has its own (equal) object. Both must land in the same per-GPU record set.
    const shared = labels(0);
    const other = labels(0);
    const sink = new InMemoryTelemetrySink({ keep: 'digests' });
    const at = (l: GpuLabels, minute: number, util: number): GpuSample => ({
      time: T0 + minute * MIN,
      labels: l,
      values: { gpu_util: util },
    });
    expect((await sink.writeGpuSamples([at(shared, 0, 50), at(shared, 1, 51)])).rejected).toEqual([]);
    const again = await sink.writeGpuSamples([at(other, 0, 50), at(other, 1, 99), at(shared, 2, 52)]);
    expect(again.rejected.map((r) => r.index)).toEqual([1]);
    expect(sink.gpuRecords).toBe(3);
    // Another GPU through a fresh object is a different record set.
    expect((await sink.writeGpuSamples([at(labels(1), 1, 99)])).rejected).toEqual([]);
    expect(sink.gpuRecords).toBe(4);
  });

  it("forgets records beyond the retention in 'digests' mode, so an old key is new again", async () => {
    const sink = new InMemoryTelemetrySink({ keep: 'digests', retainMs: 10 * MIN });
    await sink.writeGpuSamples([sample(0, 0, 50), sample(1, 0, 50)]);
    await sink.writeGpuSamples([sample(0, 5, 50), sample(1, 5, 50)]);
    expect(sink.gpuRecords).toBe(4);
    // Within the retention a different rewrite is still rejected.
    expect((await sink.writeGpuSamples([sample(0, 0, 99)])).rejected).toHaveLength(1);
    await sink.writeGpuSamples([sample(0, 11, 50), sample(1, 11, 50)]);
    expect(sink.gpuRecords).toBe(4); // minute 0 of both GPUs is gone
    expect((await sink.writeGpuSamples([sample(0, 0, 99)])).rejected).toHaveLength(0);
  });

  it("holds no job states in 'digests' mode but reports them written", async () => {
    const sink = new InMemoryTelemetrySink({ keep: 'digests' });
    const job = { region: 'us-east-1', jobName: 'j', lastModifiedTime: T0 } as never;
    expect(await sink.writeJobStates([job, job])).toEqual({ written: 2, rejected: [], calls: 1 });
    expect(sink.jobs.size).toBe(0);
  });
});
