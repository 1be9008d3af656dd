/**
 * The idempotency store port. A store's only job is to make the claim of a key atomic across
 * every process that shares it, and to fence completion with the claimant's owner token; the
 * engine owns everything else (fingerprints, leases, TTL, events), so every store behaves
 * the same way.
 */
import type { Awaitable } from './awaitable.js';

/** Identifies one key. `scope` (tenant, user) keeps two tenants' identical keys apart. */
export interface IdempotencyKeyRef {
  readonly scope: string;
  readonly key: string;
}

/** What the engine records for a finished request. Must survive `JSON.stringify`. */
export type RecordedResult = unknown;

/** An attempt to claim a key. Times are epoch milliseconds from the engine's `Clock`. */
export interface ClaimRequest extends IdempotencyKeyRef {
  /** Fingerprint of the request (method, path, canonical body). */
  readonly fingerprint: string;
  /** Random token identifying this claimant; completion and release must present it. */
  readonly ownerToken: string;
  /** The engine's current time. */
  readonly now: number;
  /** Absolute time at which an in-flight claim may be taken over (crashed holder). */
  readonly leaseExpiresAt: number;
  /** Absolute time after which the whole record may be forgotten. */
  readonly expiresAt: number;
}

/**
 * The result of a claim.
 * - `claimed`: the caller now holds the key and must run the operation. `takeover` is true when
 *   a previous holder's lease had expired (it crashed or hung) and the key was taken from it.
 * - `in-flight`: another holder's lease is still running.
 * - `completed`: the operation already finished; `result` is what it recorded.
 *
 * A record whose `fingerprint` differs from the request's is returned as it is (`in-flight` or
 * `completed`), never taken over, so the engine can answer "key reused" instead.
 */
export type ClaimOutcome =
  | { readonly kind: 'claimed'; readonly takeover: boolean }
  | {
      readonly kind: 'in-flight';
      readonly fingerprint: string;
      readonly leaseExpiresAt: number;
    }
  | { readonly kind: 'completed'; readonly fingerprint: string; readonly result: RecordedResult };

/** Recording the final result of a claimed key. */
export interface CompleteRequest extends IdempotencyKeyRef {
  readonly ownerToken: string;
  readonly result: RecordedResult;
  /**
   * The result's JSON text, when the caller already wrote it (the server's idempotency guard
   * does): it parses to the same value as `JSON.stringify(result)`. A store that keeps results
   * as JSON may keep this text instead of serialising `result` again.
   */
  readonly resultJson?: string;
  readonly now: number;
  /** Absolute time after which the record may be forgotten (TTL from completion). */
  readonly expiresAt: number;
}

/** Giving a claimed key back without a result, so a retry can run the operation again. */
export interface ReleaseRequest extends IdempotencyKeyRef {
  readonly ownerToken: string;
}

/** Extending the lease of a long-running holder. */
export interface ExtendLeaseRequest extends IdempotencyKeyRef {
  readonly ownerToken: string;
  readonly leaseExpiresAt: number;
}

/**
 * Where idempotency keys live. Implementations: `MemoryIdempotencyStore` (core, one process),
 * Postgres (`@ballast/adapters/postgres`), Redis (`@ballast/adapters/redis`).
 *
 * Contract every implementation must meet (the shared contract tests check it):
 * - `claim` is atomic: of any number of concurrent claims of one absent key, exactly one
 *   returns `claimed`.
 * - `complete`, `release` and `extendLease` are compare-and-set on `ownerToken`: they return
 *   `false` and change nothing when the key is held by someone else (fencing).
 * - A record past `expiresAt` behaves as absent.
 * - `complete` of a key this owner token already completed answers `true` (a retried record
 *   whose first attempt landed although its answer was lost).
 * - A method that finds its table or schema missing rejects with
 *   `BallastError('IDEMPOTENCY_STORE_NOT_MIGRATED')`, so it is not mistaken for an outage.
 *
 * A method may answer with the value itself instead of a promise when it has it at once (the
 * memory store always does); the engine then decides without waiting a tick. A store that does
 * I/O returns a promise.
 */
export interface IdempotencyStore {
  claim(request: ClaimRequest): Awaitable<ClaimOutcome>;
  complete(request: CompleteRequest): Awaitable<boolean>;
  release(request: ReleaseRequest): Awaitable<boolean>;
  extendLease(request: ExtendLeaseRequest): Awaitable<boolean>;
  /** Deletes records past their `expiresAt`; returns how many. Stores with native expiry may return 0. */
  deleteExpired(now: number): Awaitable<number>;
  /**
   * Optional readiness check: resolves when the store is reachable and its schema is in place.
   * Rejects with `BallastError('IDEMPOTENCY_STORE_NOT_MIGRATED')` when the table or schema is
   * missing or wrong, or with any other error (taken as unavailable) when it cannot be reached.
   * The engine's `check()` calls it under `storeTimeoutMs`.
   */
  check?(): Awaitable<void>;
}
