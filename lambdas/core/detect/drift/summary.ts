/**
 * One drift finding per endpoint and check, not one per feature: an on-call person wants ONE ticket
 * saying which features drifted, worst first, with each feature's statistics as evidence. Shared by
 * the own KS / PSI check and the Model Monitor report path so both read the same.
 *
 * The finding must stay well under the 256 KiB message budget however many features a baseline
 * has: at most MAX_FEATURE_EVIDENCE features get evidence values, the title and the detail list
 * as many as fit their length limits, and every cut says how many more drifted.
 */

/** Features (or metrics, facets) whose statistics go into evidence.values. */
export const MAX_FEATURE_EVIDENCE = 25;
/** Length limits of the finding schema (title 200, detail 4 000), with room for the "more" tail. */
const TITLE_MAX = 200;
const DETAIL_MAX = 4_000;

export interface DriftedItem {
  /** Feature name (or metric / facet / label subject for the other Model Monitor types). */
  readonly name: string;
  /**
   * How far beyond its threshold, comparable across the items of one check (e.g. PSI / PSI
   * threshold): the list is sorted by it, worst first. Equal scores keep their input order.
   */
  readonly score: number;
  /** The deciding statistic for the title, e.g. `PSI 0.41`. */
  readonly brief: string;
  /** Every statistic with its threshold, for the detail. */
  readonly detail: string;
  /** Statistics by name; stored in evidence.values as `<name>.<stat>`. */
  readonly values: Readonly<Record<string, number>>;
}

export interface DriftSummaryInput {
  readonly items: readonly DriftedItem[];
  /** Items judged in this check (drifted or not), for "3 of 4"; undefined when unknown. */
  readonly checked?: number;
  /** Plural noun of the items: `features`, `metrics`, `facets`. */
  readonly noun: string;
  readonly endpoint: string;
  /** Prefix of the detail, e.g. `baseline_drift_check` or the schedule. */
  readonly check: string;
  /** Put before the title (counted in its 200 characters), e.g. the monitoring type. */
  readonly titlePrefix?: string;
}

export interface DriftSummary {
  readonly title: string;
  readonly detail: string;
  readonly values: Record<string, number>;
  /** Items in the order listed (worst first). */
  readonly sorted: readonly DriftedItem[];
}

export function summarizeDrift(input: DriftSummaryInput): DriftSummary {
  const sorted = input.items
    .map((item, i) => ({ item, i }))
    .sort((a, b) => scoreOf(b.item) - scoreOf(a.item) || a.i - b.i)
    .map((x) => x.item);
  const n = sorted.length;
  const of = input.checked === undefined ? '' : ` of ${input.checked}`;
  const head = `${n}${of} ${input.noun} drifted on endpoint ${input.endpoint}`;
  const title = fitList(
    `${input.titlePrefix ?? ''}${head}: `,
    sorted.map((s) => `${s.name} (${s.brief})`),
    ', ',
    TITLE_MAX,
  );
  const detail = fitList(
    `${input.check}: ${head}, worst first: `,
    sorted.map((s) => `${s.name}: ${s.detail}`),
    '; ',
    DETAIL_MAX,
  );
  const values: Record<string, number> =
    input.checked === undefined
      ? { features_drifted: n }
      : { features_checked: input.checked, features_drifted: n };
  for (const s of sorted.slice(0, MAX_FEATURE_EVIDENCE)) {
    for (const [stat, v] of Object.entries(s.values)) values[`${s.name}.${stat}`] = v;
  }
  if (n > MAX_FEATURE_EVIDENCE) values['features_without_evidence'] = n - MAX_FEATURE_EVIDENCE;
  return { title, detail, values, sorted };
}

/** NaN (an unknown score) sorts last. */
const scoreOf = (item: DriftedItem): number =>
  Number.isNaN(item.score) ? Number.NEGATIVE_INFINITY : item.score;

/**
 * `prefix` + as many entries as fit in `max` characters, then `+N more` for the rest. The first
 * entry is always listed (cut with "…" if it alone is too long) so a title names the worst one.
 */
export function fitList(prefix: string, entries: readonly string[], sep: string, max: number): string {
  const tailOf = (rest: number) => (rest > 0 ? `${sep}+${rest} more` : '');
  let len = prefix.length;
  let k = 0;
  while (k < entries.length) {
    const next = len + (k === 0 ? 0 : sep.length) + (entries[k] as string).length;
    if (next + tailOf(entries.length - k - 1).length > max) break;
    len = next;
    k++;
  }
  if (k > 0) return `${prefix}${entries.slice(0, k).join(sep)}${tailOf(entries.length - k)}`;
  if (entries.length === 0) return prefix.slice(0, max);
  const tail = tailOf(entries.length - 1);
  const room = Math.max(0, max - prefix.length - tail.length - 1);
  return `${prefix}${(entries[0] as string).slice(0, room)}…${tail}`.slice(0, max);
}
