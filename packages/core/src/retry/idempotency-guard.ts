/**
 * Never repeat a write the server cannot recognise as a repeat. A POST that timed out may have
 * been processed; sending it again without an `Idempotency-Key` can create a second sale
 * (seed 002 §2.4). Methods RFC 9110 defines as idempotent are safe to repeat; anything else is
 * repeated only when it carries a key the server deduplicates on.
 */
import { invalidArgument } from '../options/invalid-argument.js';
import { headerValue } from './header-value.js';

/**
 * The request a `retry()` call sends, so it can tell whether repeating it is safe. A `Request`
 * object fits this shape.
 */
export interface RetryRequest {
  /** HTTP method, any case. */
  readonly method: string;
  /** The idempotency key the request carries, if it is not in `headers`. */
  readonly idempotencyKey?: string | undefined;
  /** Request headers; an `Idempotency-Key` header here counts as a key. */
  readonly headers?:
    | Headers
    | Readonly<Record<string, string>>
    | ReadonlyArray<readonly [string, string]>
    | undefined;
}

/** RFC 9110 §9.2.2: repeating these has the same effect as sending them once. */
const idempotentMethods = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/**
 * Whether `retry()` may send `request` again: an idempotent method (GET, HEAD, OPTIONS, TRACE,
 * PUT, DELETE), or any method (POST, PATCH…) with a non-empty idempotency key.
 */
export function isRetrySafeRequest(request: RetryRequest): boolean {
  if (typeof (request as Partial<RetryRequest> | null)?.method !== 'string') {
    throw invalidArgument('isRetrySafeRequest()', 'request.method', 'a string');
  }
  return isRetrySafe(request);
}

/**
 * {@link isRetrySafeRequest} without the argument check, for `retry()`, whose options parsing
 * has already checked the request (and whose bundle should not carry the check twice).
 *
 * @internal
 */
export function isRetrySafe(request: RetryRequest): boolean {
  if (idempotentMethods.has(request.method.toUpperCase())) return true;
  if (request.idempotencyKey?.trim()) return true;
  return Boolean(headerValue(request.headers, 'idempotency-key')?.trim());
}
