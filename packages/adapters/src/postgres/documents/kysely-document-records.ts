/**
 * The records port of the consistency recipes and of reconciliation, on a Postgres documents
 * table with dependant rows (chunks), through Kysely. Each method is one SQL statement, and so
 * one round trip and one atomic change: soft-deleting a document and its chunks, restoring
 * both, or moving a document to `error` while retiring its chunks are data-modifying CTEs, so a
 * crash or a lost connection can never leave a document deleted with live chunks or the
 * reverse. Status changes are conditional (`WHERE status = …`), so a recipe and a concurrent
 * reconciliation pass never both act on the same row.
 */

import {
  BallastError,
  type Clock,
  type DocumentRecordContext,
  type DocumentRecordRef,
  type DocumentRecords,
  type DocumentStatus,
  type ListByKeyOptions,
  type NewDocumentRecord,
  type ObjectInfo,
  type SoftDeletedRecord,
  systemClock,
  type UploadInTransactionOptions,
} from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import type { Kysely, QueryExecutorProvider, Transaction } from 'kysely';
import { documentTableRefs, type ResolvedDocumentTables } from './documents-table.js';
import {
  type DocumentRow,
  isRestorePoint,
  type KyselyDocumentRecordsOptions,
  optionsSchema,
  type RestorePoint,
} from './kysely-document-records-config.js';
import {
  type DocumentTablesSql,
  expirePendingSql,
  insertSql,
  listByKeySql,
  markErrorSql,
  markUploadedSql,
  restoreSql,
  softDeleteSql,
} from './kysely-document-records-sql.js';
import { isDataException, refusingBadValues } from './value-refused.js';

export type {
  DocumentRow,
  KyselyDocumentRecordsOptions,
} from './kysely-document-records-config.js';

type Raw = Record<string, unknown>;

function toMillis(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  const parsed = Date.parse(String(value));
  return Number.isNaN(parsed) ? undefined : parsed;
}

function defaultDataColumns(data: unknown): Record<string, unknown> {
  if (data === undefined || data === null) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new BallastError('INVALID_OPTIONS', {
      message:
        'KyselyDocumentRecords: a record must be an object of column values, or pass dataColumns',
      details: { field: 'record' },
    });
  }
  return data as Record<string, unknown>;
}

/**
 * `DocumentRecords` over your documents table and its chunks.
 *
 * | method | statement |
 * | --- | --- |
 * | `insert` | `INSERT … RETURNING *` |
 * | `softDelete` | CTE: lock row → mark deleted → soft-delete its live chunks, returning their ids |
 * | `restore` | CTE: put the row's status back → un-delete exactly those chunks |
 * | `markError` | CTE: active → error → soft-delete its live chunks |
 * | `markUploaded` | CTE: pending → active with object metadata, or the row if already active |
 * | `expirePending` | pending → deleted |
 * | `listByKey` | keyset page on `(storage_key COLLATE "C", id)` |
 *
 * @example
 * ```ts
 * const records = new KyselyDocumentRecords<{ name: string }>({
 *   db,
 *   documents: { table: 'files', storageKey: 'object_key', deletedAt: 'removed_at' },
 *   chunks: { table: 'file_chunks', documentId: 'file_id' },
 * });
 * const { row } = await uploadThenRecord({ storage, records, key, body, record: { name } });
 * ```
 */
export class KyselyDocumentRecords<Data = Record<string, unknown>>
  implements DocumentRecords<Data, DocumentRow>
{
  readonly #db: QueryExecutorProvider;
  readonly #tables: ResolvedDocumentTables;
  readonly #sql: DocumentTablesSql;
  readonly #dataColumns: (data: Data) => Record<string, unknown>;
  readonly #generateId: () => string;
  readonly #clock: Clock;
  readonly #options: KyselyDocumentRecordsOptions<Data>;
  readonly #managedColumns: ReadonlySet<string>;

  constructor(options: KyselyDocumentRecordsOptions<Data>) {
    const parsed = parseOptions(optionsSchema, options, 'KyselyDocumentRecords()');
    this.#options = options;
    this.#db = parsed.db;
    this.#tables = parsed;
    this.#sql = { tables: parsed, refs: documentTableRefs(parsed) };
    const { table: _table, ...columns } = parsed.documents;
    this.#managedColumns = new Set(
      Object.values(columns).filter((name): name is string => typeof name === 'string'),
    );
    this.#dataColumns = options.dataColumns ?? defaultDataColumns;
    this.#generateId = options.generateId ?? (() => crypto.randomUUID());
    this.#clock = options.clock ?? systemClock;
  }

  /** The same records on another executor, usually a transaction (`trx`). */
  withExecutor(db: QueryExecutorProvider): KyselyDocumentRecords<Data> {
    return new KyselyDocumentRecords<Data>({ ...this.#options, db });
  }

  /**
   * The `transaction` and `write` options of `uploadInTransaction` (seed 004): a Kysely
   * transaction on `db`, and a write that inserts the `active` row for the stored object inside
   * it. For a write of your own (an `UPDATE` of an existing row), pass `transaction` with your
   * own `write(tx, object)`.
   *
   * @example
   * ```ts
   * const { row } = await uploadInTransaction({
   *   storage, key: `documents/${crypto.randomUUID()}`, body,
   *   ...records.transactional(db, { name: 'deed.pdf' }),
   * });
   * ```
   */
  transactional<DB>(
    db: Kysely<DB>,
    data: Data,
    context: { readonly traceId?: string } = {},
  ): Pick<UploadInTransactionOptions<Transaction<DB>, DocumentRow>, 'transaction' | 'write'> {
    return {
      transaction: (work) => db.transaction().execute(work),
      write: (tx, object) =>
        this.withExecutor(tx).insert(
          { key: object.key, status: 'active', data, object },
          { traceId: context.traceId ?? crypto.randomUUID(), now: this.#clock.now() },
        ),
    };
  }

  async insert(
    record: NewDocumentRecord<Data>,
    context: DocumentRecordContext,
  ): Promise<DocumentRow> {
    const c = this.#tables.documents;
    const now = new Date(context.now);
    const values = new Map<string, unknown>([
      [c.id, this.#generateId()],
      [c.storageKey, record.key],
      [c.status, this.#tables.statuses[record.status]],
      [c.updatedAt, now],
    ]);
    if (c.createdAt !== null) values.set(c.createdAt, now);
    if (record.expiresAt !== undefined) {
      if (c.expiresAt === null) {
        throw new BallastError('INVALID_OPTIONS', {
          message: 'KyselyDocumentRecords: pending rows need the documents.expiresAt column',
          details: { field: 'documents.expiresAt' },
        });
      }
      values.set(c.expiresAt, new Date(record.expiresAt));
    }
    for (const [column, value] of this.#objectColumns(record.object)) values.set(column, value);
    for (const [column, value] of Object.entries(this.#dataColumns(record.data))) {
      // Every configured column is the records' own, whether this insert sets it or not: data
      // (often a request body) must never set a status, an error_reason or a deleted_at.
      if (this.#managedColumns.has(column) || values.has(column)) {
        throw new BallastError('VALIDATION_FAILED', {
          message: `KyselyDocumentRecords: record data sets "${column}", a column the records manage`,
          details: { field: `record.${column}` },
        });
      }
      values.set(column, value);
    }
    const result = await refusingBadValues('record', () =>
      insertSql(this.#sql, values).execute(this.#db),
    );
    return this.#toRow(this.#only(result.rows, 'insert'));
  }

  async softDelete(
    id: string,
    context: DocumentRecordContext,
  ): Promise<SoftDeletedRecord | undefined> {
    const result = await refusingBadValues('id', () =>
      softDeleteSql(this.#sql, id, new Date(context.now)).execute(this.#db),
    );
    const row = result.rows[0];
    if (row === undefined) return undefined;
    const restoreToken: RestorePoint = {
      kind: 'ballast-kysely-restore-point',
      id,
      status: row.status,
      updatedAt: row.updated_at,
      deletedAt: row.deleted_at,
      dependantIds: parseIds(row.dependant_ids),
    };
    return { key: row.key, restoreToken };
  }

  async restore(restoreToken: unknown, _context: DocumentRecordContext): Promise<void> {
    if (!isRestorePoint(restoreToken)) {
      throw new BallastError('INVALID_OPTIONS', {
        message: 'restore(): not a restore token of KyselyDocumentRecords',
        details: { field: 'restoreToken' },
      });
    }
    const result = await restoreSql(this.#sql, restoreToken).execute(this.#db);
    const outcome = result.rows[0];
    // Restored already (a repeated compensation) or changed since: nothing to put back.
    if (outcome?.present === true || outcome?.restored === 1) return;
    throw new BallastError('NOT_FOUND', {
      message: `restore(): document ${restoreToken.id} no longer exists`,
    });
  }

  async markError(id: string, reason: string, context: DocumentRecordContext): Promise<boolean> {
    const result = await refusingBadValues('id', () =>
      markErrorSql(this.#sql, id, reason, new Date(context.now)).execute(this.#db),
    );
    return result.rows[0]?.changed === 1;
  }

  async markUploaded(
    id: string,
    object: ObjectInfo,
    context: DocumentRecordContext,
  ): Promise<DocumentRow | undefined> {
    const statement = markUploadedSql(
      this.#sql,
      id,
      object.key,
      this.#objectColumns(object),
      new Date(context.now),
    );
    const result = await refusingBadValues('id', () => statement.execute(this.#db));
    const row = result.rows[0];
    return row === undefined ? undefined : this.#toRow(row);
  }

  async expirePending(id: string, context: DocumentRecordContext): Promise<boolean> {
    const result = await refusingBadValues('id', () =>
      expirePendingSql(this.#sql, id, new Date(context.now)).execute(this.#db),
    );
    return result.rows.length === 1;
  }

  async listByKey(
    options: ListByKeyOptions,
    _context: DocumentRecordContext,
  ): Promise<readonly DocumentRecordRef[]> {
    if (!Number.isInteger(options.limit) || options.limit < 1) {
      throw new BallastError('INVALID_OPTIONS', {
        message: 'listByKey(): "limit" must be a positive integer',
        details: { field: 'limit' },
      });
    }
    const result = await listByKeySql(this.#sql, options)
      .execute(this.#db)
      .catch((error: unknown) => {
        // A prefix or cursor no key or id can hold (a NUL, an id of another type): the calling
        // code's value (reconcile's prefix, the CLI's --prefix), not a database failure.
        if (!isDataException(error)) throw error;
        throw new BallastError('INVALID_OPTIONS', {
          message:
            'Invalid options for listByKey(): "prefix" or "after" holds a value the documents table cannot store',
          details: { field: options.prefix !== undefined ? 'prefix' : 'after' },
          cause: error,
        });
      });
    return result.rows.map((row) => {
      const updatedAt = toMillis(row.updated_at);
      const expires = toMillis(row.expires_at);
      return {
        id: String(row.id),
        key: row.key,
        status: this.#statusOf(row.status),
        ...(updatedAt === undefined ? {} : { updatedAt }),
        ...(expires === undefined ? {} : { expiresAt: expires }),
      };
    });
  }

  #objectColumns(object: ObjectInfo | undefined): Array<[string, unknown]> {
    if (object === undefined) return [];
    const c = this.#tables.documents;
    const columns: Array<[string, unknown]> = [];
    if (c.size !== null) columns.push([c.size, object.size]);
    if (c.etag !== null && object.etag !== undefined) columns.push([c.etag, object.etag]);
    if (c.contentType !== null && object.contentType !== undefined) {
      columns.push([c.contentType, object.contentType]);
    }
    if (c.checksumSha256 !== null && object.checksumSha256 !== undefined) {
      columns.push([c.checksumSha256, object.checksumSha256]);
    }
    return columns;
  }

  #statusOf(value: unknown): DocumentStatus {
    const s = this.#tables.statuses;
    if (value === s.active) return 'active';
    if (value === s.deleted) return 'deleted';
    if (value === s.pending) return 'pending';
    // `error`, and any status Ballast does not know: left alone by reconciliation.
    return 'error';
  }

  #toRow(raw: Raw): DocumentRow {
    const c = this.#tables.documents;
    const expiresAt = c.expiresAt === null ? undefined : toMillis(raw[c.expiresAt]);
    return {
      id: String(raw[c.id]),
      key: String(raw[c.storageKey]),
      status: this.#statusOf(raw[c.status]),
      updatedAt: toMillis(raw[c.updatedAt]) ?? 0,
      ...(expiresAt === undefined ? {} : { expiresAt }),
      columns: raw,
    };
  }

  #only(rows: readonly Raw[], operation: string): Raw {
    const row = rows[0];
    if (row === undefined) {
      throw new BallastError('INTERNAL', {
        message: `KyselyDocumentRecords.${operation}: no row returned`,
      });
    }
    return row;
  }
}

function parseIds(value: unknown): string[] {
  const list = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  return Array.isArray(list) ? list.map(String) : [];
}
