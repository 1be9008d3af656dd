import { createRedisInbox } from '@ballast/adapters/redis';
import { isBallastError } from '@ballast/core';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { describeWith, redisUrl, uniqueSchemaName } from './support/services.js';

describeWith('redis', 'createRedisInbox on a Redis server', () => {
  const prefix = `${uniqueSchemaName('inbox')}:`;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const ref = (eventId: string) => ({ consumer: 'emails', eventId });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('runs a handler once; a redelivery of a handled event is a duplicate', async () => {
    const inbox = createRedisInbox({ redis, prefix });
    let runs = 0;
    const first = await inbox.runOnce(ref('e-1'), async () => ++runs);
    const second = await inbox.runOnce(ref('e-1'), async () => ++runs);
    expect(first).toEqual({ kind: 'ran', value: 1 });
    expect(second).toEqual({ kind: 'duplicate' });
    expect(runs).toBe(1);
    // Another consumer of the same event has its own mark.
    const other = await inbox.runOnce({ consumer: 'audit', eventId: 'e-1' }, async () => 'x');
    expect(other).toEqual({ kind: 'ran', value: 'x' });
  });

  it('records nothing when the handler throws, so the next delivery runs it again', async () => {
    const inbox = createRedisInbox({ redis, prefix });
    await expect(
      inbox.runOnce(ref('e-2'), async () => {
        throw new Error('smtp down');
      }),
    ).rejects.toThrow('smtp down');
    expect(await redis.get(`${prefix}emails:e-2`)).toBeNull();
    expect(await inbox.runOnce(ref('e-2'), async () => 'sent')).toEqual({
      kind: 'ran',
      value: 'sent',
    });
  });

  it('runs concurrent deliveries of one event once; the others wait and answer duplicate', async () => {
    const inboxes = [1, 2, 3, 4, 5].map(() => createRedisInbox({ redis, prefix }));
    let runs = 0;
    const outcomes = await Promise.all(
      inboxes.map((inbox) =>
        inbox.runOnce(ref('e-3'), async () => {
          runs += 1;
          await new Promise((resolve) => setTimeout(resolve, 150));
          return runs;
        }),
      ),
    );
    expect(runs).toBe(1);
    expect(outcomes.filter((outcome) => outcome.kind === 'ran')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome.kind === 'duplicate')).toHaveLength(4);
  });

  it('a waiting delivery takes over when the running one fails', async () => {
    const inbox = createRedisInbox({ redis, prefix });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const failing = inbox.runOnce(ref('e-4'), async () => {
      await gate;
      throw new Error('crash');
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    const waiting = inbox.runOnce(ref('e-4'), async () => 'second');
    release();
    await expect(failing).rejects.toThrow('crash');
    expect(await waiting).toEqual({ kind: 'ran', value: 'second' });
  });

  it('takes over the event of a delivery whose lease lapsed (its process died)', async () => {
    const inbox = createRedisInbox({ redis, prefix, leaseMs: 200 });
    // A dead process's lease: a running mark nobody will finish or free.
    await redis.set(`${prefix}emails:e-5`, 'dead-owner', 'PX', 200);
    const started = Date.now();
    expect(await inbox.runOnce(ref('e-5'), async () => 'ran')).toEqual({
      kind: 'ran',
      value: 'ran',
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('refuses with IDEMPOTENCY_IN_FLIGHT when another delivery outlives twice the lease', async () => {
    const inbox = createRedisInbox({ redis, prefix, leaseMs: 100 });
    // Someone keeps renewing the mark (a lease longer than ours).
    await redis.set(`${prefix}emails:e-6`, 'busy', 'PX', 5_000);
    const error = await inbox.runOnce(ref('e-6'), async () => 'never').catch((e: unknown) => e);
    expect(isBallastError(error) && error.code).toBe('IDEMPOTENCY_IN_FLIGHT');
    expect(isBallastError(error) && error.retryable).toBe(true);
  });

  it('fails with UPSTREAM_ERROR (retryable) when Redis does not answer', async () => {
    const down = new Redis('redis://127.0.0.1:6519', {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    const inbox = createRedisInbox({ redis: down, prefix });
    let ran = false;
    const error = await inbox
      .runOnce(ref('e-7'), async () => {
        ran = true;
      })
      .catch((e: unknown) => e);
    expect(isBallastError(error) && error.code).toBe('UPSTREAM_ERROR');
    expect(ran).toBe(false);
    down.disconnect();
  });

  it('validates its options and refs', async () => {
    expect(() => createRedisInbox({ redis: {} as never })).toThrow(/createRedisInbox\(\).*redis/);
    expect(() => createRedisInbox({ redis, leaseMs: 5 })).toThrow(/leaseMs/);
    const inbox = createRedisInbox({ redis, prefix });
    await expect(inbox.runOnce({ consumer: '', eventId: 'x' }, async () => 1)).rejects.toThrow(
      /consumer/,
    );
  });
});
