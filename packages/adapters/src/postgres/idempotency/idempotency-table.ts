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
  claimJsonArgumentTypes,
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

export const idempotencyTableOptionsSchema = z.strictObject({
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
  /** The claim as one json value, for a single claim (see idempotency-functions.ts). */
  readonly claimJsonFunction: RawBuilder<unknown>;
  /** The completion function, quoted and qualified, for raw statements. */
  readonly completeFunction: RawBuilder<unknown>;
  /** The batch forms of both (arrays in, one row per element out). */
  readonly claimBatchFunction: RawBuilder<unknown>;
  readonly completeBatchFunction: RawBuilder<unknown>;
  /**
   * The transaction-bound forms of the claim and the completion (procedures, for `CALL`),
   * quoted and qualified as text, for withIdempotency's one-trip messages (see
   * idempotency-one-trip.ts).
   */
  readonly claimInTransaction: string;
  readonly completeInTransaction: string;
  /** The functions' signatures as text (`name(types)`), which `::regprocedure` resolves. */
  readonly claimSignature: string;
  readonly claimJsonSignature: string;
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
    claimJsonFunction: sql.raw(functions.claimJson),
    completeFunction: sql.raw(functions.complete),
    claimBatchFunction: sql.raw(functions.claimBatch),
    completeBatchFunction: sql.raw(functions.completeBatch),
    claimInTransaction: functions.claimInTransaction,
    completeInTransaction: functions.completeInTransaction,
    claimSignature: `${functions.claim}${claimArgumentTypes}`,
    claimJsonSignature: `${functions.claimJson}${claimJsonArgumentTypes}`,
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
  scope            text        COLLATE "C" NOT NULL,
  key              text        COLLATE "C" NOT NULL,
  fingerprint      text        NOT NULL,
  state            text        NOT NULL,
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
    dropStateCheckStatement(tableName, table),
    ...idempotencyFunctionStatements(table, idempotencyFunctionNames(tableName, schema)),
  );
  return statements;
}

/**
 * Tables created by earlier versions had `CHECK (state IN ('in_flight', 'completed'))`. Postgres
 * reads a CHECK's stored expression back from text and plans it again in every statement that
 * writes the table (ExecRelCheck builds it per executor, and a PL/pgSQL function's cached plan
 * does not keep it): measured with callgrind on Postgres 15, ~61,000 of the ~450,000 instructions
 * the claim and the completion add to a transaction, for a value only Ballast's own statements
 * write, always as one of those two literals. Dropped only when present, so the ACCESS EXCLUSIVE
 * lock `DROP CONSTRAINT` takes is taken once, at the upgrade, not at every start-up. Postgres
 * named the constraint `<table>_state_check` (at most 60 characters, so never truncated); a
 * CHECK of the user's own under another name is left alone.
 */
function dropStateCheckStatement(tableName: string, table: string): string {
  const constraint = `${tableName}_state_check`;
  // `table` is quoted from validated identifiers (no quote or backslash), so it is safe inside a
  // string literal for the regclass cast; the dollar tag cannot occur in it either.
  return `DO $drop_state_check$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_constraint
    WHERE conrelid = '${table}'::regclass AND contype = 'c' AND conname = '${constraint}') THEN
    ALTER TABLE ${table} DROP CONSTRAINT ${quoteIdentifier(constraint)};
  END IF;
END
$drop_state_check$`;
}

/**
 * The DDL of the idempotency table, for your own migration tool. Applying it twice is harmless
 * (`IF NOT EXISTS` throughout). `result` is `json`, not `jsonb`, so a replayed body keeps the
 * original key order byte for byte (and is stored without being parsed). The table leaves 20 %
 * of each page free (`fillfactor = 80`) so the completion, which changes no indexed column, is
 * a HOT update: a new row version on the same page and no new index entries. `scope` and `key`
 * compare bytewise (`COLLATE "C"`): they are opaque identifiers, and the primary key's every
 * comparison then costs a `memcmp` instead of the database locale's collation (measured with
 * callgrind on Postgres 15, ~10 % of a transaction-bound first execution under an ICU
 * `en-US` collation). A table created by an earlier version keeps its collation (see the
 * adapter's docs to convert one). It also creates the PL/pgSQL functions the store and
 * `withIdempotency` call (`<table>_claim_json`, `<table>_claim`, `<table>_complete`, two batch
 * forms and the transaction-bound procedures `<table>_tx_claim` and `<table>_tx_complete`; their
 * plans are cached per connection, plain statements were planned on every call);
 * `CREATE OR REPLACE` keeps them current when you apply it again. It drops the `CHECK` on
 * `state` that earlier versions created (see below), and the functions `<table>_claim_in_tx`
 * and `<table>_complete_in_tx` that the procedures replaced.
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
