import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { MINUTE_MS } from '../../lambdas/core/time';
import { validateScenario } from '../../lambdas/sim/scenario';
import {
  runSimulation,
  SIMULATION_KPI_BUCKET,
  type SimulationObserver,
  summaryOf,
} from '../../lambdas/wiring/simulation';
import { at, shortScenario } from './fixtures';

/**
 * ONE run on the moto backend: the runner starts its own moto_server, creates the state and
 * incidents tables, the findings queue, three SNS topics with SQS subscribers and the KPI bucket,
 * routes through the real DynamoDB/SQS/SNS adapters, keeps the KPI usage records and KPI state in
 * S3 through the real S3 adapters, and stops the server. Same detection and KPIs as in memory.
 */

/**
 * Lists the run's KPI bucket (prefix kpi/) with its own client while the run's moto_server is up:
 * the runner points AWS_ENDPOINT_URL at it for the run and restores it afterwards, so the last
 * listing (after the last step's KPI run) is what the bucket held at the end.
 */
class KpiBucketLister implements SimulationObserver {
  keys: string[] = [];
  async onWindow(): Promise<void> {
    const endpoint = process.env.AWS_ENDPOINT_URL;
    if (endpoint === undefined) throw new Error('AWS_ENDPOINT_URL is not set during a moto run');
    const s3 = new S3Client({
      endpoint,
      region: process.env.AWS_REGION ?? 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    try {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({
            Bucket: SIMULATION_KPI_BUCKET,
            Prefix: 'kpi/',
            ContinuationToken: token,
          }),
        );
        for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      this.keys = keys;
    } finally {
      s3.destroy();
    }
  }
}

describe('runSimulation --backend moto', () => {
  it('routes a fatal Xid through real DynamoDB, SQS and SNS calls, keeps KPI usage and state in S3, and matches the memory run', async () => {
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
    // KPI runs every 20 min over 20-min windows (runs at 20, 40, 60 and 80 min of the 90). A 1 %
    // drop threshold, and scopes judged from 1 GPU-hour (16 GPUs give ~5 per window), so the fleet
    // warming up and the Xid give drops to compare between the backends.
    const kpis = {
      everyMs: 20 * MINUTE_MS,
      windowMs: 20 * MINUTE_MS,
      decomposition: { minRelativeDrop: 0.01, minAvailableGpuHours: 1 },
    };
    const lister = new KpiBucketLister();

    const moto = await runSimulation(loaded.scenario, { backend: 'moto', kpis, observers: [lister] });
    const memory = await runSimulation(loaded.scenario, { backend: 'memory', kpis });
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

    // KPIs on moto: one usage object per detection window under kpi/usage/YYYY-MM-DD/HH/, and the
    // KPI state object computeKpis wrote, both in the run's bucket; read back through S3.
    const usageKeys = lister.keys.filter((k) => k.startsWith('kpi/usage/'));
    expect(usageKeys.length).toBe(moto.runs);
    for (const k of usageKeys) expect(k).toMatch(/^kpi\/usage\/\d{4}-\d\d-\d\d\/\d\d\/.+\.json\.gz$/);
    expect(lister.keys).toContain('kpi/state.json.gz');
    expect(summary.apiCalls['s3:PutObject'] ?? 0).toBeGreaterThan(usageKeys.length); // + state writes
    expect(summary.apiCalls['s3:ListObjectsV2'] ?? 0).toBeGreaterThan(0);
    expect(summary.apiCalls['s3:GetObject'] ?? 0).toBeGreaterThan(0);
    // The KPI series is deterministic: the same points and drops as the memory run.
    expect(moto.kpis.length).toBeGreaterThanOrEqual(2);
    expect(moto.kpis).toEqual(memory.kpis);
    expect(memory.goodputDrops.length).toBeGreaterThan(0);
    expect(moto.goodputDrops).toEqual(memory.goodputDrops);

    // The environment is restored once moto is stopped.
    expect(process.env.AWS_ENDPOINT_URL).toBe(endpointBefore);
  }, 180_000);
});
