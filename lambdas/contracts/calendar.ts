import { Cron } from 'croner';
import { DateTime, Duration } from 'luxon';
import * as rruleModule from 'rrule';
import { z } from 'zod';

/**
 * The ONE maintenance calendar: silences, maintenance windows (one-off and recurring), seasonal
 * windows, inhibition rules and post-change grace. The router's suppression stages read it, the
 * anomaly detectors exclude its windows from training, and CloudWatch alarm mute rules are made
 * from it. It lives in contracts (not core) because infra needs `expandWindows` at synth time and
 * infra may import contracts only; croner, rrule and luxon are pure libraries allowed here.
 *
 * Recurring windows are computed on the WALL CLOCK of their IANA time zone, then turned into
 * instants. Across DST changes (decided here, tested in test/unit/incidents/windows.test.ts):
 *
 *   spring forward (02:00 → 03:00)   a 02:30 window starts at 03:30 local (the instant "02:30"
 *                                    would have been without the change), lasting its duration
 *   fall back (02:00 → 01:00)        a 01:30 window starts ONCE, at the first 01:30 (summer time)
 *
 * Durations are absolute (PT2H is always 7,200,000 ms), so a window crossing the change ends
 * two real hours after it started, whatever the wall clock says.
 */

export const CALENDAR_SCHEMA_VERSION = 1;

/** Labels a matcher may name: the finding labels plus kind, severity and cause. */
export const MATCHER_LABELS = [
  'cluster',
  'region',
  'node',
  'gpu',
  'job',
  'team',
  'endpoint',
  'feature',
  'kind',
  'severity',
  'cause',
] as const;
export type MatcherLabel = (typeof MATCHER_LABELS)[number];

export const MATCHER_OPS = ['=', '!=', '=~', '!~'] as const;
export type MatcherOp = (typeof MATCHER_OPS)[number];

const isoInstant = z.iso.datetime({
  offset: true,
  error: 'an ISO-8601 instant with offset, e.g. 2026-03-08T02:00:00Z',
});

/**
 * `label op value`, as in Alertmanager: `=~`/`!~` are anchored regular expressions; a missing
 * label reads as "" (so `gpu=""` means "no gpu label").
 */
export const labelMatcherSchema = z
  .strictObject({
    label: z.enum(MATCHER_LABELS, {
      error: (iss) => `unknown label ${JSON.stringify(iss.input)}; allowed: ${MATCHER_LABELS.join(', ')}`,
    }),
    op: z.enum(MATCHER_OPS, {
      error: (iss) => `unknown operator ${JSON.stringify(iss.input)}; allowed: ${MATCHER_OPS.join(' ')}`,
    }),
    value: z.string().max(1024),
  })
  .superRefine((m, ctx) => {
    if (m.op !== '=~' && m.op !== '!~') return;
    try {
      new RegExp(`^(?:${m.value})$`);
    } catch (e) {
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: `not a valid regular expression (${(e as Error).message})`,
      });
    }
  });
export type LabelMatcher = z.output<typeof labelMatcherSchema>;

// One meaning of a matcher for the router, detection's maintenance filter, KPI capacity and
// the deploy-time mute rules (infra): a missing label reads as "", regexes are fully anchored.
const regexCache = new Map<string, RegExp>();

function anchored(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    re = new RegExp(`^(?:${pattern})$`);
    regexCache.set(pattern, re);
  }
  return re;
}

/** Whether one matcher accepts a label value (missing labels are ""), regexes fully anchored. */
export function valueMatches(m: LabelMatcher, v: string): boolean {
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return anchored(m.value).test(v);
    case '!~':
      return !anchored(m.value).test(v);
  }
}

export const silenceSchema = z
  .strictObject({
    id: z.string().min(1).max(128),
    matchers: z
      .array(labelMatcherSchema)
      .min(1, 'at least one matcher (a silence of everything is a mistake)'),
    start: isoInstant,
    end: isoInstant,
    author: z.string().min(1).max(256),
    reason: z.string().min(1).max(1024),
    createdAt: isoInstant,
  })
  .superRefine((s, ctx) => {
    if (Date.parse(s.end) <= Date.parse(s.start)) {
      ctx.addIssue({ code: 'custom', path: ['end'], message: `before or at start (${s.start})` });
    }
  });
export type Silence = z.output<typeof silenceSchema>;

const isoDuration = z.string().refine(
  (d) => {
    const parsed = Duration.fromISO(d);
    return parsed.isValid && parsed.as('milliseconds') > 0;
  },
  { message: 'a positive ISO-8601 duration such as PT2H or P1DT30M' },
);

const timeZone = z.string().refine((tz) => DateTime.local({ zone: tz }).isValid, {
  message: 'an IANA time zone such as America/New_York or UTC',
});

const cronText = z.string().refine((c) => cronError(c) === undefined, {
  error: (iss) => `invalid cron pattern: ${cronError(String(iss.input)) ?? ''}`,
});

const rruleText = z.string().refine((r) => rruleError(r) === undefined, {
  error: (iss) => `invalid RRULE: ${rruleError(String(iss.input)) ?? ''}`,
});

/**
 * The time shape shared by maintenance windows, seasonal windows and change freezes. One flat
 * object (not a union) so errors name the exact field:
 *   one-off    { start, end | duration }
 *   recurring  { cron | rrule, duration, tz }   (tz defaults to UTC)
 */
const windowShape = {
  name: z.string().min(1).max(128).optional(),
  start: isoInstant.optional(),
  end: isoInstant.optional(),
  /** ISO-8601 duration, e.g. PT2H. Absolute: a window crossing a DST change still lasts PT2H. */
  duration: isoDuration.optional(),
  /** 5- or 6-field cron pattern (croner syntax) on the wall clock of `tz`, e.g. "0 2 * * 6". */
  cron: cronText.optional(),
  /** RFC 5545 recurrence on the wall clock of `tz`, e.g. "FREQ=WEEKLY;BYDAY=SA;BYHOUR=2;BYMINUTE=0". */
  rrule: rruleText.optional(),
  tz: timeZone.optional(),
  /** Which alerts the window applies to; empty: all of them. */
  scope: z.array(labelMatcherSchema).default([]),
};

interface WindowFields {
  start?: string | undefined;
  end?: string | undefined;
  duration?: string | undefined;
  cron?: string | undefined;
  rrule?: string | undefined;
  tz?: string | undefined;
}

function checkWindowShape(w: WindowFields, ctx: z.RefinementCtx): void {
  const issue = (field: string, message: string) => ctx.addIssue({ code: 'custom', path: [field], message });
  if (w.start !== undefined) {
    for (const f of ['cron', 'rrule', 'tz'] as const) {
      if (w[f] !== undefined)
        issue(f, 'not allowed with start (a one-off window); drop start for a recurring one');
    }
    if ((w.end === undefined) === (w.duration === undefined))
      issue('end', 'give exactly one of end or duration');
    else if (w.end !== undefined && Date.parse(w.end) <= Date.parse(w.start)) {
      issue('end', `must be after start (${w.start})`);
    }
    return;
  }
  if (w.end !== undefined)
    issue('end', 'only one-off windows (with start) have an end; recurring ones a duration');
  if ((w.cron === undefined) === (w.rrule === undefined)) {
    issue('cron', 'give start (one-off window) or exactly one of cron and rrule (recurring window)');
  }
  if (w.duration === undefined) issue('duration', 'required for a recurring window, e.g. PT2H');
}

/** A maintenance window: one-off or recurring. The original `{start, end}` entries stay valid. */
export const maintenanceWindowSchema = z.strictObject(windowShape).superRefine(checkWindowShape);
export type MaintenanceWindow = z.output<typeof maintenanceWindowSchema>;
export type MaintenanceWindowInput = z.input<typeof maintenanceWindowSchema>;

/** Glob over dotted kinds: `*` one segment part, `**` anything (e.g. `stat.*`, `gpu.**`). */
const kindGlob = z
  .string()
  .regex(/^[a-z0-9_*]+(\.[a-z0-9_*]+)*$/, 'a dotted kind or glob such as gpu.** or stat.*');

/**
 * Expected load (weekday retrains, month-end batch runs) that RELAXES the rules it names instead
 * of muting everything: cap their severity and/or require more runs before an incident opens.
 */
export const seasonalWindowSchema = z
  .strictObject({
    ...windowShape,
    relax: z
      .strictObject({
        kinds: z.array(kindGlob).min(1),
        severityCap: z.enum(['ticket', 'info']).optional(),
        /** Multiplies the M of "open after M of N runs" (2: twice as many runs needed). */
        minRunsFactor: z.number().min(1).max(10).optional(),
        /**
         * The relaxation also holds this long after each occurrence ends: the queue a load peak
         * builds takes time to drain, and its SLA misses outlive the window.
         */
        drainMinutes: z.int().min(1).max(1440).optional(),
      })
      .refine((r) => r.severityCap !== undefined || r.minRunsFactor !== undefined, {
        message: 'relax needs severityCap and/or minRunsFactor (otherwise it relaxes nothing)',
      }),
  })
  .superRefine(checkWindowShape);
export type SeasonalWindow = z.output<typeof seasonalWindowSchema>;

/** A source incident (open) mutes target alerts that share the `equal` labels (all present, same value). */
export const inhibitionRuleSchema = z.strictObject({
  name: z.string().min(1).max(128),
  source: z.array(labelMatcherSchema).min(1),
  target: z.array(labelMatcherSchema).min(1),
  equal: z.array(z.enum(MATCHER_LABELS)).min(1),
});
export type InhibitionRule = z.output<typeof inhibitionRuleSchema>;

const m = (label: MatcherLabel, op: MatcherOp, value: string): LabelMatcher => ({ label, op, value });

/**
 * Default inhibition: an open page-level node incident mutes the GPU and job alerts of that node;
 * an open page-level cluster incident mutes node, GPU and job alerts of that cluster.
 */
export const DEFAULT_INHIBITION_RULES: readonly InhibitionRule[] = [
  {
    name: 'node-mutes-gpus',
    source: [m('severity', '=', 'page'), m('node', '=~', '.+'), m('gpu', '=', ''), m('job', '=', '')],
    target: [m('gpu', '=~', '.+')],
    equal: ['cluster', 'node'],
  },
  {
    name: 'node-mutes-jobs',
    source: [m('severity', '=', 'page'), m('node', '=~', '.+'), m('gpu', '=', ''), m('job', '=', '')],
    target: [m('job', '=~', '.+')],
    equal: ['cluster', 'node'],
  },
  ...(['node', 'gpu', 'job'] as const).map((label) => ({
    name: `cluster-mutes-${label}s`,
    source: [
      m('severity', '=', 'page'),
      m('cluster', '=~', '.+'),
      m('node', '=', ''),
      m('gpu', '=', ''),
      m('job', '=', ''),
    ],
    target: [m(label, '=~', '.+')],
    equal: ['cluster'] as MatcherLabel[],
  })),
  // One fault, several symptoms on the same GPU: page once, for the cause. Xid 79 is followed by
  // the GPU's series going silent (fell off the bus); Xid 48 is the uncorrectable ECC error itself.
  {
    name: 'fatal-xid-mutes-its-symptoms',
    source: [m('kind', '=', 'gpu.xid.fatal')],
    target: [m('kind', '=~', 'gpu\\.(fell_off_bus|ecc\\.uncorrectable|xid\\.reset_required)')],
    equal: ['cluster', 'node', 'gpu'],
  },
  // Thermal throttling is how an over-temperature GPU protects itself: one incident, not two.
  {
    name: 'thermal-throttle-mutes-over-temperature',
    source: [m('kind', '=', 'gpu.throttle.thermal')],
    target: [m('kind', '=', 'gpu.temperature.over_limit')],
    equal: ['cluster', 'node', 'gpu'],
  },
  // A job that stopped progressing (stalled, hung or idle GPUs) also stops writing checkpoints:
  // the stale checkpoint is a symptom of the open job incident, not a second one (issues 3/4).
  {
    name: 'job-stop-mutes-checkpoint-stale',
    source: [m('kind', '=~', 'job\\.(progress_stalled|hung|gpus_idle)')],
    target: [m('kind', '=', 'job.checkpoint_stale')],
    equal: ['cluster', 'job'],
  },
  // NVLink errors on the nodes of a distributed job are reported once, scoped to the job
  // (core/detect/hardware/job-scope.ts); the job's slow progress blamed on the network is their
  // symptom, not a second incident (issue 5, network_degradation).
  {
    name: 'nvlink-mutes-network-slow-job',
    source: [m('kind', '=~', 'gpu\\.nvlink\\..+'), m('job', '=~', '.+')],
    target: [m('kind', '=', 'job.progress_slow'), m('cause', '=', 'network')],
    equal: ['cluster', 'job'],
  },
];

export const knownChangeSchema = z.strictObject({
  at: isoInstant,
  /** What changed: 'deploy', 'driver-upgrade', ... */
  kind: z.string().min(1).max(64),
  scope: z.array(labelMatcherSchema).default([]),
  description: z.string().max(1024).optional(),
});
export type KnownChange = z.output<typeof knownChangeSchema>;

export const postChangeSchema = z.strictObject({
  changes: z.array(knownChangeSchema).default([]),
  rules: z
    .array(
      z.strictObject({
        /** Alert kinds that are noisy right after a change. */
        kinds: z.array(kindGlob).min(1),
        /** Change kinds this rule applies to; default: every change. */
        changeKinds: z.array(z.string().min(1)).optional(),
        graceMinutes: z
          .int()
          .min(1)
          .max(7 * 24 * 60),
      }),
    )
    .default([]),
});
export type PostChange = z.output<typeof postChangeSchema>;

export const calendarSchema = z.strictObject({
  silences: z.array(silenceSchema).default([]),
  maintenance: z.array(maintenanceWindowSchema).default([]),
  seasonal: z.array(seasonalWindowSchema).default([]),
  inhibition: z.array(inhibitionRuleSchema).default([...DEFAULT_INHIBITION_RULES]),
  postChange: postChangeSchema.default({ changes: [], rules: [] }),
});
export type Calendar = z.output<typeof calendarSchema>;
export type CalendarInput = z.input<typeof calendarSchema>;

/**
 * Parses a calendar part and reports problems as "<what><path>: <problem>", e.g.
 * "silence.matchers[0].label: unknown label \"nod\"; allowed: cluster, ...".
 */
export function parseCalendarPart<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
): { ok: true; value: z.output<S> } | { ok: false; problems: string[] } {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    problems: result.error.issues.map((i) => `${joinPath(what, i.path)}: ${i.message}`),
  };
}

function joinPath(what: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
    what,
  );
}

// ---------------------------------------------------------------------------------------------
// Window expansion (pure): recurring specs → concrete [startMs, endMs) occurrences.

export interface Occurrence {
  readonly startMs: number;
  readonly endMs: number;
  readonly name?: string;
}

/** Anything with a one-off or recurring time shape. */
export type WindowSpec = MaintenanceWindow | SeasonalWindow;

/** Safety net: a cron of every minute over a year would otherwise make half a million occurrences. */
export const MAX_OCCURRENCES_PER_SPEC = 5_000;

export function durationMs(iso: string): number {
  return Duration.fromISO(iso).as('milliseconds');
}

/** Occurrences of every window overlapping [fromMs, toMs), sorted by start. Never end < start. */
export function expandWindows(windows: readonly WindowSpec[], fromMs: number, toMs: number): Occurrence[] {
  const out: Occurrence[] = [];
  for (const w of windows) out.push(...occurrencesOf(w, fromMs, toMs));
  return out.sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
}

export function occurrencesOf(w: WindowSpec, fromMs: number, toMs: number): Occurrence[] {
  if (toMs <= fromMs) return [];
  const named = <T extends object>(o: T) => (w.name === undefined ? o : { ...o, name: w.name });
  if (w.start !== undefined) {
    const startMs = Date.parse(w.start);
    const endMs = w.end !== undefined ? Date.parse(w.end) : startMs + durationMs(w.duration ?? 'PT0S');
    return startMs < toMs && endMs > fromMs && endMs > startMs ? [named({ startMs, endMs })] : [];
  }
  const len = durationMs(w.duration ?? 'PT0S');
  const tz = w.tz ?? 'UTC';
  if (len <= 0) return [];
  // Wall-clock starts between (from - duration) and to, padded a day for the zone's offset.
  const wallFrom = floatingWallMs(fromMs - len, tz) - DAY_MS;
  const wallTo = floatingWallMs(toMs, tz) + DAY_MS;
  const out: Occurrence[] = [];
  for (const wall of wallStarts(w, wallFrom, wallTo)) {
    const startMs = wallToInstant(wall, tz);
    const endMs = startMs + len;
    if (startMs < toMs && endMs > fromMs) out.push(named({ startMs, endMs }));
  }
  return out;
}

const DAY_MS = 86_400_000;

/** Wall-clock time in `tz` written as if it were UTC ("floating" time), epoch ms. */
export function floatingWallMs(instantMs: number, tz: string): number {
  const offsetMin = DateTime.fromMillis(instantMs, { zone: tz }).offset;
  return instantMs + offsetMin * 60_000;
}

/**
 * Floating wall time → instant in `tz`. Ambiguous (fall back): the FIRST instant. Nonexistent
 * (spring forward): read with the offset before the gap, i.e. shifted forward by the gap.
 */
export function wallToInstant(wallMs: number, tz: string): number {
  const offsetAt = (ms: number) => DateTime.fromMillis(ms, { zone: tz }).offset;
  const offsets = [...new Set([offsetAt(wallMs - DAY_MS), offsetAt(wallMs), offsetAt(wallMs + DAY_MS)])];
  const candidates = offsets.map((o) => wallMs - o * 60_000).filter((t) => floatingWallMs(t, tz) === wallMs);
  if (candidates.length > 0) return Math.min(...candidates);
  return wallMs - offsetAt(wallMs - DAY_MS) * 60_000;
}

function* wallStarts(w: WindowFields, wallFrom: number, wallTo: number): Generator<number> {
  let n = 0;
  if (w.cron !== undefined) {
    const cron = cronFor(w.cron);
    let next = cron.nextRun(new Date(wallFrom - 1));
    while (next !== null && next.getTime() < wallTo && n++ < MAX_OCCURRENCES_PER_SPEC) {
      yield next.getTime();
      next = cron.nextRun(next);
    }
    return;
  }
  if (w.rrule !== undefined) {
    for (const d of rruleNear(w.rrule, wallFrom).between(new Date(wallFrom), new Date(wallTo), true)) {
      if (n++ >= MAX_OCCURRENCES_PER_SPEC) return;
      yield d.getTime();
    }
  }
}

// rrule ships CommonJS for Node and ESM for bundlers: take the named exports from whichever we got.
type RruleLib = typeof import('rrule');
const rrule: RruleLib =
  'rrulestr' in rruleModule ? rruleModule : (rruleModule as unknown as { default: RruleLib }).default;

/** DTSTART defaults to 2000-01-01T00:00 floating; BYHOUR/BYMINUTE in the rule set the time of day. */
function buildRrule(text: string) {
  const body = text.trim();
  const hasDtstart = /DTSTART/i.test(body);
  const rule = /^(RRULE:|DTSTART)/i.test(body) ? body : `RRULE:${body}`;
  return rrule.rrulestr(rule, hasDtstart ? {} : { dtstart: new Date(Date.UTC(2000, 0, 1)) });
}

const cronCache = new Map<string, Cron>();

/** Parsed once per pattern, at UTC offset 0 (the window's floating wall clock; 10× faster than an IANA zone). */
function cronFor(pattern: string): Cron {
  let cron = cronCache.get(pattern);
  if (cron === undefined) {
    cron = new Cron(pattern, { utcOffset: 0, paused: true });
    if (cronCache.size > 1_000) cronCache.clear();
    cronCache.set(pattern, cron);
  }
  return cron;
}

const rruleCache = new Map<string, ReturnType<typeof buildRrule>>();
const WEEK_MS = 7 * DAY_MS;

/**
 * The rule with DTSTART moved forward by whole periods to just before `wallFrom`: rrule iterates
 * from DTSTART, so a default DTSTART of 2000 would cost ~10,000 iterations per question. The
 * shift keeps the phase (a multiple of 7 × INTERVAL days, or 12 × INTERVAL months) so the
 * occurrences are unchanged; rules with COUNT are left alone (COUNT counts from DTSTART).
 */
function rruleNear(text: string, wallFrom: number): ReturnType<typeof buildRrule> {
  let base = rruleCache.get(text);
  if (base === undefined) {
    base = buildRrule(text);
    if (rruleCache.size > 1_000) rruleCache.clear();
    rruleCache.set(text, base);
  }
  const o = base.origOptions;
  const dtstart = (o.dtstart ?? new Date(Date.UTC(2000, 0, 1))).getTime();
  if ((o.count !== undefined && o.count !== null) || wallFrom - dtstart < 2 * 366 * DAY_MS) return base;
  const interval = o.interval ?? 1;
  const F = rrule.RRule;
  let shifted: number | undefined;
  if (o.freq === F.MONTHLY || o.freq === F.YEARLY) {
    const d = new Date(dtstart);
    if (d.getUTCDate() > 28) return base;
    const stepMonths = 12 * interval;
    const monthsBetween = (new Date(wallFrom).getUTCFullYear() - d.getUTCFullYear()) * 12;
    const k = Math.floor(monthsBetween / stepMonths) - 1;
    if (k > 0)
      shifted = Date.UTC(
        d.getUTCFullYear() + (k * stepMonths) / 12,
        d.getUTCMonth(),
        d.getUTCDate(),
        d.getUTCHours(),
        d.getUTCMinutes(),
        d.getUTCSeconds(),
      );
  } else {
    const period = WEEK_MS * interval;
    const k = Math.floor((wallFrom - dtstart) / period) - 1;
    if (k > 0) shifted = dtstart + k * period;
  }
  return shifted === undefined ? base : new rrule.RRule({ ...o, dtstart: new Date(shifted) });
}

function cronError(pattern: string): string | undefined {
  try {
    new Cron(pattern, { utcOffset: 0, paused: true });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

function rruleError(text: string): string | undefined {
  try {
    buildRrule(text).after(new Date(Date.UTC(2000, 0, 1)), true);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
