/**
 * The claim → run → record → replay cycle. Guarantees, for any number of processes sharing a
 * store that keeps answering: an operation runs once per (scope, key) while its record lives; a
 * duplicate gets the recorded result, or "in flight" (409) while the first runs, or "key
 * reused" (422) when its fingerprint differs; a holder that crashed stops blocking its key when
 * its lease ends (a lease much shorter than the record's TTL), and a holder that was taken over
 * can never overwrite the new holder's result (completion is fenced by an owner token).
 *
 * When the store fails, every call fails within `storeTimeoutMs`: a claim is refused (503) or,
 * with `onStoreUnavailable: 'proceed'`, runs unguarded; a record that cannot be written after
 * the effect is retried while the holder keeps its lease, then reported (`unrecorded`): that
 * key is the one case where a retry after the lease can run the operation a second time. Where
 * that matters, record in the business transaction (`withIdempotency` in the Postgres adapter).
 *
 * Configuration and its validation live in `idempotency-config.ts`.
 */

import { BallastError } from '../errors/ballast-error.js';
import { type Logger, noopLogger } from '../logging/logger.js';
import { parseOptions } from '../options/parse-options.js';
import { type Awaitable, isPromiseLike, promiseFrom } from './awaitable.js';
import { ClaimTicket, type IdempotencyTicket, type TicketEnvironment } from './claim-ticket.js';
import {
  type IdempotencyOptions,
  type IdempotencyWaitOptions,
  idempotencyOptionsSchema,
  type ResolvedWait,
  resolveIdempotencyOptions,
  waitSchema,
} from './idempotency-config.js';
import type { IdempotencyEventMap, IdempotencyEventName } from './idempotency-events.js';
import { defaultIdempotencyScope, validateIdempotencyKey } from './idempotency-key.js';
import type { ClaimOutcome, RecordedResult } from './idempotency-store.js';
import { isStoreNotMigrated, toStoreFailure, withinStoreTimeout } from './store-call.js';

export type {
  IdempotencyHeartbeatOptions,
  IdempotencyOptions,
  IdempotencyWaitOptions,
} from './idempotency-config.js';

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

/** The result of {@link Idempotency.begin}. */
export type IdempotencyBegin =
  | { readonly outcome: 'claimed'; readonly ticket: IdempotencyTicket }
  | { readonly outcome: 'replayed'; readonly result: RecordedResult };

/**
 * {@link IdempotencyBegin} with the engine's own ticket, whose `recordResult` and `releaseKey`
 * answer synchronously when the store does.
 *
 * For adapter authors, on `@ballast/core/adapter-kit`.
 */
export type IdempotencyStart =
  | { readonly outcome: 'claimed'; readonly ticket: ClaimTicket }
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
  ) => Awaitable<IdempotencyStart>;
}

function invalidRequest(field: string, problem: string): BallastError {
  return new BallastError('INVALID_OPTIONS', {
    message: `Invalid options for idempotency.begin(): "${field}": ${problem}`,
    details: { field },
  });
}

// Checked by hand rather than with a schema: this runs on every request, so it must cost nothing.
function checkRequest(request: IdempotencyRequest): Required<IdempotencyRequest> {
  if (typeof request !== 'object' || request === null)
    throw invalidRequest('(options)', 'expected an object');
  const scope = request.scope ?? defaultIdempotencyScope;
  if (typeof scope !== 'string' || scope.length === 0 || scope.length > 255) {
    throw invalidRequest('scope', 'expected a string of 1 to 255 characters');
  }
  const requestFingerprint = request.fingerprint;
  if (
    typeof requestFingerprint !== 'string' ||
    requestFingerprint.length === 0 ||
    requestFingerprint.length > 512
  ) {
    throw invalidRequest('fingerprint', 'expected a string of 1 to 512 characters');
  }
  return { scope, key: validateIdempotencyKey(request.key), fingerprint: requestFingerprint };
}

const noCallOptions: IdempotencyCallOptions = {};

// A store that is not migrated never heals by itself, so it is reported even to an application
// that configured no logger (as express-rate-limit's `validate` does), at most once a minute.
const notMigratedReportIntervalMs = 60_000;
const consoleErrorLogger: Logger = {
  ...noopLogger,
  error: (fields, message) => console.error(`[ballast] ${message ?? ''}`, fields),
};

function checkCallOptions(options: IdempotencyCallOptions): IdempotencyCallOptions {
  if (options.wait !== undefined && options.wait !== false) {
    return { ...options, wait: parseOptions(waitSchema, options.wait, 'idempotency.begin() wait') };
  }
  if (options.signal !== undefined && typeof options.signal?.addEventListener !== 'function') {
    throw invalidRequest('signal', 'expected an AbortSignal');
  }
  return options;
}

/**
 * Creates an idempotency engine.
 *
 * @example
 * ```ts
 * const idempotency = createIdempotency({ store: new MemoryIdempotencyStore() });
 * const { outcome, result } = await idempotency.run(
 *   { scope: tenantId, key, fingerprint: await fingerprint({ method, path, json: body }) },
 *   async () => createSale(body),
 * );
 * ```
 */
export function createIdempotency(options: IdempotencyOptions): IdempotencyEngine {
  const parsed = resolveIdempotencyOptions(
    parseOptions(idempotencyOptionsSchema, options, 'createIdempotency()'),
  );
  const { store, clock, leaseMs, ttlMs, storeTimeoutMs, heartbeat, createOwnerToken } = parsed;
  const logger = parsed.logger ?? noopLogger;
  const handlers = parsed.on;
  const proceedWhenUnavailable = parsed.onStoreUnavailable === 'proceed';

  const emit = <Name extends IdempotencyEventName>(
    name: Name,
    event: IdempotencyEventMap[Name],
  ): void => {
    const handler = handlers[name] as ((event: IdempotencyEventMap[Name]) => void) | undefined;
    if (handler === undefined) return;
    try {
      handler(event);
    } catch (error) {
      // A metrics or logging hook must never fail the request it observes.
      logger.warn({ event: name, err: error }, 'idempotency: an event handler threw; ignored');
    }
  };

  // Events are built only when someone listens: most engines have no handlers, and each
  // event is an allocation on every request.
  const listens = (name: IdempotencyEventName): boolean => handlers[name] !== undefined;
  const env: TicketEnvironment = {
    store,
    clock,
    logger,
    leaseMs,
    ttlMs,
    storeTimeoutMs,
    heartbeat,
    emit,
    listens,
  };

  let notMigratedReportedAt = Number.NEGATIVE_INFINITY;
  /** Logs a store that is not migrated at error level, on the console when no logger was given. */
  function reportNotMigrated(error: BallastError, fields: Record<string, unknown>): void {
    const message =
      'idempotency: the store is not migrated (missing or wrong table/schema); every keyed request fails until it is. Run its migration.';
    if (parsed.logger !== undefined) {
      parsed.logger.error({ ...fields, code: error.code, err: error }, message);
      return;
    }
    const now = clock.now();
    if (now - notMigratedReportedAt < notMigratedReportIntervalMs) return;
    notMigratedReportedAt = now;
    consoleErrorLogger.error({ ...fields, code: error.code, detail: error.message }, message);
  }

  /** One begin call: the checked request and how long it may wait. */
  interface Attempt {
    readonly scope: string;
    readonly key: string;
    readonly fingerprint: string;
    readonly ownerToken: string;
    readonly startedAt: number;
    readonly deadline: number;
    readonly wait: ResolvedWait | false;
    readonly signal: AbortSignal | undefined;
  }

  /** Still in flight, with this long left to wait for it. */
  interface KeepWaiting {
    readonly waitMs: number;
  }

  /**
   * A claim the store could not answer: refused (the default: running could execute a
   * duplicate), or, with `onStoreUnavailable: 'proceed'`, let through on an unguarded ticket.
   * A store that is not migrated is always refused.
   */
  function claimFailed(attempt: Attempt, error: unknown): IdempotencyStart {
    const { scope, key } = attempt;
    const failure = toStoreFailure(error, storeTimeoutMs);
    if (isStoreNotMigrated(failure)) {
      reportNotMigrated(failure, { scope, key });
      throw failure;
    }
    if (!proceedWhenUnavailable) {
      logger.error({ scope, key, err: error }, 'idempotency: claiming the key failed');
      throw failure;
    }
    logger.warn(
      { scope, key, err: error },
      'idempotency: the store is unavailable; running the operation unguarded (onStoreUnavailable: proceed)',
    );
    emit('unguarded', { scope, key, code: failure.code });
    const ticket = new ClaimTicket(env, scope, key, attempt.ownerToken, false, clock.now(), false);
    return { outcome: 'claimed', ticket };
  }

  /** What a claim outcome means for the request: run, replay, wait, or refuse (throws). */
  function decide(
    attempt: Attempt,
    outcome: ClaimOutcome,
    claimedAt: number,
  ): IdempotencyStart | KeepWaiting {
    const { scope, key } = attempt;
    if (outcome.kind === 'claimed') {
      if (listens('claim')) {
        emit('claim', { scope, key, fingerprint: attempt.fingerprint, takeover: outcome.takeover });
      }
      if (outcome.takeover) {
        logger.warn({ scope, key }, 'idempotency: took over a key whose holder’s lease ran out');
        emit('takeover', { scope, key, fingerprint: attempt.fingerprint });
      }
      return {
        outcome: 'claimed',
        ticket: new ClaimTicket(env, scope, key, attempt.ownerToken, outcome.takeover, claimedAt),
      };
    }
    if (outcome.fingerprint !== attempt.fingerprint) {
      emit('mismatch', { scope, key, state: outcome.kind });
      throw new BallastError('IDEMPOTENCY_KEY_REUSED', {
        message: `Idempotency key reused with a different request (scope "${scope}").`,
      });
    }
    if (outcome.kind === 'completed') {
      if (listens('replay')) emit('replay', { scope, key });
      return { outcome: 'replayed', result: outcome.result };
    }
    const now = clock.now();
    const waitLeft = attempt.deadline - now;
    if (attempt.wait !== false && waitLeft > 0) {
      return { waitMs: Math.min(attempt.wait.pollMs, waitLeft) };
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((outcome.leaseExpiresAt - now) / 1_000));
    emit('conflict', { scope, key, retryAfterSeconds, waitedMs: now - attempt.startedAt });
    throw new BallastError('IDEMPOTENCY_IN_FLIGHT', {
      message: `The request with this idempotency key is still in flight (scope "${scope}").`,
      details: { retryAfterSeconds },
    });
  }

  /** Claims once and decides, synchronously when the store answers synchronously. */
  function claimOnce(attempt: Attempt): Awaitable<IdempotencyStart | KeepWaiting> {
    const claimedAt = clock.now();
    let pending: Awaitable<ClaimOutcome>;
    try {
      pending = withinStoreTimeout(
        store.claim({
          scope: attempt.scope,
          key: attempt.key,
          fingerprint: attempt.fingerprint,
          ownerToken: attempt.ownerToken,
          now: claimedAt,
          leaseExpiresAt: claimedAt + leaseMs,
          expiresAt: claimedAt + ttlMs,
        }),
        clock,
        storeTimeoutMs,
        'a claim',
      );
    } catch (error) {
      return claimFailed(attempt, error);
    }
    if (!isPromiseLike(pending)) return decide(attempt, pending, claimedAt);
    return pending.then(
      (outcome) => decide(attempt, outcome, claimedAt),
      (error: unknown) => claimFailed(attempt, error),
    );
  }

  /** Wait mode: sleeps and claims again until the key is free, recorded, or time is up. */
  async function keepWaiting(attempt: Attempt, first: KeepWaiting): Promise<IdempotencyStart> {
    let next: IdempotencyStart | KeepWaiting = first;
    while ('waitMs' in next) {
      try {
        await clock.sleep(next.waitMs, attempt.signal);
      } catch (reason) {
        throw new BallastError('ABORTED', {
          message: 'Stopped waiting for an in-flight idempotent request.',
          cause: reason,
        });
      }
      next = await claimOnce(attempt);
    }
    return next;
  }

  function start(
    request: IdempotencyRequest,
    callOptions?: IdempotencyCallOptions,
  ): Awaitable<IdempotencyStart> {
    const { scope, key, fingerprint: requestFingerprint } = checkRequest(request);
    const call = callOptions === undefined ? noCallOptions : checkCallOptions(callOptions);
    const wait = (call.wait as ResolvedWait | false | undefined) ?? parsed.wait;
    const startedAt = clock.now();
    const attempt: Attempt = {
      scope,
      key,
      fingerprint: requestFingerprint,
      ownerToken: createOwnerToken(),
      startedAt,
      deadline: wait === false ? startedAt : startedAt + wait.timeoutMs,
      wait,
      signal: call.signal,
    };
    const first = claimOnce(attempt);
    if (!isPromiseLike(first)) return 'waitMs' in first ? keepWaiting(attempt, first) : first;
    return first.then((decided) => ('waitMs' in decided ? keepWaiting(attempt, decided) : decided));
  }

  function begin(
    request: IdempotencyRequest,
    callOptions?: IdempotencyCallOptions,
  ): Promise<IdempotencyBegin> {
    return promiseFrom(() => start(request, callOptions));
  }

  async function run<T, R = T>(
    request: IdempotencyRequest,
    operation: (context: IdempotencyOperationContext) => Promise<T>,
    runOptions: IdempotencyRunOptions<T, R> = {},
  ): Promise<IdempotencyRunResult<T, R>> {
    const begun = await begin(request, runOptions);
    if (begun.outcome === 'replayed') return { outcome: 'replayed', result: begun.result as R };
    const { ticket } = begun;
    let result: T;
    let toRecord: R | T | undefined;
    try {
      result = await operation({
        // Lazy: most operations never look at the signal, and creating one has a cost.
        get signal() {
          return ticket.signal;
        },
        takeover: ticket.takeover,
      });
      toRecord = runOptions.record ? runOptions.record(result) : result;
    } catch (error) {
      await ticket.release('error');
      throw error;
    }
    if (toRecord === undefined) {
      await ticket.release('not-recorded');
      return { outcome: 'executed', result, recorded: false };
    }
    let recorded = false;
    try {
      recorded = await ticket.complete(toRecord);
    } catch {
      // The ticket logged the store failure. The operation's effect happened, so its result is
      // still returned; the key stays in flight until its lease ends.
    }
    return { outcome: 'executed', result, recorded };
  }

  async function check(): Promise<void> {
    if (typeof store.check !== 'function') return;
    try {
      await withinStoreTimeout(store.check(), clock, storeTimeoutMs, 'a readiness check');
    } catch (error) {
      const failure = toStoreFailure(error, storeTimeoutMs);
      if (isStoreNotMigrated(failure)) reportNotMigrated(failure, {});
      else logger.error({ err: error }, 'idempotency: the store is unavailable');
      throw failure;
    }
  }

  return { begin, run, check, leaseMs, ttlMs, [beginInSameTick]: start };
}
