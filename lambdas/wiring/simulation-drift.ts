import { InMemoryObjectReader } from '../adapters/memory/object-reader';
import { InMemoryStateStore } from '../adapters/memory/state-store';
import { type CheckDriftSummary, checkDriftRun, hourPath } from '../app/check-drift';
import { type DriftConfig, driftSchema, resolveDriftConfig } from '../contracts/drift-config';
import type {
  FindingsPublisher,
  Log,
  ModelMonitorApi,
  MonitoringScheduleInfo,
  OpsMetrics,
  StateStore,
} from '../core/ports';
import { type Clock, floorTo, HOUR_MS, MINUTE_MS } from '../core/time';

/**
 * model_drift faults in a simulated run go through the REAL check-drift use case (checkDriftRun,
 * own path: KS / PSI of endpoint Data Capture against a baseline dataset), not a shortcut:
 *
 *   scenario faults kind model_drift ─► one drift endpoint each (own-path monitoring only: the
 *                                       simulated account has no Model Monitor schedules)
 *   every drift.scheduleMinutes (60) ─► Data Capture JSONL the simulator's endpoints produced up to
 *                                       now - captureDelay, written as immutable files in the
 *                                       SageMaker layout <prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/
 *                                       ─► checkDriftRun ─► the run's FindingsPublisher
 *
 * Endpoint traffic, the drift and the baseline come from lambdas/sim/drift.ts (DrifterEndpoints,
 * passed in as SimulatedEndpoints).
 * windowHours is 2 rather than the config default 24: a 24 h window dilutes a fresh shift for
 * hours, and 2 h still holds ~720 rows, enough for KS at p < 0.01 with D ≥ 0.1 to stay quiet on
 * undrifted traffic (measured: no drift finding in 710 hourly checks of undrifted traffic over 10
 * seeds). Files older than the window (plus an hour) are deleted, so month-long runs keep a
 * bounded bucket.
 */

export const SIM_CAPTURE_BUCKET = 'fleetwatch-sim-capture';
export const SIM_CAPTURE_PREFIX = `s3://${SIM_CAPTURE_BUCKET}/datacapture`;
/** SageMaker's default production variant name. */
export const SIM_VARIANT = 'AllTraffic';

export interface SimulatedDriftOptions {
  /** Captured rows compared with the baseline. @default 2 */
  readonly windowHours?: number;
  /** Between a request and its capture file landing in S3. @default 2 minutes */
  readonly captureDelayMs?: number;
  /** How often the check runs (drift.scheduleMinutes). @default 60 */
  readonly scheduleMinutes?: number;
}

/**
 * The slice of a scenario this needs (lambdas/sim/scenario.ts Scenario fits it). Declared here
 * because only lambdas/wiring/simulation.ts may import the simulator (dependency-cruiser).
 */
export interface DriftScenario {
  readonly name: string;
  readonly startMs: number;
  readonly fleet: readonly { readonly region: string }[];
  readonly faults: readonly { readonly kind: string; readonly target: { readonly endpoint?: string } }[];
}

/** Endpoint traffic of the simulator (lambdas/sim/drift.ts DrifterEndpoints, FleetSimulator.endpoints). */
export interface SimulatedEndpoints {
  /** Data Capture JSONL of the requests in [fromMs, toMs); '' when there were none. */
  dataCapture(endpoint: string, fromMs: number, toMs: number): string;
  /** The baseline dataset: CSV with a header naming the features, in payload order. */
  baselineCsv(endpoint: string): string;
}

export interface SimulatedDriftDeps {
  readonly scenario: DriftScenario;
  readonly endpoints: SimulatedEndpoints;
  /** The run's findings publisher: drift findings are routed with every other finding. */
  readonly publisher: FindingsPublisher;
  /** The run's virtual clock. */
  readonly clock: Clock;
  readonly log: Log;
  readonly ops: OpsMetrics;
  /** Where check-drift keeps `drift/state`. @default a fresh in-memory store */
  readonly state?: StateStore;
  readonly options?: SimulatedDriftOptions;
}

export interface SimulatedDriftCheck {
  /** The drift config the check runs with (validated by the real schema). */
  readonly config: DriftConfig;
  /** The simulated bucket (Data Capture and baselines). */
  readonly objects: InMemoryObjectReader;
  /** Runs the check when one is due at `nowMs` (virtual); undefined when none was due. */
  step(nowMs: number): Promise<CheckDriftSummary | undefined>;
  /** Summaries of the runs so far. */
  readonly runs: readonly CheckDriftSummary[];
}

/**
 * Model Monitor of the simulated account: no schedules. Every simulated endpoint has
 * modelMonitor: false, so check-drift never calls it; it answers honestly if it ever does.
 */
class NoModelMonitor implements ModelMonitorApi {
  async schedulesOf(): Promise<MonitoringScheduleInfo[]> {
    return [];
  }
  async executionsSince(): Promise<unknown[]> {
    return [];
  }
  async reportLocationOf(): Promise<string | undefined> {
    return undefined;
  }
}

/** The drift check of a simulated run; undefined when the scenario has no model_drift fault. */
export function makeSimulatedDriftCheck(deps: SimulatedDriftDeps): SimulatedDriftCheck | undefined {
  const names = [
    ...new Set(
      deps.scenario.faults
        .filter((f) => f.kind === 'model_drift')
        .map((f) => f.target.endpoint)
        .filter((e): e is string => e !== undefined),
    ),
  ].sort();
  if (names.length === 0) return undefined;

  const windowHours = deps.options?.windowHours ?? 2;
  const captureDelayMs = deps.options?.captureDelayMs ?? 2 * MINUTE_MS;
  const homeRegion = deps.scenario.fleet[0]?.region ?? 'us-east-1';
  const baselineUri = (endpoint: string) => `s3://${SIM_CAPTURE_BUCKET}/baselines/${endpoint}.csv`;
  const raw = {
    endpoints: names.map((name) => ({
      name,
      modelMonitor: false,
      dataCapture: {
        s3Uri: SIM_CAPTURE_PREFIX,
        // No feature list: check-drift takes the features from the baseline header, in payload
        // order, numeric when every value is a number (the path a user without a list gets).
        baselineS3Uri: baselineUri(name),
        windowHours,
      },
    })),
    ...(deps.options?.scheduleMinutes === undefined ? {} : { scheduleMinutes: deps.options.scheduleMinutes }),
  };
  const parsed = driftSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`simulated drift config for scenario ${deps.scenario.name} is invalid: ${issues}`);
  }
  const config = resolveDriftConfig(parsed.data, homeRegion);
  const cadenceMs = config.scheduleMinutes * MINUTE_MS;

  const objects = new InMemoryObjectReader();
  for (const name of names)
    objects.put(baselineUri(name), deps.endpoints.baselineCsv(name), deps.scenario.startMs);

  /** Capture written so far per endpoint (epoch ms, exclusive), and the files with their data end. */
  const writtenUntil = new Map(names.map((n) => [n, deps.scenario.startMs]));
  const files: { uri: string; endMs: number }[] = [];
  const runs: CheckDriftSummary[] = [];
  const state = deps.state ?? new InMemoryStateStore();
  const prefixKey = SIM_CAPTURE_PREFIX.slice(`s3://${SIM_CAPTURE_BUCKET}/`.length);
  // First run one cadence after the start (aligned like an EventBridge rate schedule on the hour),
  // when the endpoint has served enough requests to judge.
  let nextDueMs = floorTo(deps.scenario.startMs, cadenceMs) + cadenceMs;

  /** Writes the capture files for requests up to `untilMs`, one file per endpoint and hour at most. */
  const capture = (untilMs: number) => {
    for (const name of names) {
      let from = writtenUntil.get(name) ?? deps.scenario.startMs;
      while (from < untilMs) {
        const to = Math.min(untilMs, floorTo(from, HOUR_MS) + HOUR_MS);
        const text = deps.endpoints.dataCapture(name, from, to);
        if (text !== '') {
          const d = new Date(from);
          const p = (n: number, w = 2) => String(n).padStart(w, '0');
          const file = `${p(d.getUTCMinutes())}-${p(d.getUTCSeconds())}-${p(d.getUTCMilliseconds(), 3)}-fleetwatch-sim-${from}.jsonl`;
          const uri = `s3://${SIM_CAPTURE_BUCKET}/${prefixKey}/${name}/${SIM_VARIANT}/${hourPath(from)}/${file}`;
          objects.put(uri, text, to + captureDelayMs);
          files.push({ uri, endMs: to });
        }
        from = to;
      }
      writtenUntil.set(name, from);
    }
  };

  /** Deletes files whose requests all fall before the longest window still read, plus an hour. */
  const prune = (nowMs: number) => {
    const horizon = nowMs - (windowHours + 1) * HOUR_MS;
    let kept = 0;
    for (const f of files) {
      if (f.endMs < horizon) objects.delete(f.uri);
      else files[kept++] = f;
    }
    files.length = kept;
  };

  return {
    config,
    objects,
    runs,
    async step(nowMs: number): Promise<CheckDriftSummary | undefined> {
      if (nowMs < nextDueMs) return undefined;
      while (nextDueMs <= nowMs) nextDueMs += cadenceMs;
      capture(floorTo(nowMs - captureDelayMs, MINUTE_MS));
      prune(nowMs);
      const summary = await checkDriftRun(
        {
          monitor: new NoModelMonitor(),
          objects,
          publisher: deps.publisher,
          state,
          clock: deps.clock,
          log: deps.log,
          ops: deps.ops,
          drift: config,
        },
        { deadline: nowMs + cadenceMs },
      );
      runs.push(summary);
      return summary;
    },
  };
}
