/** `@ballast/adapters/postgres`: PostgreSQL through Kysely. Peer: `kysely` (and a driver, e.g. `pg`). */

// Backups: pg_dump runner, run records table, restore, PGlite data-dir source.
export {
  type BackupRunsTableOptions,
  backupRunsMigrationSql,
  createPostgresBackupRunner,
  defaultBackupRunsTableName,
  directoryBackupFiles,
  findPgBinaries,
  migrateBackupRuns,
  type PGliteBackupSourceOptions,
  type PGliteLike,
  type PgBinaries,
  type PgDumpSourceOptions,
  type PostgresBackupRunner,
  type PostgresBackupRunnerOptions,
  PostgresBackupRunStore,
  type PostgresBackupRunStoreOptions,
  pgDumpSource,
  pgliteBackupSource,
  restorePostgresBackup,
} from './backup/index.js';

// Document records for the storage–database consistency recipes.
export {
  type DependantColumns,
  type DocumentColumns,
  type DocumentRow,
  type DocumentsMigrationOptions,
  type DocumentTablesOptions,
  documentsMigrationSql,
  KyselyDocumentRecords,
  type KyselyDocumentRecordsOptions,
  migrateDocuments,
} from './documents/index.js';
// Per-entity CSV exports streamed from a cursor.
export { csvFileName, type ExportCsvOptions, exportCsv } from './export/index.js';
// Idempotency store, its table, and idempotency in the caller's transaction.
export {
  defaultIdempotencyTableName,
  type IdempotencyTableOptions,
  type IdempotentOutcome,
  idempotencyMigrationSql,
  migrateIdempotency,
  PostgresIdempotencyStore,
  type PostgresIdempotencyStoreOptions,
  type WithIdempotencyOptions,
  withIdempotency,
} from './idempotency/index.js';
// Nonce store for signed-request replay protection.
export {
  defaultNonceTableName,
  migrateNonces,
  type NonceTableOptions,
  nonceMigrationSql,
  PostgresNonceStore,
  type PostgresNonceStoreOptions,
} from './nonce/index.js';

// A pg.Pool that a database restart cannot crash the process through.
export {
  type GuardablePostgresClient,
  type GuardablePostgresPool,
  type GuardPostgresPoolOptions,
  guardPostgresPool,
} from './pool/index.js';
