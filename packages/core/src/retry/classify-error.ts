/**
 * Which failures are worth another attempt. Retrying a bad request, a permission error or a
 * bug only multiplies load and delays the real error; retrying a dropped connection, a timeout,
 * a 503 or a 429 (after the time the server asks for) usually succeeds. The classifier is a
 * plain function, so adapters add their own rules (Postgres serialization failures, S3
 * `SlowDown`) in front of the default one with `composeClassifiers()`.
 */
import { isBallastError } from '../errors/coded-error.js';
import { connectionFailureCodes } from './connection-failure-codes.js';
import { isFetchNetworkError } from './fetch-network-error.js';
import { headerValue } from './header-value.js';
import { parseRetryAfter } from './retry-after.js';

/**
 * A classifier's answer: `'retry'`, `'fail'` (give up and reject with this error), or retry
 * no sooner than `retryAfterMs` (a server's `Retry-After`).
 */
export type RetryVerdict = 'retry' | 'fail' | { readonly retryAfterMs: number };

/** What a classifier knows besides the error. */
export interface ClassifyContext {
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  /** `clock.now()` when it failed, to turn an HTTP-date `Retry-After` into a delay. */
  readonly now: number;
}

/**
 * Decides whether an error is worth retrying. Returning `undefined` means "no opinion": the
 * next classifier (and, in `retry()`, finally {@link classifyError}) decides.
 *
 * @example
 * ```ts
 * // Postgres: serialization failure and deadlock are safe to retry.
 * const postgresRules: ErrorClassifier = (error) =>
 *   ['40001', '40P01'].includes((error as { code?: string })?.code ?? '') ? 'retry' : undefined;
 * ```
 */
export type ErrorClassifier = (
  error: unknown,
  context: ClassifyContext,
) => RetryVerdict | undefined;

/**
 * Chains classifiers: the first one with an opinion (not `undefined`) wins.
 *
 * @example
 * ```ts
 * const classify = composeClassifiers(postgresRules, s3Rules, classifyError);
 * await retry(work, { classify });
 * ```
 */
export function composeClassifiers(...classifiers: readonly ErrorClassifier[]): ErrorClassifier {
  return (error, context) => {
    for (const classify of classifiers) {
      const verdict = classify(error, context);
      if (verdict !== undefined) return verdict;
    }
    return undefined;
  };
}

/**
 * Socket and DNS failures that a later attempt may not meet: the connection failures every
 * layer shares, plus a local port taken and undici's header and body timeouts (got's default
 * list and the undici socket errors).
 */
const transientNetworkCodes = new Set([
  ...connectionFailureCodes,
  'EADDRINUSE',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

type Bag = Record<string, unknown>;

function asBag(value: unknown): Bag | undefined {
  return typeof value === 'object' && value !== null ? (value as Bag) : undefined;
}

/** An HTTP status from a `Response`, or from an error carrying one (ky, axios, got, AWS SDK). */
function httpStatusOf(error: Bag): number | undefined {
  const response = asBag(error.response);
  const metadata = asBag(error.$metadata);
  const candidates = [
    error.status,
    error.statusCode,
    response?.status,
    response?.statusCode,
    metadata?.httpStatusCode,
  ];
  for (const candidate of candidates) {
    if (typeof candidate === 'number' && candidate >= 100 && candidate <= 599) return candidate;
  }
  return undefined;
}

/** The `Retry-After` header of an error, or of the response it carries. */
function retryAfterHeaderOf(error: Bag): string | undefined {
  return (
    headerValue(error.headers, 'retry-after') ??
    headerValue(asBag(error.response)?.headers, 'retry-after')
  );
}

/** A network failure: fetch's TypeError, or a socket error code on the error or its causes. */
function isNetworkFailure(error: Bag): boolean {
  if (isFetchNetworkError(error)) return true;
  let current: Bag | undefined = error;
  for (let depth = 0; current && depth < 4; depth++) {
    if (transientNetworkCodes.has(current.code as string)) return true;
    current = asBag(current.cause);
  }
  return false;
}

function withRetryAfter(ms: number | undefined): RetryVerdict {
  return ms === undefined ? 'retry' : { retryAfterMs: ms };
}

function retryAfterFromDetails({
  retryAfterMs,
  retryAfterSeconds,
}: Readonly<Record<string, unknown>>): number | undefined {
  if (typeof retryAfterMs === 'number') return Math.max(0, retryAfterMs);
  if (typeof retryAfterSeconds === 'number') return Math.max(0, retryAfterSeconds * 1_000);
  return undefined;
}

/**
 * The default classifier. In order:
 *
 * 1. An `AbortError` (the caller cancelled) → `'fail'`.
 * 2. A `BallastError` → its `retryable` flag; `details.retryAfterMs` / `retryAfterSeconds`
 *    become the minimum delay (a `CIRCUIT_OPEN` rejection carries them).
 * 3. An HTTP status (a thrown `Response`, or `.status`, `.statusCode`, `.response.status`,
 *    `.$metadata.httpStatusCode`): 408, 429 and 5xx except 501/505 → retry, honouring
 *    `Retry-After` from `.headers` or `.response.headers`; any other status → `'fail'`.
 * 4. A network failure (fetch's `TypeError` in every runtime, see fetch-network-error.ts; or a code
 *    such as `ECONNRESET`, `ECONNREFUSED`, `ETIMEDOUT`, `EAI_AGAIN` on the error or its
 *    `cause` chain) → `'retry'`; any other Node system error (one naming its `syscall`, such as
 *    `ENOENT` or `EACCES`) → `'fail'`.
 * 5. A `TimeoutError` (from `AbortSignal.timeout()`) → `'retry'`.
 * 6. `TypeError`, `RangeError`, `ReferenceError`, `SyntaxError` → `'fail'`: bugs do not heal.
 * 7. Anything else → `'retry'`, as p-retry and cockatiel's `handleAll` do: an unknown failure
 *    of a dependency is presumed transient.
 */
export const classifyError: ErrorClassifier = (error, context) => {
  const bag = asBag(error);
  if (!bag) return 'retry';
  if (bag.name === 'AbortError') return 'fail';
  if (isBallastError(error)) {
    return error.retryable ? withRetryAfter(retryAfterFromDetails(error.details)) : 'fail';
  }
  const status = httpStatusOf(bag);
  if (status !== undefined) {
    // 408 Request Timeout, 429 Too Many Requests and 5xx may pass; 501 Not Implemented and 505
    // HTTP Version Not Supported are statements about the server's abilities, so they will not.
    if (status !== 408 && status !== 429 && (status < 500 || status === 501 || status === 505)) {
      return 'fail';
    }
    return withRetryAfter(parseRetryAfter(retryAfterHeaderOf(bag), context.now));
  }
  if (isNetworkFailure(bag)) return 'retry';
  // Any other Node system error (it names the failed syscall: ENOENT from open, EACCES…)
  // describes the machine, not a passing condition.
  if (typeof bag.code === 'string' && typeof bag.syscall === 'string') return 'fail';
  if (bag.name === 'TimeoutError') return 'retry';
  if (
    error instanceof TypeError ||
    error instanceof RangeError ||
    error instanceof ReferenceError ||
    error instanceof SyntaxError
  ) {
    return 'fail';
  }
  return 'retry';
};
