/**
 * Validity windows (seed 000 §3: an invitation is accepted only before it expires). The check
 * asks a `Clock`, so tests of expiry run on a manual clock instead of waiting, and it fails with
 * `EXPIRED` (410), a code a client can explain, instead of a generic 400.
 */
import type { Clock } from '../clock/clock.js';
import { systemClock } from '../clock/system-clock.js';
import { BallastError } from '../errors/ballast-error.js';
import { isClockLike } from '../options/shape-checks.js';

function invalid(field: string, problem: string): BallastError {
  return new BallastError('INVALID_OPTIONS', {
    message: `Invalid options for assertNotExpired(): "${field}": ${problem}`,
    details: { field },
  });
}

/**
 * Throws `EXPIRED` (410, `details.expiredAt` as ISO-8601) when `expiresAt` is at or before the
 * clock's now. `null`/`undefined` means "never expires" (a nullable `expires_at` column). A
 * string or number is read as `new Date(value)` would (drivers return either).
 *
 * @param clock source of "now". Default `systemClock`.
 *
 * @example
 * ```ts
 * const invitation = await db.selectFrom('invitations').selectAll().where('token', '=', token).executeTakeFirstOrThrow();
 * assertNotExpired(invitation.expires_at, clock);
 * ```
 */
export function assertNotExpired(
  expiresAt: Date | string | number | null | undefined,
  clock: Clock = systemClock,
): void {
  if (expiresAt === null || expiresAt === undefined) return;
  if (!isClockLike(clock)) throw invalid('clock', 'expected a Clock (now, sleep, setTimer)');
  if (
    !(expiresAt instanceof Date) &&
    typeof expiresAt !== 'string' &&
    typeof expiresAt !== 'number'
  ) {
    throw invalid('expiresAt', 'expected a Date, an ISO-8601 string or epoch milliseconds');
  }
  const instant = expiresAt instanceof Date ? expiresAt.getTime() : new Date(expiresAt).getTime();
  if (!Number.isFinite(instant)) throw invalid('expiresAt', 'not a valid date');
  if (instant <= clock.now()) {
    const expiredAt = new Date(instant).toISOString();
    throw new BallastError('EXPIRED', {
      message: `Expired at ${expiredAt}.`,
      details: { expiredAt },
    });
  }
}
