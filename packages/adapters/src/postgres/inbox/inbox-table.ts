/**
 * The inbox table: one row per (consumer, event id) that took effect. Its primary key is the
 * exactly-once guard: a second delivery's insert waits on the first transaction's row and then
 * finds it, so two workers handling one event concurrently cannot both commit an effect.
 */
import { parseOptions } from '@ballast/core/adapter-kit';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { assertDatabase, runMigration } from '../run-migration.js';
import { quoteIdentifier, quoteQualified, sqlIdentifierSchema } from '../table-identifier.js';

/** Where the inbox table lives. */
export interface InboxTableOptions {
  /** Table name, a plain SQL identifier of at most 48 characters. Default `'ballast_inbox'`. */
  tableName?: string;
  /** Schema of the table. Default: none, so the connection's `search_path` decides. */
  schema?: string;
}

/** The default table name. */
export const defaultInboxTableName = 'ballast_inbox';

const identifier = sqlIdentifierSchema(48);

export const inboxTableOptionsSchema = z.strictObject({
  tableName: identifier.default(defaultInboxTableName),
  schema: identifier.optional(),
});

function migrationStatements(options: InboxTableOptions | undefined, where: string): string[] {
  const { tableName, schema } = parseOptions(inboxTableOptionsSchema, options ?? {}, where);
  const table = quoteQualified(tableName, schema);
  const statements: string[] = [];
  if (schema !== undefined)
    statements.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
  statements.push(
    `CREATE TABLE IF NOT EXISTS ${table} (
  consumer     text        NOT NULL,
  event_id     text        NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
)`,
    `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${tableName}_processed_at_idx`)} ON ${table} (processed_at)`,
  );
  return statements;
}

/**
 * The DDL of the inbox table, for your own migration tool. Applying it twice is harmless.
 * It holds several statements: run it as one script (node-postgres sends a query without
 * parameters as one, as below; on PGlite use `pglite.exec()`, whose Kysely dialects prepare
 * each query and refuse several commands in one).
 *
 * @example
 * ```ts
 * export async function up(db: Kysely<unknown>) {
 *   await sql.raw(inboxMigrationSql()).execute(db);
 * }
 * ```
 */
export function inboxMigrationSql(options?: InboxTableOptions): string {
  return `${migrationStatements(options, 'inboxMigrationSql()').join(';\n\n')};\n`;
}

/**
 * Creates the inbox table if it does not exist. Safe at every start-up from every process.
 *
 * @example
 * ```ts
 * await migrateInbox(db);
 * const inbox = createPostgresInbox(db);
 * ```
 */
export async function migrateInbox<DB>(db: Kysely<DB>, options?: InboxTableOptions): Promise<void> {
  assertDatabase(db, 'migrateInbox()');
  const statements = migrationStatements(options, 'migrateInbox()');
  const lockName = `ballast:migrate:${options?.schema ?? ''}.${options?.tableName ?? defaultInboxTableName}`;
  await runMigration(db, lockName, statements);
}
