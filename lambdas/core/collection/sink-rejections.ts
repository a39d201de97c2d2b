/**
 * Sink rejection reasons are free text (Timestream: "A record with the same dimensions, time and
 * measure name but a different value exists", "...outside the memory store retention...").
 * Metrics need a short, bounded Reason dimension; the full text goes to the log.
 */
export const SINK_REJECTION_CATEGORIES = ['duplicate', 'retention', 'limits', 'other'] as const;
export type SinkRejectionCategory = (typeof SINK_REJECTION_CATEGORIES)[number];

const RULES: readonly [SinkRejectionCategory, RegExp][] = [
  ['duplicate', /duplicate|same dimension|different (measure )?value|already exists|existing version/i],
  ['retention', /retention|time range|too old|in the future|timestamp/i],
  ['limits', /limit|too (many|large|long)|exceed|size/i],
];

export function sinkRejectionCategory(reason: string): SinkRejectionCategory {
  return RULES.find(([, re]) => re.test(reason))?.[0] ?? 'other';
}
