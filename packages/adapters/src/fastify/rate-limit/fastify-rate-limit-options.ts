/**
 * Seed 004's rate limits on `@fastify/rate-limit`: Ballast writes no limiter. This builds the
 * plugin's options (or a route's `config.rateLimit`) from a preset, keyed by IP or by
 * user/tenant, localhost allow-listed, with the draft-standard `RateLimit-*` headers and the 429
 * as Ballast's problem+json with `Retry-After` (rendered by `fastifyErrorHandler()`). For several
 * instances, pass an ioredis client as `redis`: the plugin's own Redis store.
 */
import { parseOptions } from '@ballast/core/adapter-kit';
import {
  localhostAddresses,
  type RateLimitPresetName,
  rateLimitedError,
  rateLimitPresets,
} from '@ballast/server';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';

/** Options for {@link fastifyRateLimitOptions}. */
export interface FastifyRateLimitOptions {
  /** Seed 004 preset: `'global'` (100/min), `'signUp'` (5/15 min), `'login'` (10/15 min). Default `'global'`. */
  readonly preset?: RateLimitPresetName;
  /** Overrides the preset's request count per window. */
  readonly limit?: number;
  /** Overrides the preset's window, in ms. */
  readonly windowMs?: number;
  /**
   * Whose budget a request spends: `'ip'` (default), or a function returning a user or tenant id
   * (return `undefined` to fall back to the IP).
   */
  readonly key?:
    | 'ip'
    | ((request: FastifyRequest) => string | undefined | Promise<string | undefined>);
  /** Client IPs never limited. Default: localhost (`127.0.0.1`, `::1`). Pass `[]` to limit them too. */
  readonly allowList?: readonly string[];
  /** An ioredis client shared by every instance. Default: in memory, per process. */
  readonly redis?: unknown;
  /** Redis key prefix. Default `'ballast-rate-limit:<preset>:'`. */
  readonly nameSpace?: string;
}

const optionsSchema = z.strictObject({
  preset: z.enum(['global', 'signUp', 'login']).default('global'),
  limit: z.number().int().min(1).optional(),
  windowMs: z
    .number()
    .int()
    .min(1_000)
    .max(2 ** 31 - 1)
    .optional(),
  key: z
    .union([
      z.literal('ip'),
      z.custom<(request: FastifyRequest) => string | undefined>((v) => typeof v === 'function'),
    ])
    .default('ip'),
  allowList: z.array(z.string()).default([...localhostAddresses]),
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
  allowList: string[];
  keyGenerator?: (request: FastifyRequest) => Promise<string>;
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
  const preset = rateLimitPresets[parsed.preset];
  const max = parsed.limit ?? preset.limit;
  const { key } = parsed;
  return {
    max,
    timeWindow: parsed.windowMs ?? preset.windowMs,
    allowList: [...parsed.allowList],
    ...(key === 'ip'
      ? {}
      : {
          keyGenerator: async (request: FastifyRequest) => {
            const id = await key(request);
            return id === undefined ? `ip:${request.ip}` : `id:${id}`;
          },
        }),
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
