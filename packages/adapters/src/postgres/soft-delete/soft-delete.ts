/**
 * Soft deletes (seed 000 §3): a row is hidden by stamping `deleted_at` instead of being removed,
 * so a mistaken delete can be restored and references stay valid. The helpers keep the one rule
 * every query must follow (`deleted_at IS NULL`) in one place, and take the time from a `Clock`.
 */
import { BallastError, type Clock, systemClock } from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import { clockSchema } from '@ballast/server/adapter-kit';
import { type QueryExecutorProvider, type RawBuilder, type SqlBool, sql } from 'kysely';
import { z } from 'zod';
import { kyselyExecutorSchema } from '../kysely-executor-schema.js';

/** Options for {@link softDelete} and {@link restore}. */
export interface SoftDeleteOptions {
  /** The timestamp column. Default `'deleted_at'`. */
  readonly column?: string;
  /** The id column. Default `'id'`. */
  readonly idColumn?: string;
  /** Postgres schema of the table. Default: the connection's `search_path`. */
  readonly schema?: string;
  /** Source of the deletion time. Default `systemClock`. */
  readonly clock?: Clock;
}

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'expected a SQL identifier');
const optionsSchema = z.strictObject({
  db: kyselyExecutorSchema,
  table: identifier,
  id: z.union([z.string().min(1), z.number(), z.bigint()]),
  column: identifier.default('deleted_at'),
  idColumn: identifier.default('id'),
  schema: identifier.optional(),
  clock: clockSchema.default(systemClock),
});

/** A Kysely instance or transaction. */
type Db = QueryExecutorProvider;

async function stamp(
  where: string,
  deleting: boolean,
  db: Db,
  table: string,
  id: string | number | bigint,
  options: SoftDeleteOptions,
): Promise<boolean> {
  const parsed = parseOptions(optionsSchema, { db, table, id, ...options }, where);
  const target = parsed.schema ? sql.table(`${parsed.schema}.${table}`) : sql.table(table);
  const column = sql.ref(parsed.column);
  const value = deleting ? new Date(parsed.clock.now()) : null;
  const result = await sql`
    UPDATE ${target} SET ${column} = ${value}
    WHERE ${sql.ref(parsed.idColumn)} = ${parsed.id} AND ${column} IS ${deleting ? sql`NULL` : sql`NOT NULL`}`.execute(
    parsed.db,
  );
  if ((result.numAffectedRows ?? 0n) > 0n) return true;
  const exists =
    await sql`SELECT 1 FROM ${target} WHERE ${sql.ref(parsed.idColumn)} = ${parsed.id}`.execute(
      parsed.db,
    );
  if (exists.rows.length === 0) {
    throw new BallastError('NOT_FOUND', {
      message: `${table} ${String(parsed.id)} does not exist`,
    });
  }
  return false;
}

/**
 * Marks a row deleted (`deleted_at = now`). Resolves `true` when it was live, `false` when it was
 * already deleted (idempotent; the first deletion time is kept); `NOT_FOUND` when there is no
 * such row.
 *
 * @example
 * ```ts
 * await softDelete(db, 'invitations', invitationId, { clock });
 * ```
 */
export function softDelete(
  db: Db,
  table: string,
  id: string | number | bigint,
  options: SoftDeleteOptions = {},
): Promise<boolean> {
  return stamp('softDelete()', true, db, table, id, options);
}

/**
 * Undoes {@link softDelete} (`deleted_at = NULL`). Resolves `true` when the row was deleted,
 * `false` when it was live already; `NOT_FOUND` when there is no such row.
 */
export function restore(
  db: Db,
  table: string,
  id: string | number | bigint,
  options: Omit<SoftDeleteOptions, 'clock'> = {},
): Promise<boolean> {
  return stamp('restore()', false, db, table, id, options);
}

/**
 * The filter every read of a soft-deletable table needs: `deleted_at IS NULL`. Give the column
 * qualified (`'invitations.deleted_at'`) in a join.
 *
 * @example
 * ```ts
 * const live = await db.selectFrom('invitations').selectAll().where(whereNotDeleted()).execute();
 * ```
 */
export function whereNotDeleted(column = 'deleted_at'): RawBuilder<SqlBool> {
  if (
    typeof column !== 'string' ||
    !/^([A-Za-z_][A-Za-z0-9_$]{0,62}\.){0,2}[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(column)
  ) {
    throw new BallastError('INVALID_OPTIONS', {
      message: `Invalid options for whereNotDeleted(): "column": expected a (qualified) column name`,
      details: { field: 'column' },
    });
  }
  return sql<SqlBool>`${sql.ref(column)} IS NULL`;
}
