/**
 * The claim → run → record → replay cycle. Guarantees, for any number of processes sharing a
 * store: an operation runs at most once per (scope, key) while its record lives; a duplicate
 * gets the recorded result, or "in flight" (409) while the first runs, or "key reused" (422)
 * when its fingerprint differs; a holder that crashed stops blocking its key when its lease ends
 * (a lease much shorter than the record's TTL), and a holder that was taken over can never
 * overwrite the new holder's result (completion is fenced by an owner token).
 */

import { z } from 'zod';
import type { Clock } from '../clock/clock.js';
import { systemClock } from '../clock/system-clock.js';
import { BallastError } from '../errors/ballast-error.js';
import { type Logger, noopLogger } from '../logging/logger.js';
import { clockSchema, functionSchema } from '../options/option-schemas.js';
import { parseOptions } from '../options/parse-options.js';
import { type Awaitable, isPromiseLike, promiseFrom } from './awaitable.js';
import { ClaimTicket, type IdempotencyTicket, type TicketEnvironment } from './claim-ticket.js';
import type {
  IdempotencyEventHandlers,
  IdempotencyEventMap,
  IdempotencyEventName,
} from './idempotency-events.js';
import { defaultIdempotencyScope, validateIdempotencyKey } from './idempotency-key.js';
import type { ClaimOutcome, IdempotencyStore, RecordedResult } from './idempotency-store.js';
import { createOwnerTokenSource } from './owner-token.js';

/** Holding a duplicate until the first request finishes, instead of answering 409 at once. */
export interface IdempotencyWaitOptions {
  /** Longest a duplicate waits before it is refused as in flight. */
  timeoutMs: number;
  /** How often the store is asked again while waiting. Default `100`. */
  pollMs?: number;
}

/** Extending the lease of a long operation so it is not taken for a crashed one. */
export interface IdempotencyHeartbeatOptions {
  /** How often the lease is extended by `leaseMs`. Default `leaseMs / 3`. */
  intervalMs?: number;
  /**
   * Longest a holder keeps its key by heartbeat; past it the lease is left to run out, so a hung
   * operation cannot block its key for ever. Default `10 × leaseMs`; must be below `ttlMs`.
   */
  maxHoldMs?: number;
}

/** Options for {@link createIdempotency}. */
export interface IdempotencyOptions {
  /** Where keys live: `MemoryIdempotencyStore`, or the Postgres or Redis store for several processes. */
  store: IdempotencyStore;
  /** Source of time for leases, expiry and waiting. Default `systemClock`. */
  clock?: Clock;
  /**
   * How long a holder may run before its key can be taken over, in ms. Longer than your slowest
   * operation (or use `heartbeat`); it is also how long a crashed holder blocks its key.
   * Default `30_000` (seed 002 §4.1: writes time out after 15–30 s).
   */
  leaseMs?: number;
  /** How long a recorded result is replayed, in ms. Default 24 h (seed 002 §4.2). Must exceed `leaseMs`. */
  ttlMs?: number;
  /** Extend the lease while the operation runs. Default `false`. */
  heartbeat?: IdempotencyHeartbeatOptions | boolean;
  /** Hold duplicates until the first finishes (bounded). Default `false`: answer in flight at once. */
  wait?: IdempotencyWaitOptions | false;
  /**
   * Makes the owner token of each claim; tokens must be unique across every process sharing the
   * store. Default: a random 128-bit prefix per process followed by a counter.
   */
  createOwnerToken?: () => string;
  /** Receives takeovers, fencing and store failures. Default: discards. */
  logger?: Logger;
  /** Event handlers for metrics: `claim`, `takeover`, `replay`, `conflict`, `mismatch`, `record`, `release`, `fenced`. */
  on?: IdempotencyEventHandlers;
}

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

const positiveMs = z.number().int().min(1);
const waitSchema = z.object({
  timeoutMs: z.number().int().min(0),
  pollMs: positiveMs.default(100),
});

const optionsSchema = z
  .object({
    store: z.custom<IdempotencyStore>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        ['claim', 'complete', 'release', 'extendLease', 'deleteExpired'].every(
          (method) => typeof (value as Record<string, unknown>)[method] === 'function',
        ),
      {
        message:
          'expected an IdempotencyStore (claim, complete, release, extendLease, deleteExpired)',
      },
    ),
    clock: clockSchema.default(systemClock),
    leaseMs: positiveMs.default(30_000),
    ttlMs: positiveMs.default(24 * 60 * 60 * 1_000),
    heartbeat: z
      .union([
        z.boolean(),
        z.object({ intervalMs: positiveMs.optional(), maxHoldMs: positiveMs.optional() }),
      ])
      .default(false),
    wait: z.union([z.literal(false), waitSchema]).default(false),
    createOwnerToken: functionSchema<() => string>('a function returning a string').default(
      () => processOwnerTokens,
    ),
    logger: z
      .custom<Logger>(
        (value) =>
          typeof value === 'object' &&
          value !== null &&
          typeof (value as Logger).warn === 'function' &&
          typeof (value as Logger).error === 'function',
        { message: 'expected a Logger (debug, info, warn, error)' },
      )
      .default(noopLogger),
    on: z.record(z.string(), functionSchema('an event handler')).default({}),
  })
  .superRefine((options, context) => {
    if (options.ttlMs <= options.leaseMs) {
      context.addIssue({
        code: 'custom',
        path: ['ttlMs'],
        message: 'must be greater than leaseMs',
      });
    }
    if (options.heartbeat !== false) {
      const configured = options.heartbeat === true ? undefined : options.heartbeat.maxHoldMs;
      const maxHoldMs = configured ?? 10 * options.leaseMs;
      if (maxHoldMs >= options.ttlMs) {
        context.addIssue({
          code: 'custom',
          path: ['heartbeat', 'maxHoldMs'],
          message: 'must be less than ttlMs (default 10 × leaseMs)',
        });
      }
    }
  });

function invalidRequest(field: string, problem: string): BallastError {
  return new BallastError('INVALID_OPTIONS', {
    message: `Invalid options for idempotency.begin(): "${field}": ${problem}`,
    details: { field },
  });
}

// Checked by hand rather than with zod: this runs on every request, so it must cost nothing.
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

// One source per process: every engine in it draws from the same unique prefix.
const processOwnerTokens = createOwnerTokenSource();

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
  const parsed = parseOptions(optionsSchema, options, 'createIdempotency()');
  const { store, clock, leaseMs, ttlMs, logger, createOwnerToken } = parsed;
  const handlers = parsed.on as IdempotencyEventHandlers;
  const heartbeat =
    parsed.heartbeat === false
      ? false
      : {
          intervalMs:
            (parsed.heartbeat === true ? undefined : parsed.heartbeat.intervalMs) ??
            Math.max(1, Math.floor(leaseMs / 3)),
          maxHoldMs:
            (parsed.heartbeat === true ? undefined : parsed.heartbeat.maxHoldMs) ?? 10 * leaseMs,
        };

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
  const env: TicketEnvironment = { store, clock, logger, leaseMs, ttlMs, heartbeat, emit, listens };

  /** One begin call: the checked request and how long it may wait. */
  interface Attempt {
    readonly scope: string;
    readonly key: string;
    readonly fingerprint: string;
    readonly ownerToken: string;
    readonly startedAt: number;
    readonly deadline: number;
    readonly wait: z.output<typeof waitSchema> | false;
    readonly signal: AbortSignal | undefined;
  }

  /** Still in flight, with this long left to wait for it. */
  interface KeepWaiting {
    readonly waitMs: number;
  }

  function storeUnavailable(attempt: Attempt, error: unknown): BallastError {
    logger.error(
      { scope: attempt.scope, key: attempt.key, err: error },
      'idempotency: claiming the key failed',
    );
    // Refuse rather than run without the guard: running could execute a duplicate.
    return new BallastError('IDEMPOTENCY_STORE_UNAVAILABLE', { cause: error });
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
      pending = store.claim({
        scope: attempt.scope,
        key: attempt.key,
        fingerprint: attempt.fingerprint,
        ownerToken: attempt.ownerToken,
        now: claimedAt,
        leaseExpiresAt: claimedAt + leaseMs,
        expiresAt: claimedAt + ttlMs,
      });
    } catch (error) {
      throw storeUnavailable(attempt, error);
    }
    if (!isPromiseLike(pending)) return decide(attempt, pending, claimedAt);
    return pending.then(
      (outcome) => decide(attempt, outcome, claimedAt),
      (error: unknown) => {
        throw storeUnavailable(attempt, error);
      },
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
    const wait = (call.wait as z.output<typeof waitSchema> | false | undefined) ?? parsed.wait;
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

  return { begin, run, leaseMs, ttlMs, [beginInSameTick]: start };
}
