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
 * Configuration and its validation live in `idempotency-config.ts`; the request, result and
 * engine types in `idempotency-engine-types.ts`.
 */

import { BallastError } from '../errors/ballast-error.js';
import { type Logger, noopLogger } from '../logging/logger.js';
import { parseOptions } from '../options/parse-options.js';
import { type Awaitable, isPromiseLike, promiseFrom } from './awaitable.js';
import { ClaimTicket, type TicketEnvironment } from './claim-ticket.js';
import { checkCallOptions, checkRequest } from './idempotency-call-checks.js';
import {
  type IdempotencyOptions,
  idempotencyOptionsSchema,
  type ResolvedWait,
  resolveIdempotencyOptions,
} from './idempotency-config.js';
import {
  beginInSameTick,
  type IdempotencyBegin,
  type IdempotencyCallOptions,
  type IdempotencyEngine,
  type IdempotencyOperationContext,
  type IdempotencyRequest,
  type IdempotencyRunOptions,
  type IdempotencyRunResult,
} from './idempotency-engine-types.js';
import type { IdempotencyEventMap, IdempotencyEventName } from './idempotency-events.js';
import type { ClaimOutcome } from './idempotency-store.js';
import { isStoreNotMigrated, toStoreFailure, withinStoreTimeout } from './store-call.js';

const noCallOptions: IdempotencyCallOptions = {};

// A store that is not migrated never heals by itself, so it is reported even to an application
// that configured no logger (as express-rate-limit's `validate` does), at most once a minute.
const notMigratedReportIntervalMs = 60_000;
const consoleErrorLogger: Logger = {
  ...noopLogger,
  error: (fields, message) => console.error(`[ballast] ${message ?? ''}`, fields),
};

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
  function claimFailed(attempt: Attempt, error: unknown): IdempotencyBegin {
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
  ): IdempotencyBegin | KeepWaiting {
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

  /**
   * Claims once and decides, synchronously when the store answers synchronously. `claimedAt` is
   * given for the first attempt, which starts when the request does (one clock read fewer).
   */
  function claimOnce(
    attempt: Attempt,
    claimedAt: number = clock.now(),
  ): Awaitable<IdempotencyBegin | KeepWaiting> {
    let claiming: Awaitable<ClaimOutcome>;
    let pending: Awaitable<ClaimOutcome>;
    try {
      claiming = store.claim({
        scope: attempt.scope,
        key: attempt.key,
        fingerprint: attempt.fingerprint,
        ownerToken: attempt.ownerToken,
        now: claimedAt,
        leaseExpiresAt: claimedAt + leaseMs,
        expiresAt: claimedAt + ttlMs,
      });
      pending = withinStoreTimeout(claiming, clock, storeTimeoutMs, 'a claim');
    } catch (error) {
      return claimFailed(attempt, error);
    }
    if (!isPromiseLike(pending)) return decide(attempt, pending, claimedAt);
    const late = claiming as PromiseLike<ClaimOutcome>;
    return pending.then(
      (outcome) => decide(attempt, outcome, claimedAt),
      (error: unknown) => {
        giveBackIfItLands(attempt, late);
        return claimFailed(attempt, error);
      },
    );
  }

  /**
   * A claim the engine gave up on (timed out) can still land: a statement waiting on a row lock
   * commits once it gets it. Nobody holds that claim, so it is given back; otherwise the key
   * would stay in flight for a whole lease after the 503, and the client's retry would get 409.
   */
  function giveBackIfItLands(attempt: Attempt, claiming: PromiseLike<ClaimOutcome>): void {
    const { scope, key, ownerToken } = attempt;
    claiming.then(
      async (outcome) => {
        if (outcome.kind !== 'claimed') return;
        try {
          await store.release({ scope, key, ownerToken });
        } catch (error) {
          logger.warn(
            { scope, key, err: error },
            'idempotency: giving back a claim that landed after its timeout failed; the key stays in flight until its lease ends',
          );
        }
      },
      () => {
        // The claim failed: claimFailed has answered and logged it.
      },
    );
  }

  /** Wait mode: sleeps and claims again until the key is free, recorded, or time is up. */
  async function keepWaiting(attempt: Attempt, first: KeepWaiting): Promise<IdempotencyBegin> {
    let next: IdempotencyBegin | KeepWaiting = first;
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
  ): Awaitable<IdempotencyBegin> {
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
    const first = claimOnce(attempt, startedAt);
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
