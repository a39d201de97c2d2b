import { z } from 'zod';
import { CAUSES, SEVERITIES } from './finding';
import { NOTIFICATION_EVENTS } from './incident';

/**
 * A notification as published to the severity's SNS topic. The attributes are SNS message
 * attributes (String) for subscription filter policies; subject and body are for a person.
 */
export const NOTIFICATION_SCHEMA_VERSION = 1;

/** SNS: subject at most 100 ASCII-printable characters, no line breaks. */
export const MAX_SUBJECT_CHARS = 100;
/** SNS: message plus attributes (names, types, values) at most 256 KiB. */
export const MAX_SNS_BYTES = 256 * 1024;

export const notificationAttributesSchema = z.strictObject({
  severity: z.enum(SEVERITIES),
  /** The suspected cause category. */
  category: z.enum(CAUSES),
  cluster: z.string().min(1).max(256).optional(),
  team: z.string().min(1).max(256).optional(),
  kind: z.string().min(1).max(200),
  incidentId: z.string().min(1).max(64),
  event: z.enum(NOTIFICATION_EVENTS),
});
export type NotificationAttributes = z.output<typeof notificationAttributesSchema>;

export const notificationSchema = z.strictObject({
  schemaVersion: z.literal(NOTIFICATION_SCHEMA_VERSION),
  subject: z
    .string()
    .min(1)
    .max(MAX_SUBJECT_CHARS)
    .regex(/^[\x20-\x7e]+$/, 'printable ASCII without line breaks (SNS subject rules)'),
  body: z.string().min(1),
  attributes: notificationAttributesSchema,
});
export type Notification = z.output<typeof notificationSchema>;

/** Bytes SNS counts for a message: body plus each attribute's name, type ("String") and value. */
export function snsSizeBytes(n: Pick<Notification, 'body' | 'attributes'>): number {
  const enc = new TextEncoder();
  let size = enc.encode(n.body).length;
  for (const [k, v] of Object.entries(n.attributes)) {
    if (v === undefined) continue;
    size += enc.encode(k).length + 'String'.length + enc.encode(String(v)).length;
  }
  return size;
}
