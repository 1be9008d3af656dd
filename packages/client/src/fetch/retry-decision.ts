/**
 * Whether, and how long, the client, the write queue and uploads wait before another attempt.
 * One home, so each classifies failures and honours `Retry-After` alike.
 */
import type { BallastError } from '@ballast/core';

/**
 * The longest wait a server's `Retry-After` can impose: a day. A longer one (a proxy's garbage
 * such as 10²⁰ seconds, which no `Date` can even hold) would hold a queue back for ever.
 */
const longestHintMs = 86_400_000;

/**
 * The wait before retry number `retry` (from 0), in ms: the entry of `delaysMs` (past its end
 * the last repeats), or the server's `Retry-After` (up to a day) when that is longer. With `random`, equal
 * jitter: half the delay is kept, half spread, so clients that failed together do not all
 * come back together.
 */
export function backoffMs(
  delaysMs: readonly number[],
  retry: number,
  error: BallastError,
  random?: () => number,
): number {
  const nominal = delaysMs[Math.min(retry, delaysMs.length - 1)] ?? 0;
  const delay = random ? nominal / 2 + (random() * nominal) / 2 : nominal;
  // `|| 0`: no hint (NaN) waits the delay alone.
  return Math.max(delay, Math.min(+(error.details.retryAfterMs as number), longestHintMs) || 0);
}

/**
 * Whether the same request may succeed later: it got no answer (`NETWORK_ERROR`, 503) or none in
 * time (`TIMEOUT`, 504), or the server answered 5xx, 408 or 429, or said the error is
 * `retryable` (`IDEMPOTENCY_IN_FLIGHT`). The client retries a safe request on these; the write
 * queue keeps the write pending (never taken as delivered), and also after a cancelled attempt
 * (`ABORTED`, 499), which it sends again. `INVALID_OPTIONS` (a 500) never recovers: a request
 * the client refuses to send, as it is, is refused at every attempt.
 */
export const mayRecover = (error: BallastError): boolean =>
  error.code !== 'INVALID_OPTIONS' &&
  (error.status >= 500 || error.status === 408 || error.status === 429 || error.retryable);
