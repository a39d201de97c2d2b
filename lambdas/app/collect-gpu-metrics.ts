import type { RuntimeConfig } from '../contracts/config';
import type { OpsMetricKey } from '../contracts/metrics';
import {
  type Assembly,
  assembleSamples,
  type DatapointExample,
  MAX_EXAMPLES,
  type QueryTarget,
  type RejectionReason,
} from '../core/collection/samples';
import { type MappedSeries, mapInventory, type UnmappedSeries } from '../core/collection/series-mapping';
import { sinkRejectionCategory } from '../core/collection/sink-rejections';
import { type CollectionSource, resolveSources } from '../core/collection/sources';
import {
  advanceWatermarks,
  parseWatermarkState,
  WATERMARK_STATE_KEY,
  type WatermarkState,
} from '../core/collection/watermarks';
import {
  backfillMinutesIn,
  chunkMinutesForBudget,
  planWindow,
  type WindowChunk,
  type WindowPlan,
} from '../core/collection/window-plan';
import type { GpuSample } from '../core/model';
import type { Log, MetricQuery, MetricSource, OpsMetrics, StateStore, TelemetrySink } from '../core/ports';
import { type Clock, MINUTE_MS } from '../core/time';
import type { InventoryCache } from './inventory-cache';

/**
 * collect-gpu-metrics: for every fleet source, discover its GPU series (cached ListMetrics), plan
 * the minutes since its watermark, fetch them with as few GetMetricData calls as possible, validate,
 * write to the telemetry sink and advance the watermark chunk by chunk.
 *
 * Failure model: a chunk is committed (watermark advanced) only after the sink accepted the write
 * call. A source whose fetch or write fails stops for this run and the next run backfills it; other
 * sources go on. A watermark version conflict means another run is active: stop, do not race it.
 */
export interface CollectGpuMetricsDeps {
  readonly clock: Clock;
  readonly config: RuntimeConfig;
  readonly source: MetricSource;
  readonly sink: TelemetrySink;
  readonly state: StateStore;
  readonly inventory: InventoryCache;
  readonly log: Log;
  readonly ops: OpsMetrics;
}

export interface CollectInput {
  /** Epoch ms by which the run must be finished (Lambda timeout). */
  readonly deadlineMs: number;
  /**
   * Keep the samples of committed chunks in the summary (`committedSamples`), so detection can run
   * on exactly what was collected without reading it back. @default false
   */
  readonly retainSamples?: boolean;
}

/** No new chunk starts with less than this left before the deadline (a fetch + write of one chunk). */
export const DEADLINE_RESERVE_MS = 20_000;
/** Sink rejections logged one by one per run; the rest are in the summary line and the metric. */
export const MAX_REJECTION_LOG_LINES = 20;

export interface SourceRunSummary {
  readonly id: string;
  readonly region: string;
  seriesDiscovered: number;
  seriesMapped: number;
  seriesUnmapped: number;
  readonly window: { readonly startMs: number; readonly endMs: number };
  readonly watermarkBefore?: number;
  watermarkAfter?: number;
  chunksPlanned: number;
  chunksCommitted: number;
  backfilledMinutes: number;
  minutesBeyondHorizon: number;
  datapointsCollected: number;
  datapointsRejected: number;
  datapointsMissing: number;
  error?: string;
}

export interface ChunkSummary {
  readonly region: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly sources: readonly string[];
  readonly queries: number;
  readonly samples: number;
  readonly samplesRejected: number;
}

export interface CollectCounts {
  seriesDiscovered: number;
  seriesUnmapped: number;
  datapointsCollected: number;
  datapointsRejected: number;
  datapointsMissing: number;
  queriesIncomplete: number;
  samplesWritten: number;
  samplesRejected: number;
  sinkCalls: number;
  getMetricDataCalls: number;
  metricsRequested: number;
  listMetricsCalls: number;
  backfilledMinutes: number;
  minutesBeyondHorizon: number;
}

export interface CollectSummary {
  readonly startedAtMs: number;
  readonly sources: readonly SourceRunSummary[];
  /** Committed chunks, in the order they were written. */
  readonly chunks: readonly ChunkSummary[];
  readonly counts: CollectCounts;
  readonly rejectedByReason: Readonly<Partial<Record<RejectionReason, number>>>;
  /** Now minus the oldest source watermark after the run. */
  readonly lagSeconds: number;
  readonly stoppedBecause?: 'deadline' | 'conflict' | 'state-error';
  /** One line per source or chunk that failed; the next run backfills them. */
  readonly errors: readonly string[];
  /** Samples of committed chunks only, in commit order; present when CollectInput.retainSamples. */
  readonly committedSamples?: GpuSample[];
}

interface SourceRun {
  readonly source: CollectionSource;
  plan: WindowPlan;
  readonly summary: SourceRunSummary;
  mapped: MappedSeries[];
  /** Discovery, fetch or write failed: no further chunk of this source runs now. */
  blocked: boolean;
  rejected: Map<RejectionReason, { count: number; examples: DatapointExample[] }>;
  missingExamples: Assembly['missingExamples'][number][];
}

interface FetchGroup {
  readonly region: string;
  readonly chunk: WindowChunk;
  readonly runs: SourceRun[];
}

export async function collectGpuMetrics(
  deps: CollectGpuMetricsDeps,
  input: CollectInput,
): Promise<CollectSummary> {
  const { clock, config, log } = deps;
  const startedAtMs = clock.now();
  const settings = config.collection;
  const counts: CollectCounts = {
    seriesDiscovered: 0,
    seriesUnmapped: 0,
    datapointsCollected: 0,
    datapointsRejected: 0,
    datapointsMissing: 0,
    queriesIncomplete: 0,
    samplesWritten: 0,
    samplesRejected: 0,
    sinkCalls: 0,
    getMetricDataCalls: 0,
    metricsRequested: 0,
    listMetricsCalls: 0,
    backfilledMinutes: 0,
    minutesBeyondHorizon: 0,
  };
  const errors: string[] = [];
  const chunks: ChunkSummary[] = [];
  const committedSamples: GpuSample[] | undefined = input.retainSamples ? [] : undefined;
  const sinkRejections = new Map<string, number>();
  let rejectionLines = 0;
  let stoppedBecause: CollectSummary['stoppedBecause'];

  // The one watermark item: read once, then written after every committed chunk.
  const stored = await deps.state.get<unknown>(WATERMARK_STATE_KEY);
  let version = stored?.version;
  const parsed = parseWatermarkState(stored?.value);
  let watermarks: WatermarkState = parsed.state;
  for (const problem of parsed.problems) log.warn('Ignoring an invalid collector watermark', { problem });

  const runs: SourceRun[] = resolveSources(config).map((source) => {
    const watermarkBefore = watermarks.sources[source.id];
    const plan = planWindow(startedAtMs, watermarkBefore, settings);
    return {
      source,
      plan,
      mapped: [],
      blocked: false,
      rejected: new Map(),
      missingExamples: [],
      summary: {
        id: source.id,
        region: source.fleet.region,
        seriesDiscovered: 0,
        seriesMapped: 0,
        seriesUnmapped: 0,
        window: { startMs: plan.startMs, endMs: plan.endMs },
        ...(watermarkBefore !== undefined ? { watermarkBefore, watermarkAfter: watermarkBefore } : {}),
        chunksPlanned: plan.chunks.length,
        chunksCommitted: 0,
        backfilledMinutes: 0,
        minutesBeyondHorizon: 0,
        datapointsCollected: 0,
        datapointsRejected: 0,
        datapointsMissing: 0,
      },
    };
  });

  const fail = (run: SourceRun, message: string): void => {
    run.blocked = true;
    run.summary.error ??= message;
    errors.push(`${run.source.id}: ${message}`);
  };

  // 1. Discover and map series (only for sources with something to collect).
  for (const run of runs) {
    if (run.plan.chunks.length === 0) continue;
    await discover(deps, run, startedAtMs, counts, fail);
  }

  // 2. Size chunks to the datapoint budget of the region's series, so a long backfill of a large
  //    fleet fits in memory. All sources of a region share the chunk length, hence the fetches.
  const seriesByRegion = new Map<string, number>();
  for (const run of runs) {
    if (run.blocked) continue;
    const region = run.source.fleet.region;
    seriesByRegion.set(region, (seriesByRegion.get(region) ?? 0) + run.mapped.length);
  }
  for (const run of runs) {
    if (run.blocked || run.plan.chunks.length === 0) continue;
    const maxChunkMinutes = chunkMinutesForBudget(seriesByRegion.get(run.source.fleet.region) ?? 0, settings);
    if (maxChunkMinutes < settings.maxChunkMinutes) {
      run.plan = planWindow(startedAtMs, run.summary.watermarkBefore, { ...settings, maxChunkMinutes });
      run.summary.chunksPlanned = run.plan.chunks.length;
    }
  }

  // 3. Group: every source of a region that needs the same window shares one GetMetricData fetch.
  const groups = new Map<string, FetchGroup>();
  for (const run of runs) {
    if (run.blocked) continue;
    for (const chunk of run.plan.chunks) {
      const key = `${run.source.fleet.region}|${chunk.startMs}|${chunk.endMs}`;
      const group = groups.get(key) ?? { region: run.source.fleet.region, chunk, runs: [] };
      group.runs.push(run);
      groups.set(key, group);
    }
  }
  // Oldest first, so each source's chunks commit in order and its watermark only moves forward.
  const ordered = [...groups.values()].sort(
    (a, b) =>
      a.chunk.startMs - b.chunk.startMs || a.chunk.endMs - b.chunk.endMs || (a.region < b.region ? -1 : 1),
  );

  // 4. Fetch, assemble, write, commit.
  for (const group of ordered) {
    const active = group.runs.filter((r) => !r.blocked);
    if (active.length === 0) continue;
    const remainingMs = input.deadlineMs - clock.now();
    if (remainingMs < DEADLINE_RESERVE_MS) {
      stoppedBecause = 'deadline';
      log.warn('Stopping before the Lambda deadline; the next run continues from the watermarks', {
        remainingMs,
        nextChunk: describeChunk(group.chunk),
        sources: active.map((r) => r.source.id),
      });
      break;
    }

    const targets = new Map<SourceRun, QueryTarget[]>();
    const queries: MetricQuery[] = [];
    for (const run of active) {
      const list = run.mapped.map((m): QueryTarget => {
        const id = `s${queries.length}`;
        queries.push({ id, series: m.series, stat: m.signal.stat, periodSeconds: settings.periodSeconds });
        return {
          id,
          metricName: m.series.metricName,
          labels: m.labels,
          signal: m.signal,
          gpusPerNode: run.source.fleet.gpusPerNode,
        };
      });
      targets.set(run, list);
    }

    let data: ReadonlyMap<string, { timestamps: readonly number[]; values: readonly number[] }> = new Map();
    if (queries.length > 0) {
      try {
        const result = await deps.source.fetch({
          region: group.region,
          queries,
          startMs: group.chunk.startMs,
          endMs: group.chunk.endMs,
        });
        counts.getMetricDataCalls += result.calls;
        counts.metricsRequested += result.metricsRequested;
        data = result.data;
        if (result.incomplete.length > 0) {
          counts.queriesIncomplete += result.incomplete.length;
          log.warn('GetMetricData left some queries incomplete; their minutes may have gaps', {
            region: group.region,
            chunk: describeChunk(group.chunk),
            incomplete: result.incomplete.length,
            examples: result.incomplete.slice(0, MAX_EXAMPLES).map((i) => ({
              ...i,
              series: describeQuery(queries.find((q) => q.id === i.id)),
            })),
          });
        }
      } catch (err) {
        const message = `GetMetricData failed for ${describeChunk(group.chunk)}: ${errorText(err)}`;
        log.error('GPU metric fetch failed; the next run backfills these minutes', {
          region: group.region,
          chunk: describeChunk(group.chunk),
          sources: active.map((r) => r.source.id),
          error: errorText(err),
        });
        for (const run of active) fail(run, message);
        continue;
      }
    }

    const assemblies = new Map<SourceRun, Assembly>();
    const samples: GpuSample[] = [];
    for (const run of active) {
      const assembly = assembleSamples(targets.get(run) ?? [], data, group.chunk, settings.periodSeconds);
      assemblies.set(run, assembly);
      for (const s of assembly.samples) samples.push(s); // not push(...): tens of thousands overflow the stack
    }

    let rejectedIndexes: readonly { index: number; reason: string; existingVersion?: number }[] = [];
    if (samples.length > 0) {
      try {
        const written = await deps.sink.writeGpuSamples(samples);
        counts.sinkCalls += written.calls;
        counts.samplesWritten += written.written;
        rejectedIndexes = written.rejected;
      } catch (err) {
        const message = `telemetry sink ${deps.sink.name} failed for ${describeChunk(group.chunk)}: ${errorText(err)}`;
        log.error('Telemetry sink write failed; the next run backfills these minutes', {
          sink: deps.sink.name,
          chunk: describeChunk(group.chunk),
          sources: active.map((r) => r.source.id),
          samples: samples.length,
          error: errorText(err),
        });
        for (const run of active) fail(run, message);
        continue;
      }
    }

    for (const r of rejectedIndexes) {
      const category = sinkRejectionCategory(r.reason);
      sinkRejections.set(category, (sinkRejections.get(category) ?? 0) + 1);
      counts.samplesRejected++;
      if (rejectionLines < MAX_REJECTION_LOG_LINES) {
        rejectionLines++;
        const sample = samples[r.index];
        log.warn('Telemetry sink rejected a GPU sample', {
          sink: deps.sink.name,
          reason: r.reason,
          category,
          ...(r.existingVersion !== undefined ? { existingVersion: r.existingVersion } : {}),
          ...(sample !== undefined
            ? { time: new Date(sample.time).toISOString(), ...sample.labels, values: sample.values }
            : { index: r.index }),
        });
      }
    }

    // Commit: one conditional write of the one watermark item.
    const ids = active.map((r) => r.source.id);
    const next = advanceWatermarks(watermarks, ids, group.chunk.endMs);
    let putResult: number | 'conflict';
    try {
      putResult = await deps.state.put(WATERMARK_STATE_KEY, next, version);
    } catch (err) {
      stoppedBecause = 'state-error';
      const message = `could not save watermarks after ${describeChunk(group.chunk)}: ${errorText(err)}`;
      log.error('Saving collector watermarks failed; stopping (the next run re-reads these minutes)', {
        chunk: describeChunk(group.chunk),
        sources: ids,
        error: errorText(err),
      });
      for (const run of active) fail(run, message);
      break;
    }
    if (putResult === 'conflict') {
      stoppedBecause = 'conflict';
      log.warn('Another collector run changed the watermarks; stopping this run so the two do not race', {
        chunk: describeChunk(group.chunk),
        sources: ids,
        readVersion: version,
      });
      break;
    }
    version = putResult;
    watermarks = next;
    if (committedSamples) for (const s of samples) committedSamples.push(s);

    let chunkRejected = 0;
    for (const run of active) {
      const assembly = assemblies.get(run);
      if (assembly === undefined) continue;
      const s = run.summary;
      if (s.chunksCommitted === 0 && run.plan.minutesBeyondHorizon > 0) {
        s.minutesBeyondHorizon = run.plan.minutesBeyondHorizon;
        counts.minutesBeyondHorizon += run.plan.minutesBeyondHorizon;
        log.warn('Missed minutes older than the backfill horizon were skipped', {
          source: run.source.id,
          minutes: run.plan.minutesBeyondHorizon,
          skippedFrom:
            s.watermarkBefore !== undefined ? new Date(s.watermarkBefore).toISOString() : undefined,
          skippedUntil: new Date(run.plan.startMs).toISOString(),
          backfillHorizonHours: settings.backfillHorizonHours,
        });
      }
      s.chunksCommitted++;
      s.watermarkAfter = group.chunk.endMs;
      const backfilled = backfillMinutesIn(group.chunk, run.plan.cadenceStartMs);
      s.backfilledMinutes += backfilled;
      counts.backfilledMinutes += backfilled;
      s.datapointsCollected += assembly.accepted;
      s.datapointsRejected += assembly.rejectedTotal;
      s.datapointsMissing += assembly.missing;
      counts.datapointsCollected += assembly.accepted;
      counts.datapointsRejected += assembly.rejectedTotal;
      counts.datapointsMissing += assembly.missing;
      chunkRejected += assembly.rejectedTotal;
      for (const g of assembly.rejected) {
        const acc = run.rejected.get(g.reason) ?? { count: 0, examples: [] };
        acc.count += g.count;
        acc.examples.push(...g.examples.slice(0, MAX_EXAMPLES - acc.examples.length));
        run.rejected.set(g.reason, acc);
      }
      run.missingExamples.push(
        ...assembly.missingExamples.slice(0, MAX_EXAMPLES - run.missingExamples.length),
      );
    }
    chunks.push({
      region: group.region,
      startMs: group.chunk.startMs,
      endMs: group.chunk.endMs,
      sources: ids,
      queries: queries.length,
      samples: samples.length,
      samplesRejected: rejectedIndexes.length,
    });
    log.debug('Committed a collection chunk', {
      region: group.region,
      chunk: describeChunk(group.chunk),
      sources: ids,
      queries: queries.length,
      samples: samples.length,
      datapointsRejected: chunkRejected,
    });
  }

  // 4. Report: one line per source with problems, then the counters.
  const rejectedByReason: Partial<Record<RejectionReason, number>> = {};
  for (const run of runs) {
    if (run.rejected.size > 0) {
      log.warn('GPU datapoints rejected (not written)', {
        source: run.source.id,
        total: run.summary.datapointsRejected,
        byReason: [...run.rejected.entries()].map(([reason, g]) => ({
          reason,
          count: g.count,
          examples: g.examples,
        })),
      });
      for (const [reason, g] of run.rejected)
        rejectedByReason[reason] = (rejectedByReason[reason] ?? 0) + g.count;
    }
    if (run.summary.datapointsMissing > 0) {
      log.warn('GPU series returned no datapoint for some minutes (series gone quiet or not yet published)', {
        source: run.source.id,
        missing: run.summary.datapointsMissing,
        examples: run.missingExamples,
      });
    }
  }
  if (counts.samplesRejected > 0) {
    log.warn('Telemetry sink rejections (summary)', {
      sink: deps.sink.name,
      total: counts.samplesRejected,
      byCategory: Object.fromEntries(sinkRejections),
      loggedIndividually: rejectionLines,
    });
  }

  const lagSeconds = Math.max(
    0,
    ...runs.map((r) => (startedAtMs - (watermarks.sources[r.source.id] ?? r.plan.startMs)) / 1_000),
  );

  const emit = (key: OpsMetricKey, value: number, dims?: Record<string, string>): void =>
    deps.ops.count(key, value, dims);
  emit('seriesDiscovered', counts.seriesDiscovered);
  emit('seriesUnmapped', counts.seriesUnmapped);
  emit('datapointsCollected', counts.datapointsCollected);
  for (const [reason, n] of Object.entries(rejectedByReason))
    emit('datapointsRejected', n, { Reason: reason });
  emit('datapointsMissing', counts.datapointsMissing);
  emit('queriesIncomplete', counts.queriesIncomplete);
  // recordsRejected is counted by the sink adapter itself (one count per sink, jobs included);
  // here the rejections are logged with the GPU they belong to.
  emit('backfilledMinutes', counts.backfilledMinutes);
  emit('minutesBeyondHorizon', counts.minutesBeyondHorizon);
  emit('getMetricDataCalls', counts.getMetricDataCalls);
  emit('metricsRequested', counts.metricsRequested);
  emit('listMetricsCalls', counts.listMetricsCalls);
  emit('collectorLagSeconds', lagSeconds);
  emit('collectorRuns', 1);

  const summary: CollectSummary = {
    startedAtMs,
    sources: runs.map((r) => r.summary),
    chunks,
    counts,
    rejectedByReason,
    lagSeconds,
    ...(stoppedBecause !== undefined ? { stoppedBecause } : {}),
    errors,
    ...(committedSamples ? { committedSamples } : {}),
  };
  log.info('Collector run finished', {
    sources: runs.length,
    chunks: chunks.length,
    ...counts,
    lagSeconds,
    stoppedBecause,
    errors: errors.length,
  });
  return summary;
}

async function discover(
  deps: CollectGpuMetricsDeps,
  run: SourceRun,
  nowMs: number,
  counts: CollectCounts,
  fail: (run: SourceRun, message: string) => void,
): Promise<void> {
  const { source } = run;
  const { log } = deps;
  if (source.missingSignals.length > 0) {
    log.warn('Fleet asks for signals its metric source profile does not provide', {
      source: source.id,
      profile: source.profile.name,
      missing: source.missingSignals,
      provided: source.profile.signals.map((s) => s.signal),
    });
  }
  if (source.signals.length === 0) {
    fail(run, `profile ${source.profile.name} provides none of the signals listed in source.signals`);
    log.error('Nothing to collect for this fleet', { source: source.id, profile: source.profile.name });
    return;
  }

  const metricNames = [...new Set(source.signals.map((s) => s.metricName))];
  const ttlMs = deps.config.collection.inventoryTtlMinutes * MINUTE_MS;
  let lookups: Awaited<ReturnType<InventoryCache['get']>>[];
  try {
    lookups = await Promise.all(
      metricNames.map((metricName) =>
        deps.inventory.get(
          {
            region: source.fleet.region,
            namespace: source.namespace,
            metricName,
            match: source.fleet.source.match,
          },
          nowMs,
          ttlMs,
          (req) => deps.source.listSeries(req),
        ),
      ),
    );
  } catch (err) {
    fail(run, `ListMetrics failed: ${errorText(err)}`);
    log.error('GPU series discovery failed; the next run backfills this source', {
      source: source.id,
      namespace: source.namespace,
      error: errorText(err),
    });
    return;
  }

  const series = lookups.flatMap((l) => l.series);
  const calls = lookups.reduce((n, l) => n + l.calls, 0);
  counts.listMetricsCalls += calls;
  for (const l of lookups) {
    if (l.staleBecause !== undefined) {
      log.warn('ListMetrics failed; using the previous (expired) series inventory', {
        source: source.id,
        error: l.staleBecause,
      });
    }
  }
  const mapping = mapInventory(source, series);
  run.mapped = mapping.mapped;
  run.summary.seriesDiscovered = series.length;
  run.summary.seriesMapped = mapping.mapped.length;
  run.summary.seriesUnmapped = mapping.unmapped.length;
  counts.seriesDiscovered += series.length;
  counts.seriesUnmapped += mapping.unmapped.length;

  log.info('GPU series inventory', {
    source: source.id,
    namespace: source.namespace,
    series: series.length,
    mapped: mapping.mapped.length,
    unmapped: mapping.unmapped.length,
    cached: lookups.every((l) => l.cached),
    listMetricsCalls: calls,
  });
  if (mapping.unmapped.length > 0) {
    log.warn('GPU series not collected: their dimensions do not identify a node and GPU', {
      source: source.id,
      profile: source.profile.name,
      byReason: groupUnmapped(mapping.unmapped),
    });
  }
}

function groupUnmapped(list: readonly UnmappedSeries[]) {
  const groups = new Map<
    string,
    { reason: string; count: number; examples: { series: string; detail: string }[] }
  >();
  for (const u of list) {
    const g = groups.get(u.reason) ?? { reason: u.reason, count: 0, examples: [] };
    g.count++;
    if (g.examples.length < MAX_EXAMPLES)
      g.examples.push({ series: describeSeries(u.series), detail: u.detail });
    groups.set(u.reason, g);
  }
  return [...groups.values()];
}

function describeSeries(s: {
  namespace: string;
  metricName: string;
  dimensions: Readonly<Record<string, string>>;
}) {
  const dims = Object.entries(s.dimensions)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `${s.namespace}/${s.metricName}{${dims}}`;
}

function describeQuery(q: MetricQuery | undefined): string | undefined {
  return q === undefined ? undefined : `${describeSeries(q.series)} ${q.stat}`;
}

function describeChunk(c: WindowChunk): string {
  return `[${new Date(c.startMs).toISOString()}, ${new Date(c.endMs).toISOString()})`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
