import { Cron } from 'croner';
import { IANAZone } from 'luxon';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { describeIssues } from '../contracts/config';
import { gpuInstanceSpec } from '../contracts/gpu-catalogue';
import { DURATION_HELP, formatDuration, parseDurationMs } from './duration';

/**
 * Scenario files: what fleet to simulate, its workload, maintenance, and the faults to inject.
 * The shape is a contract with the people who write them (issue 5); docs/scenarios.md documents it
 * field by field. Validation reports every problem at once, each naming its field path:
 *   faults[1].target.node: 14 is out of range; cluster train-a has nodes 0-11
 */

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;
const ISO_INSTANT = z.iso.datetime({ offset: true });

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const JOB_SELECTORS = [
  'running',
  'running-distributed',
  'running-interactive',
  'running-batch',
] as const;
export type JobSelector = (typeof JOB_SELECTORS)[number];

export const FAULT_KINDS = [
  'xid',
  'ecc_dbe',
  'ecc_sbe_storm',
  'thermal_throttle',
  'power_cap',
  'gpu_fell_off_bus',
  'job_stall',
  'job_idle',
  'checkpoint_stall',
  'dataloader_bottleneck',
  'network_degradation',
  'driver_regression',
  'scheduler_contention',
  'gaming_dummy_load',
  'fleet_utilisation_drop',
  'model_drift',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const duration = z.string().refine((s) => parseDurationMs(s) !== undefined && (parseDurationMs(s) ?? 0) > 0, {
  message: DURATION_HELP,
});

const fleetEntrySchema = z.strictObject({
  cluster: z.string().regex(NAME, 'letters, digits, "_", "." and "-", at most 63'),
  region: z.string().regex(REGION, 'an AWS region code such as us-east-1'),
  instanceType: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'an EC2 instance type such as p5.48xlarge'),
  nodes: z.int().min(1).max(10_000),
  gpusPerNode: z.int().min(1).max(64).optional(),
});

const seasonalSchema = z.strictObject({
  days: z.array(z.enum(WEEKDAYS)).min(1),
  from: z.string().regex(HH_MM, 'a time of day HH:MM such as 02:00'),
  to: z.string().regex(HH_MM, 'a time of day HH:MM such as 04:30'),
  tz: z.string().min(1),
  loadFactor: z.number().min(0).max(100),
});

/** Default of `workload.targetLoad`: a fleet about 60 % busy, its queue bounded. */
export const DEFAULT_TARGET_LOAD = 0.6;

const workloadSchema = z.strictObject({
  jobsPerDay: z.number().min(0).max(10_000_000),
  mix: z.strictObject({
    interactive: z.number().min(0).max(1),
    batch: z.number().min(0).max(1),
    distributed: z.number().min(0).max(1),
  }),
  seasonal: z.array(seasonalSchema).default([]),
  targetLoad: z.number().min(0.05).max(2).default(DEFAULT_TARGET_LOAD),
});

const scopeSchema = z.strictObject({
  cluster: z.string().min(1),
  node: z.int().min(0).optional(),
});

const maintenanceSchema = z.union([
  z.strictObject({ scope: scopeSchema, start: ISO_INSTANT, duration }),
  z.strictObject({
    scope: scopeSchema,
    cron: z.string().min(1),
    duration,
    tz: z.string().min(1).default('UTC'),
  }),
]);

/**
 * One object for every target form; which fields a fault may use depends on its kind and is
 * checked semantically (a zod union would only say "no variant matched").
 */
const targetSchema = z.strictObject({
  cluster: z.string().min(1).optional(),
  node: z.int().min(0).optional(),
  gpu: z.int().min(0).optional(),
  job: z.enum(JOB_SELECTORS).optional(),
  fraction: z.number().gt(0).max(1).optional(),
  endpoint: z.string().min(1).max(63).optional(),
});

const faultSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'letters, digits, "_", "." and "-"'),
  kind: z.enum(FAULT_KINDS),
  at: ISO_INSTANT,
  target: targetSchema,
  params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).default({}),
  duration: duration.optional(),
});

export const scenarioSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'letters, digits, "_", "." and "-"'),
  seed: z.int().min(0).max(4_294_967_295),
  start: ISO_INSTANT,
  duration,
  tick: duration.default('1m'),
  fleet: z.array(fleetEntrySchema).min(1),
  workload: workloadSchema,
  maintenance: z.array(maintenanceSchema).default([]),
  faults: z.array(faultSchema).default([]),
});

export type ScenarioInput = z.input<typeof scenarioSchema>;
type ParsedScenario = z.output<typeof scenarioSchema>;

/** Target shapes by kind: what each fault may aim at. */
/** `jobs`: one job picked by a selector, or every matching job training on a node or cluster. */
type TargetForm = 'hardware' | 'gpu' | 'job' | 'jobs' | 'cohort' | 'cluster' | 'endpoint';

interface ParamSpec {
  readonly type: 'number' | 'string';
  readonly required?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
}

interface KindSpec {
  readonly target: TargetForm;
  readonly params: Readonly<Record<string, ParamSpec>>;
  /** How long the fault lasts when the scenario gives no duration; undefined: until the run ends. */
  readonly defaultDurationMs?: number;
}

const M = 60_000;
export const FAULT_KIND_SPECS: Readonly<Record<FaultKind, KindSpec>> = {
  xid: {
    target: 'hardware',
    params: { code: { type: 'number', required: true, integer: true, min: 1, max: 999 } },
    defaultDurationMs: 30 * M,
  },
  ecc_dbe: { target: 'hardware', params: { count: { type: 'number', integer: true, min: 1, max: 1000 } } },
  ecc_sbe_storm: {
    target: 'hardware',
    params: { ratePerMinute: { type: 'number', min: 1, max: 1_000_000 } },
    defaultDurationMs: 60 * M,
  },
  thermal_throttle: {
    target: 'hardware',
    params: { temperatureC: { type: 'number', min: 30, max: 120 } },
    defaultDurationMs: 45 * M,
  },
  power_cap: {
    target: 'hardware',
    params: { capWatts: { type: 'number', min: 10, max: 2000 } },
    defaultDurationMs: 45 * M,
  },
  gpu_fell_off_bus: { target: 'gpu', params: {} },
  job_stall: { target: 'job', params: {}, defaultDurationMs: 180 * M },
  job_idle: { target: 'job', params: {}, defaultDurationMs: 120 * M },
  checkpoint_stall: { target: 'job', params: {}, defaultDurationMs: 180 * M },
  dataloader_bottleneck: {
    target: 'jobs',
    params: { slowdown: { type: 'number', min: 1.1, max: 100 } },
    defaultDurationMs: 120 * M,
  },
  network_degradation: {
    target: 'jobs',
    params: { slowdown: { type: 'number', min: 1.1, max: 100 } },
    defaultDurationMs: 90 * M,
  },
  driver_regression: {
    target: 'cohort',
    params: {
      driverVersion: { type: 'string', required: true },
      failureRate: { type: 'number', required: true, min: 0, max: 1 },
    },
  },
  scheduler_contention: {
    target: 'cluster',
    params: { extraQueueMinutes: { type: 'number', min: 1, max: 10_000 } },
    defaultDurationMs: 120 * M,
  },
  gaming_dummy_load: { target: 'hardware', params: {}, defaultDurationMs: 240 * M },
  fleet_utilisation_drop: {
    target: 'cluster',
    params: { drop: { type: 'number', required: true, min: 0.01, max: 1 } },
    defaultDurationMs: 240 * M,
  },
  model_drift: {
    target: 'endpoint',
    params: { shift: { type: 'number', min: 0.1, max: 20 } },
  },
};

const TARGET_HELP: Record<TargetForm, string> = {
  hardware: '{ cluster }, { cluster, node } or { cluster, node, gpu }',
  gpu: '{ cluster, node, gpu }',
  job: `{ cluster, job } with job one of ${JOB_SELECTORS.join(', ')}`,
  jobs: `{ cluster, job } (job one of ${JOB_SELECTORS.join(', ')}), { cluster } or { cluster, node }`,
  cohort: '{ cluster, fraction } with 0 < fraction <= 1',
  cluster: '{ cluster }',
  endpoint: '{ endpoint }',
};

const ALLOWED_FIELDS: Record<TargetForm, readonly string[]> = {
  hardware: ['cluster', 'node', 'gpu'],
  gpu: ['cluster', 'node', 'gpu'],
  job: ['cluster', 'job'],
  jobs: ['cluster', 'node', 'job'],
  cohort: ['cluster', 'fraction'],
  cluster: ['cluster'],
  endpoint: ['endpoint'],
};

// ---------------------------------------------------------------------------------------------
// The validated, resolved scenario the simulator runs

export interface ScenarioFleet {
  readonly cluster: string;
  readonly region: string;
  readonly instanceType: string;
  readonly nodes: number;
  readonly gpusPerNode: number;
}

export interface SeasonalWindow {
  readonly days: readonly Weekday[];
  readonly from: string;
  readonly to: string;
  readonly tz: string;
  readonly loadFactor: number;
}

export interface MaintenanceScope {
  readonly cluster: string;
  readonly node?: number;
}

export type MaintenanceSpec =
  | { readonly scope: MaintenanceScope; readonly startMs: number; readonly durationMs: number }
  | {
      readonly scope: MaintenanceScope;
      readonly cron: string;
      readonly tz: string;
      readonly durationMs: number;
    };

export interface FaultTarget {
  readonly cluster?: string;
  readonly node?: number;
  readonly gpu?: number;
  readonly job?: JobSelector;
  readonly fraction?: number;
  readonly endpoint?: string;
}

export interface FaultSpec {
  readonly id: string;
  readonly kind: FaultKind;
  readonly atMs: number;
  readonly target: FaultTarget;
  readonly params: Readonly<Record<string, number | string | boolean>>;
  /** Explicit or the kind's default; undefined: lasts until the run ends (or the fault ends itself). */
  readonly durationMs?: number;
}

export interface Scenario {
  readonly name: string;
  readonly seed: number;
  readonly startMs: number;
  readonly durationMs: number;
  readonly endMs: number;
  readonly tickMs: number;
  readonly fleet: readonly ScenarioFleet[];
  readonly workload: {
    readonly jobsPerDay: number;
    readonly mix: { readonly interactive: number; readonly batch: number; readonly distributed: number };
    readonly seasonal: readonly SeasonalWindow[];
    /** Busy share of GPU-minutes the job durations are scaled down to when demand exceeds it. */
    readonly targetLoad: number;
  };
  readonly maintenance: readonly MaintenanceSpec[];
  readonly faults: readonly FaultSpec[];
}

export type ScenarioResult = { ok: true; scenario: Scenario } | { ok: false; errors: string[] };

// ---------------------------------------------------------------------------------------------

/** Validates an already-parsed object (JSON or YAML data). */
export function validateScenario(input: unknown): ScenarioResult {
  const parsed = scenarioSchema.safeParse(input);
  if (!parsed.success) return { ok: false, errors: describeIssues(parsed.error.issues, input) };
  const errors: string[] = [];
  const scenario = resolve(parsed.data, errors);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, scenario };
}

/**
 * Parses a scenario file (YAML or JSON: JSON when the name ends in .json or the text starts with
 * `{`; YAML is a superset of JSON anyway) and validates it. Errors carry the file name and, for
 * YAML, the line where the offending field is.
 */
export function loadScenario(text: string, fileName: string): ScenarioResult {
  const isJson = /\.json$/i.test(fileName) || /^\s*\{/.test(text);
  if (isJson) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      return { ok: false, errors: [`${fileName}: not valid JSON (${(err as Error).message})`] };
    }
    const result = validateScenario(data);
    return result.ok ? result : { ok: false, errors: result.errors.map((e) => `${fileName}: ${e}`) };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return `${fileName}${pos ? `:${pos.line}:${pos.col}` : ''}: not valid YAML (${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')})`;
      }),
    };
  }
  const result = validateScenario(doc.toJS());
  if (result.ok) return result;
  return {
    ok: false,
    errors: result.errors.map((e) => {
      const line = lineOf(doc, lineCounter, e);
      return `${fileName}${line === undefined ? '' : `:${line}`}: ${e}`;
    }),
  };
}

/** Line of the deepest existing node named by the error's leading path (`faults[1].target.node: ...`). */
function lineOf(
  doc: ReturnType<typeof parseDocument>,
  counter: LineCounter,
  error: string,
): number | undefined {
  const pathText = error.split(':')[0] ?? '';
  const path: (string | number)[] = [];
  for (const m of pathText.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) path.push(Number(m[2]));
    else if (m[1] !== undefined) path.push(m[1]);
  }
  for (let n = path.length; n > 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && Array.isArray(node.range)) {
      return counter.linePos(node.range[0]).line;
    }
  }
  return undefined;
}

function resolve(s: ParsedScenario, errors: string[]): Scenario {
  const startMs = Date.parse(s.start);
  const durationMs = parseDurationMs(s.duration) as number;
  const endMs = startMs + durationMs;
  const tickMs = parseDurationMs(s.tick) as number;
  if (tickMs % 60_000 !== 0) errors.push(`tick: ${s.tick} is not a whole number of minutes; use 1m, 5m, ...`);
  if (durationMs < tickMs) errors.push(`duration: ${s.duration} is shorter than one tick (${s.tick})`);
  if (durationMs > 400 * 86_400_000)
    errors.push(`duration: ${s.duration} is longer than the 400 days allowed`);
  if (startMs % 60_000 !== 0) errors.push(`start: ${s.start} must fall on a whole minute`);

  const fleet: ScenarioFleet[] = [];
  const clusters = new Map<string, ScenarioFleet>();
  s.fleet.forEach((f, i) => {
    const known = gpuInstanceSpec(f.instanceType);
    if (f.gpusPerNode === undefined && known === undefined) {
      errors.push(
        `fleet[${i}].gpusPerNode: missing; required for instance type ${f.instanceType}, which is not in the GPU catalogue`,
      );
    }
    const entry = { ...f, gpusPerNode: f.gpusPerNode ?? known?.gpus ?? 1 };
    if (clusters.has(f.cluster)) {
      errors.push(
        `fleet[${i}].cluster: "${f.cluster}" appears twice; each fleet entry needs its own cluster name`,
      );
    }
    clusters.set(f.cluster, entry);
    fleet.push(entry);
  });

  const mix = s.workload.mix;
  const mixSum = mix.interactive + mix.batch + mix.distributed;
  if (Math.abs(mixSum - 1) > 1e-6) {
    errors.push(
      `workload.mix: interactive + batch + distributed must sum to 1; got ${roundTo(mixSum, 6)} (${mix.interactive} + ${mix.batch} + ${mix.distributed})`,
    );
  }
  s.workload.seasonal.forEach((w, i) => {
    if (!IANAZone.isValidZone(w.tz)) {
      errors.push(
        `workload.seasonal[${i}].tz: "${w.tz}" is not an IANA time zone such as America/New_York or UTC`,
      );
    }
    if (w.from === w.to)
      errors.push(`workload.seasonal[${i}].to: equals from (${w.from}); the window would be empty`);
  });

  const checkScope = (path: string, scope: { cluster: string; node?: number | undefined }) => {
    const f = clusters.get(scope.cluster);
    if (f === undefined) {
      errors.push(
        `${path}.cluster: unknown cluster "${scope.cluster}"; the fleet has ${[...clusters.keys()].join(', ')}`,
      );
      return undefined;
    }
    if (scope.node !== undefined && scope.node >= f.nodes) {
      errors.push(
        `${path}.node: ${scope.node} is out of range; cluster ${f.cluster} has nodes 0-${f.nodes - 1}`,
      );
    }
    return f;
  };

  const maintenance: MaintenanceSpec[] = [];
  s.maintenance.forEach((m, i) => {
    checkScope(`maintenance[${i}].scope`, m.scope);
    const scope: MaintenanceScope =
      m.scope.node === undefined ? { cluster: m.scope.cluster } : { ...m.scope, node: m.scope.node };
    const mDuration = parseDurationMs(m.duration) as number;
    if ('start' in m) {
      maintenance.push({ scope, startMs: Date.parse(m.start), durationMs: mDuration });
      return;
    }
    let tzOk = true;
    if (!IANAZone.isValidZone(m.tz)) {
      tzOk = false;
      errors.push(`maintenance[${i}].tz: "${m.tz}" is not an IANA time zone such as Europe/Berlin or UTC`);
    }
    try {
      new Cron(m.cron, { paused: true, ...(tzOk ? { timezone: m.tz } : {}) });
    } catch (err) {
      errors.push(`maintenance[${i}].cron: "${m.cron}" is not a cron expression (${(err as Error).message})`);
    }
    maintenance.push({ scope, cron: m.cron, tz: m.tz, durationMs: mDuration });
  });

  const faults: FaultSpec[] = [];
  const ids = new Set<string>();
  s.faults.forEach((f, i) => {
    const path = `faults[${i}]`;
    if (ids.has(f.id)) errors.push(`${path}.id: "${f.id}" appears twice; fault ids must be unique`);
    ids.add(f.id);
    const atMs = Date.parse(f.at);
    if (atMs < startMs || atMs >= endMs) {
      errors.push(
        `${path}.at: ${f.at} is outside the scenario (${new Date(startMs).toISOString()} to ${new Date(endMs).toISOString()})`,
      );
    }
    const spec = FAULT_KIND_SPECS[f.kind];
    checkTarget(`${path}.target`, f.kind, spec.target, f.target, clusters, errors);
    checkParams(`${path}.params`, f.kind, spec.params, f.params, errors);
    const explicit = f.duration === undefined ? undefined : (parseDurationMs(f.duration) as number);
    const faultDuration = explicit ?? spec.defaultDurationMs;
    faults.push({
      id: f.id,
      kind: f.kind,
      atMs,
      target: stripUndefined(f.target),
      params: f.params,
      ...(faultDuration !== undefined ? { durationMs: faultDuration } : {}),
    });
  });

  return {
    name: s.name,
    seed: s.seed,
    startMs,
    durationMs,
    endMs,
    tickMs,
    fleet,
    workload: {
      jobsPerDay: s.workload.jobsPerDay,
      mix,
      seasonal: s.workload.seasonal,
      targetLoad: s.workload.targetLoad,
    },
    maintenance,
    faults: [...faults].sort((a, b) => a.atMs - b.atMs || a.id.localeCompare(b.id)),
  };
}

function checkTarget(
  path: string,
  kind: FaultKind,
  form: TargetForm,
  target: z.output<typeof targetSchema>,
  clusters: ReadonlyMap<string, ScenarioFleet>,
  errors: string[],
): void {
  const allowed = ALLOWED_FIELDS[form];
  const given = Object.entries(target)
    .filter(([, v]) => v !== undefined)
    .map(([k]) => k);
  for (const k of given) {
    if (!allowed.includes(k)) {
      errors.push(`${path}.${k}: not allowed for a ${kind} fault; its target is ${TARGET_HELP[form]}`);
    }
  }
  if (form === 'endpoint') {
    if (target.endpoint === undefined)
      errors.push(`${path}.endpoint: missing; a ${kind} fault targets ${TARGET_HELP[form]}`);
    return;
  }
  if (target.cluster === undefined) {
    errors.push(`${path}.cluster: missing; a ${kind} fault targets ${TARGET_HELP[form]}`);
    return;
  }
  const f = clusters.get(target.cluster);
  if (f === undefined) {
    errors.push(
      `${path}.cluster: unknown cluster "${target.cluster}"; the fleet has ${[...clusters.keys()].join(', ')}`,
    );
    return;
  }
  if (target.node !== undefined && target.node >= f.nodes) {
    errors.push(
      `${path}.node: ${target.node} is out of range; cluster ${f.cluster} has nodes 0-${f.nodes - 1}`,
    );
  }
  if (target.gpu !== undefined) {
    if (target.node === undefined)
      errors.push(`${path}.gpu: needs node as well; a GPU index is within a node`);
    if (target.gpu >= f.gpusPerNode) {
      errors.push(
        `${path}.gpu: ${target.gpu} is out of range; ${f.instanceType} nodes in ${f.cluster} have GPUs 0-${f.gpusPerNode - 1}`,
      );
    }
  }
  if (form === 'gpu' && (target.node === undefined || target.gpu === undefined)) {
    errors.push(`${path}: a ${kind} fault hits one GPU; give ${TARGET_HELP[form]}`);
  }
  if (form === 'job' && target.job === undefined) {
    errors.push(`${path}.job: missing; a ${kind} fault targets ${TARGET_HELP[form]}`);
  }
  if (form === 'jobs' && target.job !== undefined && target.node !== undefined) {
    errors.push(`${path}: give either job or node, not both`);
  }
  if (form === 'cohort' && target.fraction === undefined) {
    errors.push(`${path}.fraction: missing; a ${kind} fault targets ${TARGET_HELP[form]}`);
  }
}

function checkParams(
  path: string,
  kind: FaultKind,
  specs: Readonly<Record<string, ParamSpec>>,
  params: Readonly<Record<string, unknown>>,
  errors: string[],
): void {
  const names = Object.keys(specs);
  for (const key of Object.keys(params)) {
    if (!(key in specs)) {
      errors.push(
        `${path}.${key}: unknown parameter for ${kind}; ${names.length === 0 ? 'it takes no parameters' : `allowed: ${names.join(', ')}`}`,
      );
    }
  }
  for (const [name, spec] of Object.entries(specs)) {
    const value = params[name];
    if (value === undefined) {
      if (spec.required) errors.push(`${path}.${name}: missing; required for ${kind}`);
      continue;
    }
    if (typeof value !== spec.type) {
      errors.push(`${path}.${name}: got ${JSON.stringify(value)}; expected a ${spec.type}`);
      continue;
    }
    if (typeof value === 'number') {
      if (spec.integer && !Number.isInteger(value))
        errors.push(`${path}.${name}: got ${value}; expected an integer`);
      if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
        errors.push(
          `${path}.${name}: ${value} is out of range; allowed ${spec.min ?? '-∞'} to ${spec.max ?? '∞'}`,
        );
      }
    }
  }
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function roundTo(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export { formatDuration };
