import { createRedisInbox } from '@ballast/adapters/redis';
import { isBallastError } from '@ballast/core';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { describeWith, redisUrl, uniqueSchemaName } from './support/services.js';

const codeOf = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return isBallastError(error) ? error.code : error;
  }
  return 'no error';
};

it('createRedisInbox() without options is INVALID_OPTIONS naming it, not a TypeError', () => {
  expect(codeOf(() => createRedisInbox(undefined as never))).toBe('INVALID_OPTIONS');
  expect(() => createRedisInbox(undefined as never)).toThrow(/createRedisInbox\(\)/);
});

describeWith('redis', 'createRedisInbox under review', () => {
  const prefix = `${uniqueSchemaName('inbox_review')}:`;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('two (consumer, eventId) pairs never share a mark, whatever separator they contain', async () => {
    const inbox = createRedisInbox({ redis, prefix });
    const first = await inbox.runOnce({ consumer: 'a:b', eventId: 'c' }, async () => 1);
    const second = await inbox.runOnce({ consumer: 'a', eventId: 'b:c' }, async () => 2);
    expect(first).toEqual({ kind: 'ran', value: 1 });
    // Before the fix both were `${prefix}a:b:c`: the second event was skipped as a duplicate.
    expect(second).toEqual({ kind: 'ran', value: 2 });
    const third = await inbox.runOnce({ consumer: 'a%3Ab', eventId: 'c' }, async () => 3);
    expect(third).toEqual({ kind: 'ran', value: 3 });
  });

  it('keeps the key of a plain consumer name unchanged (marks from before the fix still count)', async () => {
    await redis.set(`${prefix}emails:e-old`, 'done', 'PX', 60_000);
    const inbox = createRedisInbox({ redis, prefix });
    expect(await inbox.runOnce({ consumer: 'emails', eventId: 'e-old' }, async () => 1)).toEqual({
      kind: 'duplicate',
    });
  });

  it('refuses a consumer or event id with a lone surrogate with INVALID_OPTIONS', async () => {
    const inbox = createRedisInbox({ redis, prefix });
    // Redis keys are UTF-8, where a lone surrogate becomes U+FFFD: e-\ud800 and e-\udbff were
    // one mark (the second event skipped as a duplicate); in a consumer name encodeURIComponent
    // threw a raw URIError.
    for (const ref of [
      { consumer: 'c', eventId: 'e-\ud800' },
      { consumer: 'c-\udc00', eventId: 'e-1' },
    ]) {
      let ran = false;
      const error = await inbox
        .runOnce(ref, async () => {
          ran = true;
        })
        .catch((e: unknown) => e);
      expect(isBallastError(error, 'INVALID_OPTIONS'), JSON.stringify(ref)).toBe(true);
      expect(ran).toBe(false);
    }
    expect(
      (await inbox.runOnce({ consumer: 'c', eventId: 'e-\u{1f600}' }, async () => 1)).kind,
    ).toBe('ran');
  });

  it('refuses a missing ref or a handler that is not a function with INVALID_OPTIONS', async () => {
    const inbox = createRedisInbox({ redis, prefix });
    const refused = async (run: () => Promise<unknown>) => {
      const error = await run().then(
        () => 'no error',
        (e: unknown) => e,
      );
      return isBallastError(error) ? error.code : error;
    };
    expect(await refused(() => inbox.runOnce(undefined as never, async () => 1))).toBe(
      'INVALID_OPTIONS',
    );
    expect(
      await refused(() => inbox.runOnce({ consumer: 'c', eventId: 'e-fn' }, 'nope' as never)),
    ).toBe('INVALID_OPTIONS');
    // Nothing was taken: a proper delivery of that event runs.
    expect(await inbox.runOnce({ consumer: 'c', eventId: 'e-fn' }, async () => 'ok')).toEqual({
      kind: 'ran',
      value: 'ok',
    });
  });
});
