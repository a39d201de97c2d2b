import { describe, expect, it } from 'vitest';
import { resolveSources, SourceResolutionError } from '../../../lambdas/core/collection/sources';
import { runtimeConfig } from './fixtures';

describe('resolveSources', () => {
  it('resolves a built-in profile with every signal and a stable source id', () => {
    const [source] = resolveSources(runtimeConfig([{ cluster: 'train-a', profile: 'dcgm-exporter' }]));
    expect(source?.id).toBe('us-east-1/train-a/dcgm-exporter');
    expect(source?.namespace).toBe('CWAgent/DCGM');
    expect(source?.signals.map((s) => s.signal)).toContain('xid');
    expect(source?.signals).toHaveLength(15);
    expect(source?.missingSignals).toEqual([]);
  });

  it.each([
    { name: 'namespace override', fleet: { namespace: 'Custom/GPU' }, namespace: 'Custom/GPU' },
    { name: 'profile namespace', fleet: {}, namespace: 'CWAgent' },
  ])('uses the $name', ({ fleet, namespace }) => {
    const [source] = resolveSources(
      runtimeConfig([{ cluster: 'c', profile: 'cloudwatch-agent-nvidia-smi', ...fleet }]),
    );
    expect(source?.namespace).toBe(namespace);
  });

  it('filters signals and reports the ones the profile lacks', () => {
    const [source] = resolveSources(
      runtimeConfig([
        { cluster: 'c', profile: 'cloudwatch-agent-nvidia-smi', signals: ['gpu_util', 'power', 'xid'] },
      ]),
    );
    expect(source?.signals.map((s) => s.signal)).toEqual(['gpu_util', 'power']);
    expect(source?.missingSignals).toEqual(['xid']);
  });

  it('finds custom profiles from config and compiles the SageMaker job pattern', () => {
    const cfg = runtimeConfig(
      [
        { cluster: 'a', profile: 'my-dcgm' },
        { cluster: 'b', profile: 'sagemaker-training' },
      ],
      {},
      [
        {
          name: 'my-dcgm',
          namespace: 'Custom',
          nodeDimensions: ['node'],
          gpuDimension: 'gpu',
          signals: [{ signal: 'gpu_util', metricName: 'util' }],
        },
      ],
    );
    const [custom, sm] = resolveSources(cfg);
    expect(custom?.id).toBe('us-east-1/a/my-dcgm');
    expect(sm?.jobPattern?.exec('my-job/algo-3')?.groups?.job).toBe('my-job');
  });

  it.each([
    { pattern: '^(?<job>.+', problem: /not a valid regular expression/ },
    { pattern: '^(.+)/algo-\\d+$', problem: /named group \(\?<job>/ },
  ])('rejects a job pattern $pattern with a specific message', ({ pattern, problem }) => {
    const cfg = runtimeConfig([{ cluster: 'a', profile: 'sm-custom' }], {}, [
      {
        name: 'sm-custom',
        namespace: 'X',
        nodeDimensions: ['Host'],
        job: { dimension: 'Host', pattern },
        signals: [{ signal: 'gpu_util', metricName: 'GPUUtilization' }],
      },
    ]);
    expect(() => resolveSources(cfg)).toThrowError(SourceResolutionError);
    expect(() => resolveSources(cfg)).toThrowError(problem);
  });

  it('names the fleet and the known profiles when a profile is missing at runtime', () => {
    const cfg = runtimeConfig([{ cluster: 'a', profile: 'dcgm-exporter' }]);
    const broken = {
      ...cfg,
      fleets: cfg.fleets.map((f) => ({ ...f, source: { ...f.source, profile: 'nope' } })),
    };
    expect(() => resolveSources(broken)).toThrowError(
      /fleets\[0\]\.source\.profile: unknown profile "nope" for cluster a; known: dcgm-exporter/,
    );
  });
});
