import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { RecordingLog, RecordingOpsMetrics } from '../../../lambdas/adapters/memory/observability';
import { InMemoryStateStore } from '../../../lambdas/adapters/memory/state-store';
import {
  type CheckDriftDeps,
  checkDriftRun,
  DRIFT_STATE_KEY,
  type DriftState,
  hourPath,
  intervalOf,
} from '../../../lambdas/app/check-drift';
import { isCsvBaseline, parseBaselineDataset } from '../../../lambdas/app/drift-baseline';
import { type DriftConfig, driftSchema, resolveDriftConfig } from '../../../lambdas/contracts/drift-config';
import type { Finding } from '../../../lambdas/contracts/finding';
import type {
  FindingsPublisher,
  ListObjectsOptions,
  ModelMonitorApi,
  MonitoringScheduleInfo,
  ObjectListing,
  ObjectReader,
  PublishFailure,
  ReadTextResult,
} from '../../../lambdas/core/ports';
import { DAY_MS, fixedClock, HOUR_MS, MINUTE_MS } from '../../../lambdas/core/time';
import { baselineCsv, captureJsonl, rows } from '../../support/drift-data';

const NOW = Date.UTC(2026, 10, 24, 12, 5, 0);
const REPORT = readFileSync(
  join(import.meta.dirname, '../../fixtures/model-monitor/data-quality-constraint_violations.json'),
  'utf8',
);

/** SageMaker Model Monitor as check-drift sees it. */
class FakeMonitor implements ModelMonitorApi {
  readonly schedules = new Map<string, MonitoringScheduleInfo[]>();
  readonly executions = new Map<string, Record<string, unknown>[]>();
  readonly outputs = new Map<string, string>();
  readonly failing = new Set<string>();
  readonly calls: string[] = [];

  async schedulesOf(region: string, endpoint: string): Promise<MonitoringScheduleInfo[]> {
    this.calls.push(`schedules ${region}/${endpoint}`);
    if (this.failing.has(endpoint))
      throw Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' });
    return this.schedules.get(endpoint) ?? [];
  }
  async executionsSince(_region: string, schedule: string, sinceMs: number): Promise<unknown[]> {
    return (this.executions.get(schedule) ?? []).filter(
      (e) => Date.parse(String(e['ScheduledTime'])) > sinceMs,
    );
  }
  async reportLocationOf(_region: string, arn: string): Promise<string | undefined> {
    this.calls.push(`describe ${arn}`);
    return this.outputs.get(arn);
  }
}

class FakeObjects implements ObjectReader {
  readonly objects = new Map<string, { text: string; modifiedMs: number }>();
  readonly reads = new Map<string, number>();

  put(uri: string, text: string, modifiedMs = NOW - MINUTE_MS): void {
    this.objects.set(uri, { text, modifiedMs });
  }
  async readText(uri: string, maxBytes: number): Promise<ReadTextResult> {
    this.reads.set(uri, (this.reads.get(uri) ?? 0) + 1);
    const o = this.objects.get(uri);
    if (!o) return { status: 'missing' };
    const size = Buffer.byteLength(o.text);
    return size > maxBytes ? { status: 'too_large', size } : { status: 'ok', text: o.text };
  }
  async listObjects(prefix: string, options: ListObjectsOptions = {}): Promise<ObjectListing> {
    const bucket = /^s3:\/\/[^/]+\//.exec(prefix)?.[0] ?? '';
    const objects = [...this.objects.entries()]
      .filter(([uri]) => uri.startsWith(prefix))
      .filter(
        ([uri]) => options.startAfterKey === undefined || uri.slice(bucket.length) > options.startAfterKey,
      )
      .filter(([, o]) => options.modifiedFromMs === undefined || o.modifiedMs >= options.modifiedFromMs)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([uri, o]) => ({
        uri,
        key: uri.slice(bucket.length),
        size: Buffer.byteLength(o.text),
        lastModifiedMs: o.modifiedMs,
      }));
    return { objects, truncated: false };
  }
  async listChildPrefixes(prefix: string): Promise<string[]> {
    const children = new Set<string>();
    for (const uri of this.objects.keys()) {
      if (!uri.startsWith(prefix)) continue;
      const rest = uri.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash > 0) children.add(`${prefix}${rest.slice(0, slash + 1)}`);
    }
    return [...children];
  }
}

class FakePublisher implements FindingsPublisher {
  readonly sent: Finding[] = [];
  failWhen: (f: Finding) => boolean = () => false;
  async publish(findings: readonly Finding[]): Promise<{ published: number; failed: PublishFailure[] }> {
    const failed: PublishFailure[] = [];
    findings.forEach((f, index) => {
      if (this.failWhen(f)) failed.push({ index, reason: 'queue unavailable' });
      else this.sent.push(f);
    });
    return { published: findings.length - failed.length, failed };
  }
}

function summary(schedule: string, scheduledMs: number, status: string, over: Record<string, unknown> = {}) {
  return {
    MonitoringScheduleName: schedule,
    ScheduledTime: new Date(scheduledMs).toISOString(),
    CreationTime: new Date(scheduledMs).toISOString(),
    LastModifiedTime: new Date(scheduledMs + 10 * MINUTE_MS).toISOString(),
    MonitoringExecutionStatus: status,
    MonitoringType: 'DataQuality',
    EndpointName: 'churn',
    ...over,
  };
}

function config(input: unknown): DriftConfig {
  return resolveDriftConfig(driftSchema.parse(input), 'us-east-1');
}

const HOUR = Date.UTC(2026, 10, 24, 12, 0, 0);
const capture = {
  s3Uri: 's3://capture-bucket/datacapture',
  baselineS3Uri: 's3://baselines/churn/baseline.csv',
  features: [
    { name: 'latency_ms', type: 'numeric' },
    { name: 'region', type: 'categorical' },
  ],
};

describe('checkDriftRun', () => {
  let monitor: FakeMonitor;
  let objects: FakeObjects;
  let publisher: FakePublisher;
  let state: InMemoryStateStore;
  let clock: ReturnType<typeof fixedClock>;
  let log: RecordingLog;
  let ops: RecordingOpsMetrics;

  beforeEach(() => {
    monitor = new FakeMonitor();
    objects = new FakeObjects();
    publisher = new FakePublisher();
    state = new InMemoryStateStore();
    clock = fixedClock(NOW);
    log = new RecordingLog();
    ops = new RecordingOpsMetrics();
    monitor.schedules.set('churn', [
      {
        name: 'churn-dq',
        endpoint: 'churn',
        status: 'Scheduled',
        monitoringType: 'DataQuality',
        scheduleExpression: 'cron(0 * ? * * *)',
      },
    ]);
  });

  const deps = (drift: DriftConfig): CheckDriftDeps => ({
    monitor,
    objects,
    publisher,
    state,
    clock,
    log,
    ops,
    drift,
  });
  const run = (drift: DriftConfig, deadline = NOW + 60_000) => checkDriftRun(deps(drift), { deadline });
  const mmOnly = () =>
    config({
      endpoints: [
        {
          name: 'churn',
          team: 'ml-risk',
          modelMonitor: true,
          modelMonitorReportsS3Uri: 's3://reports/monitor',
        },
      ],
    });

  describe('Model Monitor path', () => {
    beforeEach(() => {
      monitor.executions.set('churn-dq', [
        summary('churn-dq', HOUR, 'CompletedWithViolations', {
          ProcessingJobArn:
            'arn:aws:sagemaker:us-east-1:123456789012:processing-job/model-monitoring-2611241200-abc',
        }),
        summary('churn-dq', HOUR - HOUR_MS, 'Completed'),
      ]);
      monitor.outputs.set(
        'arn:aws:sagemaker:us-east-1:123456789012:processing-job/model-monitoring-2611241200-abc',
        's3://reports/churn/churn-dq/2026/11/24/12',
      );
      objects.put('s3://reports/churn/churn-dq/2026/11/24/12/constraint_violations.json', REPORT);
    });

    it('reads the report of a CompletedWithViolations execution: one finding for the endpoint listing the violated features', async () => {
      const result = await run(mmOnly());
      expect(publisher.sent.map((f) => [f.kind, f.labels.endpoint, f.labels.feature, f.labels.team])).toEqual(
        [['model.drift.data_quality', 'churn', undefined, 'ml-risk']],
      );
      expect(publisher.sent[0]?.title).toMatch(
        /^DataQuality: 3 features drifted on endpoint churn: Night Calls /,
      );
      expect(publisher.sent[0]?.evidence.values).toMatchObject({
        features_drifted: 3,
        'Day Mins.distance': 0.27,
        'Day Mins.threshold': 0.1,
      });
      expect(result.endpoints[0]).toMatchObject({
        modelMonitor: 'ok',
        dataCapture: 'skipped',
        executionsNew: 2,
        reportsRead: 1,
      });
      expect(ops.total('monitoringReportsRead')).toBe(1);
    });

    it('remembers executions: the next run neither re-reads the report nor re-sends findings', async () => {
      await run(mmOnly());
      clock.advance(HOUR_MS / 2);
      const second = await run(mmOnly());
      expect(publisher.sent).toHaveLength(1);
      expect(second.findings).toBe(0);
      expect(objects.reads.get('s3://reports/churn/churn-dq/2026/11/24/12/constraint_violations.json')).toBe(
        1,
      );
      const stored = await state.get<DriftState>(DRIFT_STATE_KEY);
      expect(Object.keys(stored?.value.seen ?? {}).sort()).toEqual([
        `us-east-1/churn-dq@${HOUR - HOUR_MS}`,
        `us-east-1/churn-dq@${HOUR}`,
      ]);
    });

    it('does not remember an execution whose findings did not reach the queue: the next run sends them', async () => {
      publisher.failWhen = (f) => f.kind === 'model.drift.data_quality';
      const first = await run(mmOnly());
      expect(first.unpublished).toBe(1);
      expect(ops.total('driftFindingsUnpublished')).toBe(1);
      publisher.failWhen = () => false;
      await run(mmOnly());
      expect(publisher.sent.filter((f) => f.kind === 'model.drift.data_quality')).toHaveLength(1);
      expect(objects.reads.get('s3://reports/churn/churn-dq/2026/11/24/12/constraint_violations.json')).toBe(
        2,
      );
    });

    it('reports a Failed execution, and leaves an InProgress one for a later run', async () => {
      monitor.executions.set('churn-dq', [
        summary('churn-dq', HOUR, 'InProgress'),
        summary('churn-dq', HOUR - HOUR_MS, 'Failed', { FailureReason: 'Job inputs had no data' }),
      ]);
      await run(mmOnly());
      expect(publisher.sent.map((f) => f.kind)).toEqual(['model.monitor.execution_failed']);
      expect(publisher.sent[0]?.evidence.detail).toContain('Job inputs had no data');
      monitor.executions.set('churn-dq', [
        summary('churn-dq', HOUR, 'CompletedWithViolations'),
        summary('churn-dq', HOUR - HOUR_MS, 'Failed', { FailureReason: 'Job inputs had no data' }),
      ]);
      await run(mmOnly());
      // The now-finished execution is new; it has no processing job, so its report is missing.
      expect(publisher.sent.map((f) => f.kind)).toEqual([
        'model.monitor.execution_failed',
        'model.monitor.report_invalid',
      ]);
    });

    it('reports a stale schedule, and an endpoint with no schedule at all', async () => {
      monitor.executions.set('churn-dq', [summary('churn-dq', HOUR - 5 * HOUR_MS, 'Completed')]);
      monitor.schedules.set('fraud', []);
      await run(
        config({
          endpoints: [
            { name: 'churn', modelMonitor: true, modelMonitorReportsS3Uri: 's3://reports/monitor' },
            { name: 'fraud', modelMonitor: true, modelMonitorReportsS3Uri: 's3://reports/monitor' },
          ],
        }),
      );
      expect(publisher.sent.map((f) => [f.kind, f.labels.endpoint])).toEqual([
        ['model.monitor.stale', 'churn'],
        ['model.monitor.stale', 'fraud'],
      ]);
      expect(publisher.sent[1]?.title).toBe('No Model Monitor schedule on endpoint fraud');
    });

    it('reads the BYOC file name (constraints_violations.json) when constraint_violations.json is absent', async () => {
      objects.objects.clear();
      objects.put('s3://reports/churn/churn-dq/2026/11/24/12/constraints_violations.json', REPORT);
      await run(mmOnly());
      expect(publisher.sent).toHaveLength(1);
      expect(publisher.sent[0]?.evidence.values?.['features_drifted']).toBe(3);
    });

    it('counts and skips an execution summary it does not understand', async () => {
      monitor.executions.set('churn-dq', [summary('churn-dq', HOUR, 'Exploded')]);
      const result = await run(mmOnly());
      expect(result.endpoints[0]?.modelMonitor).toBe('ok');
      expect(log.find('warn', 'not understood')).toHaveLength(1);
      expect(ops.total('monitoringSummariesInvalid')).toBe(1);
      // An execution we cannot read proves nothing: the schedule counts as not having run.
      expect(publisher.sent.map((f) => f.kind)).toEqual(['model.monitor.stale']);
    });
  });

  describe('own drift path (Data Capture vs baseline)', () => {
    const prefix = 's3://capture-bucket/datacapture/churn/AllTraffic';
    beforeEach(() => {
      objects.put(capture.baselineS3Uri, baselineCsv(rows(600, 1)));
      objects.put(
        `${prefix}/${hourPath(HOUR - HOUR_MS)}/a.jsonl`,
        captureJsonl(rows(300, 2, { latencySd: 1.5 }), HOUR - HOUR_MS),
      );
      objects.put(
        `${prefix}/${hourPath(HOUR)}/b.jsonl`,
        `${captureJsonl(rows(300, 3, { latencySd: 1.5 }), HOUR)}\n{not json\n`,
      );
    });
    const own = (over: Record<string, unknown> = {}) =>
      config({ endpoints: [{ name: 'churn', dataCapture: { ...capture, ...over } }] });

    it('finds the shifted numeric feature and not the stable categorical one; bad lines are counted and reported', async () => {
      const result = await run(own());
      const drift = publisher.sent.filter((f) => f.kind === 'model.drift.data_quality');
      expect(drift).toHaveLength(1);
      expect(drift[0]?.labels).toEqual({ endpoint: 'churn' });
      expect(drift[0]?.title).toMatch(/^1 of \d+ features drifted on endpoint churn: latency_ms \(/);
      expect(drift[0]?.evidence.values?.['latency_ms.ks']).toBeGreaterThan(0.3);
      expect(drift[0]?.evidence.values?.['features_drifted']).toBe(1);
      const invalid = publisher.sent.filter((f) => f.kind === 'model.drift.capture_invalid');
      expect(invalid).toHaveLength(1);
      expect(invalid[0]?.evidence.values?.['bad_lines']).toBe(1);
      expect(invalid[0]?.evidence.detail).toContain(
        'datacapture/churn/AllTraffic/2026/11/24/12/b.jsonl:301: not JSON',
      );
      expect(result.endpoints[0]).toMatchObject({
        dataCapture: 'ok',
        captureObjects: 2,
        captureRows: 600,
        badLines: 1,
      });
      expect(ops.total('driftCaptureLinesInvalid')).toBe(1);
    });

    it('infers features from the CSV header and reports a shifted categorical mix', async () => {
      objects.put(
        `${prefix}/${hourPath(HOUR)}/b.jsonl`,
        captureJsonl(rows(400, 4, { regionSkew: true }), HOUR),
      );
      objects.objects.delete(`${prefix}/${hourPath(HOUR - HOUR_MS)}/a.jsonl`);
      await run(own({ features: undefined }));
      expect(publisher.sent.map((f) => f.kind)).toEqual(['model.drift.data_quality']);
      expect(publisher.sent[0]?.title).toMatch(/^1 of \d+ features drifted on endpoint churn: region \(PSI /);
      expect(publisher.sent[0]?.evidence.values?.['region.psi']).toBeGreaterThan(0.2);
    });

    it('reads only captures of the window', async () => {
      const old = `${prefix}/${hourPath(HOUR - 3 * DAY_MS)}/old.jsonl`;
      objects.put(old, captureJsonl(rows(50, 9), HOUR - 3 * DAY_MS), HOUR - 3 * DAY_MS);
      await run(own());
      expect(objects.reads.has(old)).toBe(false);
    });

    it('fails the path (counted, logged) when the baseline dataset is missing', async () => {
      objects.objects.delete(capture.baselineS3Uri);
      const result = await run(own());
      expect(result.endpoints[0]).toMatchObject({ dataCapture: 'error' });
      expect(result.endpoints[0]?.error).toContain(
        'baseline dataset s3://baselines/churn/baseline.csv does not exist',
      );
      expect(ops.total('driftEndpointsFailed', { Path: 'dataCapture', Reason: 'error' })).toBe(1);
    });
  });

  it('one endpoint failing does not stop the next', async () => {
    monitor.failing.add('broken');
    monitor.executions.set('churn-dq', [summary('churn-dq', HOUR, 'Failed', { FailureReason: 'OOM' })]);
    const result = await run(
      config({
        endpoints: [
          { name: 'broken', modelMonitor: true, modelMonitorReportsS3Uri: 's3://reports/monitor' },
          { name: 'churn', modelMonitor: true, modelMonitorReportsS3Uri: 's3://reports/monitor' },
        ],
      }),
    );
    expect(result.endpoints.map((e) => [e.endpoint, e.modelMonitor])).toEqual([
      ['broken', 'error'],
      ['churn', 'ok'],
    ]);
    expect(result.endpoints[0]?.error).toContain('AccessDeniedException');
    expect(publisher.sent.map((f) => f.kind)).toEqual(['model.monitor.execution_failed']);
    expect(log.find('error', 'the other endpoints go on')).toHaveLength(1);
  });

  it('starts no endpoint after the deadline', async () => {
    const result = await run(mmOnly(), NOW - 1);
    expect(result.endpoints[0]?.modelMonitor).toBe('deadline');
    expect(monitor.calls).toEqual([]);
    expect(ops.total('driftEndpointsFailed', { Reason: 'deadline' })).toBe(1);
  });
});

describe('intervalOf', () => {
  it.each([
    ['cron(0 * ? * * *)', HOUR_MS],
    ['cron(0 0/6 ? * * *)', 6 * HOUR_MS],
    ['cron(0 */12 ? * * *)', 12 * HOUR_MS],
    ['cron(0 8 ? * * *)', DAY_MS],
    ['NOW', undefined],
  ])('%s → %s', (expr, ms) => {
    expect(intervalOf(expr)).toBe(ms);
  });
});

describe('parseBaselineDataset', () => {
  it('CSV with a header: infers numeric and categorical columns, counts rows of the wrong width', () => {
    const parsed = parseBaselineDataset('a,b\n1,x\n2.5,y\n3\n,z\n', 'csv');
    expect(parsed.features).toEqual([
      { name: 'a', type: 'numeric' },
      { name: 'b', type: 'categorical' },
    ]);
    expect(parsed.rows).toEqual([
      { a: 1, b: 'x' },
      { a: 2.5, b: 'y' },
      { a: null, b: 'z' },
    ]);
    expect(parsed.bad).toEqual([{ line: 4, reason: 'expected 2 cells, got 1' }]);
  });

  it('JSONL: keys in first-seen order; a non-number in a configured numeric feature is a bad row', () => {
    const parsed = parseBaselineDataset('{"a":1,"b":"x"}\nnope\n{"a":"high","b":"y"}', 'jsonl', [
      { name: 'a', type: 'numeric' },
    ]);
    expect(parsed.rows).toEqual([{ a: 1 }]);
    expect(parsed.badCount).toBe(2);
    expect(isCsvBaseline('s3://b/x.CSV')).toBe(true);
    expect(isCsvBaseline('s3://b/x.jsonl')).toBe(false);
  });
});
