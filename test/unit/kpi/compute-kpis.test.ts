import { describe, expect, it } from 'vitest';
import { InMemoryKpiSink } from '../../../lambdas/adapters/memory/kpi-sink';
import { RecordingLog } from '../../../lambdas/adapters/memory/observability';
import { InMemoryStateStore } from '../../../lambdas/adapters/memory/state-store';
import { InMemoryNodeInventory, InMemoryUsageSource } from '../../../lambdas/adapters/memory/usage-source';
import {
  type ComputeKpisDeps,
  computeKpis,
  fitState,
  KPI_STATE_KEY,
  type KpiState,
  previousSnapshot,
} from '../../../lambdas/app/compute-kpis';
import { type Finding, findingSchema } from '../../../lambdas/contracts/finding';
import { KPI_KEYS } from '../../../lambdas/contracts/kpis';
import type { KpiSnapshot } from '../../../lambdas/core/kpi/decomposition';
import type { TimeWindow } from '../../../lambdas/core/kpi/goodput';
import type { TrainingJobState } from '../../../lambdas/core/model';
import type { FindingsPublisher, JobQueries, StateStore } from '../../../lambdas/core/ports';
import { fixedClock } from '../../../lambdas/core/time';
import { MIN, nodes, state, T0, usage } from './fixtures';

const W1: TimeWindow = { startMs: T0, endMs: T0 + 60 * MIN };
const W2: TimeWindow = { startMs: T0 + 60 * MIN, endMs: T0 + 120 * MIN };

class RecordingPublisher implements FindingsPublisher {
  readonly sent: Finding[] = [];
  failAll = false;
  async publish(findings: readonly Finding[]) {
    if (this.failAll)
      return { published: 0, failed: findings.map((_, index) => ({ index, reason: 'queue down' })) };
    this.sent.push(...findings);
    return { published: findings.length, failed: [] };
  }
}

class FakeJobs implements JobQueries {
  constructor(readonly states: TrainingJobState[] = []) {}
  async recentAndActive(sinceMs: number): Promise<TrainingJobState[]> {
    return this.states.filter((s) => s.status === 'InProgress' || s.lastModifiedTime >= sinceMs);
  }
}

/**
 * Window 1: 10 nodes, 8 jobs at sm 0.6 → goodput 0.48. Window 2: nodes 0-3 unhealthy, only 4
 * jobs → goodput 0.24 (a 50 % drop, hardware).
 */
function fixture() {
  const usageSource = new InMemoryUsageSource();
  for (let i = 0; i < 8; i++) usageSource.record(usage(`w1-${i}`, { sm: 0.6, outcome: 'completed' }, W1));
  for (let i = 0; i < 4; i++) usageSource.record(usage(`w2-${i}`, { sm: 0.6 }, W2));
  const inventory = new InMemoryNodeInventory();
  inventory.set(W1, nodes(10));
  inventory.set(
    W2,
    nodes(10).map((n, i) => (i < 4 ? { ...n, unhealthyMinutes: 60, hardwareFaults: 1 } : n)),
  );
  const clock = fixedClock(W1.endMs);
  const sink = new InMemoryKpiSink();
  const publisher = new RecordingPublisher();
  const log = new RecordingLog();
  const store = new InMemoryStateStore();
  const deps: ComputeKpisDeps = {
    jobs: new FakeJobs([
      state({ jobName: 'w2-0', creationTime: W2.startMs - 5 * MIN, trainingStartTime: W2.startMs }),
    ]),
    usage: usageSource,
    inventory,
    sink,
    findings: publisher,
    state: store,
    clock,
    log,
    windowMs: 60 * MIN,
  };
  return { deps, clock, sink, publisher, log, store };
}

describe('computeKpis', () => {
  it('emits KPIs per scope, then finds and decomposes a drop against the previous window', async () => {
    const f = fixture();
    const first = await computeKpis(f.deps);
    expect(first.window).toEqual(W1);
    expect(first.findings).toEqual([]);
    expect(first.state).toBe('saved');
    expect(f.sink.latest('goodput')).toBeCloseTo(0.48);
    expect(f.sink.latest('goodput', { Region: 'us-east-1', Cluster: 'train-a' })).toBeCloseTo(0.48);
    expect(f.sink.latest('allocationRate')).toBeCloseTo(0.8);
    for (const v of f.sink.values) expect(KPI_KEYS).toContain(v.key);
    // CapacityGpuHours partitions the fleet's 80 available GPU-hours: useful 38.4, software
    // (training at sm 0.6: 64 − 38.4) 25.6, and the 2 free nodes' 16: job w2-0 waited the last
    // 5 min of this window for 8 GPUs (40 GPU-min: scheduling), the rest nobody waited for.
    const capacity = f.sink.values.filter(
      (v) => v.key === 'capacityGpuHours' && v.dimensions.Region === undefined,
    );
    const byCategory = Object.fromEntries(capacity.map((v) => [v.dimensions.Category, v.value]));
    expect(byCategory.useful).toBeCloseTo(38.4);
    expect(byCategory.software).toBeCloseTo(25.6);
    expect(byCategory.scheduling).toBeCloseTo(40 / 60);
    expect(byCategory['idle-capacity']).toBeCloseTo(16 - 40 / 60);
    expect(capacity.reduce((a, v) => a + v.value, 0)).toBeCloseTo(80);

    f.clock.set(W2.endMs + 30_000); // the window ends on the minute
    const second = await computeKpis(f.deps);
    expect(second.window).toEqual(W2);
    expect(f.sink.latest('goodput')).toBeCloseTo(0.24);
    expect(f.sink.latest('hardwareFaultsPer1kGpuHours')).toBeCloseTo((1000 * 4) / 80);
    // fleet, region and cluster drop the same way; team 'llm' owns no nodes: no goodput, no finding.
    expect(second.findings.map((x) => x.labels)).toEqual([
      {},
      { region: 'us-east-1' },
      { region: 'us-east-1', cluster: 'train-a' },
    ]);
    for (const x of second.findings) {
      expect(findingSchema.parse(x)).toEqual(x);
      expect(x).toMatchObject({ kind: 'kpi.goodput_drop', cause: 'hardware', severity: 'ticket' });
      expect(x.evidence.values?.lostGpuHours).toBeCloseTo(19.2); // (0.48 − 0.24) × 80
    }
    expect(f.publisher.sent).toHaveLength(3);
    expect(second.findingsPublished).toBe(3);

    const saved = await f.store.get<KpiState>(KPI_STATE_KEY);
    expect(saved?.value.snapshots.fleet?.map((s) => s.window.endMs)).toEqual([W1.endMs, W2.endMs]);
  });

  it('forgets snapshots too old to be a previous window', async () => {
    const f = fixture();
    await computeKpis(f.deps);
    f.clock.set(W1.endMs + 5 * 60 * MIN);
    const later = await computeKpis(f.deps);
    expect(later.findings).toEqual([]); // nothing ended near this window's start
    const saved = await f.store.get<KpiState>(KPI_STATE_KEY);
    expect(saved?.value.snapshots.fleet?.map((s) => s.window.endMs)).toEqual([W1.endMs + 5 * 60 * MIN]);
  });

  it('keeps emitting when publishing fails or the state was written concurrently', async () => {
    const f = fixture();
    await computeKpis(f.deps);
    f.publisher.failAll = true;
    f.clock.set(W2.endMs);
    const racing: StateStore = {
      get: (k) => f.store.get(k),
      put: async () => 'conflict',
    };
    const res = await computeKpis({ ...f.deps, state: racing });
    expect(res.findingsFailed).toBe(3);
    expect(res.findingsPublished).toBe(0);
    expect(res.state).toBe('conflict');
    expect(f.sink.latest('goodput')).toBeCloseTo(0.24);
    expect(f.log.find('error', 'not published')).toHaveLength(3);
    expect(f.log.find('warn', 'another run')).toHaveLength(1);
  });

  it('reports inconsistent inputs in the log', async () => {
    const f = fixture();
    const extra = new InMemoryUsageSource([
      usage('ghost', {}, W1),
      usage('ghost-2', {}, W1),
      usage('ghost-3', {}, W1),
    ]);
    await computeKpis({ ...f.deps, usage: extra, inventory: new InMemoryNodeInventory() });
    expect(f.log.find('warn', 'inconsistent')).toHaveLength(1);
  });
});

describe('state size', () => {
  it('drops team, then cluster histories first when the state is over budget', async () => {
    const f = fixture();
    await computeKpis(f.deps);
    const saved = await f.store.get<KpiState>(KPI_STATE_KEY);
    const history = structuredClone(saved?.value.snapshots ?? {}) as Record<string, KpiSnapshot[]>;
    expect(Object.keys(history).sort()).toEqual([
      'cluster:us-east-1/train-a',
      'fleet',
      'region:us-east-1',
      'team:llm',
    ]);
    const full = JSON.stringify({ snapshots: history }).length;
    const one = JSON.stringify(history.fleet).length;
    // Room for about two scopes: team and cluster go, fleet and region stay.
    expect(fitState(history, full - one - 10)).toEqual(['team:llm', 'cluster:us-east-1/train-a']);
    expect(Object.keys(history).sort()).toEqual(['fleet', 'region:us-east-1']);
    expect(fitState(history, 10 * full)).toEqual([]);
  });

  it('stores at most one snapshot per spacing, with rounded numbers', async () => {
    const f = fixture();
    await computeKpis(f.deps);
    f.clock.advance(10 * MIN);
    await computeKpis(f.deps);
    const saved = await f.store.get<KpiState>(KPI_STATE_KEY);
    expect(saved?.value.snapshots.fleet).toHaveLength(1);
    const numbers = JSON.stringify(saved?.value).match(/\d+\.\d+/g) ?? [];
    for (const n of numbers) expect(n.split('.')[1]?.length ?? 0).toBeLessThanOrEqual(4);
  });
});

describe('previousSnapshot', () => {
  it('takes the snapshot ending nearest to the window start, within the tolerance', () => {
    const snap = (endMs: number) => ({ window: { startMs: endMs - 1, endMs } }) as never;
    const list = [snap(100), snap(160), snap(230)];
    expect(previousSnapshot(list, 170, 50)).toBe(list[1]);
    expect(previousSnapshot(list, 400, 50)).toBeUndefined();
  });
});
