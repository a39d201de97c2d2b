import type {
  InhibitionRule,
  KnownChange,
  MaintenanceWindow,
  SeasonalWindow,
  Silence,
} from '../../../contracts/calendar';
import type { Severity } from '../../../contracts/finding';
import type { IncidentStatus, SuppressionStage } from '../../../contracts/incident';
import type { Alert } from '../alert';

/**
 * One suppression stage answers one question: "does this mute the alert, and why?" (the
 * Alertmanager model). Stages are pure; the pipeline (pipeline.ts) fixes their order.
 */
export interface Muted {
  readonly muted: true;
  readonly stage: SuppressionStage;
  readonly reason: string;
  /** When the mute is known to end; absent when it depends on something else (an open source incident). */
  readonly untilMs?: number;
}

/** Not muted; a seasonal window may relax the alert instead. */
export interface NotMuted {
  readonly muted: false;
  readonly relax?: Relaxation;
}

export interface Relaxation {
  /** Lowered severity (never raised). */
  readonly severity?: Severity;
  /** Open after ceil(M × factor) of max(N, that) runs. */
  readonly minRunsFactor?: number;
  readonly reason: string;
}

export type StageVerdict = Muted | NotMuted;

/** An incident other alerts can be inhibited by. */
export interface ActiveIncident extends Alert {
  readonly status: IncidentStatus;
}

export interface CalendarView {
  readonly silences: readonly Silence[];
  readonly maintenance: readonly MaintenanceWindow[];
  readonly seasonal: readonly SeasonalWindow[];
  readonly inhibition: readonly InhibitionRule[];
  readonly changes: readonly KnownChange[];
  readonly postChangeRules: readonly {
    kinds: string[];
    changeKinds?: string[] | undefined;
    graceMinutes: number;
  }[];
}

export interface SuppressionContext {
  readonly nowMs: number;
  readonly calendar: CalendarView;
  /** Incidents currently open or acknowledged (inhibition sources). */
  readonly active: readonly ActiveIncident[];
}

export type Stage = (alert: Alert, ctx: SuppressionContext) => StageVerdict;

export const NOT_MUTED: NotMuted = { muted: false };
