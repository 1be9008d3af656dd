export {
  type BackupRunsTableOptions,
  backupRunsMigrationSql,
  defaultBackupRunsTableName,
  migrateBackupRuns,
} from './backup-runs-table.js';
export {
  createPostgresBackupRunner,
  type PostgresBackupRunner,
  type PostgresBackupRunnerOptions,
} from './create-postgres-backup-runner.js';
export { directoryBackupFiles } from './directory-backup-files.js';
export { findPgBinaries, type PgBinaries } from './pg-binaries.js';
export {
  defaultSanityQuery,
  type PgDumpSourceOptions,
  pgDumpSource,
  restorePostgresBackup,
} from './pg-dump-source.js';
export {
  type PGliteBackupSourceOptions,
  type PGliteLike,
  pgliteBackupSource,
} from './pglite-backup-source.js';
export {
  PostgresBackupRunStore,
  type PostgresBackupRunStoreOptions,
} from './postgres-backup-run-store.js';
