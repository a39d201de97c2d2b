import { type LabelMatcher, type MatcherLabel, valueMatches } from '../../contracts/calendar';
import type { Cause, FindingLabels, Severity } from '../../contracts/finding';

/** What the suppression stages judge: an incident-to-be, reduced to what matchers can see. */
export interface Alert {
  readonly fingerprint: string;
  readonly kind: string;
  readonly severity: Severity;
  readonly cause: Cause;
  readonly labels: FindingLabels;
}

/** A label's value for matching; a missing label reads as "" (Alertmanager semantics). */
export function labelValue(alert: Alert, label: MatcherLabel): string {
  switch (label) {
    case 'kind':
      return alert.kind;
    case 'severity':
      return alert.severity;
    case 'cause':
      return alert.cause;
    default:
      return alert.labels[label] ?? '';
  }
}

export function matcherMatches(m: LabelMatcher, alert: Alert): boolean {
  return valueMatches(m, labelValue(alert, m.label));
}

/** Every matcher matches (an empty list matches everything: an unscoped window). */
export function allMatch(matchers: readonly LabelMatcher[], alert: Alert): boolean {
  return matchers.every((m) => matcherMatches(m, alert));
}

export function describeMatchers(matchers: readonly LabelMatcher[]): string {
  return matchers.length === 0
    ? 'everything'
    : matchers.map((m) => `${m.label}${m.op}"${m.value}"`).join(', ');
}

/** Dotted-kind glob: `*` is one segment (or part of one), `**` any number of segments. */
export function kindMatches(glob: string, kind: string): boolean {
  const re = globCache.get(glob) ?? compileGlob(glob);
  return re.test(kind);
}

const globCache = new Map<string, RegExp>();

function compileGlob(glob: string): RegExp {
  // "gpu.**" matches "gpu", "gpu.xid" and "gpu.xid.fatal"; "stat.*" matches one more segment only.
  let body = '';
  glob.split('.').forEach((seg, i) => {
    if (seg === '**') body += i === 0 ? '[^.]+(?:\\.[^.]+)*' : '(?:\\.[^.]+)*';
    else body += (i === 0 ? '' : '\\.') + seg.replace(/\*/g, '[^.]*');
  });
  const re = new RegExp(`^${body}$`);
  globCache.set(glob, re);
  return re;
}

export function anyKindMatches(globs: readonly string[], kind: string): boolean {
  return globs.some((g) => kindMatches(g, kind));
}
