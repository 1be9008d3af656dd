/**
 * The backup run records table. A partial unique index allows at most one `running` row, so
 * two processes (two replicas with the same schedule, a cron job and an admin clicking
 * "back up now") can never dump at the same time: the second insert fails and becomes
 * `BACKUP_IN_PROGRESS`.
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

/** Where the backup runs table lives. */
export interface BackupRunsTableOptions {
  /** Table name, a plain SQL identifier of at most 40 characters. Default `'ballast_backup_runs'`. */
  tableName?: string;
  /** Schema of the table. Default: none, so the connection's `search_path` decides. */
  schema?: string;
}

/** The default table name. */
export const defaultBackupRunsTableName = 'ballast_backup_runs';

const identifier = sqlIdentifierSchema(40);

export const backupRunsTableOptionsSchema = z.strictObject({
  tableName: identifier.default(defaultBackupRunsTableName),
  schema: identifier.optional(),
});

/** The table as a Kysely identifier, quoted the same way by every statement. */
export const backupRunsTableRef = tableRef;

/** Name of the index that allows one running run; its violation means "in progress". */
export function oneRunningIndexName(tableName: string): string {
  return `${tableName}_one_running`;
}

function migrationStatements(options: BackupRunsTableOptions | undefined, where: string): string[] {
  const { tableName, schema } = parseOptions(backupRunsTableOptionsSchema, options ?? {}, where);
  const table = quoteQualified(tableName, schema);
  const statements: string[] = [];
  if (schema !== undefined)
    statements.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
  statements.push(
    `CREATE TABLE IF NOT EXISTS ${table} (
  id          text        PRIMARY KEY,
  reason      text        NOT NULL,
  status      text        NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  started_at  timestamptz NOT NULL,
  heartbeat_at timestamptz,
  finished_at timestamptz,
  path        text        NOT NULL,
  location    text,
  bytes       bigint,
  checksum    text,
  offsite     text        NOT NULL CHECK (offsite IN ('none', 'pending', 'copied', 'failed')),
  offsite_key text,
  error       text,
  pruned_at   timestamptz,
  verified_at timestamptz
)`,
    // Tables created before runs had a heartbeat (0.x) gain the column.
    `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS heartbeat_at timestamptz`,
    // Tables created before runs recorded where their file is (0.x) gain the column; their
    // older rows keep NULL and are looked for by name in the current directory.
    `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS location text`,
    `CREATE UNIQUE INDEX IF NOT EXISTS ${quoteIdentifier(oneRunningIndexName(tableName))} ON ${table} ((true)) WHERE status = 'running'`,
    `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${tableName}_started_at_idx`)} ON ${table} (started_at DESC)`,
  );
  return statements;
}

/** The DDL of the backup runs table, for your own migration tool. Applying it twice is harmless. */
export function backupRunsMigrationSql(options?: BackupRunsTableOptions): string {
  return `${migrationStatements(options, 'backupRunsMigrationSql()').join(';\n\n')};\n`;
}

/**
 * Creates the backup runs table if it does not exist. Safe at every start-up from every process.
 *
 * @example
 * ```ts
 * await migrateBackupRuns(db);
 * const runs = new PostgresBackupRunStore({ db });
 * ```
 */
export async function migrateBackupRuns<DB>(
  db: Kysely<DB>,
  options?: BackupRunsTableOptions,
): Promise<void> {
  assertDatabase(db, 'migrateBackupRuns()');
  const statements = migrationStatements(options, 'migrateBackupRuns()');
  const lockName = `ballast:migrate:${options?.schema ?? ''}.${options?.tableName ?? defaultBackupRunsTableName}`;
  await runMigration(db, lockName, statements);
}
