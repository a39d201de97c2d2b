import { describe, expect, it } from 'vitest';
import { validateScenario } from '../../lambdas/sim/scenario';
import { runSimulation, summaryOf } from '../../lambdas/wiring/simulation';
import { at, shortScenario } from './fixtures';

/**
 * ONE run on the moto backend: the runner starts its own moto_server, creates the state and
 * incidents tables, the findings queue and three SNS topics with SQS subscribers, routes through
 * the real DynamoDB/SQS/SNS adapters, and stops the server. Same detection as in memory.
 */
describe('runSimulation --backend moto', () => {
  it('routes a fatal Xid through real DynamoDB, SQS and SNS calls and reads the page back from the subscriber', async () => {
    const loaded = validateScenario(
      shortScenario({
        name: 'moto-tiny',
        duration: '90m',
        fleet: [
          { cluster: 'train-a', region: 'us-east-1', instanceType: 'p5.48xlarge', nodes: 2, gpusPerNode: 8 },
        ],
        faults: [
          {
            id: 'x',
            kind: 'xid',
            at: at(40),
            target: { cluster: 'train-a', node: 1, gpu: 5 },
            params: { code: 79 },
          },
        ],
      }),
    );
    if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
    const endpointBefore = process.env.AWS_ENDPOINT_URL;

    const moto = await runSimulation(loaded.scenario, { backend: 'moto' });
    const memory = await runSimulation(loaded.scenario, { backend: 'memory' });
    const summary = summaryOf(moto);

    expect(summary.backend).toBe('moto');
    expect(summary.faults[0]).toMatchObject({ id: 'x', detected: true, severity: 'page', cause: 'hardware' });
    expect(summary.faults[0]?.latencySeconds).toBeLessThanOrEqual(15 * 60);
    // Real calls were made, and every notification published reached its SQS subscriber.
    expect(summary.apiCalls['dynamodb:UpdateItem'] ?? 0).toBeGreaterThan(0);
    expect(summary.apiCalls['sqs:SendMessageBatch'] ?? 0).toBeGreaterThan(0);
    expect(summary.apiCalls['sns:Publish']).toBe(moto.notifications.length);
    const delivered = Object.values(summary.deliveredBySeverity).reduce((a, b) => a + (b ?? 0), 0);
    expect(delivered).toBe(moto.notifications.length);
    expect(summary.deliveredBySeverity.page ?? 0).toBeGreaterThan(0);
    expect(summary.findingsRouted).toBeGreaterThan(0);
    // The same run in memory notifies the same things at the same virtual times.
    const strip = (r: typeof moto) =>
      r.notifications.map((n) => [n.atMs, n.severity, n.event, n.kind, n.subject]);
    expect(strip(moto)).toEqual(strip(memory));
    // The environment is restored once moto is stopped.
    expect(process.env.AWS_ENDPOINT_URL).toBe(endpointBefore);
  }, 120_000);
});
