/**
 * `Retry-After` (RFC 9110 §10.2.3): a server telling a client when to come back, either as
 * delta-seconds (`120`) or as an HTTP-date (`Wed, 21 Oct 2015 07:28:00 GMT`). Retrying sooner
 * only earns another 429 or 503, so `retry()` waits at least this long.
 */

const deltaSeconds = /^\d+$/;

/**
 * Parses a `Retry-After` value into milliseconds from `now` (epoch ms, normally `clock.now()`).
 * A date in the past gives `0`. Returns `undefined` for a missing or malformed value (a
 * negative or fractional number, an unparseable date), which callers treat as "no hint".
 *
 * @example
 * ```ts
 * parseRetryAfter('120', Date.now()); // 120_000
 * parseRetryAfter(response.headers.get('retry-after'), clock.now());
 * ```
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (typeof value !== 'string') return undefined;
  // A blank value is neither delta-seconds nor a date: both tests below refuse it.
  const trimmed = value.trim();
  if (deltaSeconds.test(trimmed)) return Number(trimmed) * 1_000;
  // Only something shaped like an HTTP-date (it names a weekday or month) is parsed as one;
  // `Date.parse` alone would also accept "-5" or "1.5".
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
