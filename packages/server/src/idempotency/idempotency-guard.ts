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
 * only translate requests and responses. Options and types live in `idempotency-guard-config.ts`.
 */
import {
  BallastError,
  createIdempotency,
  type IdempotencyBegin,
  type IdempotencyOptions,
  type IdempotencyTicket,
  isBallastError,
  type Logger,
} from '@ballast/core';
import {
  type Awaitable,
  beginInSameTick,
  isPromiseLike,
  parseOptions,
} from '@ballast/core/adapter-kit';
import {
  type ExecutionEnd,
  guardSchema,
  httpOptionNames,
  type IdempotencyDecision,
  type IdempotencyGuard,
  type IdempotencyGuardOptions,
  type IdempotencyGuardRequest,
  type IdempotentExecution,
} from './idempotency-guard-config.js';
import { parseIdempotencyKey } from './idempotency-key-header.js';
import { idempotencyScopeError } from './idempotency-scope.js';
import {
  isRecordedResponse,
  type ResponseParts,
  recordableHeaderNames,
  recordResponseWith,
} from './recorded-response.js';
import { recordedResponseJson } from './recorded-response-json.js';

/**
 * The executions holding a key right now in this process, in no particular order. Lets
 * `withIdempotency()` recognise a route that is also behind the idempotency middleware on the
 * same store (it would otherwise wait on its own request's claim) and refuse the combination.
 * A list rather than a set of `scope + key` strings: holding and letting go cost a push and a
 * pop, with no string built and hashed per request; only that rare question walks the list,
 * which holds just the requests in flight.
 */
const holders: TicketExecution[] = [];

/**
 * True while a request holding `key` in `scope` is running in this process under an idempotency
 * middleware (fetch, Express or Fastify). For adapter authors: `withIdempotency()` uses it to
 * refuse being nested inside the middleware on one key.
 */
export function isIdempotencyKeyHeldByMiddleware(scope: string, key: string): boolean {
  for (const holder of holders) {
    if (holder.key === key && holder.scope === scope) return true;
  }
  return false;
}

const passThrough: IdempotencyDecision = { kind: 'pass' };

// Equal to no scope a request can name: what the guard starts comparing scopes with.
const noScopeYet = Symbol('no scope checked yet');

/** What the guard records, resolved once. */
interface RecordingRules {
  readonly shouldRecord: (status: number) => boolean;
  readonly releaseStatuses: ReadonlySet<number>;
  readonly recordable: ReadonlySet<string>;
}

/** An execution over an engine ticket. A class: one allocation per request, no closures. */
class TicketExecution implements IdempotentExecution {
  readonly #ticket: IdempotencyTicket;
  readonly #rules: RecordingRules;
  // Where this execution sits in `holders`; -1 once it let go of its key.
  #holderIndex: number;

  constructor(ticket: IdempotencyTicket, rules: RecordingRules) {
    this.#ticket = ticket;
    this.#rules = rules;
    this.#holderIndex = holders.push(this) - 1;
  }

  /** Leaves `holders`, once: the last holder takes this one's place. */
  #letGo(): void {
    const index = this.#holderIndex;
    if (index < 0) return;
    this.#holderIndex = -1;
    const last = holders.pop() as TicketExecution;
    if (last !== this) {
      holders[index] = last;
      last.#holderIndex = index;
    }
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
    this.#letGo();
    if (ticket.settled) return 'unrecorded';
    const rules = this.#rules;
    if (rules.releaseStatuses.has(response.status) || !rules.shouldRecord(response.status)) {
      return whenReleased(ticket.release(`status ${response.status}`));
    }
    if (response.body === null) return whenReleased(ticket.release('uncapturable'));
    const recorded = recordResponseWith(
      { status: response.status, headers: response.headers, body: response.body },
      this.#rules.recordable,
    );
    let pending: Awaitable<boolean>;
    try {
      // With its JSON text, written here for a fraction of what the store's JSON.stringify costs.
      pending = ticket.complete(recorded, recordedResponseJson(recorded));
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
    this.#letGo();
    if (this.#ticket.settled) return;
    const released = this.#ticket.release(reason);
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

/** The 400 for a scope that breaks the rule, logged for the operator (the value is not logged). */
function invalidScope(scope: unknown, logger: Logger): BallastError {
  const error = idempotencyScopeError(scope) as BallastError;
  logger.warn(
    { reason: error.details.reason },
    'idempotency: the request’s scope is not a string of 1–255 characters without NUL or unpaired surrogates',
  );
  return error;
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
  function decide(begun: IdempotencyBegin, scope: string, key: string): IdempotencyDecision {
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

  // The scope last found valid: requests keep coming with one scope (or a few tenants'), so
  // comparing it usually spares checking it again.
  let lastValidScope: unknown = noScopeYet;

  /** True when `scope` is a string every store keeps as given; remembers the last one. */
  function isValidScope(scope: unknown): scope is string {
    if (scope === lastValidScope) return true;
    if (idempotencyScopeError(scope) !== undefined) return false;
    lastValidScope = scope;
    return true;
  }

  function claim(
    request: IdempotencyGuardRequest,
    key: string,
    fingerprint: string,
    scope: unknown,
  ): Awaitable<IdempotencyDecision> {
    if (!isValidScope(scope)) {
      return { kind: 'refuse', error: invalidScope(scope, http.logger) };
    }
    let begun: Awaitable<IdempotencyBegin>;
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
