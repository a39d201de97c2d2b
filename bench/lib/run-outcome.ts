import type { Cause, Severity } from '../../lambdas/contracts/finding';

/** One latency run to do: a fault kind, a seed index, and the cadence (null: runSimulation's own). */
export interface RunTask {
  readonly kind: string;
  readonly seedIndex: number;
  readonly cadenceMinutes: number | null;
}

/** What a worker sends back for one run (bench/lib/latency-worker.ts). */
export interface RunOutcome {
  readonly task: RunTask;
  readonly scenario: string;
  readonly fault: {
    readonly detected: boolean;
    readonly latencySeconds: number | null;
    readonly severity: Severity | null;
    readonly cause: Cause | null;
    /** 'unresolved': the fault found no target (e.g. no distributed job ran); it cannot be detected. */
    readonly status: 'pending' | 'active' | 'ended' | 'unresolved';
    readonly expectedSeverity: Severity;
    readonly expectedCause: Cause;
  };
  readonly falseNotifications: number;
  readonly duplicateNotifications: number;
  readonly apiCalls: Readonly<Record<string, number>>;
  readonly runtimeSeconds: number;
  /** Collector runs (bench loop only). */
  readonly runs?: number;
}
