import { beforeEach, describe, expect, it } from 'vitest';
import { InMemoryDeadLetters } from '../../../lambdas/adapters/memory/dead-letters';
import { InMemoryJobStore } from '../../../lambdas/adapters/memory/job-store';
import { RecordingLog, RecordingOpsMetrics } from '../../../lambdas/adapters/memory/observability';
import { InMemoryTelemetrySink } from '../../../lambdas/adapters/memory/telemetry-sink';
import {
  INGEST_JOB_EVENTS_SOURCE,
  type IngestJobEventsDeps,
  ingestJobEvent,
} from '../../../lambdas/app/ingest-job-events';
import type { TrainingJobState } from '../../../lambdas/core/model';
import type { DeadLetters, JobStore, SinkWriteResult, TelemetrySink } from '../../../lambdas/core/ports';
import { eventBody, eventJson } from '../../fixtures/sagemaker/fixtures';

const JOB = 'llama-pretrain-2024-05-14-10-02-11-123';

/** Fails the next `failures` calls with a transient-looking error, then delegates. */
class FlakySink implements TelemetrySink {
  readonly name = 'flaky';
  constructor(
    readonly inner: InMemoryTelemetrySink,
    public failures: number,
  ) {}
  writeGpuSamples(): Promise<SinkWriteResult> {
    throw new Error('not used');
  }
  async writeJobStates(jobs: readonly TrainingJobState[]): Promise<SinkWriteResult> {
    if (this.failures-- > 0) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    return this.inner.writeJobStates(jobs);
  }
}

class FlakyStore implements JobStore {
  constructor(
    readonly inner: InMemoryJobStore,
    public failures: number,
  ) {}
  async apply(state: TrainingJobState) {
    if (this.failures-- > 0)
      throw Object.assign(new Error('Internal error'), { name: 'InternalServerError' });
    return this.inner.apply(state);
  }
  get(region: string, jobName: string) {
    return this.inner.get(region, jobName);
  }
}

describe('ingestJobEvent', () => {
  let sink: InMemoryTelemetrySink;
  let store: InMemoryJobStore;
  let dlq: InMemoryDeadLetters;
  let log: RecordingLog;
  let ops: RecordingOpsMetrics;
  let deps: IngestJobEventsDeps;

  beforeEach(() => {
    sink = new InMemoryTelemetrySink();
    store = new InMemoryJobStore();
    dlq = new InMemoryDeadLetters();
    log = new RecordingLog();
    ops = new RecordingOpsMetrics();
    deps = {
      sink,
      jobStore: store,
      deadLetters: dlq,
      tagKeys: { teamTag: 'team', workloadClassTag: 'workload-class' },
      log,
      ops,
    };
  });

  it('writes a valid event to the sink and applies it to the job store', async () => {
    expect(await ingestJobEvent(deps, eventBody('event-in-progress-training'), { messageId: 'm1' })).toBe(
      'applied',
    );

    const stored = await store.get('us-east-1', JOB);
    expect(stored).toMatchObject({
      status: 'InProgress',
      secondaryStatus: 'Training',
      team: 'nlp',
      instanceCount: 4,
    });
    expect([...sink.jobs.values()]).toEqual([stored]);
    expect(ops.total('jobEventsApplied')).toBe(1);
    expect(log.find('info', 'Job event applied')[0]?.attributes).toMatchObject({
      messageId: 'm1',
      jobName: JOB,
      outcome: 'applied',
    });
  });

  it('counts a redelivered event as a duplicate and changes nothing', async () => {
    await ingestJobEvent(deps, eventBody('event-completed'));
    const before = await store.get('us-east-1', JOB);
    expect(await ingestJobEvent(deps, eventBody('event-completed'))).toBe('duplicate');
    expect(await store.get('us-east-1', JOB)).toEqual(before);
    expect(sink.jobs.size).toBe(1);
    expect(ops.total('jobEventsApplied')).toBe(1);
    expect(ops.total('jobEventsDuplicate')).toBe(1);
  });

  it('keeps the newest state when events arrive out of order', async () => {
    const outcomes = [];
    for (const name of [
      'event-completed',
      'event-in-progress-starting',
      'event-in-progress-training',
    ] as const) {
      outcomes.push(await ingestJobEvent(deps, eventBody(name)));
    }
    expect(outcomes).toEqual(['applied', 'stale', 'stale']);
    expect((await store.get('us-east-1', JOB))?.status).toBe('Completed');
    expect(ops.total('jobEventsStale')).toBe(2);
    // Every state is still a row of the job's history in the sink, each at its own time.
    expect(sink.jobs.size).toBe(3);
  });

  it.each([
    ['a body that is not JSON', () => 'not json at all', 'malformed-json', 'message body is not JSON'],
    [
      'another event type',
      () =>
        JSON.stringify({ ...eventJson('event-completed'), 'detail-type': 'SageMaker Endpoint State Change' }),
      'unknown-event',
      'detail-type "SageMaker Endpoint State Change"',
    ],
    [
      'a state change without LastModifiedTime',
      () => {
        const ev = eventJson('event-completed');
        delete ev.detail.LastModifiedTime;
        return JSON.stringify(ev);
      },
      'invalid-event',
      'detail.LastModifiedTime: missing',
    ],
  ])(
    'dead-letters %s with its reason and treats it as handled',
    async (_label, makeBody, reason, fragment) => {
      const body = makeBody();
      expect(await ingestJobEvent(deps, body, { messageId: 'bad-1' })).toBe('invalid');

      expect(dlq.messages).toHaveLength(1);
      expect(dlq.messages[0]).toMatchObject({ body, reason, source: INGEST_JOB_EVENTS_SOURCE });
      expect(dlq.messages[0]?.detail).toContain(fragment);
      expect(ops.total('jobEventsInvalid')).toBe(1);
      expect(log.find('error', 'Invalid job event sent to the DLQ')[0]?.attributes).toMatchObject({
        messageId: 'bad-1',
        reason,
      });
      expect(store.applyCalls).toBe(0);
      expect(sink.jobWriteCalls).toBe(0);
    },
  );

  it('lets a failed DLQ send propagate, so the message is retried rather than lost', async () => {
    const failing: DeadLetters = {
      send: async () => {
        throw new Error('SQS unavailable');
      },
    };
    await expect(ingestJobEvent({ ...deps, deadLetters: failing }, 'garbage')).rejects.toThrow(
      'SQS unavailable',
    );
    expect(ops.total('jobEventsInvalid')).toBe(0);
    expect(ops.total('jobEventsFailed')).toBe(1);
  });

  it('propagates a sink failure without touching the store; the retry then writes both', async () => {
    const flaky = new FlakySink(sink, 1);
    const d = { ...deps, sink: flaky };
    await expect(ingestJobEvent(d, eventBody('event-failed'))).rejects.toThrow('Rate exceeded');
    expect(store.applyCalls).toBe(0);
    expect(ops.total('jobEventsFailed')).toBe(1);
    expect(log.find('error', 'Job event failed')[0]?.attributes).toMatchObject({
      error: 'ThrottlingException',
      jobName: 'resnet50-hpo-7-2024-05-14-11-20-00-001',
    });

    expect(await ingestJobEvent(d, eventBody('event-failed'))).toBe('applied');
    expect((await store.get('us-west-2', 'resnet50-hpo-7-2024-05-14-11-20-00-001'))?.failureReason).toContain(
      'CUDA error',
    );
  });

  it('writes the sink before the store, so a store failure is retried without losing the sink write', async () => {
    const d = { ...deps, jobStore: new FlakyStore(store, 1) };
    await expect(ingestJobEvent(d, eventBody('event-stopped'))).rejects.toThrow('Internal error');
    expect(sink.jobs.size).toBe(1);
    expect(await ingestJobEvent(d, eventBody('event-stopped'))).toBe('applied');
    // The rewrite of the same version is idempotent in the sink.
    expect(sink.jobs.size).toBe(1);
  });

  it('still applies a state the sink rejected, and says so', async () => {
    const rejecting: TelemetrySink = {
      name: 'rejecting',
      writeGpuSamples: async () => ({ written: 0, rejected: [], calls: 0 }),
      writeJobStates: async () => ({
        written: 0,
        rejected: [{ index: 0, reason: 'out of retention' }],
        calls: 1,
      }),
    };
    expect(await ingestJobEvent({ ...deps, sink: rejecting }, eventBody('event-completed'))).toBe('applied');
    expect(log.find('warn', 'rejected by the telemetry sink')[0]?.attributes.sinkReason).toBe(
      'out of retention',
    );
  });
});
