/**
 * The nonce table: its DDL as plain SQL (for migration tools) and `migrateNonces`, which applies
 * it safely from several processes at once. The primary key on `nonce` is the replay guard: the
 * database, not the application, decides which of two identical requests came first.
 */

import { parseOptions } from '@ballast/core/adapter-kit';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { assertDatabase, runMigration } from '../run-migration.js';
import {
  quoteIdentifier,
  quoteQualified,
  sqlIdentifierSchema,
  tableRef,
} from '../table-identifier.js';

/** Where the nonce table lives. */
export interface NonceTableOptions {
  /** Table name, a plain SQL identifier of at most 48 characters. Default `'ballast_nonces'`. */
  tableName?: string;
  /** Schema of the table. Default: none, so the connection's `search_path` decides. */
  schema?: string;
}

/** The default table name. */
export const defaultNonceTableName = 'ballast_nonces';

const identifier = sqlIdentifierSchema(48);

export const nonceTableOptionsSchema = z.strictObject({
  tableName: identifier.default(defaultNonceTableName),
  schema: identifier.optional(),
});

/** The table as a Kysely identifier, quoted the same way by every statement. */
export const nonceTableRef = tableRef;

function migrationStatements(options: NonceTableOptions | undefined, where: string): string[] {
  const { tableName, schema } = parseOptions(nonceTableOptionsSchema, options ?? {}, where);
  const table = quoteQualified(tableName, schema);
  const statements: string[] = [];
  if (schema !== undefined)
    statements.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
  statements.push(
    `CREATE TABLE IF NOT EXISTS ${table} (
  nonce      text        PRIMARY KEY,
  expires_at timestamptz NOT NULL
)`,
    `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${tableName}_expires_at_idx`)} ON ${table} (expires_at)`,
  );
  return statements;
}

/**
 * The DDL of the nonce table, for your own migration tool. Applying it twice is harmless.
 *
 * @example
 * ```ts
 * export async function up(db: Kysely<unknown>) {
 *   await sql.raw(nonceMigrationSql({ schema: 'edge' })).execute(db);
 * }
 * ```
 */
export function nonceMigrationSql(options?: NonceTableOptions): string {
  return `${migrationStatements(options, 'nonceMigrationSql()').join(';\n\n')};\n`;
}

/**
 * Creates the nonce table and its expiry index if they do not exist. Safe at every start-up from
 * every process: one transaction under an advisory lock, so concurrent starts do not race.
 *
 * @example
 * ```ts
 * await migrateNonces(db);
 * const nonceStore = new PostgresNonceStore({ db });
 * ```
 */
export async function migrateNonces<DB>(
  db: Kysely<DB>,
  options?: NonceTableOptions,
): Promise<void> {
  assertDatabase(db, 'migrateNonces()');
  const statements = migrationStatements(options, 'migrateNonces()');
  const lockName = `ballast:migrate:${options?.schema ?? ''}.${options?.tableName ?? defaultNonceTableName}`;
  await runMigration(db, lockName, statements);
}
