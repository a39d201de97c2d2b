import { beforeAll, describe, expect, it } from 'vitest';
import { validateScenario } from '../../lambdas/sim/scenario';
import type { RunSummary } from '../../lambdas/sim/score';
import { runSimulation, type SimulationResult, summaryOf } from '../../lambdas/wiring/simulation';
import { FAULTS_SCENARIO } from './fixtures';

/**
 * The scenario runner end to end on the memory backend: the real collect, detect and route use
 * cases over the simulator, scored against ground truth.
 */
const FIFTEEN_MINUTES_S = 15 * 60;

let result: SimulationResult;
let summary: RunSummary;
beforeAll(async () => {
  const loaded = validateScenario(FAULTS_SCENARIO);
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  result = await runSimulation(loaded.scenario);
  summary = summaryOf(result);
}, 120_000);

describe('runSimulation (memory backend)', () => {
  it.each(['xid79', 'hot', 'stall'])(
    'detects and routes fault %s within the 15-minute requirement, with the expected severity and cause',
    (id) => {
      const fault = summary.faults.find((f) => f.id === id);
      expect(fault, `fault ${id} in the summary`).toBeDefined();
      expect(fault?.status).not.toBe('unresolved');
      expect(fault?.detected).toBe(true);
      expect(fault?.latencySeconds).toBeGreaterThan(0);
      expect(fault?.latencySeconds).toBeLessThanOrEqual(FIFTEEN_MINUTES_S);
      expect(fault?.severity).toBe(fault?.expectedSeverity);
      expect(fault?.cause).toBe(fault?.expectedCause);
      expect(result.incidents.map((i) => i.id)).toContain(fault?.incidentId);
    },
  );

  it('pages nothing inside a maintenance window, and records why the Xid there was held back', () => {
    const window = result.maintenance[0];
    if (window === undefined) throw new Error('the scenario has a maintenance window');
    const nodeOf = new Map(result.incidents.map((i) => [i.id, i.labels.node]));
    expect(window.hostname).toBeDefined();
    const inside = result.notifications.filter(
      (n) =>
        n.atMs >= window.startMs &&
        n.atMs < window.endMs &&
        n.event !== 'resolved' &&
        nodeOf.get(n.incidentId) === window.hostname,
    );
    expect(inside).toEqual([]);
    expect(summary.notificationsDuringMaintenance).toEqual([]);
    const held = summary.suppressedIncidents.filter((s) => s.faultId === 'xid-in-maintenance');
    expect(held.length).toBeGreaterThan(0);
    // The Xid itself is held by the window; its symptom on the same GPU (the series going silent)
    // may instead be inhibited by the Xid incident: one fault, one page, never two.
    expect(held.some((s) => s.stage === 'maintenance')).toBe(true);
    expect(held.every((s) => s.stage === 'maintenance' || s.stage === 'inhibition')).toBe(true);
  });

  it('sends each incident one opening notification, and nothing that no fault explains', () => {
    const opens = new Map<string, number>();
    for (const n of result.notifications.filter((x) => x.event === 'open')) {
      opens.set(n.incidentId, (opens.get(n.incidentId) ?? 0) + 1);
    }
    expect(opens.size).toBeGreaterThan(0);
    expect([...opens.values()].every((c) => c === 1)).toBe(true);
    expect(summary.falseNotifications).toEqual([]);
    expect(summary.duplicates.filter((d) => d.faultId === undefined)).toEqual([]);
  });

  it('delivers notifications on the virtual clock, inside the scenario, in order', () => {
    const times = result.notifications.map((n) => n.atMs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(Math.min(...times)).toBeGreaterThan(result.scenario.startMs);
    expect(Math.max(...times)).toBeLessThanOrEqual(result.scenario.endMs);
  });

  it('counts the simulated API calls and the fleet utilisation it collected', () => {
    expect(summary.apiCalls['cloudwatch:GetMetricData']).toBeGreaterThan(0);
    expect(summary.apiCalls['timestream:WriteRecords']).toBeGreaterThan(0);
    expect(summary.apiCalls['sns:Publish']).toBe(result.notifications.length);
    // 48 GPUs reporting every minute once warm: at least most of 3 h of minutes are covered.
    expect(result.utilisation.length).toBeGreaterThan(150);
    expect(result.utilisation.every((p) => p.utilPercent >= 0 && p.utilPercent <= 100)).toBe(true);
    expect(result.invalidFindings).toBe(0);
    expect(result.invalidJobEvents).toBe(0);
  });

  it('writes a summary with exactly the contract field names (extras allowed)', () => {
    const json = JSON.parse(JSON.stringify(summary)) as Record<string, unknown>;
    for (const key of [
      'scenario',
      'faults',
      'falseNotifications',
      'notificationsDuringMaintenance',
      'duplicateNotifications',
      'apiCalls',
      'runtimeSeconds',
    ]) {
      expect(json, key).toHaveProperty(key);
    }
    expect(json.scenario).toBe('runner-test');
    expect(typeof json.duplicateNotifications).toBe('number');
    expect(typeof json.runtimeSeconds).toBe('number');
    const faults = json.faults as Record<string, unknown>[];
    expect(faults).toHaveLength(4);
    for (const f of faults) {
      for (const key of [
        'id',
        'kind',
        'at',
        'detected',
        'firstNotificationAt',
        'latencySeconds',
        'severity',
        'incidentId',
        'cause',
      ]) {
        expect(f, `faults[].${key}`).toHaveProperty(key);
      }
    }
    const detected = faults.find((f) => f.id === 'xid79');
    expect(detected?.at).toBe('2026-09-15T01:00:00.000Z');
    expect(Date.parse(String(detected?.firstNotificationAt))).toBe(
      Date.parse(String(detected?.at)) + Number(detected?.latencySeconds) * 1000,
    );
  });
});
