/**
 * A health probe for Redis through ioredis: `PING`. The health module's timeout turns a Redis
 * that accepts and never answers into `down`.
 */
import { parseOptions } from '@ballast/core/adapter-kit';
import type { HealthProbe } from '@ballast/server';
import { methodsSchema } from '@ballast/server/adapter-kit';
import type { Redis } from 'ioredis';
import { z } from 'zod';

const optionsSchema = z.strictObject({
  redis: methodsSchema<Pick<Redis, 'ping'>>(['ping'], 'an ioredis client'),
});

/**
 * A probe for `health({ checks: { redis: redisHealthCheck(redis) } })`.
 *
 * @example
 * ```ts
 * app.use(expressHealth({ checks: { redis: { check: redisHealthCheck(redis), required: false } } }));
 * ```
 */
export function redisHealthCheck(redis: Pick<Redis, 'ping'>): HealthProbe {
  const parsed = parseOptions(optionsSchema, { redis }, 'redisHealthCheck()');
  return async () => {
    await parsed.redis.ping();
  };
}
