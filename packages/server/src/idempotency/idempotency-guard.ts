/**
 * The HTTP semantics of idempotency, independent of any framework (draft-ietf-httpapi-
 * idempotency-key-header-06 §2.6 and §2.7): which requests need a key, what a missing or
 * malformed key, a duplicate in flight and a key reused for another payload answer (400, 409
 * with Retry-After, 422), which responses are recorded (2xx, 3xx and 4xx) and which release the
 * key so a retry runs again (5xx; 401, 403, 407, 408 and 429, which are not the operation's
 * result; responses too large to capture). Ballast's own refusals never touch the record, so a
 * correct retry can never be answered by a 409 or 422 that was stored over the original.
 *
 * Its one structural guarantee: nothing that runs after a claim can leave the key in flight.
 * Everything an adapter does with a claimed request runs inside `execution.run()`, which
 * releases the key when that path throws or rejects before the execution ended.
 *
 * The fetch middleware and the Express and Fastify adapters all decide through this guard; they
 * only translate requests and responses.
 */
import {
  BallastError,
  createIdempotency,
  type Idempotency,
  type IdempotencyOptions,
  isBallastError,
  type Logger,
  noopLogger,
} from '@ballast/core';
import {
  type Awaitable,
  beginInSameTick,
  type ClaimTicket,
  type IdempotencyStart,
  isPromiseLike,
  parseOptions,
} from '@ballast/core/adapter-kit';
import { z } from 'zod';
import { functionSchema } from '../options/index.js';
import { parseIdempotencyKey } from './idempotency-key-header.js';
import {
  defaultRecordedHeaders,
  isRecordedResponse,
  type RecordedResponse,
  type ResponseParts,
  recordableHeaderNames,
  recordResponseWith,
} from './recorded-response.js';

/** Options shared by every idempotency layer (fetch middleware, Express, Fastify). */
export interface IdempotencyGuardOptions extends IdempotencyOptions {
  /** Methods that are idempotent-keyed; others pass through untouched. Default `['POST', 'PATCH']`. */
  methods?: readonly string[];
  /** Response headers kept for replays (hop-by-hop never; `set-cookie` only if listed). Default `['content-type', 'location', 'etag']`. */
  recordHeaders?: readonly string[];
  /** Largest request body accepted on a keyed request; larger ones get 413 before the handler runs. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Largest response body recorded; a larger (streamed) response is sent but not recorded, and the key is released. Default 1 MiB. */
  maxResponseBytes?: number;
  /** Which statuses are recorded; the rest release the key. Default: `status < 500`. */
  shouldRecord?: (status: number) => boolean;
  /**
   * Statuses that are never recorded whatever `shouldRecord` says, because they answer who is
   * asking or how often, not what the operation did: a guessed key sent without credentials
   * must not lock the real user out with a stored 401. Default `[401, 403, 407, 408, 429]`.
   */
  releaseStatuses?: readonly number[];
  /**
   * Deepest nesting of arrays and objects accepted in a JSON body; deeper bodies are refused
   * with 400 `VALIDATION_FAILED` before the key is claimed. Default 256.
   */
  maxJsonDepth?: number;
  /** Locale of problem+json `detail` texts. Default `'en'`. */
  locale?: string;
}

/** One request as the guard needs it. Callbacks run only when the request carries a key. */
export interface IdempotencyGuardRequest {
  readonly method: string;
  /** The raw `Idempotency-Key` header value, or `null`/`undefined` when absent. */
  readonly idempotencyKey: string | null | undefined;
  /** Whether this route requires a key (missing → 400). */
  readonly required: boolean;
  /**
   * Tenant or user id the key belongs to. A value that is not a string of 1–255 characters is
   * refused with 400 `VALIDATION_FAILED` (`details.field: 'scope'`): it usually comes from the
   * client (a tenant header), so it is the client's error, not a misconfiguration.
   */
  readonly scope: () => Awaitable<string>;
  /** Reads the body (throw `PAYLOAD_TOO_LARGE` past `maxBodyBytes`) and fingerprints the request. */
  readonly fingerprint: () => Awaitable<string>;
  /** Aborts waiting (wait mode) when the client goes away. */
  readonly signal?: AbortSignal;
}

/** How a request that was allowed to run ended. */
export type ExecutionEnd = 'recorded' | 'released' | 'fenced' | 'unrecorded';

/** A request that holds its key: run the handler, then `finish` or `abandon`. */
export interface IdempotentExecution {
  readonly scope: string;
  readonly key: string;
  /** Aborted when the lease was lost to another holder (heartbeat mode). */
  readonly signal: AbortSignal;
  /** True once `finish` or `abandon` was called. */
  readonly settled: boolean;
  /**
   * Runs the rest of the request — handing it to the route, capturing the response — under the
   * guard's guarantee: if `path` throws, or the promise it returns rejects, while the execution
   * is not settled, the key is released (reason `'error'`) before the error propagates. Adapters
   * call it first thing on an `'execute'` decision, so no adapter code between the claim and the
   * end of the request can leave a key stuck in flight.
   */
  run<T>(path: () => T): T;
  /**
   * Records the response (when its status is to be recorded) or releases the key. Pass
   * `body: null` when the body could not be captured (streamed past `maxResponseBytes`): the key
   * is then released explicitly. Headers may be a `Headers` or the framework's plain header
   * record; a body given as text is recorded as its UTF-8 bytes. Never throws or rejects; a
   * store failure ends `'unrecorded'` (logged). Answers synchronously when the store does (the
   * memory store), so a framework hook can send the response in the same tick; otherwise a
   * promise.
   */
  finish(
    response: Omit<ResponseParts, 'body'> & { readonly body: Uint8Array | string | null },
  ): Awaitable<ExecutionEnd>;
  /**
   * Releases the key without a record (the handler threw, the client went away). Never throws
   * or rejects; synchronous when the store is.
   */
  abandon(reason: string): Awaitable<void>;
}

/** What to do with a request. */
export type IdempotencyDecision =
  /** Not an idempotent-keyed request: run the handler as if the guard were not there. */
  | { readonly kind: 'pass' }
  /** Refuse with this error (400, 409, 413, 422, 503) as problem+json. Nothing is recorded. */
  | { readonly kind: 'refuse'; readonly error: BallastError }
  /** Answer with the recorded response (add `Idempotent-Replayed: true`). */
  | { readonly kind: 'replay'; readonly recorded: RecordedResponse }
  /** Run the handler, then end the execution. */
  | { readonly kind: 'execute'; readonly execution: IdempotentExecution };

/** The framework-independent idempotency semantics. */
export interface IdempotencyGuard {
  /**
   * Decides what to do with one request. Answers synchronously when the request's `scope` and
   * `fingerprint` and the store all do (the memory store on Node), so a framework hook can go on
   * in the same tick; otherwise a promise. Throws or rejects only with errors that are not
   * Ballast's (a bug in `scope`).
   */
  begin(request: IdempotencyGuardRequest): Awaitable<IdempotencyDecision>;
  /** True when `method` is one of the keyed methods. */
  appliesTo(method: string): boolean;
  /** The engine underneath. */
  readonly engine: Idempotency;
  /** True when wait mode is on: adapters then pass a `signal` that aborts when the client leaves. */
  readonly waits: boolean;
  /** Resolved limits and locale, for adapters. */
  readonly maxBodyBytes: number;
  readonly maxResponseBytes: number;
  readonly maxJsonDepth: number;
  readonly locale: string;
  /**
   * The response headers a record keeps, lower-case and sorted (`recordHeaders` less
   * hop-by-hop ones). An adapter may hand `finish` just these and `content-type` instead of
   * every header.
   */
  readonly recordedHeaderNames: readonly string[];
}

const mebibyte = 1_048_576;

/** Statuses never recorded by default: authentication, authorisation, timeouts, rate limits. */
export const defaultReleaseStatuses: readonly number[] = [401, 403, 407, 408, 429];

/** Longest scope accepted, in characters (as the stores' scope column). */
const maxScopeLength = 255;

/**
 * The `scope` option every idempotency layer requires: a function of the request naming the
 * tenant or user the key belongs to, or the explicit string `'global'` to share every key
 * between all callers. There is deliberately no default: a silent global scope lets one tenant
 * replay another's response by sending its key.
 */
export const idempotencyScopeOptionSchema = z.custom<'global' | ((...args: never[]) => unknown)>(
  (value) => typeof value === 'function' || value === 'global',
  {
    message:
      "required: a function of the request returning the tenant or user id the key belongs to, or 'global' to share keys between all callers",
  },
);

/**
 * Keys held right now by a guard execution in this process, as `scope` + NUL + `key`. Lets
 * `withIdempotency()` recognise a route that is also behind the idempotency middleware on the
 * same store (it would otherwise wait on its own request's claim) and refuse the combination.
 */
const heldKeys = new Set<string>();

/**
 * True while a request holding `key` in `scope` is running in this process under an idempotency
 * middleware (fetch, Express or Fastify). For adapter authors: `withIdempotency()` uses it to
 * refuse being nested inside the middleware on one key.
 */
export function isIdempotencyKeyHeldByMiddleware(scope: string, key: string): boolean {
  return heldKeys.size > 0 && heldKeys.has(`${scope}\u0000${key}`);
}

const passThrough: IdempotencyDecision = { kind: 'pass' };

const guardSchema = z.strictObject({
  methods: z
    .array(z.string().regex(/^[A-Za-z]+$/))
    .min(1)
    .default(['POST', 'PATCH']),
  recordHeaders: z.array(z.string().min(1)).default([...defaultRecordedHeaders]),
  maxBodyBytes: z.number().int().min(0).default(mebibyte),
  maxResponseBytes: z.number().int().min(0).default(mebibyte),
  shouldRecord: functionSchema<(status: number) => boolean>('a function of the status').default(
    () => (status: number) => status < 500,
  ),
  releaseStatuses: z.array(z.number().int().min(100).max(599)).default([...defaultReleaseStatuses]),
  maxJsonDepth: z.number().int().min(1).max(10_000).default(256),
  locale: z.string().min(1).default('en'),
  logger: z
    .custom<Logger>((value) => typeof value === 'object' && value !== null)
    .default(noopLogger),
});

/** The options the guard itself reads (`logger` is shared with the engine). */
const httpOptionNames: ReadonlySet<string> = new Set(Object.keys(guardSchema.shape));

/** What the guard records, resolved once. */
interface RecordingRules {
  readonly shouldRecord: (status: number) => boolean;
  readonly releaseStatuses: ReadonlySet<number>;
  readonly recordable: ReadonlySet<string>;
}

/** An execution over an engine ticket. A class: one allocation per request, no closures. */
class TicketExecution implements IdempotentExecution {
  readonly #ticket: ClaimTicket;
  readonly #rules: RecordingRules;
  readonly #held: string;

  constructor(ticket: ClaimTicket, rules: RecordingRules) {
    this.#ticket = ticket;
    this.#rules = rules;
    this.#held = `${ticket.scope}\u0000${ticket.key}`;
    heldKeys.add(this.#held);
  }

  get scope(): string {
    return this.#ticket.scope;
  }

  get key(): string {
    return this.#ticket.key;
  }

  get signal(): AbortSignal {
    // The ticket creates its signal on first use, and most handlers never ask.
    return this.#ticket.signal;
  }

  get settled(): boolean {
    return this.#ticket.settled;
  }

  finish(
    response: Omit<ResponseParts, 'body'> & { readonly body: Uint8Array | string | null },
  ): Awaitable<ExecutionEnd> {
    const ticket = this.#ticket;
    heldKeys.delete(this.#held);
    if (ticket.settled) return 'unrecorded';
    const rules = this.#rules;
    if (rules.releaseStatuses.has(response.status) || !rules.shouldRecord(response.status)) {
      return whenReleased(ticket.releaseKey(`status ${response.status}`));
    }
    if (response.body === null) return whenReleased(ticket.releaseKey('uncapturable'));
    const recorded = recordResponseWith(
      { status: response.status, headers: response.headers, body: response.body },
      this.#rules.recordable,
    );
    let pending: Awaitable<boolean>;
    try {
      pending = ticket.recordResult(recorded);
    } catch {
      // The ticket logged the store failure; the response still goes to the client.
      return 'unrecorded';
    }
    if (!isPromiseLike(pending)) return pending ? 'recorded' : 'fenced';
    return pending.then(
      (completed) => (completed ? 'recorded' : 'fenced'),
      () => 'unrecorded',
    );
  }

  abandon(reason: string): Awaitable<void> {
    heldKeys.delete(this.#held);
    if (this.#ticket.settled) return;
    const released = this.#ticket.releaseKey(reason);
    if (isPromiseLike(released)) return released.then(() => undefined);
  }

  run<T>(path: () => T): T {
    let result: T;
    try {
      result = path();
    } catch (error) {
      // Released before the error goes on; a store that answers later still gets the release.
      void this.abandon('error');
      throw error;
    }
    if (!isPromiseLike(result)) return result;
    return (result as PromiseLike<unknown>).then(undefined, async (error: unknown) => {
      await this.abandon('error');
      throw error;
    }) as T;
  }
}

/**
 * The answer to a scope that is not a string of 1–255 characters. The scope usually comes from
 * the request (a tenant header, a claim in a token), so it is the client's error: 400, logged
 * for the operator, never a 500 "misconfigured".
 */
function invalidScope(scope: unknown, logger: Logger): BallastError {
  const reason =
    typeof scope !== 'string' ? 'not-a-string' : scope.length === 0 ? 'empty' : 'too-long';
  logger.warn({ reason }, 'idempotency: the request’s scope is not a string of 1–255 characters');
  return new BallastError('VALIDATION_FAILED', {
    message: `The request's idempotency scope is invalid (${reason}).`,
    details: { field: 'scope', reason, maxLength: maxScopeLength },
  });
}

/** `'released'`, once the release is done (it never fails: the ticket logs store failures). */
function whenReleased(released: Awaitable<boolean>): Awaitable<ExecutionEnd> {
  return isPromiseLike(released) ? released.then(() => 'released') : 'released';
}

/**
 * Creates the guard behind `idempotency()` and the Express/Fastify adapters. Use it directly to
 * support another framework.
 *
 * @example
 * ```ts
 * const guard = createIdempotencyGuard({ store });
 * const decision = await guard.begin({
 *   method, idempotencyKey: headers['idempotency-key'], required: true,
 *   scope: () => tenantId, fingerprint: () => fingerprintRequestParts({ method, path, json }),
 * });
 * ```
 */
export function createIdempotencyGuard(options: IdempotencyGuardOptions): IdempotencyGuard {
  // The HTTP options are the guard's; the rest (store, leases, events…) are the engine's.
  const httpInput: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options ?? {})) {
    (httpOptionNames.has(name) ? httpInput : rest)[name] = value;
  }
  const http = parseOptions(guardSchema, httpInput, 'idempotency()');
  const logger = options?.logger;
  const engine = createIdempotency({
    ...(rest as unknown as IdempotencyOptions),
    ...(logger ? { logger } : {}),
  });
  const keyedMethods = new Set(http.methods.map((method) => method.toUpperCase()));
  // Methods usually arrive upper-case already; only an unknown spelling is upper-cased.
  const appliesTo = (method: string) =>
    keyedMethods.has(method) || keyedMethods.has(method.toUpperCase());
  const recordable = recordableHeaderNames(http.recordHeaders);

  const recording: RecordingRules = {
    shouldRecord: http.shouldRecord,
    releaseStatuses: new Set(http.releaseStatuses),
    recordable,
  };

  /** The decision for what the engine answered. */
  function decide(begun: IdempotencyStart, scope: string, key: string): IdempotencyDecision {
    if (begun.outcome === 'claimed') {
      return { kind: 'execute', execution: new TicketExecution(begun.ticket, recording) };
    }
    if (!isRecordedResponse(begun.result)) {
      http.logger.error(
        { scope, key },
        'idempotency: the stored record is not a recorded response; refusing to replay it',
      );
      return { kind: 'refuse', error: new BallastError('IDEMPOTENCY_KEY_REUSED') };
    }
    return { kind: 'replay', recorded: begun.result };
  }

  /** Ballast's own errors become refusals; anything else is a bug and propagates. */
  function refusal(error: unknown): IdempotencyDecision {
    if (isBallastError(error)) return { kind: 'refuse', error };
    throw error;
  }

  function claim(
    request: IdempotencyGuardRequest,
    key: string,
    fingerprint: string,
    scope: unknown,
  ): Awaitable<IdempotencyDecision> {
    if (typeof scope !== 'string' || scope.length === 0 || scope.length > maxScopeLength) {
      return { kind: 'refuse', error: invalidScope(scope, http.logger) };
    }
    let begun: Awaitable<IdempotencyStart>;
    try {
      begun = engine[beginInSameTick](
        { scope, key, fingerprint },
        request.signal ? { signal: request.signal } : undefined,
      );
    } catch (error) {
      return refusal(error);
    }
    if (!isPromiseLike(begun)) return decide(begun, scope, key);
    return begun.then((started) => decide(started, scope, key), refusal);
  }

  function begin(request: IdempotencyGuardRequest): Awaitable<IdempotencyDecision> {
    if (!appliesTo(request.method)) return passThrough;
    const header = request.idempotencyKey;
    if (header === null || header === undefined) {
      if (!request.required) return passThrough;
      return {
        kind: 'refuse',
        error: new BallastError('IDEMPOTENCY_KEY_MISSING', {
          details: { header: 'Idempotency-Key' },
        }),
      };
    }
    try {
      const key = parseIdempotencyKey(header);
      const fingerprint = request.fingerprint();
      const scope = request.scope();
      // Adapters usually compute both synchronously; only what is asynchronous is awaited.
      if (typeof fingerprint === 'string' && typeof scope === 'string') {
        return claim(request, key, fingerprint, scope);
      }
      return Promise.all([fingerprint, scope]).then(
        ([computed, named]) => claim(request, key, computed, named),
        refusal,
      );
    } catch (error) {
      return refusal(error);
    }
  }

  return {
    begin,
    appliesTo,
    engine,
    waits: rest.wait !== undefined && rest.wait !== false,
    maxBodyBytes: http.maxBodyBytes,
    maxResponseBytes: http.maxResponseBytes,
    maxJsonDepth: http.maxJsonDepth,
    locale: http.locale,
    // Sorted: a record lists its headers in name order, so reading them in it appends.
    recordedHeaderNames: [...recordable].sort(),
  };
}
