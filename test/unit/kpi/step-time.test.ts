import { describe, expect, it } from 'vitest';
import { progressNamesOf, readStepShares, STEP_TIME_LOOKBACK_MS } from '../../../lambdas/app/step-breakdown';
import {
  DEFAULT_STEP_TIME_METRIC_NAMES,
  defaultDetectionConfig,
} from '../../../lambdas/contracts/detection-config';
import { categoryHours, snapshotOf } from '../../../lambdas/core/kpi/decomposition';
import { computeGoodput, type InputIssue } from '../../../lambdas/core/kpi/goodput';
import { type StepTimeSample, stepSharesOf, stepTimeMetricsOf } from '../../../lambdas/core/kpi/step-time';
import { EMPTY_JOB_STATS, supportingKpis } from '../../../lambdas/core/kpi/supporting';
import {
  cadenceTolerance,
  MAX_PROGRESS_TOLERANCE_MS,
  windowUsage,
} from '../../../lambdas/core/kpi/window-usage';
import type { GpuSample } from '../../../lambdas/core/model';
import type { JobProgressSource, StepTimeQuery } from '../../../lambdas/core/ports';
import { publishesStepTimes, stepTimesAt } from '../../../lambdas/sim/step-time';
import { DATALOADER_SM_FACTOR, NETWORK_SM_FACTOR } from '../../../lambdas/sim/telemetry';
import type { SimJob } from '../../../lambdas/sim/workload';
import { HOUR_WINDOW, MIN, nodes, state, T0, usage } from './fixtures';

const NAMES = {
  step: [...DEFAULT_STEP_TIME_METRIC_NAMES.step],
  dataWait: [...DEFAULT_STEP_TIME_METRIC_NAMES.dataWait],
  communication: [...DEFAULT_STEP_TIME_METRIC_NAMES.communication],
};

describe('stepSharesOf: one job’s shares of step time over a window', () => {
  it('sums, not a mean of ratios (hand-computed)', () => {
    // Steps of 1 s and 3 s: data 0.5 + 0.9 = 1.4 of 4 s → 0.35; comm 0.1 + 0.3 = 0.4 of 4 s → 0.1.
    const s: StepTimeSample[] = [
      { time: T0, stepSeconds: 1, dataWaitSeconds: 0.5, commSeconds: 0.1 },
      { time: T0 + MIN, stepSeconds: 3, dataWaitSeconds: 0.9, commSeconds: 0.3 },
    ];
    const got = stepSharesOf('job j', s);
    expect(got?.dataWaitShare).toBeCloseTo(0.35, 12);
    expect(got?.commShare).toBeCloseTo(0.1, 12);
  });

  it('a role only counts over the minutes that report it; unreported roles stay absent', () => {
    const got = stepSharesOf('job j', [
      { time: T0, stepSeconds: 2, dataWaitSeconds: 1 },
      { time: T0 + MIN, stepSeconds: 2 },
    ]);
    expect(got).toEqual({ dataWaitShare: 0.5 });
  });

  it('reports and skips bad minutes, scales shares over 1, gives nothing without a usable minute', () => {
    const issues: InputIssue[] = [];
    const got = stepSharesOf(
      'job j',
      [
        { time: T0, stepSeconds: -1, dataWaitSeconds: 0.2 },
        { time: T0 + MIN, stepSeconds: 1, dataWaitSeconds: Number.NaN },
        { time: T0 + 2 * MIN, stepSeconds: 1, dataWaitSeconds: 0.9, commSeconds: 0.6 },
      ],
      issues,
    );
    expect(issues.map((i) => i.problem)).toEqual([
      expect.stringContaining('2 step-time minutes'),
      expect.stringContaining('scaled to 1'),
    ]);
    expect(got?.dataWaitShare).toBeCloseTo(0.6, 12);
    expect(got?.commShare).toBeCloseTo(0.4, 12);
    expect(stepSharesOf('job j', [{ time: T0, dataWaitSeconds: 1 }])).toBeUndefined();
    expect(stepSharesOf('job j', [])).toBeUndefined();
  });
});

describe('stepTimeMetricsOf: which breakdown a job publishes', () => {
  it('takes the first configured name of each role the job declares', () => {
    expect(stepTimeMetricsOf(['loss', 'train:step_time', 'data_time', 'train:data_time'], NAMES)).toEqual({
      step: 'train:step_time',
      dataWait: 'data_time',
    });
  });

  it('needs a step time and one of data wait or communication, and declared metrics at all', () => {
    expect(stepTimeMetricsOf(['step_time'], NAMES)).toBeUndefined();
    expect(stepTimeMetricsOf(['data_time', 'comm_time'], NAMES)).toBeUndefined();
    expect(stepTimeMetricsOf(undefined, NAMES)).toBeUndefined();
    expect(stepTimeMetricsOf(['step_time', 'comm_time'], NAMES)).toEqual({
      step: 'step_time',
      communication: 'comm_time',
    });
  });

  it('the detection config carries the names, with these defaults', () => {
    expect(defaultDetectionConfig().stepTimeMetricNames).toEqual(NAMES);
  });

  it('breakdown names are not queried as progress unless nothing else is declared', () => {
    expect(progressNamesOf(['train:loss', 'step_time', 'data_time'], NAMES)).toEqual(['train:loss']);
    expect(progressNamesOf(['step_time', 'data_time'], NAMES)).toEqual(['step_time', 'data_time']);
  });
});

describe('readStepShares: the detection run’s read of the breakdown', () => {
  const W = { startMs: T0, endMs: T0 + 5 * MIN };
  class FakeSource implements JobProgressSource {
    calls: { queries: readonly StepTimeQuery[]; startMs: number; endMs: number }[] = [];
    constructor(private readonly data: Map<string, StepTimeSample[]>) {}
    async progressTimestamps() {
      return new Map<string, number[]>();
    }
    async stepTimes(queries: readonly StepTimeQuery[], startMs: number, endMs: number) {
      this.calls.push({ queries, startMs, endMs });
      return new Map(queries.map((q) => [`${q.region}#${q.jobName}`, this.data.get(q.jobName) ?? []]));
    }
  }

  it('queries only declaring jobs, over a lookback; uses the window’s samples, else the newest', async () => {
    const src = new FakeSource(
      new Map([
        [
          'a',
          [
            { time: T0 - 20 * MIN, stepSeconds: 1, dataWaitSeconds: 0.9 },
            { time: T0 + MIN, stepSeconds: 1, dataWaitSeconds: 0.2 },
          ],
        ],
        [
          'b',
          [
            { time: T0 - 20 * MIN, stepSeconds: 1, commSeconds: 0.9 },
            { time: T0 - 10 * MIN, stepSeconds: 1, commSeconds: 0.3 },
          ],
        ],
      ]),
    );
    const jobs = [
      state({ jobName: 'a', metricNames: ['loss', 'step_time', 'data_time'] }),
      state({ jobName: 'b', metricNames: ['loss', 'step_time', 'comm_time'] }),
      state({ jobName: 'c', metricNames: ['loss'] }),
      state({ jobName: 'd' }),
    ];
    const got = await readStepShares(src, jobs, NAMES, W, []);
    expect(src.calls).toHaveLength(1);
    expect(src.calls[0]?.queries.map((q) => q.jobName)).toEqual(['a', 'b']);
    expect(src.calls[0]?.startMs).toBe(W.endMs - STEP_TIME_LOOKBACK_MS);
    expect(got.get('us-east-1#a')).toEqual({ dataWaitShare: 0.2 });
    expect(got.get('us-east-1#b')).toEqual({ commShare: 0.3 });
    expect(got.has('us-east-1#c')).toBe(false);
  });

  it('a source without stepTimes yields nothing (jobs keep today’s attribution)', async () => {
    const src: JobProgressSource = { progressTimestamps: async () => new Map() };
    const got = await readStepShares(
      src,
      [state({ jobName: 'a', metricNames: ['step_time', 'data_time'] })],
      NAMES,
      W,
      [],
    );
    expect(got.size).toBe(0);
  });
});

describe('windowUsage with step-time shares', () => {
  const W = { startMs: T0, endMs: T0 + 5 * MIN };
  const sample = (minute: number, gpu: string): GpuSample => ({
    time: T0 + minute * MIN,
    labels: {
      cluster: 'train-a',
      region: 'us-east-1',
      instanceType: 'p5.48xlarge',
      node: 'node-a',
      gpu,
      job: 'job-1',
      team: 'llm',
    },
    values: { sm_active: 0.4 },
  });
  // Two GPUs × 5 minutes; progress at 08:01, so minutes 08:01..08:04 progress (8 GPU-minutes).
  const base = {
    window: W,
    samples: [0, 1, 2, 3, 4].flatMap((m) => ['0', '1'].map((g) => sample(m, g))),
    jobs: [state({ jobName: 'job-1', trainingStartTime: T0 - 30 * MIN })],
    progress: new Map([['us-east-1#job-1', [T0 + MIN]]]),
    checkpoints: new Map(),
    maintenance: [],
    bucketMs: 5 * MIN,
  };
  const sum = (rec: ReturnType<typeof windowUsage>, k: 'dataWaitGpuMinutes' | 'commGpuMinutes') =>
    rec.jobs[0]?.buckets.reduce((a, b) => a + (b[k] ?? 0), 0);

  it('progressing GPU-minutes × the job’s shares (hand-computed: 8 × 0.25 = 2, 8 × 0.1 = 0.8)', () => {
    const rec = windowUsage({
      ...base,
      stepShares: new Map([['us-east-1#job-1', { dataWaitShare: 0.25, commShare: 0.1 }]]),
    });
    expect(sum(rec, 'dataWaitGpuMinutes')).toBeCloseTo(2, 12);
    expect(sum(rec, 'commGpuMinutes')).toBeCloseTo(0.8, 12);
    expect(rec.issues).toEqual([]);
  });

  it('without shares nothing is split out; out-of-range shares are reported and not used', () => {
    expect(sum(windowUsage(base), 'dataWaitGpuMinutes')).toBe(0);
    const rec = windowUsage({
      ...base,
      stepShares: new Map([['us-east-1#job-1', { dataWaitShare: 0.8, commShare: 0.4 }]]),
    });
    expect(sum(rec, 'dataWaitGpuMinutes')).toBe(0);
    expect(rec.issues.map((i) => i.problem)).toEqual([expect.stringContaining('not used')]);
  });

  it('the goodput partition puts them in data-io and network, the rest of the idle SMs in software', () => {
    const rec = windowUsage({
      ...base,
      stepShares: new Map([['us-east-1#job-1', { dataWaitShare: 0.25, commShare: 0.1 }]]),
    });
    const g = computeGoodput({ window: W, jobs: rec.jobs, nodes: [] });
    const b = g.scopes.find((s) => s.scope.kind === 'fleet')?.breakdown;
    // training 10 GPU-min, SM-weighted progressing 8 × 0.4 = 3.2: 6.8 not useful = 2 + 0.8 + 4.
    expect((b?.dataWaitGpuHours ?? 0) * 60).toBeCloseTo(2, 9);
    expect((b?.commGpuHours ?? 0) * 60).toBeCloseTo(0.8, 9);
    expect((b?.inefficientGpuHours ?? 0) * 60).toBeCloseTo(4, 9);
  });
});

describe('cadenceTolerance: a slow logger is not a stalled job', () => {
  it('twice the longest of the last three gaps, between the configured tolerance and an hour', () => {
    const t = (mins: number[]) => mins.map((m) => T0 + m * MIN);
    expect(cadenceTolerance(t([0, 2, 4, 6]), 10 * MIN)).toBe(10 * MIN);
    // A job slowed from 2- to 15-minute steps: widened from its first slowed datapoint on.
    expect(cadenceTolerance(t([0, 2, 4, 6, 21]), 10 * MIN)).toBe(30 * MIN);
    // Old gaps beyond the last three do not count.
    expect(cadenceTolerance(t([0, 40, 42, 44, 46]), 10 * MIN)).toBe(10 * MIN);
    expect(cadenceTolerance(t([0, 50, 100]), 10 * MIN)).toBe(MAX_PROGRESS_TOLERANCE_MS);
    expect(cadenceTolerance([], 10 * MIN)).toBe(10 * MIN);
  });
});

describe('decomposition: a failed job’s start-up is lost with it', () => {
  it('moves from scheduling to the failure’s category (hand-computed)', () => {
    // Job f: 8 GPUs, 30 of 60 minutes not training (start-up), then failed with a software error.
    const failed = usage('f', {
      training: 0.5,
      progressing: 0.5,
      sm: 0.5,
      outcome: 'failed',
      failureCause: 'software',
    });
    const ok = usage('ok', { training: 0.5, progressing: 0.5, sm: 0.5 });
    const g = computeGoodput({ window: HOUR_WINDOW, jobs: [failed, ok], nodes: nodes(2) });
    const fleet = g.scopes.find((s) => s.scope.kind === 'fleet');
    const k = supportingKpis(g.scopes, new Map()).get('fleet');
    if (!fleet || !k) throw new Error('no fleet scope');
    const snap = snapshotOf(fleet, k.kpis, EMPTY_JOB_STATS, HOUR_WINDOW);
    expect(snap.failedStartupByCause).toEqual({ software: 4 });
    const h = categoryHours(snap);
    // Not training: 4 GPU-h each; the failed job's 4 go to software, the running job's stay.
    expect(h.scheduling).toBeCloseTo(4, 9);
    expect(h.software).toBeCloseTo(
      4 + (fleet.breakdown.inefficientGpuHours + fleet.breakdown.lostUsefulGpuHours),
      9,
    );
    // Snapshots stored before the field existed keep their old attribution.
    const { failedStartupByCause: _, ...old } = snap;
    expect(categoryHours(old).scheduling).toBeCloseTo(8, 9);
  });
});

describe('simulated step-time breakdown (lambdas/sim/step-time.ts)', () => {
  const job = (p: Partial<SimJob>): SimJob =>
    ({
      name: 'nlp-dist-1',
      cls: 'distributed',
      intensity: 0.5,
      framework: 'pytorch-2.5.1',
      effectLog: [],
      ...p,
    }) as unknown as SimJob;
  const shares = (j: SimJob, t: number) => {
    const v = stepTimesAt(j, t);
    return {
      data: v.dataWaitSeconds / v.stepSeconds,
      comm: v.commSeconds / v.stepSeconds,
      step: v.stepSeconds,
    };
  };

  it('PyTorch jobs publish it, TensorFlow and JAX jobs do not', () => {
    expect(publishesStepTimes({ framework: 'pytorch-2.4.0' })).toBe(true);
    expect(publishesStepTimes({ framework: 'jax-0.4.35' })).toBe(false);
  });

  it('waits stay within what the SMs show idle; faults stretch the data or communication part', () => {
    const effect = (kind: 'dataloader' | 'network') => ({
      effect: { faultId: 'f', kind, slowdown: 3 },
      fromMs: T0,
      toMs: T0 + 60 * MIN,
    });
    const sm = 0.7 + (0.9 - 0.7) * 0.5; // the distributed profile at intensity 0.5 (telemetry.ts)
    const calm = shares(job({}), T0 + MIN);
    expect(calm.data + calm.comm).toBeLessThanOrEqual(1 - sm);
    const slow = shares(job({ effectLog: [effect('dataloader')] }), T0 + MIN);
    expect(slow.data).toBeGreaterThan(0.6);
    expect(slow.data + slow.comm).toBeLessThanOrEqual(1 - DATALOADER_SM_FACTOR * sm + 1e-3);
    expect(slow.step).toBeCloseTo(calm.step / DATALOADER_SM_FACTOR, 3);
    const net = shares(job({ effectLog: [effect('network')] }), T0 + MIN);
    expect(net.comm).toBeGreaterThan(calm.comm + 0.3);
    expect(net.data + net.comm).toBeLessThanOrEqual(1 - NETWORK_SM_FACTOR * sm + 1e-3);
    // Outside the effect's interval the job is back to its calm split.
    expect(shares(job({ effectLog: [effect('network')] }), T0 + 61 * MIN)).toEqual(calm);
  });
});
