import type { Finding } from '../../contracts/finding';
import type { Incident, NotificationEvent } from '../../contracts/incident';
import {
  MAX_SNS_BYTES,
  MAX_SUBJECT_CHARS,
  NOTIFICATION_SCHEMA_VERSION,
  type Notification,
  type NotificationAttributes,
  snsSizeBytes,
} from '../../contracts/notification';

/**
 * The message a person on call reads at 3 a.m.: what, where, since when, the evidence, the
 * suspected cause, the runbook and the incident id, in that order, so the first screen answers
 * "is this mine, is it real, what do I do". Resolved incidents get a message too.
 */

export interface MessageOptions {
  /**
   * config.runbookBaseUrl: where docs/runbooks is published (an http(s) URL), so a finding's
   * `docs/runbooks/<kind>.md` becomes a link a person can open from a phone. Absent or not an
   * http(s) URL (the repository-relative default): the path as is.
   */
  readonly runbookBaseUrl?: string;
  /** Byte budget for body + attributes (tests lower it). @default MAX_SNS_BYTES minus a margin */
  readonly maxBytes?: number;
}

/** Margin for the subject and SNS's own envelope fields. */
const ENVELOPE_MARGIN_BYTES = 2 * 1024;
export const TRUNCATION_MARKER =
  '\n[… evidence truncated to fit the 256 KiB SNS limit; see the incident for the rest]';

export function buildNotification(
  incident: Incident,
  event: NotificationEvent,
  nowMs: number,
  options: MessageOptions = {},
): Notification {
  const attributes: NotificationAttributes = {
    severity: incident.severity,
    category: incident.cause,
    ...(incident.labels.cluster !== undefined ? { cluster: incident.labels.cluster } : {}),
    ...(incident.labels.team !== undefined ? { team: incident.labels.team } : {}),
    kind: incident.kind,
    incidentId: incident.id,
    event,
  };
  const maxBytes = options.maxBytes ?? MAX_SNS_BYTES - ENVELOPE_MARGIN_BYTES;
  const head = headLines(incident, event, nowMs);
  const tail = [
    '',
    `Suspected cause: ${incident.cause}`,
    `Runbook: ${runbookLink(incident.runbook, options.runbookBaseUrl)}`,
    `Incident: ${incident.id}`,
  ].join('\n');
  const evidence = `\nEvidence:\n${incident.evidence || '(none recorded)'}\n`;
  let body = `${head}${evidence}${tail}`;
  const budget = maxBytes - snsSizeBytes({ body: '', attributes });
  if (utf8Length(body) > budget) {
    const room = budget - utf8Length(`${head}\nEvidence:\n${TRUNCATION_MARKER}\n${tail}`);
    body = `${head}\nEvidence:\n${cutUtf8(incident.evidence, Math.max(0, room))}${TRUNCATION_MARKER}\n${tail}`;
  }
  return {
    schemaVersion: NOTIFICATION_SCHEMA_VERSION,
    subject: subjectOf(incident, event),
    body,
    attributes,
  };
}

function headLines(incident: Incident, event: NotificationEvent, nowMs: number): string {
  const since = new Date(incident.openedAtMs ?? incident.firstSeenMs).toISOString();
  const lines = [
    event === 'resolved'
      ? `RESOLVED: ${incident.title}`
      : event === 'renotify'
        ? `STILL OPEN: ${incident.title}`
        : event === 'escalated'
          ? `ESCALATED from ${escalatedFrom(incident) ?? 'a lower severity'} to ${incident.severity}: ${incident.title}`
          : incident.title,
    '',
    `What: ${incident.kind} (${incident.severity}${incident.severity !== incident.originalSeverity ? `, relaxed from ${incident.originalSeverity}` : ''})`,
    `Where: ${where(incident)}`,
    `Since: ${since} (first seen ${new Date(incident.firstSeenMs).toISOString()}, last seen ${new Date(incident.lastSeenMs).toISOString()})`,
  ];
  if (event === 'resolved' && incident.resolvedAtMs !== undefined) {
    lines.push(`Resolved: ${new Date(incident.resolvedAtMs).toISOString()}`);
  }
  if (event === 'renotify')
    lines.push(`Still open at ${new Date(nowMs).toISOString()}; acknowledge it to stop reminders.`);
  if (incident.group !== undefined) {
    const shown = incident.group.members.slice(0, 50).join(', ');
    const more = incident.group.members.length > 50 ? ` and ${incident.group.members.length - 50} more` : '';
    lines.push(
      `Affected ${incident.group.level === 'node' ? 'GPUs' : 'nodes'} (${incident.group.members.length}): ${shown}${more}`,
    );
  }
  if (incident.summary) lines.push('', incident.summary);
  return `${lines.join('\n')}\n`;
}

function where(incident: Incident): string {
  const parts = Object.entries(incident.labels)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`);
  return parts.length > 0 ? parts.join(' ') : '(fleet-wide)';
}

/** SNS subjects: printable ASCII, no line breaks, at most 100 characters. */
export function subjectOf(incident: Incident, event: NotificationEvent): string {
  const prefix =
    event === 'resolved' ? 'RESOLVED' : event === 'renotify' ? `STILL ${sev(incident)}` : sev(incident);
  const from = event === 'escalated' ? escalatedFrom(incident) : undefined;
  const escalation = event === 'escalated' ? `escalated${from ? ` from ${from}` : ''}: ` : '';
  const place =
    incident.labels.node ?? incident.labels.job ?? incident.labels.endpoint ?? incident.labels.cluster;
  const raw = `[${prefix}] ${escalation}${incident.title}${place !== undefined && !incident.title.includes(place) ? ` (${place})` : ''}`;
  const ascii = raw
    .normalize('NFKD')
    .replace(/[^\x20-\x7e]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return ascii.length <= MAX_SUBJECT_CHARS ? ascii : `${ascii.slice(0, MAX_SUBJECT_CHARS - 3).trimEnd()}...`;
}

const sev = (i: Incident) => i.severity.toUpperCase();

/**
 * The severity an escalation rose from: what the audible notification before the newest
 * 'escalated' one (of the incident's current severity) said. undefined when the record is gone
 * (bounded history).
 */
export function escalatedFrom(incident: Incident): string | undefined {
  const ns = incident.notifications;
  let idx = -1;
  for (let i = ns.length - 1; i >= 0; i--) {
    const n = ns[i];
    if (n?.event === 'escalated' && n.severity === incident.severity) {
      idx = i;
      break;
    }
  }
  for (let i = idx - 1; i >= 0; i--) {
    const n = ns[i];
    if (n !== undefined && n.event !== 'resolved') return n.severity;
  }
  return undefined;
}

const RUNBOOKS_DIR = 'docs/runbooks/';

function runbookLink(runbook: string, base: string | undefined): string {
  if (base === undefined || !/^https?:\/\//.test(base) || !runbook.startsWith(RUNBOOKS_DIR)) return runbook;
  return `${base.replace(/\/+$/, '')}/${runbook.slice(RUNBOOKS_DIR.length)}`;
}

/** Evidence as lines: values, window, baseline, detail. */
export function renderEvidence(f: Finding): string {
  const e = f.evidence;
  const lines: string[] = [];
  for (const [k, v] of Object.entries(e.values ?? {})) lines.push(`  ${k} = ${formatNumber(v)}`);
  lines.push(
    `  window ${new Date(e.window.startMs).toISOString()} .. ${new Date(e.window.endMs).toISOString()}`,
  );
  if (e.baseline !== undefined) {
    const b = Object.entries(e.baseline).map(([k, v]) => `${k}=${formatNumber(v)}`);
    lines.push(`  baseline ${b.join(', ')}`);
  }
  if (e.detail) lines.push(`  ${e.detail}`);
  return lines.join('\n');
}

function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(4);
}

const encoder = new TextEncoder();
export function utf8Length(s: string): number {
  return encoder.encode(s).length;
}

/** The longest prefix of `s` within `maxBytes` UTF-8 bytes, never splitting a code point. */
export function cutUtf8(s: string, maxBytes: number): string {
  if (utf8Length(s) <= maxBytes) return s;
  let bytes = 0;
  let end = 0;
  for (const ch of s) {
    const n = utf8Length(ch);
    if (bytes + n > maxBytes) break;
    bytes += n;
    end += ch.length;
  }
  return s.slice(0, end);
}
