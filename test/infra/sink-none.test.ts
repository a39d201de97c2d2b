import { describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/contracts/env';
import { exampleConfig, synthFleetWatch } from './support/synth';

// sink.kind 'none': everything but the Timestream sink, and the functions are told so.
const config = exampleConfig((c) => {
  c.sink = { kind: 'none' };
});
const { stacks, home } = synthFleetWatch(config);

describe('FleetWatch with sink.kind "none"', () => {
  it('has no Timestream resources and no rejected-data bucket', () => {
    home.resourceCountIs('AWS::Timestream::Database', 0);
    home.resourceCountIs('AWS::Timestream::Table', 0);
    // Only the detection state bucket.
    home.resourceCountIs('AWS::S3::Bucket', 1);
    expect(Object.keys(home.findResources('AWS::S3::Bucket'))).toEqual([
      expect.stringMatching(/^DetectionStateBucket/),
    ]);
    expect(stacks.home.telemetrySink).toBeUndefined();
  });

  it('keeps the rest of the foundation', () => {
    home.resourceCountIs('AWS::DynamoDB::Table', 3); // state, jobs, incidents
    home.resourceCountIs('AWS::Lambda::Function', 6); // + route-incidents, sweep-incidents, compute-kpis
    home.resourceCountIs('AWS::Scheduler::Schedule', 4);
    // Job events, schedule DLQ, findings queue and its DLQ.
    home.resourceCountIs('AWS::SQS::Queue', 5);
  });

  it('tells every function FLEETWATCH_SINK=none, without Timestream settings', () => {
    const all = Object.values(home.findResources('AWS::Lambda::Function'));
    // The incident router's two functions and compute-kpis write no telemetry and get no sink
    // settings at all.
    const functions = all.filter((fn) => ENV.runtimeConfig in (fn.Properties.Environment.Variables ?? {}));
    expect(all).toHaveLength(6);
    expect(functions).toHaveLength(3);
    for (const fn of all)
      expect(fn.Properties.Environment.Variables).not.toHaveProperty(ENV.timestreamDatabase);
    for (const fn of functions) {
      const variables = fn.Properties.Environment.Variables as Record<string, unknown>;
      expect(variables[ENV.sinkKind]).toBe('none');
      expect(variables).not.toHaveProperty(ENV.timestreamDatabase);
      expect(variables).not.toHaveProperty(ENV.timestreamGpuTable);
      expect(variables).not.toHaveProperty(ENV.timestreamJobsTable);
    }
  });

  it('grants no Timestream action', () => {
    const policies = JSON.stringify(home.findResources('AWS::IAM::Policy'));
    expect(policies).not.toContain('timestream:');
  });

  it('does not carry the Timestream notice', () => {
    expect(home.toJSON().Description).not.toMatch(/Timestream/);
    expect(Object.keys(home.toJSON().Outputs)).not.toContain('TelemetrySinkNotice');
    home.hasOutput('TelemetrySinkKind', { Value: 'none' });
  });
});
