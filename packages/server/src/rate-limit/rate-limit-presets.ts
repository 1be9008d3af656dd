/**
 * Rate-limit presets from seed 004, as data. The counting is the ecosystem limiters' job
 * (`express-rate-limit`, `@fastify/rate-limit`, wired in `@ballast/adapters`); Ballast only
 * supplies the numbers, the localhost allow-list and the 429 in its own error format.
 */
import { BallastError } from '@ballast/core';
import { invalidArgument } from '@ballast/core/adapter-kit';

/** A limit: at most `limit` requests per key in each `windowMs`. */
export interface RateLimitPreset {
  readonly limit: number;
  readonly windowMs: number;
}

/**
 * Seed 004's limits: `global` 100/min per IP for every endpoint; `signUp` 5 and `login` 10 per
 * 15 minutes, against brute force.
 */
export const rateLimitPresets = {
  global: { limit: 100, windowMs: 60_000 },
  signUp: { limit: 5, windowMs: 15 * 60_000 },
  login: { limit: 10, windowMs: 15 * 60_000 },
} as const satisfies Record<string, RateLimitPreset>;

/** The name of a preset in {@link rateLimitPresets}. */
export type RateLimitPresetName = keyof typeof rateLimitPresets;

/** Loopback addresses, never limited in the presets (seed 004: localhost is allow-listed for development). */
export const localhostAddresses: readonly string[] = ['127.0.0.1', '::1', '::ffff:127.0.0.1'];

/**
 * `RATE_LIMITED` (429) with `retryAfterSeconds` (sets `Retry-After`; `retryAfterMs` rounded up,
 * at least 1) and the limit, as problem+json renders it. A `retryAfterMs` that is not a finite
 * number, or a `limit` that is not a positive integer, throws `INVALID_OPTIONS`.
 */
export function rateLimitedError(retryAfterMs: number, limit: number): BallastError {
  // NaN or Infinity would render as `"retryAfterSeconds": null` and no Retry-After at all.
  if (typeof retryAfterMs !== 'number' || !Number.isFinite(retryAfterMs)) {
    throw invalidArgument('rateLimitedError()', 'retryAfterMs', 'a finite number of milliseconds');
  }
  if (!Number.isInteger(limit) || limit < 1) {
    throw invalidArgument('rateLimitedError()', 'limit', 'a positive integer');
  }
  const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1_000));
  return new BallastError('RATE_LIMITED', {
    message: `Rate limit of ${limit} exceeded; retry in ${retryAfterSeconds} s`,
    details: { retryAfterSeconds, limit },
  });
}
