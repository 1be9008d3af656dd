/**
 * `IdempotencyStore` on Redis through ioredis. A claim is one `SET key value PX ttl NX GET`:
 * it creates the record when the key is absent and otherwise returns the existing one in the
 * same round trip, so a first claim and a replay each cost one command. Takeover, completion,
 * release and lease extension are Lua scripts that compare the owner token on the server
 * (fencing). Records disappear by Redis expiry (PX); the expiry time is also stored and checked
 * against the engine's clock, so a record past it behaves as absent even before Redis evicts it.
 */
import type {
  ClaimOutcome,
  ClaimRequest,
  CompleteRequest,
  ExtendLeaseRequest,
  IdempotencyStore,
  ReleaseRequest,
} from '@ballast/core';
import { BallastError } from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import { methodsSchema } from '@ballast/server/adapter-kit';
import { z } from 'zod';
import {
  checkScript,
  claimScript,
  completeScript,
  extendLeaseScript,
  releaseScript,
} from './idempotency-scripts.js';
import type { RedisScriptClient } from './lua-script.js';
import { untilConnected } from './until-connected.js';

/** The commands the store uses. ioredis' `Redis` and `Cluster` (v5 and v6) satisfy it. */
export interface RedisIdempotencyClient extends RedisScriptClient {
  set(
    key: string,
    value: string,
    millisecondsToken: 'PX',
    milliseconds: number,
    nx: 'NX',
    get: 'GET',
  ): Promise<string | null>;
}

/** Options for {@link RedisIdempotencyStore}. */
export interface RedisIdempotencyStoreOptions {
  /** An ioredis client (`new Redis(url)`) or cluster. The store does not close it. */
  redis: RedisIdempotencyClient;
  /** Prefix of every key the store writes, to share a Redis with other data. Default `'ballast:idem:'`. */
  prefix?: string;
}

const optionsSchema = z.object({
  redis: methodsSchema<RedisIdempotencyClient>(['set', 'evalsha'], 'an ioredis client'),
  prefix: z.string().max(200).default('ballast:idem:'),
});

interface StoredRecord {
  readonly f: string;
  readonly s: 'i' | 'c';
  readonly o: string;
  readonly l: number;
  readonly e: number;
  readonly t?: number;
  readonly r?: unknown;
}

function decodeRecord(raw: string): StoredRecord {
  const record = JSON.parse(raw) as Partial<StoredRecord>;
  if (
    typeof record.f !== 'string' ||
    (record.s !== 'i' && record.s !== 'c') ||
    typeof record.l !== 'number' ||
    typeof record.e !== 'number'
  ) {
    // Something else wrote under our prefix; refusing is safer than guessing a state.
    throw new BallastError('INTERNAL', {
      message: 'RedisIdempotencyStore: a key under the store prefix holds a foreign value',
    });
  }
  return record as StoredRecord;
}

function outcomeOf(record: StoredRecord): ClaimOutcome {
  if (record.s === 'c') {
    return { kind: 'completed', fingerprint: record.f, result: record.r ?? null };
  }
  return { kind: 'in-flight', fingerprint: record.f, leaseExpiresAt: record.l };
}

/**
 * A Redis failure as a Ballast error: a server too old for `SET … NX GET` (Redis < 7) or with
 * scripting disabled is a deployment to fix (`IDEMPOTENCY_STORE_NOT_MIGRATED`); anything else
 * (refused, closed, offline queue disabled, timeouts) is `IDEMPOTENCY_STORE_UNAVAILABLE`.
 */
function toStoreError(error: unknown): BallastError {
  if (error instanceof BallastError) return error;
  const message = error instanceof Error ? error.message : '';
  if (/^ERR (syntax error|unknown command|.*not allowed)/i.test(message)) {
    return new BallastError('IDEMPOTENCY_STORE_NOT_MIGRATED', {
      message: `The Redis server does not support what the idempotency store needs (Redis 7+ with scripting): ${message}`,
      cause: error,
    });
  }
  return new BallastError('IDEMPOTENCY_STORE_UNAVAILABLE', {
    message: 'The idempotency store (Redis) failed.',
    cause: error,
  });
}

const fail = (error: unknown): never => {
  throw toStoreError(error);
};

// Redis needs a positive PX; a record already at its expiry lives one millisecond.
const ttlOf = (expiresAt: number, now: number) => Math.max(1, Math.ceil(expiresAt - now));

/**
 * Idempotency keys in Redis. Each key is one string value under `prefix`, expiring with the
 * record's TTL. Use a Redis with persistence (AOF) if a restart must not forget keys.
 *
 * Give it a client that fails fast while disconnected: `enableOfflineQueue: false` (otherwise
 * ioredis holds commands while it reconnects, and a completion queued during an outage lands
 * late, after a duplicate may have claimed the key on a restarted Redis) and a small
 * `maxRetriesPerRequest`. The engine's `storeTimeoutMs` bounds every call either way.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { RedisIdempotencyStore } from '@ballast/adapters/redis';
 *
 * const redis = new Redis(process.env.REDIS_URL, {
 *   enableOfflineQueue: false,
 *   maxRetriesPerRequest: 1,
 * });
 * const store = new RedisIdempotencyStore({ redis });
 * await store.check(); // at start-up: reachable, Redis 7+, scripting enabled
 * ```
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  readonly #redis: RedisIdempotencyClient;
  readonly #prefix: string;

  constructor(options: RedisIdempotencyStoreOptions) {
    const parsed = parseOptions(optionsSchema, options, 'new RedisIdempotencyStore()');
    this.#redis = parsed.redis;
    this.#prefix = parsed.prefix;
  }

  // Both parts are URI-encoded, so ':' never appears inside them and (scope, key) pairs such as
  // ('a:b', 'c') and ('a', 'b:c') stay distinct.
  #keyOf(ref: { scope: string; key: string }): string {
    return `${this.#prefix}${encodeURIComponent(ref.scope)}:${encodeURIComponent(ref.key)}`;
  }

  claim(request: ClaimRequest): Promise<ClaimOutcome> {
    return this.#claim(request).catch(fail);
  }

  async #claim(request: ClaimRequest): Promise<ClaimOutcome> {
    const key = this.#keyOf(request);
    const ttl = ttlOf(request.expiresAt, request.now);
    const fresh = JSON.stringify({
      f: request.fingerprint,
      s: 'i',
      o: request.ownerToken,
      l: request.leaseExpiresAt,
      e: request.expiresAt,
      t: 0,
    });
    const previous = await this.#redis.set(key, fresh, 'PX', ttl, 'NX', 'GET');
    if (previous === null) return { kind: 'claimed', takeover: false };
    const record = decodeRecord(previous);
    const claimable =
      record.e <= request.now ||
      (record.s === 'i' && record.l <= request.now && record.f === request.fingerprint);
    if (!claimable) return outcomeOf(record);
    // The script re-checks under Redis' single-threaded execution: of several claimants that
    // all saw an expired lease, exactly one gets it.
    const reply = (await claimScript.run(
      this.#redis,
      [key],
      [
        request.now,
        request.fingerprint,
        request.ownerToken,
        request.leaseExpiresAt,
        request.expiresAt,
        ttl,
      ],
    )) as [number, number | string];
    if (reply[0] === 1) return { kind: 'claimed', takeover: Number(reply[1]) > 0 };
    return outcomeOf(decodeRecord(String(reply[1])));
  }

  complete(request: CompleteRequest): Promise<boolean> {
    // Encoded before any I/O, so a result JSON cannot encode throws at once (not retried): the
    // text the caller already wrote (the server's guard does), else `result` serialised; `?? null`
    // because JSON.stringify(undefined) is undefined, which is not JSON.
    const resultJson =
      typeof request.resultJson === 'string'
        ? request.resultJson
        : JSON.stringify(request.result ?? null);
    return completeScript
      .run(
        this.#redis,
        [this.#keyOf(request)],
        [
          request.ownerToken,
          request.now,
          resultJson,
          request.expiresAt,
          ttlOf(request.expiresAt, request.now),
        ],
      )
      .then((reply) => reply === 1, fail);
  }

  release(request: ReleaseRequest): Promise<boolean> {
    return releaseScript
      .run(this.#redis, [this.#keyOf(request)], [request.ownerToken])
      .then((reply) => reply === 1, fail);
  }

  extendLease(request: ExtendLeaseRequest): Promise<boolean> {
    return extendLeaseScript
      .run(this.#redis, [this.#keyOf(request)], [request.ownerToken, request.leaseExpiresAt])
      .then((reply) => reply === 1, fail);
  }

  /**
   * Resolves when Redis answers and supports what the store needs (`SET … NX GET`, Lua).
   * Rejects with `IDEMPOTENCY_STORE_UNAVAILABLE`, or `IDEMPOTENCY_STORE_NOT_MIGRATED` for a
   * server that is too old. A client still opening its first connection (just constructed, or
   * `lazyConnect`) is waited for, so it can be called right after `new Redis(url)`; one whose
   * connection fails, or that lost it, fails at once with `enableOfflineQueue: false`. Through
   * the engine's `check()` it is bounded by `storeTimeoutMs` either way.
   */
  async check(): Promise<void> {
    try {
      await untilConnected(this.#redis);
      await this.#redis.set(`${this.#prefix}\u0000check`, '1', 'PX', 1_000, 'NX', 'GET');
      await checkScript.run(this.#redis, [], []);
    } catch (error) {
      fail(error);
    }
  }

  /** Redis expires records itself (PX), so there is nothing to sweep: always 0. */
  async deleteExpired(_now: number): Promise<number> {
    return 0;
  }
}
