/**
 * A health probe for Postgres through Kysely: `SELECT 1` on a pooled connection. Reaching the
 * server and getting an answer is what "up" means; the health module's timeout turns a server
 * that accepts and never answers into `down`.
 */
import { parseOptions } from '@ballast/core/adapter-kit';
import type { HealthProbe } from '@ballast/server';
import { type QueryExecutorProvider, sql } from 'kysely';
import { z } from 'zod';
import { kyselyExecutorSchema } from '../kysely-executor-schema.js';

const optionsSchema = z.strictObject({ db: kyselyExecutorSchema });

/**
 * A probe for `health({ checks: { db: postgresHealthCheck(db) } })`.
 *
 * @example
 * ```ts
 * app.use(expressHealth({ checks: { db: postgresHealthCheck(db) }, timeoutMs: 1_000 }));
 * ```
 */
export function postgresHealthCheck(db: QueryExecutorProvider): HealthProbe {
  const parsed = parseOptions(optionsSchema, { db }, 'postgresHealthCheck()');
  return async () => {
    await sql`SELECT 1`.execute(parsed.db);
  };
}
