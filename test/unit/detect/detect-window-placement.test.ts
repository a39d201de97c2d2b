import { describe, expect, it } from 'vitest';
import { InMemoryCheckpointLister } from '../../../lambdas/adapters/memory/checkpoints';
import { InMemoryFindingsPublisher } from '../../../lambdas/adapters/memory/findings';
import { InMemoryJobQueries } from '../../../lambdas/adapters/memory/job-queries';
import { RecordingLog, RecordingOpsMetrics } from '../../../lambdas/adapters/memory/observability';
import { InMemoryProgressSource } from '../../../lambdas/adapters/memory/progress';
import { InMemoryStateStore } from '../../../lambdas/adapters/memory/state-store';
import {
  type DetectWindowDeps,
  detectWindow,
  type JobPlacementSource,
} from '../../../lambdas/app/detect-window';
import { fixedClock, HOUR_MS, MINUTE_MS } from '../../../lambdas/core/time';
import { runtimeConfig } from '../collection/fixtures';
import { idle, job, minutes } from './job-fixtures';

/**
 * detect-window's optional placement port: node-level profiles carry no job label, the port says
 * which nodes each job holds. A failing port is an input failure (logged, counted), not a crash.
 */

const NOW = Date.UTC(2026, 10, 24, 9, 5);
const WINDOW = { windowStartMs: NOW - 5 * MINUTE_MS, windowEndMs: NOW, deadlineMs: NOW + 60_000 };
/** An interactive job (grace 15 min) on one node, idle the whole window; its samples carry no job label. */
const nb = job({
  jobName: 'nb-1',
  workloadClass: 'interactive',
  trainingStartTime: NOW - 2 * HOUR_MS,
  metricNames: [],
});
const samples = minutes({
  nodes: ['ip-10-0-0-7'],
  from: WINDOW.windowStartMs,
  to: WINDOW.windowEndMs,
  values: idle,
});

function deps(placement?: JobPlacementSource) {
  const findings = new InMemoryFindingsPublisher();
  const ops = new RecordingOpsMetrics();
  const state = new InMemoryStateStore();
  const d: DetectWindowDeps = {
    clock: fixedClock(NOW),
    config: runtimeConfig([{ cluster: 'train-a', profile: 'dcgm-exporter' }]),
    state,
    jobs: InMemoryJobQueries.of([nb]),
    progress: new InMemoryProgressSource(),
    checkpoints: new InMemoryCheckpointLister(),
    findings,
    log: new RecordingLog(),
    ops,
    ...(placement ? { placement } : {}),
  };
  return { d, findings, ops, state };
}

describe('detectWindow with a job placement port', () => {
  it('attributes unlabelled GPU samples to the job that holds the node (activity remembered)', async () => {
    const t = deps({
      current: async () => new Map([['nb-1', { cluster: 'train-a', nodes: ['ip-10-0-0-7'] }]]),
    });
    const summary = await detectWindow(t.d, { samples, ...WINDOW });
    expect(summary.inputsFailed).toEqual([]);
    const stored = await t.state.get<{ jobs: Record<string, unknown> }>('detect/state');
    // The job's minutes were recorded from the node's samples: it has activity memory now.
    expect(Object.keys(stored?.value.jobs ?? {})).toHaveLength(1);
  });

  it('without the port the same samples belong to no job', async () => {
    const t = deps();
    await detectWindow(t.d, { samples, ...WINDOW });
    const stored = await t.state.get<{ jobs: Record<string, unknown> }>('detect/state');
    expect(Object.keys(stored?.value.jobs ?? {})).toHaveLength(0);
  });

  it('a failing port is an input failure: counted, and the run goes on', async () => {
    const t = deps({
      current: async () => {
        throw new Error('job store timeout');
      },
    });
    const summary = await detectWindow(t.d, { samples, ...WINDOW });
    expect(summary.inputsFailed).toEqual(['placement']);
    expect(summary.stateWritten).toBe(true);
  });
});
