import { fingerprintOfId, INCIDENT_STATUSES, type Incident } from '../contracts/incident';
import { acknowledge, resolve } from '../core/incidents/lifecycle';
import type { IncidentStore } from '../core/ports';
import type { CliIo } from './detect';
import {
  actorOf,
  isoInstant,
  type OperatorContext,
  parseDurationFlag,
  resolveTarget,
  TARGET_HELP,
  TARGET_OPTIONS,
  UsageError,
} from './operator';
import { flagsOnly, type OptionValues, onePositional, runCommand, type SubcommandInput } from './options';
import { printList } from './table';

/**
 * `fleetwatch incidents list|ack|resolve`: what people do with incidents. Acknowledging stops
 * re-notification; resolving closes the episode (and queues the "resolved" message when the
 * incident had been notified, which the router's sweep sends). Both go through the same
 * lifecycle functions as the router and record the person in the history.
 */

export const INCIDENTS_USAGE = `Usage:
  fleetwatch incidents list [--status open|acknowledged|resolved|pending|active|all] [--since 7d] [--json]
  fleetwatch incidents ack <id> [--note "..."] [--actor <name>]
  fleetwatch incidents resolve <id> [--note "..."] [--actor <name>]

  --status   open (default), acknowledged, resolved, pending, active (all but resolved), all
  --since    for resolved and all: changed within this long (default 7d)
  --note     recorded with the history entry
  --actor    who is acting (default: $USER)
${TARGET_HELP}

<id> is the incident id as messages print it: <fingerprint>-<episode>.
Exit status: 0 ok, 2 bad input or an id that is not there, 1 unexpected failure.`;

const OPTIONS = {
  ...TARGET_OPTIONS,
  status: { type: 'string', default: 'open' },
  since: { type: 'string', default: '7d' },
  note: { type: 'string' },
  actor: { type: 'string' },
} as const;

type Values = OptionValues<typeof OPTIONS>;

const LIST_STATUSES = [...INCIDENT_STATUSES, 'active', 'all'] as const;
/** Optimistic writes: re-read and re-apply when the router changed the item in between. */
const MAX_ATTEMPTS = 5;

export function runIncidents(args: string[], io: CliIo, given?: OperatorContext): Promise<number> {
  const changeOne =
    (sub: 'ack' | 'resolve') =>
    ({ values, positionals, ctx }: SubcommandInput<typeof OPTIONS>) =>
      change(sub, values, onePositional(sub, positionals, '<id>', ' (see "incidents list")'), ctx);
  return runCommand(
    {
      name: 'incidents',
      usage: INCIDENTS_USAGE,
      options: OPTIONS,
      subcommands: {
        list: flagsOnly(list),
        ack: changeOne('ack'),
        resolve: changeOne('resolve'),
      },
    },
    args,
    io,
    given,
  );
}

/** Incidents with the given list status, newest first. */
export async function listIncidents(
  store: IncidentStore,
  status: (typeof LIST_STATUSES)[number],
  sinceMs: number,
): Promise<Incident[]> {
  const all =
    status === 'resolved' || status === 'all' ? await store.listRecent(sinceMs) : await store.listActive();
  const wanted = all.filter((i) =>
    status === 'all' ? true : status === 'active' ? i.status !== 'resolved' : i.status === status,
  );
  const byId = new Map(wanted.map((i) => [i.id, i]));
  return [...byId.values()].sort((a, b) => b.lastSeenMs - a.lastSeenMs || a.id.localeCompare(b.id));
}

function where(i: Incident): string {
  const l = i.labels as Record<string, string | undefined>;
  return ['cluster', 'node', 'gpu', 'job', 'endpoint']
    .map((k) => (l[k] ? `${k}=${l[k]}` : ''))
    .filter((s) => s !== '')
    .join(',');
}

async function list(values: Values, ctx: OperatorContext): Promise<number> {
  const status = values.status as (typeof LIST_STATUSES)[number];
  if (!(LIST_STATUSES as readonly string[]).includes(status)) {
    throw new UsageError(`--status ${values.status}: allowed: ${LIST_STATUSES.join(', ')}`);
  }
  const sinceMs = ctx.nowMs() - parseDurationFlag(values.since, '--since');
  const target = resolveTarget(values, ctx);
  const incidents = await listIncidents(ctx.makeDeps(target).incidents, status, sinceMs);
  return printList(ctx.io, incidents, {
    json: values.json,
    empty: `No incidents with status ${status}.`,
    header: ['ID', 'STATUS', 'SEVERITY', 'KIND', 'WHERE', 'LAST SEEN', 'TITLE'],
    row: (i) => [
      i.id,
      i.suppression ? `${i.status} (${i.suppression.stage})` : i.status,
      i.severity,
      i.kind,
      where(i),
      isoInstant(i.lastSeenMs),
      i.title,
    ],
  });
}

/** The fingerprint in an incident id as messages print it; UsageError saying the form otherwise. */
export function incidentFingerprint(id: string): string {
  const fingerprint = fingerprintOfId(id);
  if (fingerprint === undefined) {
    throw new UsageError(
      `${id}: not an incident id; expected <16 hex characters>-<episode>, e.g. 0123456789abcdef-1`,
    );
  }
  return fingerprint;
}

/** The stored incident with this id; UsageError when it is not there (or a later episode is). */
export async function loadIncident(store: IncidentStore, id: string, table: string): Promise<Incident> {
  const fingerprint = incidentFingerprint(id);
  const incident = await store.get(fingerprint);
  if (incident === undefined) throw new UsageError(`${id}: no such incident in table ${table}`);
  if (incident.id !== id) {
    throw new UsageError(
      `${id}: that episode is over; the current incident of this fingerprint is ${incident.id}`,
    );
  }
  return incident;
}

async function change(
  sub: 'ack' | 'resolve',
  values: Values,
  id: string,
  ctx: OperatorContext,
): Promise<number> {
  const actor = actorOf(values.actor, ctx, '--actor');
  const note = values.note?.trim() || undefined;
  const target = resolveTarget(values, ctx);
  const store = ctx.makeDeps(target).incidents;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const current = await loadIncident(store, id, target.table);
    const nowMs = ctx.nowMs();
    if (current.status === 'resolved') {
      throw new UsageError(
        `${sub} ${id}: already resolved${current.resolvedAtMs ? ` at ${isoInstant(current.resolvedAtMs)}` : ''}`,
      );
    }
    if (sub === 'ack' && current.status !== 'open') {
      if (current.status === 'acknowledged') {
        ctx.io.stdout(`Incident ${id} was already acknowledged; nothing changed.\n`);
        return 0;
      }
      throw new UsageError(`ack ${id}: status is ${current.status}; only open incidents can be acknowledged`);
    }
    const next =
      sub === 'ack'
        ? acknowledge(current, nowMs, actor, note)
        : resolve(current, nowMs, actor, note ?? `resolved by ${actor}`);
    const stored = await store.put(next);
    if (stored === 'conflict') continue;
    if (values.json) ctx.io.stdout(`${JSON.stringify(stored)}\n`);
    else ctx.io.stdout(`Incident ${id} ${sub === 'ack' ? 'acknowledged' : 'resolved'} by ${actor}.\n`);
    return 0;
  }
  throw new Error(
    `${sub} ${id}: the incident kept changing under us (${MAX_ATTEMPTS} conflicting writes); try again`,
  );
}
