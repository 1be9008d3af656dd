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
// Health probe.
export { postgresHealthCheck } from './health/index.js';
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
// Inbox: the "processed once" mark written in the handler's transaction.
export {
  createPostgresInbox,
  defaultInboxTableName,
  type InboxTableOptions,
  inboxMigrationSql,
  migrateInbox,
  type PostgresInbox,
  type PostgresInboxOptions,
} from './inbox/index.js';
// Optimistic locking: a versioned update in one statement.
export {
  type UpdateWithVersionOptions,
  updateWithVersion,
  type VersionedRowKey,
} from './locking/index.js';
// Nonce store for signed-request replay protection.
export {
  defaultNonceTableName,
  migrateNonces,
  type NonceTableOptions,
  nonceMigrationSql,
  PostgresNonceStore,
  type PostgresNonceStoreOptions,
} from './nonce/index.js';
// Transactional outbox: the table, the writer and relay store, the LISTEN wake-up.
export {
  createPostgresOutbox,
  defaultOutboxTableName,
  type ListenConnection,
  type ListenOptions,
  migrateOutbox,
  type OutboxTableOptions,
  outboxMigrationSql,
  type PostgresOutbox,
  type PostgresOutboxOptions,
} from './outbox/index.js';
// A pg.Pool that a database restart cannot crash the process through.
export {
  type GuardablePostgresClient,
  type GuardablePostgresPool,
  type GuardPostgresPoolOptions,
  guardPostgresPool,
} from './pool/index.js';
// Soft deletes.
export {
  restore,
  type SoftDeleteOptions,
  softDelete,
  whereNotDeleted,
} from './soft-delete/index.js';
