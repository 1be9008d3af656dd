/**
 * Seed 004's rate limits on `express-rate-limit`: Ballast writes no limiter. This builds the
 * options object for `rateLimit(...)` from a preset (100/min global, sign-up 5 and login 10 per
 * 15 min), keyed by IP or by user/tenant, localhost allow-listed, with the standard `RateLimit-*`
 * headers and the 429 as Ballast's problem+json with `Retry-After`. For several instances, pass
 * a shared store (`rate-limit-redis`'s `RedisStore`).
 */
import { parseOptions } from '@ballast/core/adapter-kit';
import { rateLimitedError, toResponse } from '@ballast/server';
import {
  allowListMatcher,
  type RateLimitOptions,
  rateLimitKey,
  rateLimitOptionsSchema,
  resolveRateLimit,
} from '@ballast/server/adapter-kit';
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { sendExpressResponse } from '../send-express-response.js';

/**
 * What express-rate-limit asks of a shared counter store (`rate-limit-redis`'s `RedisStore` is
 * one). Described here rather than imported, so `@ballast/adapters/express` type-checks in an
 * app that never installed express-rate-limit (an optional peer) with `skipLibCheck` off.
 */
export interface ExpressRateLimitStore {
  increment(
    key: string,
  ):
    | Promise<{ totalHits: number; resetTime: Date | undefined }>
    | { totalHits: number; resetTime: Date | undefined };
  decrement(key: string): Promise<void> | void;
  resetKey(key: string): Promise<void> | void;
}

/**
 * Options for {@link expressRateLimitOptions}: `RateLimitOptions` of `@ballast/server/adapter-kit`
 * (preset, limit, windowMs, key, allowList; with `'ip'`, IPv6 is keyed by /56 subnet, as
 * express-rate-limit does), plus the store and the 429's locale.
 */
export interface ExpressRateLimitOptions extends RateLimitOptions<Request> {
  /** A shared counter store (e.g. `new RedisStore({ sendCommand, prefix })`). Default: in memory, per process. */
  readonly store?: ExpressRateLimitStore;
  /** Locale of the 429's message. Default: the request's `Accept-Language`. */
  readonly locale?: string;
}

/**
 * What {@link expressRateLimitOptions} returns: options for `rateLimit()` of express-rate-limit
 * (assignable to its `Partial<Options>`).
 */
export interface ExpressRateLimitMiddlewareOptions {
  limit: number;
  windowMs: number;
  standardHeaders: 'draft-6';
  legacyHeaders: false;
  store?: ExpressRateLimitStore;
  /** Whether the request's client IP is on `allowList`. */
  skip: (req: Request, res: Response) => boolean;
  keyGenerator?: (req: Request, res: Response) => Promise<string>;
  validate?: { keyGeneratorIpFallback: boolean };
  /** Answers the 429 as problem+json with `Retry-After`. */
  handler: (req: Request, res: Response, next: NextFunction) => void;
}

const optionsSchema = rateLimitOptionsSchema<Request>().extend({
  store: z
    .custom<ExpressRateLimitStore>(
      (v) =>
        typeof v === 'object' &&
        v !== null &&
        typeof (v as ExpressRateLimitStore).increment === 'function',
      'expected an express-rate-limit Store',
    )
    .optional(),
  locale: z.string().min(1).max(35).optional(),
});

/**
 * Options for `rateLimit()` from `express-rate-limit`.
 *
 * @example
 * ```ts
 * import { rateLimit } from 'express-rate-limit';
 * import { RedisStore } from 'rate-limit-redis';
 * app.use(rateLimit(expressRateLimitOptions({
 *   store: new RedisStore({ sendCommand: (command, ...args) => redis.call(command, ...args), prefix: 'rl:global:' }),
 * })));
 * app.post('/login', rateLimit(expressRateLimitOptions({ preset: 'login' })), login);
 * ```
 */
export function expressRateLimitOptions(
  options: ExpressRateLimitOptions = {},
): ExpressRateLimitMiddlewareOptions {
  const parsed = parseOptions(optionsSchema, options, 'expressRateLimitOptions()');
  const { limit, windowMs } = resolveRateLimit(parsed);
  const { key, allowList, locale } = parsed;
  const isAllowed = allowListMatcher(allowList);
  return {
    limit,
    windowMs,
    // draft-6: RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, as @fastify/rate-limit's draft spec.
    standardHeaders: 'draft-6',
    legacyHeaders: false,
    ...(parsed.store === undefined ? {} : { store: parsed.store }),
    skip: (req) => isAllowed(req.ip),
    ...(key === 'ip'
      ? {}
      : {
          keyGenerator: async (req: Request) => rateLimitKey(await key(req), req.ip),
          // The IP fallback above is deliberate (the user/tenant key is the point) and keys IPv6
          // by /56 as express-rate-limit does (rateLimitKey), which is what this check guards.
          validate: { keyGeneratorIpFallback: false },
        }),
    handler: (req, res, next) => {
      const info = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit;
      const retryAfterMs = info?.resetTime ? info.resetTime.getTime() - Date.now() : windowMs;
      const response = toResponse(rateLimitedError(retryAfterMs, limit), {
        ...(locale === undefined
          ? { acceptLanguage: req.get('accept-language') ?? null }
          : { locale }),
        instance: req.originalUrl.split('?')[0] ?? '/',
      });
      sendExpressResponse(res, response).catch(next);
    },
  };
}
