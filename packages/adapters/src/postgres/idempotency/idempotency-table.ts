/**
 * The idempotency table: its DDL as plain SQL (for migration tools) and `migrateIdempotency`,
 * which applies it safely from several processes at once. The primary key on (scope, key) is
 * what makes a claim atomic: the database, not the application, resolves the race.
 */

import { parseOptions } from '@ballast/core/adapter-kit';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { z } from 'zod';
import { assertDatabase, runMigration } from '../run-migration.js';
import {
  quoteIdentifier,
  quoteQualified,
  sqlIdentifierSchema,
  tableRef,
} from '../table-identifier.js';
import {
  claimArgumentTypes,
  completeArgumentTypes,
  idempotencyFunctionNames,
  idempotencyFunctionStatements,
} from './idempotency-functions.js';

/** Where the idempotency table lives. */
export interface IdempotencyTableOptions {
  /** Table name, a plain SQL identifier of at most 48 characters. Default `'ballast_idempotency_keys'`. */
  tableName?: string;
  /** Schema of the table. Default: none, so the connection's `search_path` decides (usually `public`). */
  schema?: string;
}

/** The default table name. */
export const defaultIdempotencyTableName = 'ballast_idempotency_keys';

const identifier = sqlIdentifierSchema(48);

export const idempotencyTableOptionsSchema = z.object({
  tableName: identifier.default(defaultIdempotencyTableName),
  schema: identifier.optional(),
});

/** Table options after validation and defaults. */
export interface ResolvedIdempotencyTable {
  readonly tableName: string;
  readonly schema: string | undefined;
  /** The table as a Kysely identifier, for raw statements. */
  readonly ref: RawBuilder<unknown>;
  /** The claim function (see idempotency-functions.ts), quoted and qualified, for raw statements. */
  readonly claimFunction: RawBuilder<unknown>;
  /** The completion function, quoted and qualified, for raw statements. */
  readonly completeFunction: RawBuilder<unknown>;
  /** The batch forms of both (arrays in, one row per element out). */
  readonly claimBatchFunction: RawBuilder<unknown>;
  readonly completeBatchFunction: RawBuilder<unknown>;
  /** The functions' signatures as text (`name(types)`), which `::regprocedure` resolves. */
  readonly claimSignature: string;
  readonly completeSignature: string;
}

/** Builds the identifiers once, so every statement uses the same quoting. */
export function resolveIdempotencyTable(options: {
  tableName: string;
  schema?: string | undefined;
}): ResolvedIdempotencyTable {
  const { tableName, schema } = options;
  // Both names are validated identifiers, quoted by idempotencyFunctionNames.
  const functions = idempotencyFunctionNames(tableName, schema);
  return {
    tableName,
    schema,
    ref: tableRef(options),
    claimFunction: sql.raw(functions.claim),
    completeFunction: sql.raw(functions.complete),
    claimBatchFunction: sql.raw(functions.claimBatch),
    completeBatchFunction: sql.raw(functions.completeBatch),
    claimSignature: `${functions.claim}${claimArgumentTypes}`,
    completeSignature: `${functions.complete}${completeArgumentTypes}`,
  };
}

function migrationStatements(
  options: IdempotencyTableOptions | undefined,
  where: string,
): string[] {
  const { tableName, schema } = parseOptions(idempotencyTableOptionsSchema, options ?? {}, where);
  const table = quoteQualified(tableName, schema);
  const statements: string[] = [];
  if (schema !== undefined)
    statements.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
  statements.push(
    `CREATE TABLE IF NOT EXISTS ${table} (
  scope            text        NOT NULL,
  key              text        NOT NULL,
  fingerprint      text        NOT NULL,
  state            text        NOT NULL CHECK (state IN ('in_flight', 'completed')),
  owner_token      text        NOT NULL,
  result           json,
  lease_expires_at timestamptz NOT NULL,
  expires_at       timestamptz NOT NULL,
  takeovers        integer     NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL,
  completed_at     timestamptz,
  PRIMARY KEY (scope, key)
) WITH (fillfactor = 80)`,
    `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${tableName}_expires_at_idx`)} ON ${table} (expires_at)`,
    // For tables created before: it applies to pages written from now on. A brief lock that
    // does not block reads or writes.
    `ALTER TABLE ${table} SET (fillfactor = 80)`,
    ...idempotencyFunctionStatements(table, idempotencyFunctionNames(tableName, schema)),
  );
  return statements;
}

/**
 * The DDL of the idempotency table, for your own migration tool. Applying it twice is harmless
 * (`IF NOT EXISTS` throughout). `result` is `json`, not `jsonb`, so a replayed body keeps the
 * original key order byte for byte (and is stored without being parsed). The table leaves 20 %
 * of each page free (`fillfactor = 80`) so the completion, which changes no indexed column, is
 * a HOT update: a new row version on the same page and no new index entries. It also creates two
 * PL/pgSQL functions, `<table>_claim` and `<table>_complete`, which the store and
 * `withIdempotency` call (their plans are cached per connection; plain statements were planned
 * on every call); `CREATE OR REPLACE` keeps them current when you apply it again.
 *
 * @example
 * ```ts
 * // A Kysely migration
 * export async function up(db: Kysely<unknown>) {
 *   await sql.raw(idempotencyMigrationSql({ schema: 'app' })).execute(db);
 * }
 * ```
 */
export function idempotencyMigrationSql(options?: IdempotencyTableOptions): string {
  return `${migrationStatements(options, 'idempotencyMigrationSql()').join(';\n\n')};\n`;
}

/**
 * Creates the idempotency table and its expiry index if they do not exist, and creates or replaces
 * its claim and completion functions (see {@link idempotencyMigrationSql}). Safe to call at every
 * start-up from every process: it runs in one transaction under an advisory lock, so concurrent
 * starts do not race on `CREATE TABLE IF NOT EXISTS`.
 *
 * @example
 * ```ts
 * await migrateIdempotency(db);
 * const store = new PostgresIdempotencyStore({ db });
 * ```
 */
export async function migrateIdempotency<DB>(
  db: Kysely<DB>,
  options?: IdempotencyTableOptions,
): Promise<void> {
  assertDatabase(db, 'migrateIdempotency()');
  const statements = migrationStatements(options, 'migrateIdempotency()');
  const lockName = `ballast:migrate:${options?.schema ?? ''}.${options?.tableName ?? defaultIdempotencyTableName}`;
  await runMigration(db, lockName, statements);
}
