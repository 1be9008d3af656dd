/**
 * Keeps a database restart from ending the process. node-postgres emits `'error'` on a client
 * whose connection the server terminated (`57P01 terminating connection due to administrator
 * command`); a client checked out of a pool (by Kysely, for a query or a transaction) has no
 * listener, so Node turns that event into an `uncaughtException` and the process exits.
 * `pool.on('error')` only covers idle clients. This guard listens on the pool and on every
 * client it connects; the query or transaction that was running still fails with its own
 * error (and Ballast's stores answer it as `IDEMPOTENCY_STORE_UNAVAILABLE`), the broken client
 * is discarded by the pool, and the next query connects again.
 */
import { type Logger, noopLogger } from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import { loggerSchema } from '@ballast/server/adapter-kit';
import { z } from 'zod';

/** The part of a node-postgres client the guard uses. */
export interface GuardablePostgresClient {
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** The part of a node-postgres `Pool` (`pg.Pool`) the guard uses. */
export interface GuardablePostgresPool {
  on(event: 'error', listener: (error: Error, client: GuardablePostgresClient) => void): unknown;
  on(event: 'connect', listener: (client: GuardablePostgresClient) => void): unknown;
}

/** Options for {@link guardPostgresPool}. */
export interface GuardPostgresPoolOptions {
  /** Receives each connection error at `warn` level. Default: discards. */
  logger?: Logger;
}

const optionsSchema = z.strictObject({ logger: loggerSchema.default(noopLogger) });

const guarded = Symbol.for('@ballast/adapters/postgres/guarded-pool');

/**
 * Attaches error listeners to a `pg.Pool` and to every client it connects, so a Postgres
 * restart fails the queries that were running instead of crashing the process. Returns the same
 * pool; guarding a pool twice is harmless. Guard the pool before its first query: clients
 * connected earlier are not covered.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { Kysely, PostgresDialect } from 'kysely';
 * import { guardPostgresPool } from '@ballast/adapters/postgres';
 *
 * const pool = guardPostgresPool(new pg.Pool({ connectionString: process.env.DATABASE_URL }), {
 *   logger,
 * });
 * const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
 * ```
 */
export function guardPostgresPool<Pool extends GuardablePostgresPool>(
  pool: Pool,
  options: GuardPostgresPoolOptions = {},
): Pool {
  if (
    typeof pool !== 'object' ||
    pool === null ||
    typeof (pool as Partial<GuardablePostgresPool>).on !== 'function'
  ) {
    parseOptions(
      z.strictObject({ pool: z.custom(() => false, { message: 'expected a pg.Pool' }) }),
      { pool },
      'guardPostgresPool()',
    );
  }
  const { logger } = parseOptions(optionsSchema, options, 'guardPostgresPool()');
  const marked = pool as Pool & { [guarded]?: true };
  if (marked[guarded]) return pool;
  Object.defineProperty(marked, guarded, { value: true });
  pool.on('error', (error: Error) => {
    // An idle client lost its connection; the pool drops it and connects anew when needed.
    logger.warn(
      { err: error, code: (error as { code?: unknown }).code },
      'postgres: an idle pooled connection failed; it is discarded',
    );
  });
  pool.on('connect', (client: GuardablePostgresClient) => {
    client.on('error', (error: Error) => {
      // The query running on this client rejects with its own error; this listener only keeps
      // the event from becoming an uncaught exception.
      logger.warn(
        { err: error, code: (error as { code?: unknown }).code },
        'postgres: a connection in use failed (e.g. the server restarted); its query fails and the client is discarded',
      );
    });
  });
  return pool;
}
