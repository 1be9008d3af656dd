export {
  defaultNonceTableName,
  migrateNonces,
  type NonceTableOptions,
  nonceMigrationSql,
} from './nonce-table.js';
export { PostgresNonceStore, type PostgresNonceStoreOptions } from './postgres-nonce-store.js';
