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
  type ClaimRequest,
  type Clock,
  type CompleteRequest,
  defaultIdempotencyScope,
  systemClock,
} from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import { parseIdempotencyKey } from '@ballast/server';
import {
  checkIdempotencyScope,
  isIdempotencyKeyHeldByMiddleware,
} from '@ballast/server/adapter-kit';
import type { Kysely, Transaction } from 'kysely';
import { z } from 'zod';
import { runAgainAfterLostRaces } from '../lost-serialization-race.js';
import { runWithOneTripClaim, takeTwoStepPath } from './idempotency-one-trip.js';
import { claimKey, completeKey } from './idempotency-statements.js';
import { keyChangedInTransaction, toIdempotencyStoreError } from './idempotency-store-errors.js';
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
  // Its value usually comes from the request (a tenant header): checked below, answered 400.
  scope: z.string().default(defaultIdempotencyScope),
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
 *   `BallastError('IDEMPOTENCY_KEY_INVALID')` (400); the scope is empty, over 255 characters or
 *   holds a NUL → `BallastError('VALIDATION_FAILED')` (400, `details.field: 'scope'`), as the
 *   middleware answers the same values.
 * - The key is held in flight by the non-transactional store (same table) →
 *   `BallastError('IDEMPOTENCY_IN_FLIGHT')` (409) with `details.retryAfterSeconds`.
 * - The transaction loses a race to a concurrent one (SQLSTATE 40001 or 40P01, at REPEATABLE
 *   READ or SERIALIZABLE) → it is rolled back and run again, `operation` included, up to 3
 *   attempts in all; a concurrent duplicate then replays the winner's result. Still lost →
 *   `BallastError('TRANSACTION_CONFLICT')` (409, retryable, `details.retryAfterSeconds: 1`).
 * - The database fails outside `operation` (cannot connect, restarted, commit failed) →
 *   `BallastError('IDEMPOTENCY_STORE_UNAVAILABLE')` (503); the table or a column is missing →
 *   `BallastError('IDEMPOTENCY_STORE_NOT_MIGRATED')` (500). The driver's error is the `cause`.
 *   Either way nothing committed, so a retry is safe. Errors thrown by `operation` itself
 *   (including its own driver errors) propagate unchanged.
 *
 * Round trips: `BEGIN` goes in one message with the claim and the record with `COMMIT`, so the
 * call costs the operation's own transaction and no more (see idempotency-one-trip.ts). A claim
 * that finds the key answers through an error raised by its procedure, so each replay, reuse or
 * in-flight answer logs one `ERROR` line in the Postgres server log. Drivers that refuse several
 * commands in one message (PGlite), values that cannot be inlined safely and takeovers use a
 * plain `db.transaction()`, with the same answers.
 *
 * When `db` is already a transaction, the claim and the writes join it and the caller's commit or
 * rollback decides for both, so nothing is run again: a race lost by the claim or the completion
 * is `TRANSACTION_CONFLICT`, one lost by `operation` propagates unchanged (the server's error
 * handler answers it `TRANSACTION_CONFLICT` too).
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
  const { fingerprint, ttlMs, clock } = parsed;
  const scope = checkIdempotencyScope(parsed.scope);
  const key = parseIdempotencyKey(parsed.key as string);

  // The operation's own failure propagates as it is; only Ballast's statements, BEGIN and
  // COMMIT are translated into store errors.
  let operationFailure: { error: unknown } | undefined;
  const run = async (trx: Transaction<DB>): Promise<T> => {
    try {
      return await operation(trx);
    } catch (error) {
      operationFailure = { error };
      throw error;
    }
  };
  // The row never commits in flight (claim and completion share the transaction), so the lease
  // only matters to the non-transactional store sharing the table: give it the whole TTL.
  const claimRequest = (): ClaimRequest => {
    const now = clock.now();
    const ownerToken = globalThis.crypto.randomUUID();
    return {
      scope,
      key,
      fingerprint,
      ownerToken,
      now,
      leaseExpiresAt: now + ttlMs,
      expiresAt: now + ttlMs,
    };
  };
  const completion =
    (claim: ClaimRequest) =>
    (result: T): CompleteRequest => {
      const completedAt = clock.now();
      const { ownerToken } = claim;
      return { scope, key, ownerToken, result, now: completedAt, expiresAt: completedAt + ttlMs };
    };
  const answerExisting = (
    outcome: Exclude<ClaimOutcome, { kind: 'claimed' }>,
    claim: ClaimRequest,
  ): IdempotentOutcome<T> => {
    if (outcome.kind !== 'completed' && isIdempotencyKeyHeldByMiddleware(scope, key)) {
      throw nestedInMiddleware(scope);
    }
    return replayOrRefuse<T>(outcome, fingerprint, claim.now);
  };
  const body = async (trx: Transaction<DB>): Promise<IdempotentOutcome<T>> => {
    const claim = claimRequest();
    const outcome = await claimKey(trx, table, claim);
    if (outcome.kind !== 'claimed') return answerExisting(outcome, claim);
    const result = await run(trx);
    if (!(await completeKey(trx, table, completion(claim)(result)))) {
      throw keyChangedInTransaction(key);
    }
    return { result, replayed: false };
  };

  const inOwnTransaction = async (): Promise<IdempotentOutcome<T>> => {
    // BEGIN with the claim and the completion with COMMIT, where the driver and values allow.
    const claim = claimRequest();
    const answer = await runWithOneTripClaim(db, table, claim, run, completion(claim));
    if (answer !== takeTwoStepPath) {
      if (answer.kind === 'ran') return { result: answer.result, replayed: false };
      return answerExisting(answer.outcome, claim);
    }
    return await db.transaction().execute(body);
  };

  try {
    if (db.isTransaction) return await body(db as Transaction<DB>);
    // A transaction that lost a serialization race (REPEATABLE READ, SERIALIZABLE) was rolled
    // back whole, the operation's writes with it, so running it again is what Postgres asks
    // for: the rerun sees the winner's key and replays it, or runs on the winner's writes.
    return await runAgainAfterLostRaces('withIdempotency()', inOwnTransaction);
  } catch (error) {
    if (operationFailure !== undefined && operationFailure.error === error) throw error;
    throw toIdempotencyStoreError(error, table.tableName);
  }
}

// A table's identifiers and function names, built once per (schema, table) rather than on every
// call: a process names a handful of tables, so the map stays as small as its configuration.
// The table of the last call is checked first, without building the map's key: most processes
// name one table.
const resolvedTables = new Map<string, ResolvedIdempotencyTable>();
let lastTable: ResolvedIdempotencyTable | undefined;

function tableOf(tableName: string, schema: string | undefined): ResolvedIdempotencyTable {
  if (lastTable !== undefined && lastTable.tableName === tableName && lastTable.schema === schema) {
    return lastTable;
  }
  const id = `${schema ?? ''}.${tableName}`;
  let table = resolvedTables.get(id);
  if (table === undefined) {
    table = resolveIdempotencyTable({ tableName, schema });
    resolvedTables.set(id, table);
  }
  lastTable = table;
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
