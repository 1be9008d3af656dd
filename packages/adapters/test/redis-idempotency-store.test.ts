import { type RedisIdempotencyClient, RedisIdempotencyStore } from '@ballast/adapters/redis';
import { isBallastError } from '@ballast/core';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { describeIdempotencyStoreContract } from './support/idempotency-store-contract.js';
import { describeWith, redisUrl, uniqueSchemaName } from './support/services.js';

const hour = 3_600_000;

describeWith('redis', 'RedisIdempotencyStore on a Redis server', () => {
  const prefix = `${uniqueSchemaName('idem')}:`;
  const redis = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  describeIdempotencyStoreContract('Redis', () => new RedisIdempotencyStore({ redis, prefix }), {
    nativeExpiry: true,
  });

  const claimOf = (key: string, now: number) => ({
    scope: 's',
    key,
    fingerprint: 'fp',
    ownerToken: globalThis.crypto.randomUUID(),
    now,
    leaseExpiresAt: now + 1_000,
    expiresAt: now + hour,
  });

  it('spends one command on a first claim and on a replay, one script on completion', async () => {
    const calls: string[] = [];
    const counting: RedisIdempotencyClient = {
      set: (...args) => {
        calls.push('SET');
        return redis.set(...args);
      },
      evalsha: (...args) => {
        calls.push('EVALSHA');
        return redis.evalsha(...args);
      },
      eval: (...args) => {
        calls.push('EVAL');
        return redis.eval(...args);
      },
    };
    const store = new RedisIdempotencyStore({ redis: counting, prefix });
    const now = Date.now();
    const claim = claimOf(`budget-${now}`, now);
    await store.claim(claim);
    await store.complete({ ...claim, result: { id: 1 }, expiresAt: now + hour });
    // EVAL appears only when the server's script cache was empty (first use or a flush).
    expect(calls.filter((call) => call !== 'EVAL')).toEqual(['SET', 'EVALSHA']);
    calls.length = 0;
    await store.claim({ ...claim, ownerToken: 'other' });
    expect(calls).toEqual(['SET']);
  });

  it('lets Redis expire the record with the TTL and keeps the TTL when the lease moves', async () => {
    const store = new RedisIdempotencyStore({ redis, prefix });
    const now = Date.now();
    const claim = claimOf(`ttl-${now}`, now);
    await store.claim(claim);
    const key = `${prefix}s:${encodeURIComponent(claim.key)}`;
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(hour - 5_000);
    expect(ttl).toBeLessThanOrEqual(hour);
    await store.extendLease({ ...claim, leaseExpiresAt: now + 60_000 });
    expect(await redis.pttl(key)).toBeGreaterThan(hour - 5_000);
    await store.complete({ ...claim, result: 'ok', now: now + 10, expiresAt: now + 10 + 5_000 });
    const completedTtl = await redis.pttl(key);
    expect(completedTtl).toBeGreaterThan(0);
    expect(completedTtl).toBeLessThanOrEqual(5_000);
  });

  it('recovers when Redis forgets its scripts (SCRIPT FLUSH)', async () => {
    const store = new RedisIdempotencyStore({ redis, prefix });
    const now = Date.now();
    const claim = claimOf(`flush-${now}`, now);
    await store.claim(claim);
    await redis.script('FLUSH');
    expect(await store.complete({ ...claim, result: 1, expiresAt: now + hour })).toBe(true);
  });

  it('refuses a foreign value under its prefix instead of guessing', async () => {
    const store = new RedisIdempotencyStore({ redis, prefix });
    const now = Date.now();
    const claim = claimOf(`foreign-${now}`, now);
    await redis.set(`${prefix}s:${encodeURIComponent(claim.key)}`, '{"hello":"world"}');
    await expect(store.claim(claim)).rejects.toSatisfy((error) =>
      isBallastError(error, 'INTERNAL'),
    );
  });

  it('check() at start-up succeeds on a client made a moment ago with the documented options', async () => {
    // docs/idempotency.md and adapters-redis.md build the client with enableOfflineQueue: false
    // and call check() on the next line, before ioredis has connected.
    const fresh = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    fresh.on('error', () => {});
    try {
      expect(fresh.status).not.toBe('ready');
      await new RedisIdempotencyStore({ redis: fresh, prefix }).check();
      expect(fresh.status).toBe('ready');
    } finally {
      fresh.disconnect();
    }
  });

  it('check() connects a lazyConnect client instead of refusing it', async () => {
    const lazy = new Redis(redisUrl, { lazyConnect: true, enableOfflineQueue: false });
    lazy.on('error', () => {});
    try {
      await new RedisIdempotencyStore({ redis: lazy, prefix }).check();
      expect(lazy.status).toBe('ready');
    } finally {
      lazy.disconnect();
    }
  });

  it('refuses bad options with INVALID_OPTIONS naming the field', () => {
    try {
      new RedisIdempotencyStore({ redis: {} as never });
      expect.unreachable();
    } catch (error) {
      expect(isBallastError(error, 'INVALID_OPTIONS') && error.details.field).toBe('redis');
    }
  });
});
