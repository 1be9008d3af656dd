import { RedisIdempotencyStore } from '@ballast/adapters/redis';
import { createIdempotency } from '@ballast/core';
import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { freePort } from './support/disposable-services.js';

const request = { scope: 'tenant', key: 'k-1', fingerprint: 'fp' };
const quiet = () => ({ debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() });

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('RedisIdempotencyStore: a Redis that is down', () => {
  it('answers 503 with Retry-After within storeTimeoutMs with a default `new Redis(url)` (offline queue on)', async () => {
    // Nothing listens on this port: ioredis keeps reconnecting and queues every command.
    const redis = new Redis(`redis://127.0.0.1:${await freePort()}`, { retryStrategy: () => 50 });
    redis.on('error', () => {});
    try {
      const idempotency = createIdempotency({
        store: new RedisIdempotencyStore({ redis }),
        storeTimeoutMs: 300,
        logger: quiet(),
      });
      const operation = vi.fn(async () => 'x');
      const started = Date.now();
      const error = await caught(idempotency.run(request, operation));
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(error).toMatchObject({
        code: 'IDEMPOTENCY_STORE_UNAVAILABLE',
        status: 503,
        details: { retryAfterSeconds: 1 },
      });
      expect(operation).not.toHaveBeenCalled();
      expect(await caught(idempotency.check())).toMatchObject({
        code: 'IDEMPOTENCY_STORE_UNAVAILABLE',
      });
    } finally {
      redis.disconnect();
    }
  });

  it('fails at once with the documented client options (enableOfflineQueue: false)', async () => {
    const redis = new Redis(`redis://127.0.0.1:${await freePort()}`, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 50,
    });
    redis.on('error', () => {});
    try {
      const store = new RedisIdempotencyStore({ redis });
      const started = Date.now();
      const error = await caught(store.check());
      expect(Date.now() - started).toBeLessThan(200);
      expect(error).toMatchObject({ code: 'IDEMPOTENCY_STORE_UNAVAILABLE', status: 503 });
      // The driver's message stays in `cause`, for logs only.
      expect((error as Error).message).not.toMatch(/enableOfflineQueue|Stream/);
    } finally {
      redis.disconnect();
    }
  });
});
