/**
 * `IdempotencyStore` on Postgres through Kysely. The table's primary key makes a claim atomic
 * across every process that shares the database, and completion is a compare-and-set on the
 * claimant's owner token, so a holder whose lease was taken over can never overwrite the new
 * holder's result. Times come from the engine's clock (the request's `now`), not from the
 * database's, so leases and expiry behave the same in every store and in tests.
 */
import {
  BallastError,
  type ClaimOutcome,
  type ClaimRequest,
  type CompleteRequest,
  type ExtendLeaseRequest,
  type IdempotencyStore,
  type ReleaseRequest,
} from '@ballast/core';
import { isStorableText, parseOptions } from '@ballast/core/adapter-kit';
import type { QueryExecutorProvider } from 'kysely';
import { z } from 'zod';
import { kyselyExecutorSchema } from '../kysely-executor-schema.js';
import {
  type CompletionItem,
  checkIdempotencyTable,
  claimKey,
  claimRowsInBatch,
  completeKey,
  completeKeysInBatch,
  deleteExpiredKeys,
  extendKeyLease,
  type KeyRow,
  releaseKey,
  resultJsonOf,
} from './idempotency-statements.js';
import { toIdempotencyStoreError } from './idempotency-store-errors.js';
import {
  type IdempotencyTableOptions,
  idempotencyTableOptionsSchema,
  type ResolvedIdempotencyTable,
  resolveIdempotencyTable,
} from './idempotency-table.js';
import { StatementBatcher } from './statement-batcher.js';

// Batches of claims (and of completions) running at once, each on one pooled connection, and
// the most calls one statement carries. Two keep an idle store's calls unqueued and leave the
// pool to the handlers' own transactions under load.
const batchesInFlight = 2;
const maxBatchSize = 64;

/** The engine refuses such a request before any claim; this answers a direct caller alike. */
function unstorableClaim(request: ClaimRequest): BallastError {
  const field = isStorableText(request.scope) ? 'fingerprint' : 'scope';
  return new BallastError('INVALID_OPTIONS', {
    message: `Invalid options for PostgresIdempotencyStore.claim(): "${field}": contains a NUL or an unpaired surrogate`,
    details: { field },
  });
}

/** Options for {@link PostgresIdempotencyStore}. */
export interface PostgresIdempotencyStoreOptions extends IdempotencyTableOptions {
  /**
   * A Kysely instance on Postgres (`pg`, PGlite or any Postgres dialect). Its database type does
   * not matter: the store issues its own SQL. A transaction (`trx`) works too, and binds the
   * store to it.
   */
  db: QueryExecutorProvider;
  /** Rows deleted per statement by {@link PostgresIdempotencyStore.deleteExpired}. Default 1000. */
  sweepBatchSize?: number;
}

const optionsSchema = idempotencyTableOptionsSchema.extend({
  db: kyselyExecutorSchema,
  sweepBatchSize: z.number().int().min(1).max(100_000).default(1_000),
});

/**
 * Idempotency keys in a Postgres table (create it with `migrateIdempotency(db)` or
 * `idempotencyMigrationSql()`). A first execution costs two statements (claim, complete) and a
 * replay one; under load, concurrent claims (and completions) share one statement and one
 * commit, each with the outcome it would have had alone.
 *
 * @example
 * ```ts
 * import { Kysely, PostgresDialect } from 'kysely';
 * import pg from 'pg';
 * import {
 *   guardPostgresPool,
 *   migrateIdempotency,
 *   PostgresIdempotencyStore,
 * } from '@ballast/adapters/postgres';
 *
 * const pool = guardPostgresPool(new pg.Pool({ connectionString: process.env.DATABASE_URL }));
 * const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
 * await migrateIdempotency(db);
 * const store = new PostgresIdempotencyStore({ db });
 * ```
 */
export class PostgresIdempotencyStore implements IdempotencyStore {
  readonly #db: QueryExecutorProvider;
  readonly #table: ResolvedIdempotencyTable;
  readonly #sweepBatchSize: number;
  // Concurrent claims and completions share statements (group commit, see
  // statement-batcher.ts); not when the store is bound to a transaction, whose statements run
  // one at a time on its connection anyway.
  readonly #claims: StatementBatcher<ClaimRequest, KeyRow | undefined> | undefined;
  readonly #completions: StatementBatcher<CompletionItem, boolean> | undefined;

  constructor(options: PostgresIdempotencyStoreOptions) {
    const parsed = parseOptions(optionsSchema, options, 'new PostgresIdempotencyStore()');
    this.#db = parsed.db;
    this.#table = resolveIdempotencyTable(parsed);
    this.#sweepBatchSize = parsed.sweepBatchSize;
    const db = parsed.db;
    const table = this.#table;
    if ((db as { isTransaction?: unknown }).isTransaction !== true) {
      this.#claims = new StatementBatcher(
        (requests) => claimRowsInBatch(db, table, requests),
        batchesInFlight,
        maxBatchSize,
      );
      this.#completions = new StatementBatcher(
        (items) => completeKeysInBatch(db, table, items),
        batchesInFlight,
        maxBatchSize,
      );
    }
  }

  claim(request: ClaimRequest): Promise<ClaimOutcome> {
    // Text Postgres refuses would fail the whole batch it joined: refused here, alone.
    if (!isStorableText(request.scope) || !isStorableText(request.fingerprint)) {
      return Promise.reject(unstorableClaim(request));
    }
    const claims = this.#claims;
    const firstRound = claims && ((first: ClaimRequest) => claims.submit(first));
    return claimKey(this.#db, this.#table, request, firstRound).catch(this.#fail);
  }

  complete(request: CompleteRequest): Promise<boolean> {
    // Encoded before any I/O, so a result JSON cannot encode throws at once (not retried).
    const result = resultJsonOf(request);
    const completed = this.#completions
      ? this.#completions.submit({ request, result })
      : completeKey(this.#db, this.#table, request, result);
    return completed.catch(this.#fail);
  }

  release(request: ReleaseRequest): Promise<boolean> {
    return releaseKey(this.#db, this.#table, request).catch(this.#fail);
  }

  extendLease(request: ExtendLeaseRequest): Promise<boolean> {
    return extendKeyLease(this.#db, this.#table, request).catch(this.#fail);
  }

  /** Deletes records past their expiry, in batches; run it from a periodic job. */
  deleteExpired(now: number): Promise<number> {
    return deleteExpiredKeys(this.#db, this.#table, now, this.#sweepBatchSize).catch(this.#fail);
  }

  /**
   * Resolves when the database answers and the table has every column the store uses. Rejects
   * with `IDEMPOTENCY_STORE_NOT_MIGRATED` (run `migrateIdempotency`) or
   * `IDEMPOTENCY_STORE_UNAVAILABLE`. Call it at start-up, or through the engine's `check()`.
   */
  check(): Promise<void> {
    return checkIdempotencyTable(this.#db, this.#table).catch(this.#fail);
  }

  readonly #fail = (error: unknown): never => {
    throw toIdempotencyStoreError(error, this.#table.tableName);
  };
}
