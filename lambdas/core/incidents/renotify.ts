import type { Incident } from '../../contracts/incident';
import { MINUTE_MS } from '../time';

/**
 * Re-notification: a PAGE incident still open (not acknowledged, not suppressed) is sent again
 * every interval, counted from the last open/renotify message that went out.
 *
 *   open ──── interval ──── renotify ──── interval ──── renotify ... (ack stops it)
 */
export function renotifyDue(incident: Incident, nowMs: number, intervalMinutes: number): boolean {
  if (intervalMinutes <= 0 || incident.status !== 'open' || incident.severity !== 'page') return false;
  if (incident.suppression !== undefined) return false;
  const sent = incident.notifications.filter((n) => n.event !== 'resolved');
  if (sent.some((n) => n.status === 'pending')) return false;
  const last = sent[sent.length - 1];
  return last !== undefined && nowMs - last.at >= intervalMinutes * MINUTE_MS;
}
