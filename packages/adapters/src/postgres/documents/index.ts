export {
  type DependantColumns,
  type DocumentColumns,
  type DocumentsMigrationOptions,
  type DocumentTablesOptions,
  documentsMigrationSql,
  migrateDocuments,
} from './documents-table.js';
export {
  type DocumentRow,
  KyselyDocumentRecords,
  type KyselyDocumentRecordsOptions,
} from './kysely-document-records.js';
