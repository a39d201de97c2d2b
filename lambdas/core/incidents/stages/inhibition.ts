import { allMatch, labelValue } from '../alert';
import { NOT_MUTED, type Stage } from './stage';

/**
 * Inhibition: an open incident matching a rule's `source` mutes alerts matching its `target` when
 * every `equal` label is PRESENT on both and equal. (Alertmanager treats two missing labels as
 * equal; here that would let one node incident mute every job alert without a node label.)
 * Sources are incidents already open or acknowledged, pending ones do not inhibit, and an alert
 * never inhibits itself. Deterministic: the first rule, then the smallest source fingerprint.
 */
export const inhibitionStage: Stage = (alert, ctx) => {
  for (const rule of ctx.calendar.inhibition) {
    if (!allMatch(rule.target, alert)) continue;
    const sources = ctx.active
      .filter(
        (s) =>
          s.fingerprint !== alert.fingerprint &&
          (s.status === 'open' || s.status === 'acknowledged') &&
          allMatch(rule.source, s) &&
          rule.equal.every((l) => labelValue(s, l) !== '' && labelValue(s, l) === labelValue(alert, l)),
      )
      .sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0));
    const source = sources[0];
    if (source !== undefined) {
      const on = rule.equal.map((l) => `${l}=${labelValue(alert, l)}`).join(', ');
      return {
        muted: true,
        stage: 'inhibition',
        reason: `inhibited by open incident ${source.fingerprint} (${source.kind}, ${on}) via rule "${rule.name}"`,
      };
    }
  }
  return NOT_MUTED;
};
