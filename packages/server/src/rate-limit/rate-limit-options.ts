/**
 * The options every framework's rate limiter takes, validated once: Express's and Fastify's
 * differ only in the request type a `key` function receives and in how each limiter shares its
 * counters (an express-rate-limit `Store`, an ioredis client for @fastify/rate-limit), which
 * each adapter adds to this schema.
 */
import { invalidArgument } from '@ballast/core/adapter-kit';
import { z } from 'zod';
import { isObject } from '../options/is-object.js';
import { functionSchema } from '../options/option-schemas.js';
import { ipBucket } from './ip-bucket.js';
import {
  localhostAddresses,
  type RateLimitPreset,
  type RateLimitPresetName,
  rateLimitPresets,
} from './rate-limit-presets.js';

/** Options of a framework's rate limiter; `Req` is that framework's request. */
export interface RateLimitOptions<Req> {
  /** Seed 004 preset: `'global'` (100/min), `'signUp'` (5/15 min), `'login'` (10/15 min). Default `'global'`. */
  readonly preset?: RateLimitPresetName;
  /** Overrides the preset's request count per window. */
  readonly limit?: number;
  /** Overrides the preset's window, in ms (at least 1 000). */
  readonly windowMs?: number;
  /**
   * Whose budget a request spends: `'ip'` (default), or a function returning a user or tenant id
   * (return `undefined` or `''` to fall back to the IP).
   */
  readonly key?: 'ip' | ((request: Req) => string | undefined | Promise<string | undefined>);
  /**
   * Client IPs never limited. Default: localhost (`127.0.0.1`, `::1`). Pass `[]` to limit them too.
   * An IPv4 address also matches its IPv4-mapped form (`::ffff:10.1.2.3`, as a dual-stack socket
   * reports it), and an IPv6 address any spelling of it.
   */
  readonly allowList?: readonly string[];
}

/** The zod schema of {@link RateLimitOptions}; an adapter `.extend()`s it with its own store option. */
export function rateLimitOptionsSchema<Req>() {
  return z.strictObject({
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
        functionSchema<(request: Req) => string | undefined | Promise<string | undefined>>(
          "'ip' or a function of the request",
        ),
      ])
      .default('ip'),
    allowList: z.array(z.string()).default([...localhostAddresses]),
  });
}

/** The limit and window that parsed options name: the preset's, with any override applied. */
export function resolveRateLimit(parsed: {
  readonly preset: RateLimitPresetName;
  readonly limit?: number | undefined;
  readonly windowMs?: number | undefined;
}): RateLimitPreset {
  if (!isObject(parsed) || !Object.hasOwn(rateLimitPresets, parsed.preset)) {
    throw invalidArgument('resolveRateLimit()', 'parsed.preset', 'a rate-limit preset name');
  }
  const preset = rateLimitPresets[parsed.preset];
  return { limit: parsed.limit ?? preset.limit, windowMs: parsed.windowMs ?? preset.windowMs };
}

/**
 * The counter key of a request: `id:<user or tenant>` when the `key` function named one (not
 * empty), `ip:<address>` otherwise, so a user id can never collide with an address. An IPv6 address
 * counts as its /56 (`ip:2001:db8:1::/56`), as express-rate-limit's own IP key does, so a client
 * cannot reset its count by sending from another address of its network.
 */
export function rateLimitKey(id: string | undefined, ip: string | undefined): string {
  // An empty id names no one (an empty tenant header, `user?.id ?? ''`): as one key it would put
  // every such client in a single budget that any one of them can spend for all.
  if (id !== undefined && id !== '') return `id:${id}`;
  return `ip:${ip === undefined ? 'unknown' : ipBucket(ip)}`;
}
