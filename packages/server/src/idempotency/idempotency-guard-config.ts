/**
 * What the idempotency guard takes and gives, apart from its behaviour (kysely's `*-config.ts`
 * pattern): the options every idempotency layer shares and their validation, the request an
 * adapter hands the guard, and the decision and execution it gets back. The behaviour is in
 * `idempotency-guard.ts`.
 */
import type { BallastError, Idempotency, IdempotencyOptions, Logger } from '@ballast/core';
import { noopLogger } from '@ballast/core';
import type { Awaitable } from '@ballast/core/adapter-kit';
import { z } from 'zod';
import { functionSchema } from '../options/index.js';
import {
  defaultRecordedHeaders,
  type RecordedResponse,
  type ResponseParts,
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
 * The guard's own options, validated once per guard.
 *
 * @internal
 */
export const guardSchema = z.strictObject({
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
export const httpOptionNames: ReadonlySet<string> = new Set(Object.keys(guardSchema.shape));
