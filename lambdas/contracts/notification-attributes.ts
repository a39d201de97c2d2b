/**
 * SNS message attribute names that FleetWatch notifications carry. The router sets them on every
 * publish and the subscription filter policies (infra/constructs/notification-topics.ts) match on
 * them, so both sides import the names from here and cannot drift apart.
 */
export const NOTIFICATION_ATTRIBUTES = {
  /** page | ticket | info (finding.ts SEVERITIES). */
  severity: 'severity',
  /** Suspected cause category (finding.ts CAUSES): hardware, software, scheduling, ... */
  category: 'category',
  /** Cluster label of the incident. */
  cluster: 'cluster',
  /** Owning team label of the incident. */
  team: 'team',
  /** Finding kind, e.g. gpu.xid_fatal. */
  kind: 'kind',
} as const;

export type NotificationAttribute = (typeof NOTIFICATION_ATTRIBUTES)[keyof typeof NOTIFICATION_ATTRIBUTES];

/** SNS data type of every FleetWatch attribute (all are plain strings, matched exactly). */
export const NOTIFICATION_ATTRIBUTE_DATA_TYPE = 'String';
