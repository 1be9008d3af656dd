/**
 * `NonceStore` on Redis through ioredis: the replay guard for signed requests shared by every
 * verifier instance that talks to the same Redis. One command per request, `SET key 1 PX ttl
 * NX`: Redis sets the key only when it is absent, atomically, so two instances receiving the
 * same captured request can never both accept it. Redis expiry forgets the nonce once the
 * request's timestamp has left the tolerance window (after which the window refuses it anyway).
 */
import { BallastError, type Clock, type NonceStore, systemClock } from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import { clockSchema, methodsSchema } from '@ballast/server/adapter-kit';
import { z } from 'zod';

/** The one command the store uses. ioredis' `Redis` and `Cluster` (v5 and v6) satisfy it. */
export interface RedisNonceClient {
  set(
    key: string,
    value: string,
    millisecondsToken: 'PX',
    milliseconds: number,
    nx: 'NX',
  ): Promise<'OK' | null>;
}

/** Options for {@link RedisNonceStore}. */
export interface RedisNonceStoreOptions {
  /** An ioredis client (`new Redis(url)`) or cluster. The store does not close it. */
  redis: RedisNonceClient;
  /** Prefix of every key the store writes. Default `'ballast:nonce:'`. */
  prefix?: string;
  /** Source of time, to turn `expiresAt` into a TTL. Default `systemClock`. */
  clock?: Clock;
}

const optionsSchema = z.object({
  redis: methodsSchema<RedisNonceClient>(['set'], 'an ioredis client'),
  prefix: z.string().max(200).default('ballast:nonce:'),
  clock: clockSchema.default(systemClock),
});

/**
 * Remembers nonces in Redis until they expire.
 *
 * A Redis that does not answer makes `checkAndStore` reject with `UPSTREAM_ERROR` (502,
 * retryable), so the verifier refuses the request rather than let a possible replay through,
 * and a signed client's retry gets another chance once Redis is back.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { RedisNonceStore } from '@ballast/adapters/redis';
 *
 * const nonceStore = new RedisNonceStore({ redis: new Redis(process.env.REDIS_URL!) });
 * const verifier = createVerifier({ secret, canonical: 'strict', nonceStore });
 * ```
 */
export class RedisNonceStore implements NonceStore {
  readonly #redis: RedisNonceClient;
  readonly #prefix: string;
  readonly #clock: Clock;

  constructor(options: RedisNonceStoreOptions) {
    const parsed = parseOptions(optionsSchema, options, 'new RedisNonceStore()');
    this.#redis = parsed.redis;
    this.#prefix = parsed.prefix;
    this.#clock = parsed.clock;
  }

  async checkAndStore(nonce: string, expiresAt: number): Promise<boolean> {
    // The nonce stays "seen" through expiresAt inclusive, as in MemoryNonceStore; at least
    // 1 ms, because Redis refuses PX 0 and a nonce must always be recorded.
    const ttl = Math.max(1, Math.ceil(expiresAt - this.#clock.now()) + 1);
    let answer: 'OK' | null;
    try {
      answer = await this.#redis.set(`${this.#prefix}${nonce}`, '1', 'PX', ttl, 'NX');
    } catch (error) {
      throw new BallastError('UPSTREAM_ERROR', {
        message: 'RedisNonceStore: Redis did not answer; the request is refused (fail closed)',
        cause: error,
      });
    }
    return answer === 'OK';
  }
}
