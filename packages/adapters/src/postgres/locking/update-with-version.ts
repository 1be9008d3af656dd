/**
 * Optimistic locking on Postgres in ONE statement: the row is updated only if it still has the
 * version the client read, and its version is incremented by the same UPDATE, so two concurrent
 * edits can never both win and neither is silently lost. When nothing was updated, the same
 * statement tells "no such row" (`NOT_FOUND`) from "someone else won" (`VERSION_CONFLICT` with
 * the winner's version): a `FOR SHARE` read in the statement waits for a concurrent writer and,
 * under READ COMMITTED, sees the version it committed, not the statement's older snapshot.
 *
 * ```sql
 * WITH updated AS (UPDATE t SET …, version = version + 1 WHERE id = $1 AND version = $2 RETURNING *),
 *      current AS (SELECT version FROM t WHERE id = $1 AND NOT EXISTS (SELECT FROM updated) FOR SHARE)
 * SELECT updated.*, (SELECT version FROM current) AS current_version FROM (SELECT 1) one LEFT JOIN updated ON true
 * ```
 */
import { BallastError, VersionConflictError } from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import { type QueryExecutorProvider, sql } from 'kysely';
import { z } from 'zod';
import { kyselyExecutorSchema } from '../kysely-executor-schema.js';
import {
  isLostSerializationRace,
  runAgainAfterLostRaces,
  transactionConflict,
} from '../lost-serialization-race.js';

/** Which row, and the version the write expects it to have (`'*'`: any, explicitly). */
export interface VersionedRowKey {
  /** The row's id (the `idColumn` value). */
  readonly id: string | number | bigint;
  /**
   * The version the client read (from `If-Match` or the request body). `'*'` updates whatever the
   * current version is, still incrementing it: last-write-wins, only when asked for.
   */
  readonly version: number | '*';
}

/** Options for {@link updateWithVersion}. */
export interface UpdateWithVersionOptions {
  /** The id column. Default `'id'`. */
  readonly idColumn?: string;
  /** The integer version column. Default `'version'`. */
  readonly versionColumn?: string;
  /** Postgres schema of the table. Default: the connection's `search_path`. */
  readonly schema?: string;
  /**
   * Put the current row (as JSON) on the conflict (`current`), so the client can merge without a
   * reload. Only for tables whose every column is safe to show the client. Default `false`.
   */
  readonly includeCurrent?: boolean;
}

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'expected a SQL identifier');
const optionsSchema = z.strictObject({
  db: kyselyExecutorSchema,
  table: identifier,
  key: z.strictObject({
    id: z.union([z.string().min(1), z.number(), z.bigint()]),
    version: z.union([
      // Any safe integer: it usually comes from a client (If-Match), and one past the column's
      // range is simply not the row's version (a conflict), not a server error.
      z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
      z.literal('*'),
    ]),
  }),
  changes: z
    .record(z.string(), z.unknown())
    // As Kysely's set(): an undefined value is a field the caller did not set, not NULL (which is
    // what node-postgres would send), so a PATCH that omits a field keeps it.
    .transform((changes) =>
      Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)),
    )
    .refine(
      (changes) => Object.keys(changes).length > 0,
      'expected at least one column to change (undefined values are skipped)',
    ),
  idColumn: identifier.default('id'),
  versionColumn: identifier.default('version'),
  schema: identifier.optional(),
  includeCurrent: z.boolean().default(false),
});

/**
 * Updates one row if its version is still `key.version`, setting `changes` and `version + 1` in
 * one SQL statement. Resolves with the updated row (its new version included). A column whose
 * value is `undefined` is left as it is, as Kysely's `set()` does (write `null` to clear it).
 *
 * Throws `VersionConflictError` (409, `currentVersion`: the winner's) when the row has another
 * version, `NOT_FOUND` (404) when there is no such row, `INVALID_OPTIONS` when `changes`
 * names the id or version column (the statement owns those) or a column that is not an identifier.
 *
 * At REPEATABLE READ or SERIALIZABLE a concurrent writer of the row makes Postgres fail the
 * statement (SQLSTATE 40001; 40P01 for a deadlock). On a `Kysely` instance the statement is its
 * own transaction, so it runs again (up to 3 attempts) and answers as at READ COMMITTED, usually
 * `VERSION_CONFLICT`; inside the caller's transaction, which Postgres has aborted, it throws
 * `TRANSACTION_CONFLICT` (409, retryable, `details.retryAfterSeconds: 1`) for the caller to
 * retry the whole transaction or answer.
 *
 * @example
 * ```ts
 * const sale = await updateWithVersion(db, 'sales', { id: 7, version: 3 }, { quantity: 2 });
 * res.set('ETag', versionETag(sale.version)).json(sale);
 * ```
 */
export async function updateWithVersion<Row extends object = Record<string, unknown>>(
  db: QueryExecutorProvider,
  table: string,
  key: VersionedRowKey,
  changes: Record<string, unknown>,
  options: UpdateWithVersionOptions = {},
): Promise<Row> {
  const parsed = parseOptions(
    optionsSchema,
    { db, table, key, changes, ...options },
    'updateWithVersion()',
  );
  const { idColumn, versionColumn } = parsed;
  for (const column of Object.keys(parsed.changes)) {
    if (!identifier.safeParse(column).success) {
      throw new BallastError('INVALID_OPTIONS', {
        message: `Invalid options for updateWithVersion(): "changes.${column}": expected a SQL identifier`,
        details: { field: `changes.${column}` },
      });
    }
    if (column === idColumn || column === versionColumn) {
      throw new BallastError('INVALID_OPTIONS', {
        message: `Invalid options for updateWithVersion(): "changes.${column}": the statement sets the ${column === idColumn ? 'id' : 'version'} itself`,
        details: { field: `changes.${column}` },
      });
    }
  }
  const target = parsed.schema ? sql.table(`${parsed.schema}.${table}`) : sql.table(table);
  const id = sql.ref(idColumn);
  const version = sql.ref(versionColumn);
  const assignments = sql.join(
    [
      ...Object.entries(parsed.changes).map(
        ([column, value]) => sql`${sql.ref(column)} = ${value}`,
      ),
      sql`${version} = ${version} + 1`,
    ],
    sql`, `,
  );
  // Compared as bigint: an integer column then meets a larger expected version as "not equal"
  // instead of failing the statement with "out of range for type integer".
  const expected =
    parsed.key.version === '*' ? sql`true` : sql`${version} = ${parsed.key.version}::bigint`;
  const current = parsed.includeCurrent ? sql`to_jsonb(${target}.*)` : sql`null::jsonb`;
  const query = sql<
    Record<string, unknown> & {
      __ballast_current_version: number | null;
      __ballast_current: Record<string, unknown> | null;
    }
  >`
    WITH updated AS (
      UPDATE ${target} SET ${assignments}
      WHERE ${id} = ${parsed.key.id} AND ${expected}
      RETURNING *
    ), current AS (
      SELECT ${version} AS version, ${current} AS row FROM ${target}
      WHERE ${id} = ${parsed.key.id} AND NOT EXISTS (SELECT FROM updated)
      FOR SHARE
    )
    SELECT updated.*,
      (SELECT version FROM current) AS __ballast_current_version,
      (SELECT row FROM current) AS __ballast_current
    FROM (SELECT 1) AS one LEFT JOIN updated ON true`;
  const result = await executeAfterLostRaces(() => query.execute(parsed.db), parsed.db);
  const row = result.rows[0];
  if (row === undefined)
    throw new BallastError('INTERNAL', { message: 'updateWithVersion(): no result row' });
  const {
    __ballast_current_version: currentVersion,
    __ballast_current: currentRow,
    ...updated
  } = row;
  if (currentVersion !== null && currentVersion !== undefined) {
    const expectedVersion = parsed.key.version === '*' ? undefined : parsed.key.version;
    throw new VersionConflictError({
      currentVersion: Number(currentVersion),
      ...(expectedVersion === undefined ? {} : { expectedVersion }),
      ...(currentRow ? { current: currentRow } : {}),
      message: `${table} ${String(parsed.key.id)} is at version ${currentVersion}, not ${parsed.key.version}`,
    });
  }
  if (updated[versionColumn] === null || updated[versionColumn] === undefined) {
    throw new BallastError('NOT_FOUND', {
      message: `${table} ${String(parsed.key.id)} does not exist`,
    });
  }
  return { ...updated, [versionColumn]: asVersionNumber(updated[versionColumn]) } as unknown as Row;
}

/**
 * The version as a number, as the conflict reports it: node-postgres reads a `bigint` column as
 * a string, which `versionETag()` would refuse. A value past the largest safe integer is kept
 * as read rather than rounded to another version.
 */
function asVersionNumber(version: unknown): unknown {
  if (typeof version !== 'string' && typeof version !== 'bigint') return version;
  const number = Number(version);
  return Number.isSafeInteger(number) ? number : version;
}

/**
 * Runs the statement; a lost serialization race is run again when the statement is a
 * transaction of its own (a `Kysely` instance, not a `Transaction` nor another executor whose
 * transaction is not known), and is `TRANSACTION_CONFLICT` otherwise.
 */
function executeAfterLostRaces<T>(
  execute: () => Promise<T>,
  db: QueryExecutorProvider,
): Promise<T> {
  const caller = 'updateWithVersion()';
  if ((db as { isTransaction?: unknown }).isTransaction === false) {
    return runAgainAfterLostRaces(caller, execute);
  }
  return execute().catch((error: unknown) => {
    throw isLostSerializationRace(error) ? transactionConflict(caller, error) : error;
  });
}
