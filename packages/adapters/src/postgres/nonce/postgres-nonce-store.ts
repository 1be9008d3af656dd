/**
 * `NonceStore` on Postgres through Kysely, for verifiers that already have a database and no
 * Redis. One statement per request: an insert that the primary key makes atomic (seed 003 §1,
 * "let the database resolve races"). A row whose nonce expired is taken over in the same
 * statement, so a stale row never blocks a nonce; `deleteExpired()` keeps the table small.
 */
import { BallastError, type Clock, type NonceStore, systemClock } from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import { clockSchema } from '@ballast/server/adapter-kit';
import { type QueryExecutorProvider, type RawBuilder, sql } from 'kysely';
import { z } from 'zod';
import { deleteInBatches } from '../delete-in-batches.js';
import { kyselyExecutorSchema } from '../kysely-executor-schema.js';
import { type NonceTableOptions, nonceTableOptionsSchema, nonceTableRef } from './nonce-table.js';

/** Options for {@link PostgresNonceStore}. */
export interface PostgresNonceStoreOptions extends NonceTableOptions {
  /** A Kysely instance on Postgres (`pg`, PGlite or any Postgres dialect), or a transaction. */
  db: QueryExecutorProvider;
  /** Source of time for expiry. Default `systemClock`. */
  clock?: Clock;
  /** Rows deleted per statement by {@link PostgresNonceStore.deleteExpired}. Default 1000. */
  sweepBatchSize?: number;
}

const optionsSchema = nonceTableOptionsSchema.extend({
  db: kyselyExecutorSchema,
  clock: clockSchema.default(systemClock),
  sweepBatchSize: z.number().int().min(1).max(100_000).default(1_000),
});

function storeUnavailable(error: unknown): BallastError {
  return new BallastError('UPSTREAM_ERROR', {
    message:
      'PostgresNonceStore: the database did not answer; the request is refused (fail closed)',
    cause: error,
  });
}

/**
 * Remembers nonces in a Postgres table (create it with `migrateNonces(db)` or
 * `nonceMigrationSql()`). A database that does not answer makes `checkAndStore` reject with
 * `UPSTREAM_ERROR`, so the verifier refuses the request.
 *
 * @example
 * ```ts
 * import { migrateNonces, PostgresNonceStore } from '@ballast/adapters/postgres';
 *
 * await migrateNonces(db);
 * const nonceStore = new PostgresNonceStore({ db });
 * setInterval(() => void nonceStore.deleteExpired(), 60_000).unref();
 * ```
 */
export class PostgresNonceStore implements NonceStore {
  readonly #db: QueryExecutorProvider;
  readonly #table: RawBuilder<unknown>;
  readonly #clock: Clock;
  readonly #sweepBatchSize: number;

  constructor(options: PostgresNonceStoreOptions) {
    const parsed = parseOptions(optionsSchema, options, 'new PostgresNonceStore()');
    this.#db = parsed.db;
    this.#table = nonceTableRef(parsed);
    this.#clock = parsed.clock;
    this.#sweepBatchSize = parsed.sweepBatchSize;
  }

  async checkAndStore(nonce: string, expiresAt: number): Promise<boolean> {
    const now = new Date(this.#clock.now());
    try {
      // A fresh nonce inserts; a known one whose expiry passed is taken over (the WHERE of the
      // update); a known unexpired one matches neither, and no row comes back: a replay.
      const { rows } = await sql<{ stored: number }>`
        INSERT INTO ${this.#table} AS t (nonce, expires_at)
        VALUES (${nonce}, ${new Date(expiresAt)})
        ON CONFLICT (nonce) DO UPDATE SET expires_at = EXCLUDED.expires_at
        WHERE t.expires_at < ${now}
        RETURNING 1 AS stored`.execute(this.#db);
      return rows.length === 1;
    } catch (error) {
      throw storeUnavailable(error);
    }
  }

  /**
   * Deletes nonces that expired before the clock's now, in batches; returns how many. Run it
   * periodically (a timer, a job): expired rows do no harm beyond taking space.
   */
  deleteExpired(): Promise<number> {
    return deleteInBatches(this.#db, {
      table: this.#table,
      keyColumns: ['nonce'],
      where: sql`expires_at < ${new Date(this.#clock.now())}`,
      batchSize: this.#sweepBatchSize,
    });
  }
}
