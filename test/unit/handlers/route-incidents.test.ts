import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { InMemoryCalendarStore } from '../../../lambdas/adapters/memory/calendar-store';
import { InMemoryDeadLetters } from '../../../lambdas/adapters/memory/dead-letters';
import { InMemoryIncidentStore } from '../../../lambdas/adapters/memory/incident-store';
import { RecordingNotifier } from '../../../lambdas/adapters/memory/notifier';
import { RecordingLog } from '../../../lambdas/adapters/memory/observability';
import { RecordingRemediationStarter } from '../../../lambdas/adapters/memory/remediation';
import { makeObservability } from '../../../lambdas/adapters/powertools/observability';
import type { DeadLetters } from '../../../lambdas/core/ports';
import { makeHandler as makeRoute } from '../../../lambdas/handlers/route-incidents';
import { makeHandler as makeSweep } from '../../../lambdas/handlers/sweep-incidents';
import { type RouterRuntime, routerConfigSchema } from '../../../lambdas/wiring/router';
import { finding, T0 } from '../incidents/fixtures';

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
