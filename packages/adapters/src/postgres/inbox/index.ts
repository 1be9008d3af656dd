export {
  defaultInboxTableName,
  type InboxTableOptions,
  inboxMigrationSql,
  migrateInbox,
} from './inbox-table.js';
export {
  createPostgresInbox,
  type PostgresInbox,
  type PostgresInboxOptions,
} from './postgres-inbox.js';
