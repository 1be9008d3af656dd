/**
 * The holder's side of a claimed key. It ends in exactly one of two ways, recorded or released,
 * and both are fenced by the owner token: a holder whose lease was taken over can neither
 * overwrite the new holder's result nor free its key. While it is open, an optional heartbeat
 * extends the lease so a long operation is not mistaken for a crashed one.
 *
 * Recording is retried: when the store fails after the operation's effect happened, the ticket
 * keeps trying (extending its lease when it can) for as long as it still holds the key, so a
 * short store outage does not turn into a second execution by a takeover. Only when the lease
 * is about to end does it give up, and then it says so (`unrecorded`).
 */
import type { Clock } from '../clock/clock.js';
import { BallastError } from '../errors/ballast-error.js';
import type { Logger } from '../logging/logger.js';
import { invalidArgument } from '../options/invalid-argument.js';
import { type Awaitable, isPromiseLike } from './awaitable.js';
import type { IdempotencyEventMap, IdempotencyEventName } from './idempotency-events.js';
import type { IdempotencyStore, RecordedResult } from './idempotency-store.js';
import { isStoreNotMigrated, toStoreFailure, withinStoreTimeout } from './store-call.js';

// Backoff between recording attempts: short at first (a failover or restart often takes a
// second or two), never longer than a second so the record lands soon after the store is back.
const firstRecordRetryMs = 50;
const maxRecordRetryMs = 1_000;

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
   * False when the store was unavailable and `onStoreUnavailable: 'proceed'` let the operation
   * run without a claim: nothing is recorded or released then.
   */
  readonly guarded: boolean;
  /**
   * Records `result` (JSON-serialisable) for replays. Answers `false` when the key was taken
   * over meanwhile (fenced: nothing is written), the ticket was already settled, or it is not
   * guarded. Answers synchronously when the store does (the memory store), else with a promise:
   * `await` it either way. When the store fails, recording is retried with backoff (extending the lease) while
   * this holder still holds the key; when the lease is about to end it emits `unrecorded` and
   * rejects with `IDEMPOTENCY_STORE_UNAVAILABLE` (or `IDEMPOTENCY_STORE_NOT_MIGRATED`, which is
   * not retried); the key then stays in flight until its lease ends.
   *
   * `resultJson`, when given, is `result`'s JSON text (it must parse to the same value as
   * `JSON.stringify(result)`): a store that keeps JSON keeps it instead of serialising again.
   */
  complete(result: RecordedResult, resultJson?: string): Awaitable<boolean>;
  /**
   * Gives the key back without a result, so a retry runs the operation again. Never throws or
   * rejects: a store failure is logged and the lease frees the key later. Answers whether it
   * released, synchronously when the store does.
   */
  release(reason?: string): Awaitable<boolean>;
}

/** What a ticket needs from its engine. */
export interface TicketEnvironment {
  readonly store: IdempotencyStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly leaseMs: number;
  readonly ttlMs: number;
  /** Longest one store call may take before it counts as failed. */
  readonly storeTimeoutMs: number;
  readonly heartbeat: { readonly intervalMs: number; readonly maxHoldMs: number } | false;
  readonly emit: <Name extends IdempotencyEventName>(
    name: Name,
    event: IdempotencyEventMap[Name],
  ) => void;
  /** True when a handler listens for `name`, so an event is worth building. */
  readonly listens: (name: IdempotencyEventName) => boolean;
}

/**
 * The engine's implementation of {@link IdempotencyTicket}. Not exported: callers and adapters
 * hold it as an `IdempotencyTicket`.
 *
 * @internal
 */
export class ClaimTicket implements IdempotencyTicket {
  readonly #env: TicketEnvironment;
  readonly #ownerToken: string;
  readonly #claimedAt: number;
  #abort: AbortController | undefined;
  #settled = false;
  #cancelHeartbeat: (() => void) | undefined;
  // When this holder's lease ends as far as it knows: claim time + lease, moved by extensions.
  #leaseExpiresAt: number;

  constructor(
    env: TicketEnvironment,
    readonly scope: string,
    readonly key: string,
    ownerToken: string,
    readonly takeover: boolean,
    claimedAt: number,
    readonly guarded = true,
  ) {
    this.#env = env;
    this.#ownerToken = ownerToken;
    this.#claimedAt = claimedAt;
    this.#leaseExpiresAt = claimedAt + env.leaseMs;
    if (!guarded) this.#settled = true;
    else if (env.heartbeat) {
      this.#scheduleHeartbeat(env.heartbeat.intervalMs, env.heartbeat.maxHoldMs);
    }
  }

  get signal(): AbortSignal {
    // Created on first use: most callers never need it, and every request pays for one.
    this.#abort ??= new AbortController();
    return this.#abort.signal;
  }

  get settled(): boolean {
    return this.#settled;
  }

  complete(result: RecordedResult, resultJson?: string): Awaitable<boolean> {
    if (resultJson !== undefined && typeof resultJson !== 'string') {
      throw invalidArgument('ticket.complete()', 'resultJson', 'a string');
    }
    if (!this.#settle()) return false;
    const now = this.#env.clock.now();
    let pending: Awaitable<boolean>;
    try {
      pending = this.#complete(result, resultJson, now);
    } catch (error) {
      // A store that throws synchronously (the memory store: a result JSON cannot encode) would
      // throw the same way again, so it is not retried.
      throw this.#recordingFailed(error, 1);
    }
    if (!isPromiseLike(pending)) return this.#recorded(pending, now);
    return pending.then(
      (completed) => this.#recorded(completed, now),
      (error: unknown) => this.#retryRecording(result, resultJson, error),
    );
  }

  #complete(
    result: RecordedResult,
    resultJson: string | undefined,
    now: number,
  ): Awaitable<boolean> {
    const { store, clock, ttlMs, storeTimeoutMs } = this.#env;
    return withinStoreTimeout(
      store.complete({
        scope: this.scope,
        key: this.key,
        ownerToken: this.#ownerToken,
        result,
        resultJson,
        now,
        expiresAt: now + ttlMs,
      }),
      clock,
      storeTimeoutMs,
      'recording a result',
    );
  }

  /**
   * Records again after a failure, while this holder still holds its lease (extending it when
   * it runs low), so a short store outage between the effect and its record does not become a
   * second execution. Gives up with `unrecorded` when the lease would end before another
   * attempt could finish, or at once when the store is not migrated.
   */
  async #retryRecording(
    result: RecordedResult,
    resultJson: string | undefined,
    firstError: unknown,
  ): Promise<boolean> {
    const { clock, leaseMs, storeTimeoutMs } = this.#env;
    let failure = toStoreFailure(firstError, storeTimeoutMs);
    let attempts = 1;
    let delayMs = firstRecordRetryMs;
    // Extensions keep the lease, but never beyond one lease from the first failure: a store
    // that extends and refuses every record must not hold the key for ever.
    const giveUpAt = clock.now() + leaseMs;
    while (!isStoreNotMigrated(failure)) {
      const deadline = Math.min(this.#leaseExpiresAt, giveUpAt);
      if (clock.now() + delayMs + storeTimeoutMs > deadline) break;
      await clock.sleep(delayMs);
      delayMs = Math.min(delayMs * 2, maxRecordRetryMs);
      attempts++;
      try {
        const now = clock.now();
        if (this.#leaseExpiresAt - now < leaseMs / 2) {
          // Not extended: taken over, or an earlier attempt that timed out did record. The
          // completion below tells which (a store answers true to its own owner's record).
          await this.#extendLease(now);
        }
        const completedAt = clock.now();
        const completed = await this.#complete(result, resultJson, completedAt);
        return this.#recorded(completed, completedAt);
      } catch (error) {
        failure = toStoreFailure(error, storeTimeoutMs);
      }
    }
    throw this.#recordingFailed(failure, attempts);
  }

  release(reason = 'released'): Awaitable<boolean> {
    if (!this.#settle()) return false;
    let pending: Awaitable<boolean>;
    try {
      pending = withinStoreTimeout(
        this.#env.store.release({
          scope: this.scope,
          key: this.key,
          ownerToken: this.#ownerToken,
        }),
        this.#env.clock,
        this.#env.storeTimeoutMs,
        'releasing a key',
      );
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

  #recordingFailed(error: unknown, attempts: number): BallastError {
    const failure = toStoreFailure(error, this.#env.storeTimeoutMs);
    this.#env.logger.error(
      { scope: this.scope, key: this.key, attempts, code: failure.code, err: error },
      'idempotency: recording the result failed; the key stays in flight until its lease ends, and a retry after that runs the operation again',
    );
    this.#env.emit('unrecorded', {
      scope: this.scope,
      key: this.key,
      attempts,
      code: failure.code,
    });
    return failure;
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

  /** Moves this holder's lease to `now + leaseMs`; false when the key is no longer its own. */
  async #extendLease(now: number): Promise<boolean> {
    const { store, clock, leaseMs, storeTimeoutMs } = this.#env;
    const extended = await withinStoreTimeout(
      store.extendLease({
        scope: this.scope,
        key: this.key,
        ownerToken: this.#ownerToken,
        leaseExpiresAt: now + leaseMs,
      }),
      clock,
      storeTimeoutMs,
      'extending a lease',
    );
    if (extended) this.#leaseExpiresAt = now + leaseMs;
    return extended;
  }

  #scheduleHeartbeat(intervalMs: number, maxHoldMs: number): void {
    const { clock } = this.#env;
    this.#cancelHeartbeat = clock.setTimer(() => {
      void this.#beat(intervalMs, maxHoldMs);
    }, intervalMs);
  }

  async #beat(intervalMs: number, maxHoldMs: number): Promise<void> {
    const { clock, logger, emit } = this.#env;
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
      extended = await this.#extendLease(now);
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
