export type { ListenConnection, ListenOptions } from './outbox-listener.js';
export {
  defaultOutboxTableName,
  migrateOutbox,
  type OutboxTableOptions,
  outboxMigrationSql,
} from './outbox-table.js';
export {
  createPostgresOutbox,
  type PostgresOutbox,
  type PostgresOutboxOptions,
} from './postgres-outbox.js';
