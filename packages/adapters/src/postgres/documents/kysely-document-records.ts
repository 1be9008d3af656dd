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
import {
  type Kysely,
  type QueryExecutorProvider,
  type RawBuilder,
  sql,
  type Transaction,
} from 'kysely';
import { z } from 'zod';
import { kyselyExecutorSchema } from '../kysely-executor-schema.js';
import {
  type DocumentTableRefs,
  type DocumentTablesOptions,
  documentTableRefs,
  documentTablesSchema,
  type ResolvedDocumentTables,
} from './documents-table.js';
import { prefixUpperBound } from './key-prefix-range.js';

/** A document row as the records return it. */
export interface DocumentRow extends DocumentRecordRef {
  readonly updatedAt: number;
  /** Every column of the row as the driver returned it, your own columns included. */
  readonly columns: Readonly<Record<string, unknown>>;
}

/** Options for {@link KyselyDocumentRecords}. */
export interface KyselyDocumentRecordsOptions<Data> extends DocumentTablesOptions {
  /**
   * A Kysely instance on Postgres (`pg`, PGlite or any Postgres dialect), or a transaction,
   * which binds the records to it. Its database type does not matter: the records issue their
   * own SQL.
   */
  db: QueryExecutorProvider;
  /**
   * Turns the recipe's `record` (your data) into column values of the inserted row. Default:
   * `record` is already an object of column name → value (`{ name: 'deed.pdf' }`).
   */
  dataColumns?: (data: Data) => Record<string, unknown>;
  /** Id of a new row. Default `crypto.randomUUID()`. */
  generateId?: () => string;
  /** Source of `now` for {@link KyselyDocumentRecords.transactional}. Default: system clock. */
  clock?: Clock;
}

const optionsSchema = documentTablesSchema.extend({
  db: kyselyExecutorSchema,
  dataColumns: z
    .custom<(data: unknown) => Record<string, unknown>>(
      (value) => typeof value === 'function',
      'must be a function',
    )
    .optional(),
  generateId: z
    .custom<() => string>((value) => typeof value === 'function', 'must be a function')
    .optional(),
  clock: z
    .custom<Clock>(
      (value) => typeof (value as Partial<Clock>)?.now === 'function',
      'must be a Clock',
    )
    .optional(),
});

/** What `softDelete` hands to `restore`. */
interface RestorePoint {
  readonly kind: 'ballast-kysely-restore-point';
  readonly id: string;
  readonly status: unknown;
  readonly updatedAt: unknown;
  readonly deletedAt: unknown;
  /** Dependants this soft delete retired, as text; chunks deleted earlier are not in it. */
  readonly dependantIds: readonly string[];
}

function isRestorePoint(token: unknown): token is RestorePoint {
  return (
    typeof token === 'object' &&
    token !== null &&
    (token as Partial<RestorePoint>).kind === 'ballast-kysely-restore-point'
  );
}

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
  readonly #refs: DocumentTableRefs;
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
    this.#refs = documentTableRefs(parsed);
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
    const columns = [...values.keys()].map((column) => sql.id(column));
    const params = [...values.values()].map((value) => sql`${value}`);
    const result = await sql<Raw>`
      INSERT INTO ${this.#refs.documents} (${sql.join(columns)})
      VALUES (${sql.join(params)})
      RETURNING *`.execute(this.#db);
    return this.#toRow(this.#only(result.rows, 'insert'));
  }

  async softDelete(
    id: string,
    context: DocumentRecordContext,
  ): Promise<SoftDeletedRecord | undefined> {
    const c = this.#tables.documents;
    const s = this.#tables.statuses;
    const now = new Date(context.now);
    const documents = this.#refs.documents;
    const deletedAt = c.deletedAt === null ? sql`NULL` : sql.id(c.deletedAt);
    const setDeletedAt = c.deletedAt === null ? sql`` : sql`, ${sql.id(c.deletedAt)} = ${now}`;
    const result = await sql<{
      key: string;
      status: unknown;
      updated_at: unknown;
      deleted_at: unknown;
      dependant_ids: unknown;
    }>`
      WITH old AS (
        SELECT ${sql.id(c.id)} AS id, ${sql.id(c.storageKey)} AS key, ${sql.id(c.status)} AS status,
               ${sql.id(c.updatedAt)} AS updated_at, ${deletedAt} AS deleted_at
        FROM ${documents}
        WHERE ${sql.id(c.id)} = ${id} AND ${sql.id(c.status)} IN (${s.active}, ${s.error})
        FOR UPDATE
      ), doc AS (
        UPDATE ${documents} AS d
        SET ${sql.id(c.status)} = ${s.deleted}, ${sql.id(c.updatedAt)} = ${now}${setDeletedAt}
        FROM old WHERE d.${sql.id(c.id)} = old.id
        RETURNING d.${sql.id(c.id)} AS id
      )${this.#retireDependants(now)}
      SELECT old.key, old.status, old.updated_at, old.deleted_at, ${this.#retiredIds()} AS dependant_ids
      FROM old`.execute(this.#db);
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
    const c = this.#tables.documents;
    const documents = this.#refs.documents;
    const setDeletedAt =
      c.deletedAt === null ? sql`` : sql`, ${sql.id(c.deletedAt)} = ${restoreToken.deletedAt}`;
    const chunks = this.#tables.chunks;
    const dependants =
      chunks === false || this.#refs.chunks === undefined
        ? sql``
        : sql`, dependants AS (
            UPDATE ${this.#refs.chunks} AS ch SET ${sql.id(chunks.deletedAt)} = NULL
            FROM doc
            WHERE ch.${sql.id(chunks.documentId)} = doc.id
              AND ch.${sql.id(chunks.id)}::text IN (
                SELECT json_array_elements_text(${JSON.stringify(restoreToken.dependantIds)}::json))
            RETURNING 1
          )`;
    const result = await sql<{ restored: number; present: boolean }>`
      WITH doc AS (
        UPDATE ${documents}
        SET ${sql.id(c.status)} = ${restoreToken.status},
            ${sql.id(c.updatedAt)} = ${restoreToken.updatedAt}${setDeletedAt}
        WHERE ${sql.id(c.id)} = ${restoreToken.id} AND ${sql.id(c.status)} = ${this.#tables.statuses.deleted}
        RETURNING ${sql.id(c.id)} AS id
      )${dependants}
      SELECT (SELECT count(*) FROM doc)::int AS restored,
             EXISTS (SELECT 1 FROM ${documents} WHERE ${sql.id(c.id)} = ${restoreToken.id}) AS present`.execute(
      this.#db,
    );
    const outcome = result.rows[0];
    // Restored already (a repeated compensation) or changed since: nothing to put back.
    if (outcome?.present === true || outcome?.restored === 1) return;
    throw new BallastError('NOT_FOUND', {
      message: `restore(): document ${restoreToken.id} no longer exists`,
    });
  }

  async markError(id: string, reason: string, context: DocumentRecordContext): Promise<boolean> {
    const c = this.#tables.documents;
    const s = this.#tables.statuses;
    const now = new Date(context.now);
    const setReason = c.errorReason === null ? sql`` : sql`, ${sql.id(c.errorReason)} = ${reason}`;
    const result = await sql<{ changed: number }>`
      WITH doc AS (
        UPDATE ${this.#refs.documents}
        SET ${sql.id(c.status)} = ${s.error}, ${sql.id(c.updatedAt)} = ${now}${setReason}
        WHERE ${sql.id(c.id)} = ${id} AND ${sql.id(c.status)} = ${s.active}
        RETURNING ${sql.id(c.id)} AS id
      )${this.#retireDependants(now)}
      SELECT count(*)::int AS changed FROM doc`.execute(this.#db);
    return result.rows[0]?.changed === 1;
  }

  async markUploaded(
    id: string,
    object: ObjectInfo,
    context: DocumentRecordContext,
  ): Promise<DocumentRow | undefined> {
    const c = this.#tables.documents;
    const s = this.#tables.statuses;
    const documents = this.#refs.documents;
    const sets: RawBuilder<unknown>[] = [
      sql`${sql.id(c.status)} = ${s.active}`,
      sql`${sql.id(c.updatedAt)} = ${new Date(context.now)}`,
    ];
    if (c.expiresAt !== null) sets.push(sql`${sql.id(c.expiresAt)} = NULL`);
    for (const [column, value] of this.#objectColumns(object)) {
      sets.push(sql`${sql.id(column)} = ${value}`);
    }
    // The second branch answers a repeated confirmation with the row it activated; it reads
    // the statement's snapshot, so it cannot also return the row the first branch just moved.
    const result = await sql<Raw>`
      WITH up AS (
        UPDATE ${documents} SET ${sql.join(sets)}
        WHERE ${sql.id(c.id)} = ${id} AND ${sql.id(c.status)} = ${s.pending}
        RETURNING *
      )
      SELECT * FROM up
      UNION ALL
      SELECT * FROM ${documents}
      WHERE ${sql.id(c.id)} = ${id} AND ${sql.id(c.status)} = ${s.active}
        AND ${sql.id(c.storageKey)} = ${object.key} AND NOT EXISTS (SELECT 1 FROM up)`.execute(
      this.#db,
    );
    const row = result.rows[0];
    return row === undefined ? undefined : this.#toRow(row);
  }

  async expirePending(id: string, context: DocumentRecordContext): Promise<boolean> {
    const c = this.#tables.documents;
    const s = this.#tables.statuses;
    const now = new Date(context.now);
    const setDeletedAt = c.deletedAt === null ? sql`` : sql`, ${sql.id(c.deletedAt)} = ${now}`;
    const result = await sql`
      UPDATE ${this.#refs.documents}
      SET ${sql.id(c.status)} = ${s.deleted}, ${sql.id(c.updatedAt)} = ${now}${setDeletedAt}
      WHERE ${sql.id(c.id)} = ${id} AND ${sql.id(c.status)} = ${s.pending}
      RETURNING 1 AS expired`.execute(this.#db);
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
    const c = this.#tables.documents;
    const key = sql`${sql.id(c.storageKey)} COLLATE "C"`;
    const conditions: RawBuilder<unknown>[] = [];
    const prefix = options.prefix ?? '';
    if (prefix !== '') {
      conditions.push(sql`${key} >= ${prefix}`);
      const bound = prefixUpperBound(prefix);
      if (bound !== undefined) conditions.push(sql`${key} < ${bound}`);
    }
    if (options.after !== undefined) {
      conditions.push(sql`(${key}, ${sql.id(c.id)}) > (${options.after.key}, ${options.after.id})`);
    }
    const where = conditions.length === 0 ? sql`` : sql`WHERE ${sql.join(conditions, sql` AND `)}`;
    const expiresAt = c.expiresAt === null ? sql`NULL` : sql.id(c.expiresAt);
    const result = await sql<{
      id: unknown;
      key: string;
      status: unknown;
      updated_at: unknown;
      expires_at: unknown;
    }>`
      SELECT ${sql.id(c.id)} AS id, ${sql.id(c.storageKey)} AS key, ${sql.id(c.status)} AS status,
             ${sql.id(c.updatedAt)} AS updated_at, ${expiresAt} AS expires_at
      FROM ${this.#refs.documents}
      ${where}
      ORDER BY ${key}, ${sql.id(c.id)}
      LIMIT ${options.limit}`.execute(this.#db);
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

  /** `, dependants AS (…)`: soft-deletes the live chunks of the document in CTE `doc`. */
  #retireDependants(now: Date): RawBuilder<unknown> {
    const chunks = this.#tables.chunks;
    if (chunks === false || this.#refs.chunks === undefined) return sql``;
    return sql`, dependants AS (
        UPDATE ${this.#refs.chunks} AS ch SET ${sql.id(chunks.deletedAt)} = ${now}
        FROM doc
        WHERE ch.${sql.id(chunks.documentId)} = doc.id AND ch.${sql.id(chunks.deletedAt)} IS NULL
        RETURNING ch.${sql.id(chunks.id)}::text AS id
      )`;
  }

  /** The ids `#retireDependants` changed, as a JSON array. */
  #retiredIds(): RawBuilder<unknown> {
    if (this.#tables.chunks === false) return sql`'[]'::json`;
    return sql`(SELECT coalesce(json_agg(dependants.id), '[]'::json) FROM dependants)`;
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
