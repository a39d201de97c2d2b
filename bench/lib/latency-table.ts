import type { RunOutcome } from './run-outcome';
import { type LatencyStats, latencyStats, tally } from './stats';

/** The 15-minute requirement: a fault is notified within 900 s of onset. */
export const LATENCY_LIMIT_SECONDS = 900;

export interface KindRow extends LatencyStats {
  readonly kind: string;
  /** Runs whose fault found no target (no matching job): excluded from `runs`, shown apart. */
  readonly unresolved: number;
  readonly severities: string;
  readonly causes: string;
  readonly expected: string;
  /** False notifications over all runs of this kind (notifications no injected fault explains). */
  readonly falseNotifications: number;
}

/**
 * One row per fault kind, in `kinds` order (a kind without runs still gets a row with 0 runs).
 * Runs whose fault stayed 'unresolved' cannot be detected and are counted apart; every other run
 * counts, and a run without a notification lowers detected %, it is not left out.
 */
export function rowsByKind(outcomes: readonly RunOutcome[], kinds: readonly string[]): KindRow[] {
  return kinds.map((kind) => {
    const mine = outcomes.filter((o) => o.task.kind === kind);
    const resolved = mine.filter((o) => o.fault.status !== 'unresolved');
    const first = mine[0];
    return {
      kind,
      ...latencyStats(
        resolved.map((o) => (o.fault.detected ? o.fault.latencySeconds : null)),
        LATENCY_LIMIT_SECONDS,
      ),
      unresolved: mine.length - resolved.length,
      severities: tally(resolved.filter((o) => o.fault.detected).map((o) => o.fault.severity)),
      causes: tally(resolved.filter((o) => o.fault.detected).map((o) => o.fault.cause)),
      expected: first === undefined ? '' : `${first.fault.expectedSeverity} / ${first.fault.expectedCause}`,
      falseNotifications: mine.reduce((n, o) => n + o.falseNotifications, 0),
    };
  });
}

const s = (v: number | undefined) => (v === undefined ? '–' : String(v));

/** The latency table as Markdown (docs/benchmarks.md and the console). */
export function latencyMarkdown(rows: readonly KindRow[]): string {
  const head =
    '| kind | runs | unresolved | detected | p50 (s) | p95 (s) | max (s) | p95 ≤ 900 s | severity seen | cause seen | expected | false notif. |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|---|';
  const body = rows.map(
    (r) =>
      `| ${r.kind} | ${r.runs} | ${r.unresolved} | ${r.detectedPercent} % | ${s(r.p50Seconds)} | ${s(r.p95Seconds)} | ${s(r.maxSeconds)} | ${r.detected === 0 ? 'NOT DETECTED' : r.meetsLimit ? 'yes' : 'NO'} | ${r.severities || '–'} | ${r.causes || '–'} | ${r.expected} | ${r.falseNotifications} |`,
  );
  return [head, ...body].join('\n');
}
