/**
 * An `InboxStore` on Redis, for consumers whose effect is not in a database Ballast can join
 * (an email, a webhook, a file). It is WEAKER than the Postgres inbox, and says so: the effect
 * and the "done" mark are two writes in two systems, so a consumer that dies after the effect
 * and before the mark runs the effect again on redelivery. What it does guarantee:
 *
 * - an event whose handler succeeded and was marked is never run again (until `ttlMs`);
 * - two deliveries of one event at the same time run the handler once: the first takes a lease
 *   (`SET … NX`), the second waits for it to end, then answers `duplicate` (or takes over when
 *   the first failed or its lease lapsed).
 */

import { randomUUID } from 'node:crypto';
import {
  BallastError,
  type Clock,
  type InboxOutcome,
  type InboxRef,
  type InboxStore,
  systemClock,
} from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import { clockSchema, methodsSchema } from '@ballast/server/adapter-kit';
import { z } from 'zod';
import { isWellFormedText } from '../../options/well-formed-text.js';
import { LuaScript, type RedisScriptClient } from '../idempotency/lua-script.js';

/** The commands the inbox uses. ioredis' `Redis` and `Cluster` (v5 and v6) satisfy it. */
export interface RedisInboxClient extends RedisScriptClient {
  set(
    key: string,
    value: string,
    millisecondsToken: 'PX',
    milliseconds: number,
    nx: 'NX',
    get: 'GET',
  ): Promise<string | null>;
  set(key: string, value: string, millisecondsToken: 'PX', milliseconds: number): Promise<unknown>;
}

/** Options for {@link createRedisInbox}. */
export interface RedisInboxOptions {
  /** An ioredis client (`new Redis(url)`) or cluster (Redis ≥ 7). The inbox does not close it. */
  redis: RedisInboxClient;
  /** Prefix of every key. Default `'ballast:inbox:'`. */
  prefix?: string;
  /** How long a handled event is remembered. Default 7 days. */
  ttlMs?: number;
  /**
   * How long a running handler holds its event against a concurrent delivery. It must exceed
   * the handler's longest run: past it, a redelivery runs the handler again. Default 60,000 ms.
   */
  leaseMs?: number;
  /** Source of time and sleeps while waiting on another delivery. Default `systemClock`. */
  clock?: Clock;
}

const maxTimer = 2_147_483_647;

const optionsSchema = z.strictObject({
  redis: methodsSchema<RedisInboxClient>(['set', 'evalsha', 'eval'], 'an ioredis client'),
  prefix: z.string().max(200).default('ballast:inbox:'),
  ttlMs: z
    .number()
    .int()
    .min(1_000)
    .max(maxTimer)
    .default(7 * 24 * 60 * 60 * 1_000),
  leaseMs: z.number().int().min(100).max(maxTimer).default(60_000),
  clock: clockSchema.default(systemClock),
});

// Keys are UTF-8 in Redis: two ids differing only in a lone surrogate would share one mark.
const markPart = z
  .string()
  .min(1)
  .max(200)
  .refine(isWellFormedText, 'expected text without lone surrogates');
const refSchema = z.strictObject({ consumer: markPart, eventId: markPart });

const done = 'done';

// The consumer part is escaped so it holds no ':', which makes the first ':' after the prefix
// the boundary: ('a:b', 'c') and ('a', 'b:c') get different keys. Plain names (letters, digits,
// '-', '_', '.') escape to themselves, so their keys are the same as before the escaping.
function markKey(prefix: string, consumer: string, eventId: string): string {
  return `${prefix}${encodeURIComponent(consumer)}:${eventId}`;
}

// Frees the lease of a failed run only if it is still this run's: a run whose lease lapsed
// must not free the key a newer delivery holds.
const releaseScript = new LuaScript(
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
);

/**
 * Creates a Redis {@link InboxStore}. Its handler receives no transaction (`undefined`).
 *
 * Use the Postgres inbox (`createPostgresInbox`) when the effect is a database write: there
 * the mark commits with the effect. Use this one when the effect lives elsewhere and running it
 * twice after a crash at the worst moment is acceptable, or the effect is idempotent itself.
 *
 * Redis not answering rejects with `UPSTREAM_ERROR` (502, retryable): the engine retries the job.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const inbox = createRedisInbox({ redis: new Redis(process.env.REDIS_URL!) });
 * ```
 */
export function createRedisInbox(options: RedisInboxOptions): InboxStore<undefined> {
  const { redis, prefix, ttlMs, leaseMs, clock } = parseOptions(
    optionsSchema,
    options,
    'createRedisInbox()',
  );

  const call = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw new BallastError('UPSTREAM_ERROR', {
        message: 'createRedisInbox(): Redis did not answer',
        cause: error,
      });
    }
  };

  // Takes the lease, or waits while another delivery holds it. Answers false when the event
  // is already done.
  const acquire = async (key: string, token: string): Promise<boolean> => {
    const giveUpAt = clock.now() + leaseMs * 2;
    let pauseMs = 20;
    for (;;) {
      const previous = await call(() => redis.set(key, token, 'PX', leaseMs, 'NX', 'GET'));
      if (previous === null) return true;
      if (previous === done) return false;
      if (clock.now() >= giveUpAt) {
        throw new BallastError('IDEMPOTENCY_IN_FLIGHT', {
          message: 'createRedisInbox(): another delivery of this event is still running',
        });
      }
      await clock.sleep(pauseMs);
      pauseMs = Math.min(pauseMs * 2, 500);
    }
  };

  return {
    async runOnce<T>(
      ref: InboxRef,
      handle: (transaction: undefined) => Promise<T>,
    ): Promise<InboxOutcome<T>> {
      const { consumer, eventId } = parseOptions(refSchema, ref, 'inbox.runOnce()');
      if (typeof handle !== 'function') {
        throw new BallastError('INVALID_OPTIONS', {
          message: 'Invalid options for inbox.runOnce(): "handle": expected a function',
          details: { field: 'handle' },
        });
      }
      const key = markKey(prefix, consumer, eventId);
      const token = randomUUID();
      if (!(await acquire(key, token))) return { kind: 'duplicate' };
      let value: T;
      try {
        value = await handle(undefined);
      } catch (error) {
        await releaseScript.run(redis, [key], [token]).catch(() => {});
        throw error;
      }
      // The effect happened: mark it whoever holds the lease now, so no later delivery runs it.
      await call(() => redis.set(key, done, 'PX', ttlMs));
      return { kind: 'ran', value };
    },
  };
}
