import { describe, expect, it } from 'vitest';
import { dimensionKey, mapInventory, mapSeries } from '../../../lambdas/core/collection/series-mapping';
import { resolveSources } from '../../../lambdas/core/collection/sources';
import { runtimeConfig, series } from './fixtures';

function sourceFor(profile: string, extra: { team?: string } = {}) {
  const [source] = resolveSources(
    runtimeConfig([{ cluster: 'train-a', profile, instanceType: 'p4d.24xlarge', ...extra }]),
  );
  if (source === undefined) throw new Error('no source');
  return source;
}

// Dimension sets as each telemetry path publishes them (aws-facts.md section 3).
const CASES = [
  {
    profile: 'dcgm-exporter',
    name: 'CloudWatch agent Prometheus scrape: Hostname + gpu',
    s: series('CWAgent/DCGM', 'DCGM_FI_DEV_GPU_UTIL', { Hostname: 'ip-10-0-1-12', gpu: '3' }),
    expected: { node: 'ip-10-0-1-12', gpu: '3', signal: 'gpu_util' },
  },
  {
    profile: 'dcgm-exporter',
    name: 'raw dcgm-exporter labels: hostname, gpu, UUID, modelName, device, pci_bus_id',
    s: series('CWAgent/DCGM', 'DCGM_FI_DEV_XID_ERRORS', {
      hostname: 'node-7',
      gpu: '0',
      UUID: 'GPU-2f9a1c7e-0b7d-4f2e-9d1a-5c3b8e6f4a21',
      modelName: 'NVIDIA A100-SXM4-40GB',
      device: 'nvidia0',
      pci_bus_id: '00000000:10:1C.0',
    }),
    expected: { node: 'node-7', gpu: '0', signal: 'xid' },
  },
  {
    profile: 'dcgm-exporter',
    name: 'InstanceId when no host name is published',
    s: series('CWAgent/DCGM', 'DCGM_FI_DEV_FB_USED', { InstanceId: 'i-0abc', gpu: '7' }),
    expected: { node: 'i-0abc', gpu: '7', signal: 'fb_used' },
  },
  {
    profile: 'cloudwatch-agent-nvidia-smi',
    name: 'nvidia_gpu section: host, index, name',
    s: series('CWAgent', 'nvidia_smi_utilization_gpu', {
      host: 'ip-10-0-2-5',
      index: '1',
      name: 'NVIDIA A100-SXM4-40GB',
    }),
    expected: { node: 'ip-10-0-2-5', gpu: '1', signal: 'gpu_util' },
  },
  {
    profile: 'cloudwatch-agent-nvidia-smi',
    name: 'append_dimensions replaces host with InstanceId',
    s: series('CWAgent', 'nvidia_smi_temperature_gpu', {
      InstanceId: 'i-0def',
      InstanceType: 'p4d.24xlarge',
      index: '6',
      name: 'NVIDIA A100-SXM4-40GB',
    }),
    expected: { node: 'i-0def', gpu: '6', signal: 'temperature' },
  },
  {
    profile: 'container-insights',
    name: 'node_gpu_* per GPU device',
    s: series('ContainerInsights', 'node_gpu_utilization', {
      ClusterName: 'eks-train',
      NodeName: 'ip-10-0-3-9.ec2.internal',
      InstanceId: 'i-0123',
      InstanceType: 'p4d.24xlarge',
      GpuDevice: 'nvidia2',
    }),
    expected: { node: 'ip-10-0-3-9.ec2.internal', gpu: 'nvidia2', signal: 'gpu_util' },
  },
  {
    profile: 'sagemaker-training',
    name: 'SageMaker Host = <job>/algo-<n>, per host',
    s: series('/aws/sagemaker/TrainingJobs', 'GPUUtilization', { Host: 'llama-ft-2025-03-10-11-02/algo-2' }),
    expected: {
      node: 'llama-ft-2025-03-10-11-02/algo-2',
      gpu: 'all',
      signal: 'gpu_util',
      job: 'llama-ft-2025-03-10-11-02',
    },
  },
] as const;

describe('mapSeries', () => {
  it.each(CASES)('$profile: $name', ({ profile, s, expected }) => {
    const result = mapSeries(sourceFor(profile, { team: 'research' }), s);
    if (!('mapped' in result)) throw new Error(`unmapped: ${result.unmapped.detail}`);
    expect(result.mapped).toHaveLength(1);
    const [m] = result.mapped;
    expect(m?.signal.signal).toBe(expected.signal);
    expect(m?.labels).toEqual({
      cluster: 'train-a',
      region: 'us-east-1',
      instanceType: 'p4d.24xlarge',
      node: expected.node,
      gpu: expected.gpu,
      team: 'research',
      ...('job' in expected ? { job: expected.job } : {}),
    });
  });

  it.each([
    {
      profile: 'container-insights',
      name: 'cluster rollup [ClusterName]',
      s: series('ContainerInsights', 'node_gpu_utilization', { ClusterName: 'eks-train' }),
      reason: 'no-node-dimension',
      detail: 'none of the node dimensions NodeName, InstanceId is present',
    },
    {
      profile: 'container-insights',
      name: 'node rollup [ClusterName, NodeName, InstanceId]',
      s: series('ContainerInsights', 'node_gpu_utilization', {
        ClusterName: 'eks-train',
        NodeName: 'ip-10-0-3-9.ec2.internal',
        InstanceId: 'i-0123',
      }),
      reason: 'no-gpu-dimension',
      detail: 'GPU dimension GpuDevice is not present',
    },
    {
      profile: 'sagemaker-training',
      name: 'Host without /algo-<n>',
      s: series('/aws/sagemaker/TrainingJobs', 'GPUUtilization', { Host: 'notebook-1' }),
      reason: 'job-pattern-mismatch',
      detail: 'Host="notebook-1" does not match ^(?<job>.+)/algo-\\d+$',
    },
    {
      profile: 'dcgm-exporter',
      name: 'a metric the source does not collect',
      s: series('CWAgent/DCGM', 'DCGM_FI_DEV_VGPU_LICENSE_STATUS', { Hostname: 'h', gpu: '0' }),
      reason: 'unknown-metric',
      detail:
        'metric DCGM_FI_DEV_VGPU_LICENSE_STATUS is not collected by source us-east-1/train-a/dcgm-exporter',
    },
  ])('reports $profile $name as $reason', ({ profile, s, reason, detail }) => {
    const result = mapSeries(sourceFor(profile), s);
    expect(result).toEqual({ unmapped: { series: s, reason, detail } });
  });

  it('omits team when the fleet has none', () => {
    const result = mapSeries(
      sourceFor('dcgm-exporter'),
      series('CWAgent/DCGM', 'DCGM_FI_DEV_GPU_UTIL', { Hostname: 'h', gpu: '0' }),
    );
    expect('mapped' in result && result.mapped[0]?.labels).not.toHaveProperty('team');
  });

  it('maps one metric to every signal a custom profile reads from it', () => {
    const [source] = resolveSources(
      runtimeConfig([{ cluster: 'c', profile: 'twice' }], {}, [
        {
          name: 'twice',
          namespace: 'N',
          nodeDimensions: ['host'],
          gpuDimension: 'gpu',
          signals: [
            { signal: 'gpu_util', metricName: 'util' },
            { signal: 'sm_active', metricName: 'util', scale: 0.01 },
          ],
        },
      ]),
    );
    if (source === undefined) throw new Error('no source');
    const result = mapSeries(source, series('N', 'util', { host: 'h', gpu: '0' }));
    expect('mapped' in result && result.mapped.map((m) => m.signal.signal)).toEqual([
      'gpu_util',
      'sm_active',
    ]);
  });
});

describe('mapInventory', () => {
  it('keeps one series per node, GPU and signal: the one with the fewest dimensions', () => {
    const plain = series('CWAgent/DCGM', 'DCGM_FI_DEV_GPU_UTIL', { Hostname: 'h1', gpu: '0' });
    const rich = series('CWAgent/DCGM', 'DCGM_FI_DEV_GPU_UTIL', { Hostname: 'h1', gpu: '0', UUID: 'GPU-1' });
    const other = series('CWAgent/DCGM', 'DCGM_FI_DEV_GPU_UTIL', { Hostname: 'h1', gpu: '1' });
    for (const order of [
      [rich, plain, other],
      [other, plain, rich],
    ]) {
      const { mapped, unmapped } = mapInventory(sourceFor('dcgm-exporter'), order);
      expect(mapped.map((m) => m.series)).toEqual(expect.arrayContaining([plain, other]));
      expect(mapped).toHaveLength(2);
      expect(unmapped).toEqual([
        {
          series: rich,
          reason: 'duplicate-series',
          detail: 'node h1 GPU 0 gpu_util is already read from Hostname=h1,gpu=0',
        },
      ]);
    }
  });

  it('collects mapped and unmapped series of a Container Insights inventory', () => {
    const dims = { ClusterName: 'eks', NodeName: 'n1', InstanceId: 'i-1' };
    const inventory = [
      series('ContainerInsights', 'node_gpu_utilization', { ClusterName: 'eks' }),
      series('ContainerInsights', 'node_gpu_utilization', dims),
      ...[0, 1, 2, 3].map((g) =>
        series('ContainerInsights', 'node_gpu_utilization', {
          ...dims,
          InstanceType: 'p4d.24xlarge',
          GpuDevice: `nvidia${g}`,
        }),
      ),
    ];
    const { mapped, unmapped } = mapInventory(sourceFor('container-insights'), inventory);
    expect(mapped.map((m) => m.labels.gpu).sort()).toEqual(['nvidia0', 'nvidia1', 'nvidia2', 'nvidia3']);
    expect(unmapped.map((u) => u.reason).sort()).toEqual(['no-gpu-dimension', 'no-node-dimension']);
  });

  it('describes dimensions in a stable, sorted form', () => {
    expect(dimensionKey(series('N', 'm', { gpu: '0', Hostname: 'h' }))).toBe('Hostname=h,gpu=0');
  });
});
