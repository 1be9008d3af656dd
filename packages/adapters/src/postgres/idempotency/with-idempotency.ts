/**
 * Transaction-bound idempotency (seed 003: "idempotency belongs where state lives"). The key is
 * claimed, the caller's business writes run and the result is recorded in ONE transaction, so
 * the key and the effect commit together or roll back together: there is no window in which a
 * crash leaves the effect without the key (a duplicate would run it again) or the key without
 * the effect (a retry would replay a result that never happened).
 *
 * Concurrency comes from Postgres itself: a duplicate's INSERT waits on the first transaction's
 * uncommitted row, then replays its committed result, or claims the key if it rolled back.
 */
import {
  BallastError,
  type ClaimOutcome,
  type Clock,
  defaultIdempotencyScope,
  systemClock,
} from '@ballast/core';
import { isStorableText, parseOptions } from '@ballast/core/adapter-kit';
import { parseIdempotencyKey } from '@ballast/server';
import { isIdempotencyKeyHeldByMiddleware } from '@ballast/server/adapter-kit';
import type { Kysely, Transaction } from 'kysely';
import { z } from 'zod';
import { claimKey, completeKey } from './idempotency-statements.js';
import { toIdempotencyStoreError } from './idempotency-store-errors.js';
import {
  type IdempotencyTableOptions,
  idempotencyTableOptionsSchema,
  type ResolvedIdempotencyTable,
  resolveIdempotencyTable,
} from './idempotency-table.js';

/** Options for {@link withIdempotency}. */
export interface WithIdempotencyOptions extends IdempotencyTableOptions {
  /**
   * The idempotency key: the request's `Idempotency-Key` header value as received. Read exactly
   * as the middleware reads it (`parseIdempotencyKey` from `@ballast/server`), so `"abc"` and
   * `abc` are one key (1–255 printable ASCII characters).
   */
  key: string;
  /** Tenant or user the key belongs to, so two tenants' identical keys never collide. Default `'global'`, as in the engine. */
  scope?: string;
  /** Fingerprint of the request (see `fingerprint()` in `@ballast/core`); a key reused with another fingerprint is refused. */
  fingerprint: string;
  /** How long the recorded result is replayed, in ms. Default 24 h. */
  ttlMs?: number;
  /** Source of time for expiry. Default `systemClock`. */
  clock?: Clock;
}

/** What {@link withIdempotency} returns. */
export interface IdempotentOutcome<T> {
  /**
   * The operation's result. On a replay it is the recorded JSON form (a `Date` comes back as a
   * string), so return plain JSON data from the operation.
   */
  readonly result: T;
  /** `true` when the key had already been used and `result` is the recorded one. */
  readonly replayed: boolean;
}

const optionsSchema = idempotencyTableOptionsSchema.extend({
  // The key is read by parseIdempotencyKey, so the answer (IDEMPOTENCY_KEY_INVALID) and the key
  // itself are the same as the HTTP layer's.
  key: z.unknown(),
  scope: z
    .string()
    .min(1)
    .max(255)
    .refine(isStorableText, 'must not contain a NUL or an unpaired surrogate')
    .default(defaultIdempotencyScope),
  fingerprint: z.string().min(1).max(512),
  ttlMs: z
    .number()
    .int()
    .min(1)
    .default(24 * 60 * 60 * 1_000),
  clock: z
    .custom<Clock>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        typeof (value as Partial<Clock>).now === 'function',
      'must be a Clock',
    )
    .default(systemClock),
});

/**
 * Runs `operation` at most once per key: claims the key, runs the operation's writes on the same
 * transaction (`trx`) and records its result, all in one transaction.
 *
 * - First call: runs `operation`, commits its writes and the key together → `{ replayed: false }`.
 * - Later call with the same key and fingerprint: does not run `operation` → `{ replayed: true }`
 *   with the recorded result.
 * - A concurrent duplicate waits for the first transaction, then replays (or runs, if the first
 *   rolled back).
 * - `operation` throws: the transaction rolls back, so neither the key nor the writes remain,
 *   and a retry runs it again. The error propagates unchanged.
 * - The key was used with another fingerprint → `BallastError('IDEMPOTENCY_KEY_REUSED')` (422).
 * - The key is empty, over 255 characters or not printable ASCII →
 *   `BallastError('IDEMPOTENCY_KEY_INVALID')` (400).
 * - The key is held in flight by the non-transactional store (same table) →
 *   `BallastError('IDEMPOTENCY_IN_FLIGHT')` (409) with `details.retryAfterSeconds`.
 * - The database fails outside `operation` (cannot connect, restarted, commit failed) →
 *   `BallastError('IDEMPOTENCY_STORE_UNAVAILABLE')` (503); the table or a column is missing →
 *   `BallastError('IDEMPOTENCY_STORE_NOT_MIGRATED')` (500). The driver's error is the `cause`.
 *   Either way nothing committed, so a retry is safe. Errors thrown by `operation` itself
 *   (including its own driver errors) propagate unchanged.
 *
 * When `db` is already a transaction, the claim and the writes join it and the caller's commit or
 * rollback decides for both. Use READ COMMITTED (Postgres' default): under REPEATABLE READ a
 * duplicate gets a serialization failure instead of the replay.
 *
 * @example
 * ```ts
 * const { result, replayed } = await withIdempotency(
 *   db,
 *   { key: idempotencyKey, scope: tenantId, fingerprint: await fingerprint(request) },
 *   async (trx) =>
 *     trx.insertInto('sales').values(sale).returning(['id', 'total']).executeTakeFirstOrThrow(),
 * );
 * ```
 */
export async function withIdempotency<DB, T>(
  db: Kysely<DB>,
  options: WithIdempotencyOptions,
  operation: (trx: Transaction<DB>) => Promise<T>,
): Promise<IdempotentOutcome<T>> {
  const parsed = parseOptions(optionsSchema, options, 'withIdempotency()');
  const table = tableOf(parsed.tableName, parsed.schema);
  const { scope, fingerprint, ttlMs, clock } = parsed;
  const key = parseIdempotencyKey(parsed.key as string);

  // The operation's own failure propagates as it is; only Ballast's statements, BEGIN and
  // COMMIT are translated into store errors.
  let operationFailure: { error: unknown } | undefined;
  const body = async (trx: Transaction<DB>): Promise<IdempotentOutcome<T>> => {
    const now = clock.now();
    const ownerToken = globalThis.crypto.randomUUID();
    // The row never commits in flight (claim and completion share the transaction), so the lease
    // only matters to the non-transactional store sharing the table: give it the whole TTL.
    const outcome = await claimKey(trx, table, {
      scope,
      key,
      fingerprint,
      ownerToken,
      now,
      leaseExpiresAt: now + ttlMs,
      expiresAt: now + ttlMs,
    });
    if (outcome.kind !== 'claimed') {
      if (outcome.kind !== 'completed' && isIdempotencyKeyHeldByMiddleware(scope, key)) {
        throw nestedInMiddleware(scope);
      }
      return replayOrRefuse<T>(outcome, fingerprint, now);
    }
    let result: T;
    try {
      result = await operation(trx);
    } catch (error) {
      operationFailure = { error };
      throw error;
    }
    const completedAt = clock.now();
    const recorded = await completeKey(trx, table, {
      scope,
      key,
      ownerToken,
      result,
      now: completedAt,
      expiresAt: completedAt + ttlMs,
    });
    // Unreachable unless the row was changed inside our own transaction; failing keeps the
    // effect from committing without its key.
    if (!recorded) {
      throw new BallastError('INTERNAL', {
        message: `withIdempotency(): the key "${key}" changed inside its own transaction`,
      });
    }
    return { result, replayed: false };
  };

  try {
    if (db.isTransaction) return await body(db as Transaction<DB>);
    return await db.transaction().execute(body);
  } catch (error) {
    if (operationFailure !== undefined && operationFailure.error === error) throw error;
    throw toIdempotencyStoreError(error, table.tableName);
  }
}

// A table's identifiers and function names, built once per (schema, table) rather than on every
// call: a process names a handful of tables, so the map stays as small as its configuration.
const resolvedTables = new Map<string, ResolvedIdempotencyTable>();

function tableOf(tableName: string, schema: string | undefined): ResolvedIdempotencyTable {
  const id = `${schema ?? ''}.${tableName}`;
  let table = resolvedTables.get(id);
  if (table === undefined) {
    table = resolveIdempotencyTable({ tableName, schema });
    resolvedTables.set(id, table);
  }
  return table;
}

/**
 * The route is also behind the idempotency middleware on the same store, and the middleware's
 * claim holds this very key: waiting for it would wait on this request itself, and the 409 it
 * would answer would be recorded as the route's result. Refused, loudly, at the first request.
 */
function nestedInMiddleware(scope: string): BallastError {
  return new BallastError('INVALID_OPTIONS', {
    message:
      `withIdempotency(): the key (scope "${scope}") is held by the idempotency middleware guarding this same request. ` +
      'Use one of the two on a route: withIdempotency() for writes that must commit with their key, or the middleware alone.',
    details: { field: 'key' },
  });
}

function replayOrRefuse<T>(
  outcome: Exclude<ClaimOutcome, { kind: 'claimed' }>,
  fingerprint: string,
  now: number,
): IdempotentOutcome<T> {
  if (outcome.fingerprint !== fingerprint) throw new BallastError('IDEMPOTENCY_KEY_REUSED');
  if (outcome.kind === 'completed') return { result: outcome.result as T, replayed: true };
  throw new BallastError('IDEMPOTENCY_IN_FLIGHT', {
    details: { retryAfterSeconds: Math.max(1, Math.ceil((outcome.leaseExpiresAt - now) / 1_000)) },
  });
}
