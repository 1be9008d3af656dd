/**
 * What the idempotency engine takes and gives: the request that identifies one operation, the
 * per-call options, what `begin` and `run` answer, and the engine's interface. Behaviour lives in
 * `idempotency-engine.ts` and options in `idempotency-config.ts` (kysely's `*-config.ts` split).
 */
import type { Awaitable } from './awaitable.js';
import type { IdempotencyTicket } from './claim-ticket.js';
import type { IdempotencyWaitOptions } from './idempotency-config.js';
import type { RecordedResult } from './idempotency-store.js';

/** Identifies one idempotent request. */
export interface IdempotencyRequest {
  /** Tenant or user the key belongs to. Default `'global'`. */
  scope?: string;
  /** The client's idempotency key: 1–255 printable ASCII characters. */
  key: string;
  /** Fingerprint of the request (see {@link fingerprint}). */
  fingerprint: string;
}

/** Per-call options of {@link Idempotency.begin} and {@link Idempotency.run}. */
export interface IdempotencyCallOptions {
  /** Overrides the engine's `wait` for this call. */
  wait?: IdempotencyWaitOptions | false;
  /** Stops waiting (wait mode) with `ABORTED`, e.g. when the client went away. */
  signal?: AbortSignal;
}

/** Options of {@link Idempotency.run}. */
export interface IdempotencyRunOptions<T, R> extends IdempotencyCallOptions {
  /**
   * What to record for a result: return the JSON-serialisable value to replay, or `undefined`
   * to release the key instead (the result is still returned, but a retry runs again). Default:
   * the result itself. A server uses it to record 2xx/4xx responses and release on 5xx.
   */
  record?: (result: T) => R | undefined;
}

/** What the operation receives. */
export interface IdempotencyOperationContext {
  /** Aborted when the lease was lost to another holder (heartbeat); the result will not be recorded. */
  readonly signal: AbortSignal;
  /** True when the key was taken over from a crashed or hung holder. */
  readonly takeover: boolean;
}

/**
 * The result of {@link Idempotency.begin}: the key is now this caller's (run the operation, then
 * end the ticket with `complete` or `release`), or its recorded result.
 */
export type IdempotencyBegin =
  | { readonly outcome: 'claimed'; readonly ticket: IdempotencyTicket }
  | { readonly outcome: 'replayed'; readonly result: RecordedResult };

/**
 * Key of the engine's `begin` that answers synchronously when the store does (the memory store
 * always does), so a framework adapter can decide and carry on in the same tick. Server
 * adapters use it; applications use `begin` or `run`.
 *
 * For adapter authors, on `@ballast/core/adapter-kit`.
 */
export const beginInSameTick: unique symbol = Symbol(
  '@ballast/core/idempotency/begin-in-same-tick',
);

/** The result of {@link Idempotency.run}. */
export type IdempotencyRunResult<T, R = T> =
  | {
      readonly outcome: 'executed';
      readonly result: T;
      /** False when the result was not kept (released by `record`, fenced, or the store failed). */
      readonly recorded: boolean;
    }
  | { readonly outcome: 'replayed'; readonly result: R };

/** An idempotency engine bound to a store. */
export interface Idempotency {
  /**
   * Claims the key or returns its recorded result. With a ticket, the caller runs the operation
   * and must end the ticket with `complete(result)` or `release()`; {@link Idempotency.run}
   * does this for you. Throws `IDEMPOTENCY_IN_FLIGHT` (409, `details.retryAfterSeconds`),
   * `IDEMPOTENCY_KEY_REUSED` (422), `IDEMPOTENCY_KEY_INVALID` (400) or
   * `IDEMPOTENCY_STORE_UNAVAILABLE` (503).
   */
  begin(request: IdempotencyRequest, options?: IdempotencyCallOptions): Promise<IdempotencyBegin>;
  /**
   * Runs `operation` at most once per key: executes and records it, or replays the recorded
   * result. If `operation` throws, the key is released and the error propagates unchanged.
   */
  run<T, R = T>(
    request: IdempotencyRequest,
    operation: (context: IdempotencyOperationContext) => Promise<T>,
    options?: IdempotencyRunOptions<T, R>,
  ): Promise<IdempotencyRunResult<T, R>>;
  /** The lease length in ms (what a `Retry-After` is derived from). */
  readonly leaseMs: number;
  /** The record TTL in ms. */
  readonly ttlMs: number;
  /**
   * Asks the store whether it is reachable and migrated, within `storeTimeoutMs`: call it at
   * start-up (or from a readiness probe). Resolves when ready; rejects with
   * `IDEMPOTENCY_STORE_NOT_MIGRATED` (run the migration) or `IDEMPOTENCY_STORE_UNAVAILABLE`.
   * A store without a `check` method is taken as ready.
   */
  check(): Promise<void>;
}

/**
 * The engine {@link createIdempotency} makes: an {@link Idempotency} whose `begin` can also
 * answer in the same tick, for server adapters.
 *
 * For adapter authors, on `@ballast/core/adapter-kit`.
 */
export interface IdempotencyEngine extends Idempotency {
  /** `begin`, answered synchronously when the store answers synchronously. */
  readonly [beginInSameTick]: (
    request: IdempotencyRequest,
    options?: IdempotencyCallOptions,
  ) => Awaitable<IdempotencyBegin>;
}
