/**
 * The outbox table: its DDL as plain SQL (for migration tools) and `migrateOutbox`, applied under
 * the same advisory-lock runner as every other Ballast table.
 *
 * `position` (a bigserial) is the publication order the relay follows; `id` (the event id) is
 * unique, so one event cannot be written twice. Partial indexes keep the relay's queries on the
 * unsent rows only, however many sent rows the retention period keeps.
 *
 * `<table>_claim` is the PL/pgSQL function relays claim through (one round trip instead of a
 * four-statement transaction, see `outbox-claim.ts`); `CREATE OR REPLACE` keeps it current.
 *
 * `failed_at` marks a dead letter (a row the relay parked). It came after the first release of
 * the table, so the migration also adds it with `ADD COLUMN IF NOT EXISTS`: a nullable column
 * without a default, which Postgres adds without rewriting the table or holding a long lock.
 */
import { parseOptions } from '@ballast/core/adapter-kit';
import type { Kysely, RawBuilder } from 'kysely';
import { z } from 'zod';
import { assertDatabase, runMigration } from '../run-migration.js';
import {
  quoteIdentifier,
  quoteQualified,
  sqlIdentifierSchema,
  tableRef,
} from '../table-identifier.js';
import { claimFunctionStatement } from './outbox-claim.js';

/** Where the outbox table lives. */
export interface OutboxTableOptions {
  /** Table name, a plain SQL identifier of at most 48 characters. Default `'ballast_outbox'`. */
  tableName?: string;
  /** Schema of the table. Default: none, so the connection's `search_path` decides. */
  schema?: string;
}

/** The default table name. */
export const defaultOutboxTableName = 'ballast_outbox';

const identifier = sqlIdentifierSchema(48);

export const outboxTableOptionsSchema = z.strictObject({
  tableName: identifier.default(defaultOutboxTableName),
  schema: identifier.optional(),
});

/** Table options after validation. */
export interface ResolvedOutboxTable {
  readonly tableName: string;
  readonly schema: string | undefined;
  readonly ref: RawBuilder<unknown>;
  /** The NOTIFY channel: `schema.table`, or `table`. */
  readonly channel: string;
}

export function resolveOutboxTable(options: {
  tableName: string;
  schema?: string | undefined;
}): ResolvedOutboxTable {
  const { tableName, schema } = options;
  const channel = schema === undefined ? tableName : `${schema}.${tableName}`;
  return { tableName, schema, ref: tableRef(options), channel };
}

function migrationStatements(options: OutboxTableOptions | undefined, where: string): string[] {
  const { tableName, schema } = parseOptions(outboxTableOptionsSchema, options ?? {}, where);
  const table = quoteQualified(tableName, schema);
  const statements: string[] = [];
  if (schema !== undefined)
    statements.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
  statements.push(
    `CREATE TABLE IF NOT EXISTS ${table} (
  position         bigserial   PRIMARY KEY,
  id               text        NOT NULL UNIQUE,
  type             text        NOT NULL,
  key              text,
  event            jsonb       NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  sent_at          timestamptz,
  owner_token      text,
  lease_expires_at timestamptz,
  retry_at         timestamptz,
  attempts         integer     NOT NULL DEFAULT 0,
  last_error       text,
  failed_at        timestamptz
)`,
    `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS failed_at timestamptz`,
    `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${tableName}_unsent_idx`)} ON ${table} (position) WHERE sent_at IS NULL`,
    `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${tableName}_unsent_key_idx`)} ON ${table} (key, position) WHERE sent_at IS NULL AND key IS NOT NULL`,
    `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${tableName}_sent_at_idx`)} ON ${table} (sent_at) WHERE sent_at IS NOT NULL`,
    `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${tableName}_dead_idx`)} ON ${table} (position) WHERE failed_at IS NOT NULL AND sent_at IS NULL`,
    // After the columns it reads: an older table gets `failed_at` first.
    claimFunctionStatement({ tableName, schema }),
  );
  return statements;
}

/**
 * The DDL of the outbox table, for your own migration tool. Applying it twice is harmless.
 * It holds several statements: run it as one script (node-postgres sends a query without
 * parameters as one, as below; on PGlite use `pglite.exec()`, whose Kysely dialects prepare
 * each query and refuse several commands in one).
 *
 * @example
 * ```ts
 * export async function up(db: Kysely<unknown>) {
 *   await sql.raw(outboxMigrationSql()).execute(db);
 * }
 * ```
 */
export function outboxMigrationSql(options?: OutboxTableOptions): string {
  return `${migrationStatements(options, 'outboxMigrationSql()').join(';\n\n')};\n`;
}

/**
 * Creates the outbox table and its indexes if they do not exist. Safe at every start-up from
 * every process (one transaction under an advisory lock).
 *
 * @example
 * ```ts
 * await migrateOutbox(db);
 * const outbox = createPostgresOutbox(db);
 * ```
 */
export async function migrateOutbox<DB>(
  db: Kysely<DB>,
  options?: OutboxTableOptions,
): Promise<void> {
  assertDatabase(db, 'migrateOutbox()');
  const statements = migrationStatements(options, 'migrateOutbox()');
  const lockName = `ballast:migrate:${options?.schema ?? ''}.${options?.tableName ?? defaultOutboxTableName}`;
  await runMigration(db, lockName, statements);
}
