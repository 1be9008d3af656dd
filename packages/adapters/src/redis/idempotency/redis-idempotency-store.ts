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
import { methodsSchema, parseOptions } from '@ballast/core/adapter-kit';
import { z } from 'zod';
import {
  claimScript,
  completeScript,
  extendLeaseScript,
  releaseScript,
} from './idempotency-scripts.js';
import type { RedisScriptClient } from './lua-script.js';

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

// Redis needs a positive PX; a record already at its expiry lives one millisecond.
const ttlOf = (expiresAt: number, now: number) => Math.max(1, Math.ceil(expiresAt - now));

/**
 * Idempotency keys in Redis. Each key is one string value under `prefix`, expiring with the
 * record's TTL. Use a Redis with persistence (AOF) if a restart must not forget keys.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { RedisIdempotencyStore } from '@ballast/adapters/redis';
 *
 * const store = new RedisIdempotencyStore({ redis: new Redis(process.env.REDIS_URL) });
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

  async claim(request: ClaimRequest): Promise<ClaimOutcome> {
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

  async complete(request: CompleteRequest): Promise<boolean> {
    const reply = await completeScript.run(
      this.#redis,
      [this.#keyOf(request)],
      [
        request.ownerToken,
        request.now,
        // `?? null` because JSON.stringify(undefined) is undefined, which is not JSON.
        JSON.stringify(request.result ?? null),
        request.expiresAt,
        ttlOf(request.expiresAt, request.now),
      ],
    );
    return reply === 1;
  }

  async release(request: ReleaseRequest): Promise<boolean> {
    return (
      (await releaseScript.run(this.#redis, [this.#keyOf(request)], [request.ownerToken])) === 1
    );
  }

  async extendLease(request: ExtendLeaseRequest): Promise<boolean> {
    const reply = await extendLeaseScript.run(
      this.#redis,
      [this.#keyOf(request)],
      [request.ownerToken, request.leaseExpiresAt],
    );
    return reply === 1;
  }

  /** Redis expires records itself (PX), so there is nothing to sweep: always 0. */
  async deleteExpired(_now: number): Promise<number> {
    return 0;
  }
}
