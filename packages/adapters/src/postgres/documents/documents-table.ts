/**
 * The shape of a documents table and of the table of rows that depend on it (chunks), named by
 * the user: Ballast adopts an existing schema by being told its table and column names rather
 * than by owning the schema. Defaults describe the table `migrateDocuments` creates.
 *
 * Every name is a plain SQL identifier: they are quoted in every statement anyway, and the
 * restriction keeps index names derived from them within Postgres' 63 bytes.
 */

import type { DocumentStatus } from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { z } from 'zod';
import { assertDatabase, runMigration } from '../run-migration.js';
import { quoteIdentifier, quoteQualified } from '../table-identifier.js';

/**
 * Column names of the documents table. A column set to `null` does not exist in your table;
 * the ones that must exist are `id`, `storageKey`, `status` and `updatedAt`.
 */
export interface DocumentColumns {
  /** Table name. Default `'documents'`. */
  table?: string;
  /** Primary key (uuid or text). Default `'id'`. */
  id?: string;
  /** The object's storage key. Default `'storage_key'`. */
  storageKey?: string;
  /** Status, text or an enum with the values of `statuses`. Default `'status'`. */
  status?: string;
  /**
   * Time of the last status change (timestamptz). Reconciliation leaves deleted rows changed
   * within its grace period alone, so a `markThenDelete` about to restore its row is never raced.
   * Default `'updated_at'`.
   */
  updatedAt?: string;
  /** Set when the row is soft-deleted, restored with it. Default `'deleted_at'`. */
  deletedAt?: string | null;
  /** Deadline of a pending signed upload; needed for signed uploads. Default `'expires_at'`. */
  expiresAt?: string | null;
  /** Why reconciliation moved the row to `error`. Default `'error_reason'`. */
  errorReason?: string | null;
  /** Object size in bytes (bigint). Default `'size'`. */
  size?: string | null;
  /** Object ETag. Default `'etag'`. */
  etag?: string | null;
  /** Object content type. Default `'content_type'`. */
  contentType?: string | null;
  /** Object SHA-256, base64. Default `'checksum_sha256'`. */
  checksumSha256?: string | null;
  /** Set on insert. Default `'created_at'`. */
  createdAt?: string | null;
}

/** Column names of the table whose rows depend on a document (chunks, thumbnails). */
export interface DependantColumns {
  /** Table name. Default `'document_chunks'`. */
  table?: string;
  /** Primary key. Default `'id'`. */
  id?: string;
  /** The document the row belongs to. Default `'document_id'`. */
  documentId?: string;
  /** Soft-delete timestamp; `NULL` means live. Default `'deleted_at'`. */
  deletedAt?: string;
}

/** Where the tables live and what they are called. */
export interface DocumentTablesOptions {
  /** Schema of both tables. Default: none (the connection's `search_path`, usually `public`). */
  schema?: string;
  documents?: DocumentColumns;
  /** The dependants table, or `false` when documents have none. Default: `document_chunks`. */
  chunks?: DependantColumns | false;
  /**
   * The values your status column uses for the four states Ballast knows. Default: the
   * state names (`'pending'`, `'active'`, `'deleted'`, `'error'`). A row with any other value is
   * read as `error`: reconciliation leaves it and its object alone.
   */
  statuses?: Partial<Record<DocumentStatus, string>>;
}

const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain SQL identifier (letters, digits, _)')
  .max(48);
const optionalColumn = (name: string) => identifier.nullable().default(name);

export const documentTablesSchema = z.object({
  schema: identifier.optional(),
  documents: z
    .object({
      table: identifier.default('documents'),
      id: identifier.default('id'),
      storageKey: identifier.default('storage_key'),
      status: identifier.default('status'),
      updatedAt: identifier.default('updated_at'),
      deletedAt: optionalColumn('deleted_at'),
      expiresAt: optionalColumn('expires_at'),
      errorReason: optionalColumn('error_reason'),
      size: optionalColumn('size'),
      etag: optionalColumn('etag'),
      contentType: optionalColumn('content_type'),
      checksumSha256: optionalColumn('checksum_sha256'),
      createdAt: optionalColumn('created_at'),
    })
    .default({
      table: 'documents',
      id: 'id',
      storageKey: 'storage_key',
      status: 'status',
      updatedAt: 'updated_at',
      deletedAt: 'deleted_at',
      expiresAt: 'expires_at',
      errorReason: 'error_reason',
      size: 'size',
      etag: 'etag',
      contentType: 'content_type',
      checksumSha256: 'checksum_sha256',
      createdAt: 'created_at',
    }),
  chunks: z
    .union([
      z.literal(false),
      z.object({
        table: identifier.default('document_chunks'),
        id: identifier.default('id'),
        documentId: identifier.default('document_id'),
        deletedAt: identifier.default('deleted_at'),
      }),
    ])
    .default({
      table: 'document_chunks',
      id: 'id',
      documentId: 'document_id',
      deletedAt: 'deleted_at',
    }),
  statuses: z
    .object({
      pending: z.string().min(1).default('pending'),
      active: z.string().min(1).default('active'),
      deleted: z.string().min(1).default('deleted'),
      error: z.string().min(1).default('error'),
    })
    .default({ pending: 'pending', active: 'active', deleted: 'deleted', error: 'error' })
    .refine((s) => new Set(Object.values(s)).size === 4, 'the four statuses must differ'),
});

export type ResolvedDocumentTables = z.output<typeof documentTablesSchema>;

/** The tables as Kysely identifiers, for raw statements. */
export interface DocumentTableRefs {
  readonly documents: RawBuilder<unknown>;
  readonly chunks: RawBuilder<unknown> | undefined;
}

export function documentTableRefs(tables: ResolvedDocumentTables): DocumentTableRefs {
  const ref = (table: string) =>
    tables.schema === undefined ? sql.id(table) : sql.id(tables.schema, table);
  return {
    documents: ref(tables.documents.table),
    chunks: tables.chunks === false ? undefined : ref(tables.chunks.table),
  };
}

/** Options for {@link documentsMigrationSql} and {@link migrateDocuments}. */
export interface DocumentsMigrationOptions {
  /** Schema of both tables, created if missing. Default: none (`search_path`). */
  schema?: string;
  /** Default `'documents'`. */
  documentsTable?: string;
  /** Default `'document_chunks'`. */
  chunksTable?: string;
}

const migrationSchema = z.object({
  schema: identifier.optional(),
  documentsTable: identifier.default('documents'),
  chunksTable: identifier.default('document_chunks'),
});

function migrationStatements(options: DocumentsMigrationOptions | undefined, where: string) {
  const { schema, documentsTable, chunksTable } = parseOptions(
    migrationSchema,
    options ?? {},
    where,
  );
  const qualified = (table: string) => quoteQualified(table, schema);
  const documents = qualified(documentsTable);
  const chunks = qualified(chunksTable);
  const statements: string[] = [];
  if (schema !== undefined)
    statements.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
  statements.push(
    `CREATE TABLE IF NOT EXISTS ${documents} (
  id              uuid        PRIMARY KEY,
  storage_key     text        NOT NULL,
  status          text        NOT NULL CHECK (status IN ('pending', 'active', 'deleted', 'error')),
  name            text,
  metadata        jsonb       NOT NULL DEFAULT '{}'::jsonb,
  size            bigint,
  etag            text,
  content_type    text,
  checksum_sha256 text,
  error_reason    text,
  expires_at      timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  deleted_at      timestamptz
)`,
    // Reconciliation pages rows in storage-key order; "C" is byte order, S3's listing order.
    `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${documentsTable}_storage_key_idx`)} ON ${documents} (storage_key COLLATE "C", id)`,
    `CREATE TABLE IF NOT EXISTS ${chunks} (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  document_id uuid        NOT NULL REFERENCES ${documents} (id) ON DELETE CASCADE,
  position    integer     NOT NULL,
  content     text,
  deleted_at  timestamptz
)`,
    `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${chunksTable}_document_id_idx`)} ON ${chunks} (document_id)`,
  );
  return statements;
}

/**
 * The DDL of the default documents and chunks tables, for your own migration tool. Applying
 * it twice is harmless (`IF NOT EXISTS` throughout).
 *
 * @example
 * ```ts
 * export async function up(db: Kysely<unknown>) {
 *   await sql.raw(documentsMigrationSql({ schema: 'app' })).execute(db);
 * }
 * ```
 */
export function documentsMigrationSql(options?: DocumentsMigrationOptions): string {
  return `${migrationStatements(options, 'documentsMigrationSql()').join(';\n\n')};\n`;
}

/**
 * Creates the default documents and chunks tables and their indexes if they do not exist.
 * Safe at every start-up from every process: one transaction under an advisory lock.
 *
 * @example
 * ```ts
 * await migrateDocuments(db);
 * const records = new KyselyDocumentRecords({ db });
 * ```
 */
export async function migrateDocuments<DB>(
  db: Kysely<DB>,
  options?: DocumentsMigrationOptions,
): Promise<void> {
  assertDatabase(db, 'migrateDocuments()');
  const statements = migrationStatements(options, 'migrateDocuments()');
  const lockName = `ballast:migrate-documents:${options?.schema ?? ''}.${options?.documentsTable ?? 'documents'}`;
  await runMigration(db, lockName, statements);
}
