/**
 * The SQL of `KyselyDocumentRecords`, one statement per records method, built (not run) from the
 * configured table and column names. Each multi-table change is one data-modifying CTE, so a
 * document and its chunks can never be left half changed.
 */
import type { ListByKeyOptions } from '@ballast/core';
import { type RawBuilder, sql } from 'kysely';
import type { DocumentTableRefs, ResolvedDocumentTables } from './documents-table.js';
import { prefixUpperBound } from './key-prefix-range.js';
import type { RestorePoint } from './kysely-document-records-config.js';

/** The configured tables, as names and as SQL references. */
export interface DocumentTablesSql {
  readonly tables: ResolvedDocumentTables;
  readonly refs: DocumentTableRefs;
}

/** `INSERT … RETURNING *` of one row from column → value pairs. */
export function insertSql({ refs }: DocumentTablesSql, values: ReadonlyMap<string, unknown>) {
  const columns = [...values.keys()].map((column) => sql.id(column));
  const params = [...values.values()].map((value) => sql`${value}`);
  return sql<Record<string, unknown>>`
      INSERT INTO ${refs.documents} (${sql.join(columns)})
      VALUES (${sql.join(params)})
      RETURNING *`;
}

/** Lock an active or error row → mark it deleted → soft-delete its live chunks, returning what to restore. */
export function softDeleteSql(t: DocumentTablesSql, id: string, now: Date) {
  const c = t.tables.documents;
  const s = t.tables.statuses;
  const documents = t.refs.documents;
  const deletedAt = c.deletedAt === null ? sql`NULL` : sql.id(c.deletedAt);
  const setDeletedAt = c.deletedAt === null ? sql`` : sql`, ${sql.id(c.deletedAt)} = ${now}`;
  return sql<{
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
      )${retireDependants(t, now)}
      SELECT old.key, old.status, old.updated_at, old.deleted_at, ${retiredIds(t)} AS dependant_ids
      FROM old`;
}

/** Put a deleted row's status back and un-delete exactly the chunks its soft delete retired. */
export function restoreSql(t: DocumentTablesSql, point: RestorePoint) {
  const c = t.tables.documents;
  const documents = t.refs.documents;
  const setDeletedAt =
    c.deletedAt === null ? sql`` : sql`, ${sql.id(c.deletedAt)} = ${point.deletedAt}`;
  const chunks = t.tables.chunks;
  const dependants =
    chunks === false || t.refs.chunks === undefined
      ? sql``
      : sql`, dependants AS (
            UPDATE ${t.refs.chunks} AS ch SET ${sql.id(chunks.deletedAt)} = NULL
            FROM doc
            WHERE ch.${sql.id(chunks.documentId)} = doc.id
              AND ch.${sql.id(chunks.id)}::text IN (
                SELECT json_array_elements_text(${JSON.stringify(point.dependantIds)}::json))
            RETURNING 1
          )`;
  return sql<{ restored: number; present: boolean }>`
      WITH doc AS (
        UPDATE ${documents}
        SET ${sql.id(c.status)} = ${point.status},
            ${sql.id(c.updatedAt)} = ${point.updatedAt}${setDeletedAt}
        WHERE ${sql.id(c.id)} = ${point.id} AND ${sql.id(c.status)} = ${t.tables.statuses.deleted}
        RETURNING ${sql.id(c.id)} AS id
      )${dependants}
      SELECT (SELECT count(*) FROM doc)::int AS restored,
             EXISTS (SELECT 1 FROM ${documents} WHERE ${sql.id(c.id)} = ${point.id}) AS present`;
}

/** Active → error, retiring its live chunks. */
export function markErrorSql(t: DocumentTablesSql, id: string, reason: string, now: Date) {
  const c = t.tables.documents;
  const s = t.tables.statuses;
  const setReason = c.errorReason === null ? sql`` : sql`, ${sql.id(c.errorReason)} = ${reason}`;
  return sql<{ changed: number }>`
      WITH doc AS (
        UPDATE ${t.refs.documents}
        SET ${sql.id(c.status)} = ${s.error}, ${sql.id(c.updatedAt)} = ${now}${setReason}
        WHERE ${sql.id(c.id)} = ${id} AND ${sql.id(c.status)} = ${s.active}
        RETURNING ${sql.id(c.id)} AS id
      )${retireDependants(t, now)}
      SELECT count(*)::int AS changed FROM doc`;
}

/**
 * Pending → active with the object's columns, or the row itself when a repeated confirmation
 * finds it already active for the same key.
 */
export function markUploadedSql(
  t: DocumentTablesSql,
  id: string,
  objectKey: string,
  objectColumns: ReadonlyArray<readonly [string, unknown]>,
  now: Date,
) {
  const c = t.tables.documents;
  const s = t.tables.statuses;
  const documents = t.refs.documents;
  const sets: RawBuilder<unknown>[] = [
    sql`${sql.id(c.status)} = ${s.active}`,
    sql`${sql.id(c.updatedAt)} = ${now}`,
  ];
  if (c.expiresAt !== null) sets.push(sql`${sql.id(c.expiresAt)} = NULL`);
  for (const [column, value] of objectColumns) {
    sets.push(sql`${sql.id(column)} = ${value}`);
  }
  // The second branch answers a repeated confirmation with the row it activated, only when the
  // first changed nothing. It reads the row by id FOR SHARE and checks status and key outside:
  // a confirmation that waited on a concurrent one's row lock then gets the row that one
  // committed (READ COMMITTED re-reads a locked row), where a plain read of the statement's
  // snapshot saw it still pending and answered "no longer pending".
  return sql<Record<string, unknown>>`
      WITH up AS (
        UPDATE ${documents} SET ${sql.join(sets)}
        WHERE ${sql.id(c.id)} = ${id} AND ${sql.id(c.status)} = ${s.pending}
        RETURNING *
      ), latest AS (
        SELECT * FROM ${documents}
        WHERE ${sql.id(c.id)} = ${id} AND NOT EXISTS (SELECT 1 FROM up)
        FOR SHARE
      )
      SELECT * FROM up
      UNION ALL
      SELECT * FROM latest
      WHERE ${sql.id(c.status)} = ${s.active} AND ${sql.id(c.storageKey)} = ${objectKey}`;
}

/** Pending → deleted. */
export function expirePendingSql(t: DocumentTablesSql, id: string, now: Date) {
  const c = t.tables.documents;
  const s = t.tables.statuses;
  const setDeletedAt = c.deletedAt === null ? sql`` : sql`, ${sql.id(c.deletedAt)} = ${now}`;
  return sql`
      UPDATE ${t.refs.documents}
      SET ${sql.id(c.status)} = ${s.deleted}, ${sql.id(c.updatedAt)} = ${now}${setDeletedAt}
      WHERE ${sql.id(c.id)} = ${id} AND ${sql.id(c.status)} = ${s.pending}
      RETURNING 1 AS expired`;
}

/** A keyset page on `(storage_key COLLATE "C", id)`: S3's listing order. */
export function listByKeySql(t: DocumentTablesSql, options: ListByKeyOptions) {
  const c = t.tables.documents;
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
  return sql<{
    id: unknown;
    key: string;
    status: unknown;
    updated_at: unknown;
    expires_at: unknown;
  }>`
      SELECT ${sql.id(c.id)} AS id, ${sql.id(c.storageKey)} AS key, ${sql.id(c.status)} AS status,
             ${sql.id(c.updatedAt)} AS updated_at, ${expiresAt} AS expires_at
      FROM ${t.refs.documents}
      ${where}
      ORDER BY ${key}, ${sql.id(c.id)}
      LIMIT ${options.limit}`;
}

/** `, dependants AS (…)`: soft-deletes the live chunks of the document in CTE `doc`. */
function retireDependants(t: DocumentTablesSql, now: Date): RawBuilder<unknown> {
  const chunks = t.tables.chunks;
  if (chunks === false || t.refs.chunks === undefined) return sql``;
  return sql`, dependants AS (
        UPDATE ${t.refs.chunks} AS ch SET ${sql.id(chunks.deletedAt)} = ${now}
        FROM doc
        WHERE ch.${sql.id(chunks.documentId)} = doc.id AND ch.${sql.id(chunks.deletedAt)} IS NULL
        RETURNING ch.${sql.id(chunks.id)}::text AS id
      )`;
}

/** The ids `retireDependants` changed, as a JSON array. */
function retiredIds(t: DocumentTablesSql): RawBuilder<unknown> {
  if (t.tables.chunks === false) return sql`'[]'::json`;
  return sql`(SELECT coalesce(json_agg(dependants.id), '[]'::json) FROM dependants)`;
}
