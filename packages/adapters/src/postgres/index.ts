/** `@ballast/adapters/postgres`: PostgreSQL through Kysely. Peer: `kysely` (and a driver, e.g. `pg`). */

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
