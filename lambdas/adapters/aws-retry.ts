/**
 * Error classification and backoff shared by the adapters that retry beyond the SDK's own
 * 3 attempts (Timestream writes, SageMaker's low-rate list/describe APIs). No SDK import: it reads
 * the error shape SDK v3 gives every service exception.
 */
export type Sleep = (ms: number) => Promise<void>;

export const sleepFor: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

interface AwsErrorShape {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly $fault?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
  readonly $retryable?: { readonly throttling?: unknown };
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);

const NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

function shape(err: unknown): AwsErrorShape {
  return err !== null && typeof err === 'object' ? (err as AwsErrorShape) : {};
}

export function errorName(err: unknown): string {
  const e = shape(err);
  return typeof e.name === 'string' ? e.name : typeof e.code === 'string' ? e.code : 'Error';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function httpStatus(err: unknown): number | undefined {
  const s = shape(err).$metadata?.httpStatusCode;
  return typeof s === 'number' ? s : undefined;
}

export function isThrottling(err: unknown): boolean {
  const e = shape(err);
  return THROTTLING.has(errorName(err)) || e.$retryable?.throttling === true || httpStatus(err) === 429;
}

/** Worth retrying: throttling, 5xx / server faults, timeouts and dropped connections. */
export function isTransient(err: unknown): boolean {
  if (isThrottling(err)) return true;
  const status = httpStatus(err);
  if (status !== undefined && status >= 500) return true;
  const e = shape(err);
  if (e.$fault === 'server') return true;
  return NETWORK.has(errorName(err)) || (typeof e.code === 'string' && NETWORK.has(e.code));
}

/**
 * Exponential backoff with jitter for retry `attempt` (1 = first retry): half the capped
 * exponential delay plus a random half, so clients that failed together do not retry together.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(cap / 2 + random() * (cap / 2));
}
