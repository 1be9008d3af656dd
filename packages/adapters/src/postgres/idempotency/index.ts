export {
  defaultIdempotencyTableName,
  type IdempotencyTableOptions,
  idempotencyMigrationSql,
  migrateIdempotency,
} from './idempotency-table.js';
export {
  PostgresIdempotencyStore,
  type PostgresIdempotencyStoreOptions,
} from './postgres-idempotency-store.js';
export {
  type IdempotentOutcome,
  type WithIdempotencyOptions,
  withIdempotency,
} from './with-idempotency.js';
