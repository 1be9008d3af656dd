/**
 * The HTTP semantics of idempotency, independent of any framework (draft-ietf-httpapi-
 * idempotency-key-header-06 §2.6 and §2.7): which requests need a key, what a missing or
 * malformed key, a duplicate in flight and a key reused for another payload answer (400, 409
 * with Retry-After, 422), which responses are recorded (2xx, 3xx and 4xx) and which release the
 * key so a retry runs again (5xx, thrown errors, responses too large to capture). Ballast's own
 * refusals never touch the record, so a correct retry can never be answered by a 409 or 422
 * that was stored over the original.
 *
 * The fetch middleware and the Express and Fastify adapters all decide through this guard; they
 * only translate requests and responses.
 */
import {
  BallastError,
  createIdempotency,
  functionSchema,
  type Idempotency,
  type IdempotencyOptions,
  type IdempotencyTicket,
  isBallastError,
  type Logger,
  noopLogger,
  parseOptions,
} from '@ballast/core';
import { z } from 'zod';
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
  /** Tenant or user id the key belongs to. */
  readonly scope: () => string | Promise<string>;
  /** Reads the body (throw `PAYLOAD_TOO_LARGE` past `maxBodyBytes`) and fingerprints the request. */
  readonly fingerprint: () => string | Promise<string>;
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
   * Records the response (when its status is to be recorded) or releases the key. Pass
   * `body: null` when the body could not be captured (streamed past `maxResponseBytes`): the key
   * is then released explicitly. Headers may be a `Headers` or the framework's plain header
   * record; a body given as text is recorded as its UTF-8 bytes. Never rejects; a store failure
   * resolves `'unrecorded'` (logged).
   */
  finish(
    response: Omit<ResponseParts, 'body'> & { readonly body: Uint8Array | string | null },
  ): Promise<ExecutionEnd>;
  /** Releases the key without a record (the handler threw, the client went away). */
  abandon(reason: string): Promise<void>;
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
  /** Decides what to do with one request. Rejects only with errors that are not Ballast's (a bug in `scope`). */
  begin(request: IdempotencyGuardRequest): Promise<IdempotencyDecision>;
  /** True when `method` is one of the keyed methods. */
  appliesTo(method: string): boolean;
  /** The engine underneath. */
  readonly engine: Idempotency;
  /** True when wait mode is on: adapters then pass a `signal` that aborts when the client leaves. */
  readonly waits: boolean;
  /** Resolved limits and locale, for adapters. */
  readonly maxBodyBytes: number;
  readonly maxResponseBytes: number;
  readonly locale: string;
}

const mebibyte = 1_048_576;

const guardSchema = z.object({
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
  locale: z.string().min(1).default('en'),
  logger: z
    .custom<Logger>((value) => typeof value === 'object' && value !== null)
    .default(noopLogger),
});

/** What the guard records, resolved once. */
interface RecordingRules {
  readonly shouldRecord: (status: number) => boolean;
  readonly recordable: ReadonlySet<string>;
}

/** An execution over an engine ticket. A class: one allocation per request, no closures. */
class TicketExecution implements IdempotentExecution {
  readonly #ticket: IdempotencyTicket;
  readonly #rules: RecordingRules;

  constructor(ticket: IdempotencyTicket, rules: RecordingRules) {
    this.#ticket = ticket;
    this.#rules = rules;
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

  async finish(
    response: Omit<ResponseParts, 'body'> & { readonly body: Uint8Array | string | null },
  ): Promise<ExecutionEnd> {
    const ticket = this.#ticket;
    if (ticket.settled) return 'unrecorded';
    if (!this.#rules.shouldRecord(response.status)) {
      await ticket.release(`status ${response.status}`);
      return 'released';
    }
    if (response.body === null) {
      await ticket.release('uncapturable');
      return 'released';
    }
    const recorded = recordResponseWith(
      { status: response.status, headers: response.headers, body: response.body },
      this.#rules.recordable,
    );
    try {
      return (await ticket.complete(recorded)) ? 'recorded' : 'fenced';
    } catch {
      // The ticket logged the store failure; the response still goes to the client.
      return 'unrecorded';
    }
  }

  async abandon(reason: string): Promise<void> {
    await this.#ticket.release(reason);
  }
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
  const {
    methods,
    recordHeaders,
    maxBodyBytes,
    maxResponseBytes,
    shouldRecord,
    locale,
    logger,
    ...rest
  } = options;
  const http = parseOptions(
    guardSchema,
    { methods, recordHeaders, maxBodyBytes, maxResponseBytes, shouldRecord, locale, logger },
    'idempotency()',
  );
  const engine = createIdempotency({ ...rest, ...(logger ? { logger } : {}) });
  const keyedMethods = new Set(http.methods.map((method) => method.toUpperCase()));
  // Methods usually arrive upper-case already; only an unknown spelling is upper-cased.
  const appliesTo = (method: string) =>
    keyedMethods.has(method) || keyedMethods.has(method.toUpperCase());
  const recordable = recordableHeaderNames(http.recordHeaders);

  const recording: RecordingRules = { shouldRecord: http.shouldRecord, recordable };

  async function begin(request: IdempotencyGuardRequest): Promise<IdempotencyDecision> {
    if (!appliesTo(request.method)) return { kind: 'pass' };
    const header = request.idempotencyKey;
    if (header === null || header === undefined) {
      if (!request.required) return { kind: 'pass' };
      return {
        kind: 'refuse',
        error: new BallastError('IDEMPOTENCY_KEY_MISSING', {
          details: { header: 'Idempotency-Key' },
        }),
      };
    }
    try {
      const key = parseIdempotencyKey(header);
      // Awaited only when asynchronous: adapters usually compute both synchronously.
      const computed = request.fingerprint();
      const fingerprint = typeof computed === 'string' ? computed : await computed;
      const named = request.scope();
      const scope = typeof named === 'string' ? named : await named;
      const begun = await engine.begin(
        { scope, key, fingerprint },
        request.signal ? { signal: request.signal } : undefined,
      );
      if (begun.outcome === 'claimed')
        return { kind: 'execute', execution: new TicketExecution(begun.ticket, recording) };
      if (!isRecordedResponse(begun.result)) {
        http.logger.error(
          { scope, key },
          'idempotency: the stored record is not a recorded response; refusing to replay it',
        );
        return { kind: 'refuse', error: new BallastError('IDEMPOTENCY_KEY_REUSED') };
      }
      return { kind: 'replay', recorded: begun.result };
    } catch (error) {
      if (isBallastError(error)) return { kind: 'refuse', error };
      throw error;
    }
  }

  return {
    begin,
    appliesTo,
    engine,
    waits: rest.wait !== undefined && rest.wait !== false,
    maxBodyBytes: http.maxBodyBytes,
    maxResponseBytes: http.maxResponseBytes,
    locale: http.locale,
  };
}
