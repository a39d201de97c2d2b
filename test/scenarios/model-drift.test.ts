import { beforeAll, describe, expect, it } from 'vitest';
import { InMemoryFindingsPublisher } from '../../lambdas/adapters/memory/findings';
import { InMemoryObjectReader } from '../../lambdas/adapters/memory/object-reader';
import { RecordingLog, RecordingOpsMetrics } from '../../lambdas/adapters/memory/observability';
import { HOUR_MS, MINUTE_MS } from '../../lambdas/core/time';
import { DRIFT_FEATURES, DrifterEndpoints } from '../../lambdas/sim/drift';
import { type Scenario, type ScenarioInput, validateScenario } from '../../lambdas/sim/scenario';
import type { RunSummary } from '../../lambdas/sim/score';
import { runSimulation, type SimulationResult, summaryOf } from '../../lambdas/wiring/simulation';
import { makeSimulatedDriftCheck, SIM_CAPTURE_PREFIX } from '../../lambdas/wiring/simulation-drift';
import { at, START, shortScenario } from './fixtures';

/**
 * model_drift faults go through the real check-drift use case in a simulated run: simulated
 * endpoint Data Capture in the SageMaker key layout, KS / PSI against the baseline dataset,
 * findings routed and notified like any other, scored against ground truth.
 */

const ENDPOINT = 'ranker-prod';
const ONSET_MIN = 100;

function load(input: ScenarioInput): Scenario {
  const loaded = validateScenario(input);
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  return loaded.scenario;
}

/** A small fleet (detection has little to do) and the fault under test. */
const smallFleet = (overrides: Partial<ScenarioInput>): ScenarioInput =>
  shortScenario({
    duration: '4h',
    fleet: [
      { cluster: 'train-a', region: 'us-east-1', instanceType: 'p5.48xlarge', nodes: 2, gpusPerNode: 8 },
    ],
    ...overrides,
  });

const DRIFT_SCENARIO = smallFleet({
  name: 'model-drift',
  faults: [{ id: 'drift', kind: 'model_drift', at: at(ONSET_MIN), target: { endpoint: ENDPOINT } }],
});

describe('runSimulation with a model_drift fault (memory backend)', () => {
  let result: SimulationResult;
  let summary: RunSummary;
  beforeAll(async () => {
    result = await runSimulation(load(DRIFT_SCENARIO));
    summary = summaryOf(result);
  }, 120_000);

  it('detects the drift through check-drift and routes the findings as model incidents on the endpoint', () => {
    const onsetMs = Date.parse(at(ONSET_MIN));
    const drift = result.incidents.filter((i) => i.kind === 'model.drift.data_quality');
    expect(drift.length).toBeGreaterThan(0);
    for (const i of drift) {
      expect(i.cause).toBe('model');
      expect(i.severity).toBe('ticket');
      expect(i.labels.endpoint).toBe(ENDPOINT);
      for (const o of i.observations) expect(o.atMs).toBeGreaterThanOrEqual(onsetMs);
    }
    // Hourly check over a 2 h window: first seen by the first or second run after onset.
    const firstSeen = Math.min(...drift.flatMap((i) => i.observations.map((o) => o.atMs)));
    expect(firstSeen).toBeLessThanOrEqual(onsetMs + 2 * HOUR_MS);
    const fault = summary.faults.find((f) => f.id === 'drift');
    expect(fault?.status).not.toBe('unresolved');
    expect(fault?.incidents.length).toBeGreaterThan(0);
  });

  it('notifies the drift as a model ticket, with its latency in the summary', () => {
    const fault = summary.faults.find((f) => f.id === 'drift');
    expect(fault?.detected).toBe(true);
    expect(fault?.cause).toBe('model');
    expect(fault?.severity).toBe('ticket');
    expect(fault?.severity).toBe(fault?.expectedSeverity);
    expect(fault?.latencySeconds).toBeGreaterThan(0);
    expect(fault?.latencySeconds).toBeLessThanOrEqual(2 * 3600);
    const onsetMs = Date.parse(at(ONSET_MIN));
    expect(Date.parse(fault?.firstNotificationAt ?? '')).toBe(onsetMs + (fault?.latencySeconds ?? 0) * 1000);
    const notified = result.notifications.filter((n) => n.incidentId === fault?.incidentId);
    expect(notified.some((n) => n.event === 'open' && n.category === 'model')).toBe(true);
  });

  it('one drifted endpoint is one incident and one ticket, however many features drifted', () => {
    const drift = result.incidents.filter((i) => i.kind === 'model.drift.data_quality');
    expect(drift).toHaveLength(1);
    const opens = result.notifications.filter(
      (n) => n.kind === 'model.drift.data_quality' && n.event === 'open',
    );
    expect(opens).toHaveLength(1);
    expect(summary.duplicates.filter((d) => d.faultId === 'drift')).toEqual([]);
  });

  it('raises nothing about the endpoint before the onset, and no false notification from it', () => {
    const onsetMs = Date.parse(at(ONSET_MIN));
    const endpointIncidents = result.incidents.filter((i) => i.labels.endpoint !== undefined);
    expect(endpointIncidents.length).toBeGreaterThan(0);
    for (const i of endpointIncidents) {
      expect(i.labels.endpoint).toBe(ENDPOINT);
      expect(i.firstSeenMs).toBeGreaterThanOrEqual(onsetMs);
    }
    expect(summary.falseNotifications.filter((n) => n.kind.startsWith('model.'))).toEqual([]);
  });
});

describe('runSimulation without a model_drift fault', () => {
  it('runs no drift check and produces no drift findings', async () => {
    const scenario = load(
      smallFleet({
        name: 'no-drift',
        duration: '2h',
        faults: [
          { id: 'hot', kind: 'thermal_throttle', at: at(70), target: { cluster: 'train-a', node: 0 } },
        ],
      }),
    );
    expect(
      makeSimulatedDriftCheck({
        scenario,
        endpoints: new DrifterEndpoints(scenario.seed, []),
        publisher: new InMemoryFindingsPublisher(),
        clock: { now: () => scenario.startMs },
        log: new RecordingLog(),
        ops: new RecordingOpsMetrics(),
      }),
    ).toBeUndefined();
    const result = await runSimulation(scenario);
    expect(result.incidents.filter((i) => i.kind.startsWith('model.'))).toEqual([]);
    expect(result.notifications.filter((n) => n.kind.startsWith('model.'))).toEqual([]);
  }, 120_000);
});

describe('runSimulation with a model_drift fault (moto backend)', () => {
  it('sends the drift findings through the real SQS findings queue, as the memory run does', async () => {
    const scenario = load(
      smallFleet({
        name: 'model-drift-moto',
        duration: '2h',
        faults: [{ id: 'drift', kind: 'model_drift', at: at(20), target: { endpoint: ENDPOINT } }],
      }),
    );
    const moto = await runSimulation(scenario, { backend: 'moto' });
    const memory = await runSimulation(scenario, { backend: 'memory' });
    const driftOf = (r: SimulationResult) =>
      r.incidents
        .filter((i) => i.kind.startsWith('model.'))
        .map((i) => `${i.kind} ${i.labels.endpoint} ${i.cause}`)
        .sort();
    expect(moto.backend).toBe('moto');
    expect(moto.apiCalls['sqs:SendMessageBatch'] ?? 0).toBeGreaterThan(0);
    expect(driftOf(moto).length).toBeGreaterThan(0);
    expect(driftOf(moto)).toEqual(driftOf(memory));
    expect(moto.invalidFindings).toBe(0);
  }, 120_000);
});

describe('makeSimulatedDriftCheck', () => {
  const scenario = load(
    smallFleet({
      name: 'drift-check',
      duration: '8h',
      faults: [
        { id: 'd1', kind: 'model_drift', at: at(150), target: { endpoint: ENDPOINT } },
        { id: 'd2', kind: 'model_drift', at: at(400), target: { endpoint: 'fraud-scorer' } },
      ],
    }),
  );
  const setup = () => {
    let now = scenario.startMs;
    const publisher = new InMemoryFindingsPublisher();
    const check = makeSimulatedDriftCheck({
      scenario,
      endpoints: new DrifterEndpoints(
        scenario.seed,
        scenario.faults.filter((f) => f.kind === 'model_drift'),
      ),
      publisher,
      clock: { now: () => now },
      log: new RecordingLog(),
      ops: new RecordingOpsMetrics(),
    });
    if (check === undefined) throw new Error('the scenario has model_drift faults');
    const stepTo = async (ms: number) => {
      now = ms;
      return check.step(ms);
    };
    return { check, publisher, stepTo };
  };

  it('configures one own-path endpoint per model_drift target, validated by the drift schema', () => {
    const { check } = setup();
    expect(check.config.endpoints.map((e) => e.name)).toEqual(['fraud-scorer', ENDPOINT]);
    for (const e of check.config.endpoints) {
      expect(e.modelMonitor).toBe(false);
      expect(e.region).toBe('us-east-1');
      expect(e.dataCapture?.s3Uri).toBe(SIM_CAPTURE_PREFIX);
      // Taken from the baseline header by check-drift.
      expect(e.dataCapture?.features).toBeUndefined();
      expect(e.dataCapture?.windowHours).toBe(2);
    }
    expect(check.config.scheduleMinutes).toBe(60);
  });

  it('runs hourly, writes Data Capture in the SageMaker layout, and finds drift only after onset', async () => {
    const { check, publisher, stepTo } = setup();
    const start = Date.parse(START);
    // Within the first hour nothing is due.
    expect(await stepTo(start + 5 * MINUTE_MS)).toBeUndefined();
    expect(await stepTo(start + 55 * MINUTE_MS)).toBeUndefined();
    const first = await stepTo(start + HOUR_MS);
    expect(first?.endpoints.every((e) => e.dataCapture === 'ok' && e.captureRows > 0)).toBe(true);
    // 6 requests a minute, up to now minus the 2-minute capture delay.
    expect(first?.endpoints.find((e) => e.endpoint === ENDPOINT)?.captureRows).toBe(58 * 6);
    const keys = check.objects.uris().filter((u) => u.includes(`/${ENDPOINT}/`));
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys)
      expect(k).toMatch(
        /^s3:\/\/fleetwatch-sim-capture\/datacapture\/ranker-prod\/AllTraffic\/2026\/09\/15\/00\/\d\d-\d\d-\d{3}-[\w-]+\.jsonl$/,
      );
    // The next step in the same hour does not run the check again.
    expect(await stepTo(start + HOUR_MS + 5 * MINUTE_MS)).toBeUndefined();
    expect(check.runs).toHaveLength(1);

    await stepTo(start + 2 * HOUR_MS);
    expect(publisher.published.filter((f) => f.kind === 'model.drift.data_quality')).toEqual([]);
    // d1 starts at 02:30; by 04:00 half of the 2 h window is drifted.
    await stepTo(start + 3 * HOUR_MS);
    await stepTo(start + 4 * HOUR_MS);
    const drift = publisher.published.filter((f) => f.kind === 'model.drift.data_quality');
    expect(drift.length).toBeGreaterThan(0);
    expect(new Set(drift.map((f) => f.labels.endpoint))).toEqual(new Set([ENDPOINT]));
    // One finding per endpoint and check (no feature label), naming the drifted features.
    expect(drift.length).toBeLessThanOrEqual(2);
    for (const f of drift) expect(f.labels.feature).toBeUndefined();
    // Features inferred from the baseline header line up with the positional CSV payloads: the
    // categorical one is judged by PSI over categories, every drifted one is a simulator feature.
    const features = new Set(
      drift.flatMap((f) =>
        Object.keys(f.evidence.values ?? {})
          .filter((k) => k.endsWith('.n_recent'))
          .map((k) => k.slice(0, -'.n_recent'.length)),
      ),
    );
    expect(features.has('channel')).toBe(true);
    for (const f of features) expect(DRIFT_FEATURES.map((d) => d.name)).toContain(f);
    expect(drift.every((f) => f.cause === 'model' && f.detectedAt >= Date.parse(at(150)))).toBe(true);
    expect(check.runs).toHaveLength(4);
  });

  it('keeps only the capture files the window can still read', async () => {
    const { check, stepTo } = setup();
    const start = Date.parse(START);
    for (let h = 1; h <= 8; h++) await stepTo(start + h * HOUR_MS);
    const hours = new Set(
      check.objects
        .uris()
        .filter((u) => u.includes('/AllTraffic/'))
        .map((u) => /\/(\d\d)\/[^/]+\.jsonl$/.exec(u)?.[1]),
    );
    // At 08:00 with a 2 h window (+1 h slack): files with requests from 05:00 on.
    expect([...hours].sort()).toEqual(['04', '05', '06', '07']);
    // Baselines stay.
    expect(check.objects.uris().filter((u) => u.includes('/baselines/'))).toHaveLength(2);
  });
});

describe('InMemoryObjectReader', () => {
  const reader = new InMemoryObjectReader();
  reader.put('s3://b/p/e/v1/2026/09/15/00/a.jsonl', 'x', 1_000);
  reader.put('s3://b/p/e/v1/2026/09/15/01/b.jsonl', 'yy', 2_000);
  reader.put('s3://b/p/e/v2/2026/09/15/01/c.jsonl', 'zzz', 3_000);
  reader.put('s3://other/p/e/v1/2026/09/15/01/d.jsonl', 'w', 3_000);

  it('lists child prefixes one level down, in key order, within the bucket', async () => {
    expect(await reader.listChildPrefixes('s3://b/p/e/')).toEqual(['s3://b/p/e/v1/', 's3://b/p/e/v2/']);
    expect(await reader.listChildPrefixes('s3://b/p/e')).toEqual(['s3://b/p/e/v1/', 's3://b/p/e/v2/']);
  });

  it('lists objects after StartAfter, by LastModified, up to maxKeys', async () => {
    const after = await reader.listObjects('s3://b/p/e/v1/', { startAfterKey: 'p/e/v1/2026/09/15/01' });
    expect(after.objects.map((o) => o.key)).toEqual(['p/e/v1/2026/09/15/01/b.jsonl']);
    const recent = await reader.listObjects('s3://b/p/e/', { modifiedFromMs: 2_000, modifiedToMs: 3_000 });
    expect(recent.objects.map((o) => o.uri)).toEqual(['s3://b/p/e/v1/2026/09/15/01/b.jsonl']);
    const capped = await reader.listObjects('s3://b/p/', { maxKeys: 2 });
    expect(capped.truncated).toBe(true);
    expect(capped.objects.map((o) => o.size)).toEqual([1, 2]);
  });

  it('reports missing and oversized objects as outcomes', async () => {
    expect(await reader.readText('s3://b/nope', 10)).toEqual({ status: 'missing' });
    expect(await reader.readText('s3://b/p/e/v2/2026/09/15/01/c.jsonl', 2)).toEqual({
      status: 'too_large',
      size: 3,
    });
    expect(await reader.readText('s3://b/p/e/v2/2026/09/15/01/c.jsonl', 3)).toEqual({
      status: 'ok',
      text: 'zzz',
    });
  });
});
