import { describe, expect, it } from 'vitest';
import { FINDING_SCHEMA_VERSION, type Finding, findingSchema } from '../../../../lambdas/contracts/finding';
import { scopeInterconnectToJobs } from '../../../../lambdas/core/detect/hardware/job-scope';
import type { GpuSample } from '../../../../lambdas/core/model';

/** Issue 5 (network_degradation): NVLink errors on the nodes of one distributed job are one finding. */
const T = Date.UTC(2026, 8, 15, 2);
const where = { cluster: 'bench', region: 'us-east-1' };

function nvlink(node: string, gpu: string, kind = 'gpu.nvlink.error_rate', rate = 40): Finding {
  return {
    schemaVersion: FINDING_SCHEMA_VERSION,
    kind,
    severity: 'ticket',
    cause: 'network',
    title: `NVLink errors on GPU ${gpu} of ${node}`,
    summary: 'NVLink error rate above the limit.',
    labels: { ...where, node, gpu },
    evidence: { values: { ratePerMinute: rate }, window: { startMs: T - 300_000, endMs: T } },
    runbook: `docs/runbooks/${kind}.md`,
    detectedAt: T,
  };
}

const sample = (node: string, gpu: string, team = 'nlp'): GpuSample => ({
  time: T,
  labels: { ...where, instanceType: 'p5.48xlarge', node, gpu, team },
  values: {},
});

const byJob = new Map<string, GpuSample[]>([
  ['dist-1', [sample('n1', '0'), sample('n1', '1'), sample('n2', '0')]],
  ['single-1', [sample('n3', '0')]],
]);

describe('scopeInterconnectToJobs', () => {
  it('merges the NVLink findings of a multi-node job into one job-labelled finding naming the nodes', () => {
    const out = scopeInterconnectToJobs(
      [nvlink('n1', '0', undefined, 12), nvlink('n2', '3', undefined, 40)],
      byJob,
    );
    expect(out).toHaveLength(1);
    const f = findingSchema.parse(out[0]);
    expect(f.labels).toEqual({ ...where, job: 'dist-1', team: 'nlp' });
    expect(f.title).toBe('Job dist-1: gpu.nvlink.error_rate on 2 of its nodes (n1, n2)');
    expect(f.evidence.values).toMatchObject({ ratePerMinute: 40, nodes: 2, gpus: 2 });
    expect(f.evidence.detail).toBe('job-scoped: n1 GPU 0; n2 GPU 3');
  });

  it('leaves alone findings of a single-node job, of no job, and kinds other than NVLink', () => {
    const single = nvlink('n3', '0');
    const orphan = nvlink('n9', '0');
    const ecc = { ...nvlink('n1', '0'), kind: 'gpu.ecc.uncorrectable' };
    expect(scopeInterconnectToJobs([single, orphan, ecc], byJob)).toEqual([single, orphan, ecc]);
  });

  it('a node two multi-node jobs claim is ambiguous: its finding stays node-level', () => {
    const shared = new Map<string, GpuSample[]>([
      ['a', [sample('n1', '0'), sample('n2', '0')]],
      ['b', [sample('n1', '1'), sample('n4', '0')]],
    ]);
    const f = nvlink('n1', '0');
    expect(scopeInterconnectToJobs([f], shared)).toEqual([f]);
  });
});
