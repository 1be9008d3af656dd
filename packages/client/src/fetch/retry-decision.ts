/**
 * How long the client, the write queue and uploads wait before another attempt. One home, so
 * each honours `Retry-After` alike.
 */
import type { BallastError } from '@ballast/core';

/**
 * The wait before retry number `retry` (from 0), in ms: the entry of `delaysMs` (past its end
 * the last repeats), or the server's `Retry-After` when that is longer. With `random`, equal
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
  return Math.max(delay, Number(error.details.retryAfterMs ?? 0));
}
