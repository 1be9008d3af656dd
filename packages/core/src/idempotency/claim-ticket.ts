/**
 * The holder's side of a claimed key. It ends in exactly one of two ways, recorded or released,
 * and both are fenced by the owner token: a holder whose lease was taken over can neither
 * overwrite the new holder's result nor free its key. While it is open, an optional heartbeat
 * extends the lease so a long operation is not mistaken for a crashed one.
 */
import type { Clock } from '../clock/clock.js';
import { BallastError } from '../errors/ballast-error.js';
import type { Logger } from '../logging/logger.js';
import { type Awaitable, isPromiseLike, promiseFrom } from './awaitable.js';
import type { IdempotencyEventMap, IdempotencyEventName } from './idempotency-events.js';
import type { IdempotencyStore, RecordedResult } from './idempotency-store.js';

/** A claimed key, held by this request until it records a result or releases the key. */
export interface IdempotencyTicket {
  readonly scope: string;
  readonly key: string;
  /** True when the key was taken over from a holder whose lease had run out. */
  readonly takeover: boolean;
  /**
   * Aborted when the heartbeat finds the lease lost to another holder: the operation may stop,
   * since its result can no longer be recorded.
   */
  readonly signal: AbortSignal;
  /** True once `complete` or `release` was called. */
  readonly settled: boolean;
  /**
   * Records `result` (JSON-serialisable) for replays. Resolves `false` when the key was taken
   * over meanwhile (fenced: nothing is written) or the ticket was already settled. Rejects with
   * `IDEMPOTENCY_STORE_UNAVAILABLE` when the store fails; the key then stays in flight until
   * its lease ends.
   */
  complete(result: RecordedResult): Promise<boolean>;
  /**
   * Gives the key back without a result, so a retry runs the operation again. Never rejects: a
   * store failure is logged and the lease frees the key later. Resolves whether it released.
   */
  release(reason?: string): Promise<boolean>;
}

/** What a ticket needs from its engine. */
export interface TicketEnvironment {
  readonly store: IdempotencyStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly leaseMs: number;
  readonly ttlMs: number;
  readonly heartbeat: { readonly intervalMs: number; readonly maxHoldMs: number } | false;
  readonly emit: <Name extends IdempotencyEventName>(
    name: Name,
    event: IdempotencyEventMap[Name],
  ) => void;
  /** True when a handler listens for `name`, so an event is worth building. */
  readonly listens: (name: IdempotencyEventName) => boolean;
}

/**
 * The engine's ticket. Besides the promise-returning `complete` and `release` of
 * {@link IdempotencyTicket}, it offers `recordResult` and `releaseKey`, which answer
 * synchronously when the store does, for framework adapters that carry on in the same tick.
 *
 * For adapter authors, on `@ballast/core/adapter-kit`.
 */
export class ClaimTicket implements IdempotencyTicket {
  readonly #env: TicketEnvironment;
  readonly #ownerToken: string;
  readonly #claimedAt: number;
  #abort: AbortController | undefined;
  #settled = false;
  #cancelHeartbeat: (() => void) | undefined;

  constructor(
    env: TicketEnvironment,
    readonly scope: string,
    readonly key: string,
    ownerToken: string,
    readonly takeover: boolean,
    claimedAt: number,
  ) {
    this.#env = env;
    this.#ownerToken = ownerToken;
    this.#claimedAt = claimedAt;
    if (env.heartbeat) this.#scheduleHeartbeat(env.heartbeat.intervalMs, env.heartbeat.maxHoldMs);
  }

  get signal(): AbortSignal {
    // Created on first use: most callers never need it, and every request pays for one.
    this.#abort ??= new AbortController();
    return this.#abort.signal;
  }

  get settled(): boolean {
    return this.#settled;
  }

  complete(result: RecordedResult): Promise<boolean> {
    return promiseFrom(() => this.recordResult(result));
  }

  release(reason = 'released'): Promise<boolean> {
    return Promise.resolve(this.releaseKey(reason));
  }

  /**
   * `complete`, answered synchronously when the store answers synchronously: `true` when
   * recorded, `false` when fenced or already settled; throws (or rejects with)
   * `IDEMPOTENCY_STORE_UNAVAILABLE` when the store fails.
   */
  recordResult(result: RecordedResult): Awaitable<boolean> {
    if (!this.#settle()) return false;
    const now = this.#env.clock.now();
    let pending: Awaitable<boolean>;
    try {
      pending = this.#env.store.complete({
        scope: this.scope,
        key: this.key,
        ownerToken: this.#ownerToken,
        result,
        now,
        expiresAt: now + this.#env.ttlMs,
      });
    } catch (error) {
      throw this.#recordingFailed(error);
    }
    if (!isPromiseLike(pending)) return this.#recorded(pending, now);
    return pending.then(
      (completed) => this.#recorded(completed, now),
      (error: unknown) => {
        throw this.#recordingFailed(error);
      },
    );
  }

  /** `release`, answered synchronously when the store answers synchronously. Never throws. */
  releaseKey(reason = 'released'): Awaitable<boolean> {
    if (!this.#settle()) return false;
    let pending: Awaitable<boolean>;
    try {
      pending = this.#env.store.release({
        scope: this.scope,
        key: this.key,
        ownerToken: this.#ownerToken,
      });
    } catch (error) {
      return this.#releaseFailed(error, reason);
    }
    if (!isPromiseLike(pending)) return this.#released(pending, reason);
    return pending.then(
      (released) => this.#released(released, reason),
      (error: unknown) => this.#releaseFailed(error, reason),
    );
  }

  #recorded(completed: boolean, now: number): boolean {
    const { logger, emit, listens } = this.#env;
    if (completed) {
      if (listens('record')) {
        emit('record', { scope: this.scope, key: this.key, heldMs: now - this.#claimedAt });
      }
    } else {
      logger.warn(
        { scope: this.scope, key: this.key },
        'idempotency: result not recorded, the key was taken over by another holder (fenced)',
      );
      emit('fenced', { scope: this.scope, key: this.key, operation: 'complete' });
    }
    return completed;
  }

  #recordingFailed(error: unknown): BallastError {
    this.#env.logger.error(
      { scope: this.scope, key: this.key, err: error },
      'idempotency: recording the result failed; the key stays in flight until its lease ends',
    );
    return new BallastError('IDEMPOTENCY_STORE_UNAVAILABLE', { cause: error });
  }

  #releaseFailed(error: unknown, reason: string): boolean {
    // Release is best effort: the lease frees the key anyway, and the caller is usually already
    // handling the operation's own error, which must not be replaced by this one.
    this.#env.logger.error(
      { scope: this.scope, key: this.key, err: error },
      'idempotency: releasing the key failed; it frees itself when its lease ends',
    );
    return this.#released(false, reason);
  }

  #released(released: boolean, reason: string): boolean {
    const { clock, emit, listens } = this.#env;
    if (listens('release')) {
      emit('release', {
        scope: this.scope,
        key: this.key,
        reason,
        released,
        heldMs: clock.now() - this.#claimedAt,
      });
    }
    return released;
  }

  /** Marks the ticket settled; false when it already was. */
  #settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#cancelHeartbeat?.();
    this.#cancelHeartbeat = undefined;
    return true;
  }

  #scheduleHeartbeat(intervalMs: number, maxHoldMs: number): void {
    const { clock } = this.#env;
    this.#cancelHeartbeat = clock.setTimer(() => {
      void this.#beat(intervalMs, maxHoldMs);
    }, intervalMs);
  }

  async #beat(intervalMs: number, maxHoldMs: number): Promise<void> {
    const { store, clock, logger, leaseMs, emit } = this.#env;
    if (this.#settled) return;
    const now = clock.now();
    if (now - this.#claimedAt >= maxHoldMs) {
      // A holder that never finishes must not keep its key for ever: let the lease run out.
      logger.warn(
        { scope: this.scope, key: this.key, maxHoldMs },
        'idempotency: operation exceeded maxHoldMs; no longer extending its lease',
      );
      return;
    }
    let extended: boolean;
    try {
      extended = await store.extendLease({
        scope: this.scope,
        key: this.key,
        ownerToken: this.#ownerToken,
        leaseExpiresAt: now + leaseMs,
      });
    } catch (error) {
      // A passing store failure: the lease still runs, and the next beat tries again.
      logger.warn(
        { scope: this.scope, key: this.key, err: error },
        'idempotency: extending the lease failed; retrying at the next heartbeat',
      );
      extended = true;
    }
    if (this.#settled) return;
    if (!extended) {
      logger.warn(
        { scope: this.scope, key: this.key },
        'idempotency: lease lost to another holder; aborting the operation signal',
      );
      emit('fenced', { scope: this.scope, key: this.key, operation: 'extend-lease' });
      this.#abort ??= new AbortController();
      this.#abort.abort(
        new BallastError('ABORTED', { message: 'The idempotency lease was taken over.' }),
      );
      return;
    }
    this.#scheduleHeartbeat(intervalMs, maxHoldMs);
  }
}
