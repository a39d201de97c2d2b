import type { Severity } from '../../contracts/finding';
import type { Alert } from './alert';
import { inhibitionStage } from './stages/inhibition';
import { maintenanceStage } from './stages/maintenance';
import { postChangeStage } from './stages/post-change';
import { seasonalStage } from './stages/seasonal';
import { silenceStage } from './stages/silences';
import type { Muted, Relaxation, Stage, SuppressionContext } from './stages/stage';

/**
 * THE order of the suppression stages, in one place:
 *
 *   silences → maintenance → seasonal (relaxes) → inhibition → post-change grace
 *
 * Explicit human decisions first (a silence names its author), then the calendar, then rules
 * that depend on other incidents. The first stage that mutes decides; a seasonal relaxation is
 * carried along (and applied before inhibition, whose source rules read the severity).
 */
export const STAGES: readonly (readonly [string, Stage])[] = [
  ['silence', silenceStage],
  ['maintenance', maintenanceStage],
  ['seasonal', seasonalStage],
  ['inhibition', inhibitionStage],
  ['post-change', postChangeStage],
];

export type Verdict =
  | (Muted & { readonly relax?: Relaxation })
  | { readonly muted: false; readonly severity: Severity; readonly relax?: Relaxation };

export function evaluate(alert: Alert, ctx: SuppressionContext, stages = STAGES): Verdict {
  let current = alert;
  let relax: Relaxation | undefined;
  for (const [, stage] of stages) {
    const v = stage(current, ctx);
    if (v.muted) return relax === undefined ? v : { ...v, relax };
    if (v.relax !== undefined) {
      relax = v.relax;
      if (v.relax.severity !== undefined) current = { ...current, severity: v.relax.severity };
    }
  }
  return relax === undefined
    ? { muted: false, severity: current.severity }
    : { muted: false, severity: current.severity, relax };
}
