import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { InMemoryCalendarStore } from '../../../lambdas/adapters/memory/calendar-store';
import { InMemoryDeadLetters } from '../../../lambdas/adapters/memory/dead-letters';
import { InMemoryIncidentStore } from '../../../lambdas/adapters/memory/incident-store';
import { RecordingNotifier } from '../../../lambdas/adapters/memory/notifier';
import { RecordingLog } from '../../../lambdas/adapters/memory/observability';
import { RecordingRemediationStarter } from '../../../lambdas/adapters/memory/remediation';
import { makeObservability } from '../../../lambdas/adapters/powertools/observability';
import { resolve } from '../../../lambdas/core/incidents/lifecycle';
import type { DeadLetters } from '../../../lambdas/core/ports';
import { makeHandler as makeRoute } from '../../../lambdas/handlers/route-incidents';
import { makeHandler as makeSweep } from '../../../lambdas/handlers/sweep-incidents';
import { type RouterRuntime, routerConfigSchema } from '../../../lambdas/wiring/router';
import { finding, MIN, T0 } from '../incidents/fixtures';

function runtime(deadLetters: DeadLetters, notifier = new RecordingNotifier()) {
  const router = routerConfigSchema.parse({ stackName: 'FleetWatch', incidents: { groupWaitSeconds: 0 } });
  const rt: RouterRuntime = {
    router,
    deadLetters,
    clock: { now: () => T0 },
    observability: makeObservability('route-incidents-test'),
    deps: {
      store: new InMemoryIncidentStore(),
      calendar: new InMemoryCalendarStore(),
      notifier,
      remediation: new RecordingRemediationStarter(),
      config: router.incidents,
      maintenance: router.maintenance,
      log: new RecordingLog(),
    },
  };
  return rt;
}

const event = (...bodies: string[]): SQSEvent =>
  ({
    Records: bodies.map((body, i) => ({ messageId: `m${i}`, body })),
  }) as unknown as SQSEvent;

describe('route-incidents handler', () => {
  it('dead-letters an unknown EventBridge event with the detail-type in the reason, routes the rest', async () => {
    const dlq = new InMemoryDeadLetters();
    const notifier = new RecordingNotifier();
    const rt = runtime(dlq, notifier);
    const res = await makeRoute(() => rt)(
      event(
        JSON.stringify({ 'detail-type': 'EC2 Spot Instance Interruption Warning' }),
        JSON.stringify(finding()),
      ),
    );
    expect(res.batchItemFailures).toEqual([]);
    expect(dlq.messages).toHaveLength(1);
    expect(dlq.messages[0]?.reason).toMatch(/detail-type: got "EC2 Spot Instance Interruption Warning"/);
    expect(notifier.published).toHaveLength(1);
  });

  it('returns a malformed record as a batch item failure when the DLQ cannot take it', async () => {
    const rt = runtime({ send: async () => Promise.reject(new Error('DLQ down')) });
    const res = await makeRoute(() => rt)(event('{oops', JSON.stringify(finding())));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }]);
  });
});

describe('sweep-incidents handler', () => {
  it('throws when an incident could not be notified, so the invocation counts as an error', async () => {
    const notifier = new RecordingNotifier();
    const rt = runtime(new InMemoryDeadLetters(), notifier);
    notifier.failNext = 1;
    await makeRoute(() => rt)(event(JSON.stringify(finding())));
    expect(notifier.published).toHaveLength(0);
    notifier.failNext = 1;
    await expect(makeSweep(() => rt)()).rejects.toThrow(/1 incident\(s\) could not be updated or notified/);
    await expect(makeSweep(() => rt)()).resolves.toMatchObject({ failed: 0 });
    expect(notifier.published).toHaveLength(1);
  });
});

describe('router metrics (EMF)', () => {
  /**
   * The EMF documents the handler wrote. Powertools writes one JSON line per blob, to the global
   * console in dev mode (vitest.config sets POWERTOOLS_DEV), where metrics are off unless
   * POWERTOOLS_METRICS_DISABLED says otherwise.
   */
  function captureEmf() {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const spy = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    return {
      docs: () =>
        spy.mock.calls.flatMap(([line]) => {
          try {
            const doc = JSON.parse(String(line)) as Record<string, unknown>;
            return '_aws' in doc ? [doc as EmfDoc] : [];
          } catch {
            return [];
          }
        }),
      restore: () => {
        spy.mockRestore();
        vi.unstubAllEnvs();
      },
    };
  }
  interface EmfDoc {
    _aws: {
      CloudWatchMetrics: {
        Namespace: string;
        Dimensions: string[][];
        Metrics: { Name: string; Unit: string }[];
      }[];
    };
    [key: string]: unknown;
  }
  const emitted = (docs: EmfDoc[], name: string) =>
    docs
      .filter((d) => d._aws.CloudWatchMetrics.some((m) => m.Metrics.some((x) => x.Name === name)))
      .map((d) => ({
        value: d[name],
        severity: d.Severity,
        cause: d.Cause,
        unit: d._aws.CloudWatchMetrics[0]?.Metrics.find((x) => x.Name === name)?.Unit,
        dimensions: d._aws.CloudWatchMetrics[0]?.Dimensions.flat().sort(),
        namespace: d._aws.CloudWatchMetrics[0]?.Namespace,
      }));

  it('route-incidents emits IncidentsOpened and NotificationsSent by Severity, as the dashboard graphs them', async () => {
    const rt = runtime(new InMemoryDeadLetters());
    const emf = captureEmf();
    try {
      await makeRoute(() => rt)(event(JSON.stringify(finding({ detectedAt: T0 - MIN }))));
      const docs = emf.docs();
      expect(emitted(docs, 'IncidentsOpened')).toEqual([
        expect.objectContaining({ value: 1, severity: 'page', dimensions: ['Severity', 'service'] }),
      ]);
      expect(emitted(docs, 'NotificationsSent')).toEqual([
        expect.objectContaining({ value: 1, severity: 'page', dimensions: ['Severity', 'service'] }),
      ]);
    } finally {
      emf.restore();
    }
  });

  it('route-incidents emits IncidentTimeToDetect and IncidentTimeToResolve with Severity and Cause when a finding resolves', async () => {
    const rt = runtime(new InMemoryDeadLetters());
    let now = T0;
    const routed = { ...rt, clock: { now: () => now } };
    const route = makeRoute(() => routed);
    const emf = captureEmf();
    try {
      await route(event(JSON.stringify(finding({ detectedAt: T0 - 3 * MIN }))));
      expect(emitted(emf.docs(), 'IncidentTimeToResolve')).toEqual([]);
      now = T0 + 30 * MIN;
      const resolved = finding({
        severity: 'info',
        evidence: { values: { resolved: 1 }, window: { startMs: now, endMs: now } },
        detectedAt: now,
      });
      await route(event(JSON.stringify(resolved)));
      const common = {
        severity: 'page',
        cause: 'hardware',
        unit: 'Seconds',
        dimensions: ['Cause', 'Severity', 'service'],
        namespace: 'FleetWatch',
      };
      expect(emitted(emf.docs(), 'IncidentTimeToDetect')).toEqual([{ ...common, value: 180 }]);
      expect(emitted(emf.docs(), 'IncidentTimeToResolve')).toEqual([{ ...common, value: 33 * 60 }]);
      // Redelivery of the resolved finding: no second sample.
      await route(event(JSON.stringify(resolved)));
      expect(emitted(emf.docs(), 'IncidentTimeToResolve')).toHaveLength(1);
    } finally {
      emf.restore();
    }
  });

  it('sweep-incidents emits them for an incident a person resolved with the CLI', async () => {
    const rt = runtime(new InMemoryDeadLetters());
    await makeRoute(() => rt)(event(JSON.stringify(finding({ detectedAt: T0 - MIN }))));
    const store = rt.deps.store as InMemoryIncidentStore;
    const [current] = store.all();
    if (current === undefined) throw new Error('no incident');
    await store.put(resolve(current, T0 + 9 * MIN, 'ana', 'GPU replaced'));
    const emf = captureEmf();
    try {
      const swept = { ...rt, clock: { now: () => T0 + 10 * MIN } };
      await makeSweep(() => swept)();
      await makeSweep(() => swept)();
      expect(emitted(emf.docs(), 'IncidentTimeToDetect')).toEqual([
        expect.objectContaining({ value: 60, severity: 'page', cause: 'hardware', unit: 'Seconds' }),
      ]);
      expect(emitted(emf.docs(), 'IncidentTimeToResolve')).toEqual([
        expect.objectContaining({ value: 600, severity: 'page', cause: 'hardware', unit: 'Seconds' }),
      ]);
    } finally {
      emf.restore();
    }
  });
});
