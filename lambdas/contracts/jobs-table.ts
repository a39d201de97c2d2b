/**
 * Layout of the jobs table that both the job store adapters and infra (which creates the table
 * and its indexes) depend on. Index and attribute names are a contract: renaming one here renames
 * it on both sides.
 *
 * - ACTIVE index: partition `active` ('Y' while a job is InProgress or Stopping, absent
 *   otherwise), so the index holds running jobs only (sparse) and one Query lists them.
 * - MODIFIED index: partition `modifiedDay` (UTC 'YYYY-MM-DD' of LastModifiedTime), sort
 *   `lastModifiedTime` (epoch ms): "changed since t" is one Query per UTC day from t to now.
 */
export const JOBS_TABLE = {
  partitionKey: 'pk',
  activeIndex: 'active-jobs',
  activeAttribute: 'active',
  activeValue: 'Y',
  modifiedIndex: 'modified-by-day',
  modifiedDayAttribute: 'modifiedDay',
  lastModifiedAttribute: 'lastModifiedTime',
  ttlAttribute: 'expiresAt',
} as const;

/** UTC calendar day of an epoch-ms instant, as the MODIFIED index partitions it. */
export function modifiedDayOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}
