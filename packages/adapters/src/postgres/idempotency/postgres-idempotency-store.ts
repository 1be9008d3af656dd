/**
 * `IdempotencyStore` on Postgres through Kysely. The table's primary key makes a claim atomic
 * across every process that shares the database, and completion is a compare-and-set on the
 * claimant's owner token, so a holder whose lease was taken over can never overwrite the new
 * holder's result. Times come from the engine's clock (the request's `now`), not from the
 * database's, so leases and expiry behave the same in every store and in tests.
 */
import type {
  ClaimOutcome,
  ClaimRequest,
  CompleteRequest,
  ExtendLeaseRequest,
  IdempotencyStore,
  ReleaseRequest,
} from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import type { QueryExecutorProvider } from 'kysely';
import { z } from 'zod';
import { kyselyExecutorSchema } from '../kysely-executor-schema.js';
import {
  checkIdempotencyTable,
  claimKey,
  completeKey,
  deleteExpiredKeys,
  extendKeyLease,
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
 * replay one.
 *
 * @example
 * ```ts
 * import { Kysely, PostgresDialect } from 'kysely';
 * import pg from 'pg';
 * import { PostgresIdempotencyStore, migrateIdempotency } from '@ballast/adapters/postgres';
 *
 * const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool() }) });
 * await migrateIdempotency(db);
 * const store = new PostgresIdempotencyStore({ db });
 * ```
 */
export class PostgresIdempotencyStore implements IdempotencyStore {
  readonly #db: QueryExecutorProvider;
  readonly #table: ResolvedIdempotencyTable;
  readonly #sweepBatchSize: number;

  constructor(options: PostgresIdempotencyStoreOptions) {
    const parsed = parseOptions(optionsSchema, options, 'new PostgresIdempotencyStore()');
    this.#db = parsed.db;
    this.#table = resolveIdempotencyTable(parsed);
    this.#sweepBatchSize = parsed.sweepBatchSize;
  }

  claim(request: ClaimRequest): Promise<ClaimOutcome> {
    return claimKey(this.#db, this.#table, request).catch(this.#fail);
  }

  complete(request: CompleteRequest): Promise<boolean> {
    // Encoded before any I/O, so a result JSON cannot encode throws at once (not retried).
    const resultJson = resultJsonOf(request);
    return completeKey(this.#db, this.#table, request, resultJson).catch(this.#fail);
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
