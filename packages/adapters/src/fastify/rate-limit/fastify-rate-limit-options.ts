/**
 * Seed 004's rate limits on `@fastify/rate-limit`: Ballast writes no limiter. This builds the
 * plugin's options (or a route's `config.rateLimit`) from a preset, keyed by IP or by
 * user/tenant, localhost allow-listed, with the draft-standard `RateLimit-*` headers and the 429
 * as Ballast's problem+json with `Retry-After` (rendered by `fastifyErrorHandler()`). For several
 * instances, pass an ioredis client as `redis`: the plugin's own Redis store.
 */
import { parseOptions } from '@ballast/core/adapter-kit';
import { rateLimitedError } from '@ballast/server';
import {
  allowListMatcher,
  type RateLimitOptions,
  rateLimitKey,
  rateLimitOptionsSchema,
  resolveRateLimit,
} from '@ballast/server/adapter-kit';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';

/**
 * Options for {@link fastifyRateLimitOptions}: `RateLimitOptions` of `@ballast/server/adapter-kit`
 * (preset, limit, windowMs, key, allowList), plus the Redis client the plugin shares counters in.
 */
export interface FastifyRateLimitOptions extends RateLimitOptions<FastifyRequest> {
  /** An ioredis client shared by every instance. Default: in memory, per process. */
  readonly redis?: unknown;
  /** Redis key prefix. Default `'ballast-rate-limit:<preset>:'`. */
  readonly nameSpace?: string;
}

const optionsSchema = rateLimitOptionsSchema<FastifyRequest>().extend({
  redis: z
    .custom<object>(
      (v) =>
        typeof v === 'object' &&
        v !== null &&
        typeof (v as { defineCommand?: unknown }).defineCommand === 'function',
      'expected an ioredis client',
    )
    .optional(),
  nameSpace: z.string().min(1).max(200).optional(),
});

/** What {@link fastifyRateLimitOptions} returns: options for `app.register(rateLimit, …)` or a route's `config.rateLimit`. */
export interface FastifyRateLimitPluginOptions {
  max: number;
  timeWindow: number;
  /** Whether the request's client IP is on `allowList`. */
  allowList: (request: FastifyRequest, key: string) => boolean;
  keyGenerator: (request: FastifyRequest) => Promise<string>;
  enableDraftSpec: true;
  errorResponseBuilder: (request: FastifyRequest, context: { ttl: number; max: number }) => Error;
  redis?: unknown;
  nameSpace?: string;
}

/**
 * Options for `@fastify/rate-limit`.
 *
 * @example
 * ```ts
 * import rateLimit from '@fastify/rate-limit';
 * app.setErrorHandler(fastifyErrorHandler());
 * await app.register(rateLimit, fastifyRateLimitOptions({ redis }));
 * app.post('/login', { config: { rateLimit: fastifyRateLimitOptions({ preset: 'login' }) } }, login);
 * ```
 */
export function fastifyRateLimitOptions(
  options: FastifyRateLimitOptions = {},
): FastifyRateLimitPluginOptions {
  const parsed = parseOptions(optionsSchema, options, 'fastifyRateLimitOptions()');
  const { limit: max, windowMs } = resolveRateLimit(parsed);
  const { key } = parsed;
  const isAllowed = allowListMatcher(parsed.allowList);
  return {
    max,
    timeWindow: windowMs,
    // A function, not the plugin's array: the plugin compares an array with the *key*, so a
    // budget keyed by tenant would never find localhost in it. This compares the client IP, as
    // the Express options do.
    allowList: (request) => isAllowed(request.ip),
    // Ballast's key for both kinds, so an anonymous IPv6 client counts as its /56 here as on
    // Express (the plugin's own default is the /64).
    keyGenerator: async (request) =>
      rateLimitKey(key === 'ip' ? undefined : await key(request), request.ip),
    // RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset (and Retry-After on a 429).
    enableDraftSpec: true,
    // Thrown by the plugin; fastifyErrorHandler() renders it as problem+json.
    errorResponseBuilder: (_request, context) => rateLimitedError(context.ttl, context.max),
    ...(parsed.redis === undefined
      ? {}
      : {
          redis: parsed.redis,
          nameSpace: parsed.nameSpace ?? `ballast-rate-limit:${parsed.preset}:`,
        }),
  };
}
