/**
 * The records port: the few things the consistency recipes and reconciliation need from the
 * table that points at stored objects (documents, attachments, case files…) and from the rows
 * that depend on it (chunks, thumbnails, embeddings). Ballast never sees the table itself, so a
 * user adopts the recipes by implementing these methods over their own schema; each recipe
 * asks only for the methods it uses (`Pick<DocumentRecords, 'insert'>`).
 *
 * Implementations: `MemoryDocumentRecords` (core, tests and demo) and the Kysely one in
 * `@ballast/adapters/postgres`.
 */
import type { ObjectInfo } from '../storage/object-storage.js';

/**
 * Lifecycle of a row that points at an object.
 * - `pending`: a signed upload was issued; the object may not exist yet (seed 000 §2).
 * - `active`: the object exists and the row is live (seed 000's `uploaded`).
 * - `deleted`: soft-deleted; its object must go.
 * - `error`: the object was found missing; dependants were soft-deleted (seed 001 §3).
 */
export type DocumentStatus = 'pending' | 'active' | 'deleted' | 'error';

/** What reconciliation reads of a row. */
export interface DocumentRecordRef {
  readonly id: string;
  /** The storage key of the row's object. Several rows may share a key (a re-upload). */
  readonly key: string;
  readonly status: DocumentStatus;
  /**
   * Epoch ms of the last status change. Reconciliation leaves `deleted` rows changed within its
   * grace period alone, so it never races a `markThenDelete` that is about to restore the row.
   * When absent, the row is treated as old.
   */
  readonly updatedAt?: number;
  /** For `pending` rows: epoch ms after which an unconfirmed upload is abandoned. */
  readonly expiresAt?: number;
}

/** Passed to every records call. */
export interface DocumentRecordContext {
  /** Trace id of the operation, for the implementation's logs. */
  readonly traceId: string;
  /** The caller's clock time (epoch ms), to stamp `updatedAt` with the same clock. */
  readonly now: number;
  readonly signal?: AbortSignal;
}

/** A row to insert. */
export interface NewDocumentRecord<Data> {
  readonly key: string;
  /** `active` after an upload; `pending` when a signed upload is issued. */
  readonly status: 'active' | 'pending';
  /** The caller's own columns (title, owner, case id…). */
  readonly data: Data;
  /** The stored object, for `active` rows (size, etag, content type, checksum). */
  readonly object?: ObjectInfo;
  /** For `pending` rows: when the unconfirmed upload expires (epoch ms). */
  readonly expiresAt?: number;
}

/** What `softDelete` changed, enough to put it back. */
export interface SoftDeletedRecord {
  /** The storage key of the deleted row's object. */
  readonly key: string;
  /**
   * Opaque to Ballast; handed back to `restore`. It must let `restore` put the row **and the
   * dependants this call deleted** back to their previous statuses, and nothing else (chunks
   * deleted earlier stay deleted).
   */
  readonly restoreToken: unknown;
}

/** Page request for {@link DocumentRecords.listByKey}. */
export interface ListByKeyOptions {
  /** Resume after this row (exclusive), in `(key, id)` order. Absent: from the start. */
  readonly after?: { readonly key: string; readonly id: string };
  /** Maximum rows to return (≥ 1). */
  readonly limit: number;
  /** Only rows whose key starts with this. */
  readonly prefix?: string;
}

/**
 * The records port. `Data` is the caller's own columns; `Row` what `insert` and `markUploaded`
 * return (the caller's row type). Every method is one database round trip in a SQL
 * implementation, which is what the recipes' and reconciliation's query budgets count.
 */
export interface DocumentRecords<
  Data = unknown,
  Row extends { readonly id: string } = DocumentRecordRef,
> {
  /** Inserts one row. Called after the object is stored (`active`) or before it is (`pending`). */
  insert(record: NewDocumentRecord<Data>, context: DocumentRecordContext): Promise<Row>;
  /**
   * Marks an `active` or `error` row `deleted` and soft-deletes its dependants, atomically (one
   * transaction). Resolves `undefined` when there is no such row or it is not in one of those
   * statuses (already deleted, pending).
   */
  softDelete(id: string, context: DocumentRecordContext): Promise<SoftDeletedRecord | undefined>;
  /** Undoes one `softDelete`, atomically, from its `restoreToken`. */
  restore(restoreToken: unknown, context: DocumentRecordContext): Promise<void>;
  /**
   * Moves an `active` row to `error` and soft-deletes its dependants (the object was found
   * missing). Resolves `false`, changing nothing, when the row is no longer `active`.
   */
  markError(id: string, reason: string, context: DocumentRecordContext): Promise<boolean>;
  /**
   * Moves a `pending` row to `active` with its object's metadata. Resolves `undefined` when the
   * row is not `pending`; an implementation should resolve the row when it is already `active`
   * for the same key, so a repeated confirmation is harmless.
   */
  markUploaded(
    id: string,
    object: ObjectInfo,
    context: DocumentRecordContext,
  ): Promise<Row | undefined>;
  /**
   * Abandons a `pending` row whose upload expired: deletes it or marks it `deleted` (either is
   * fine for reconciliation). Resolves `false`, changing nothing, when it is no longer `pending`
   * (confirmed meanwhile).
   */
  expirePending(id: string, context: DocumentRecordContext): Promise<boolean>;
  /**
   * One page of rows of every status, in ascending `(key, id)` order where keys compare in
   * UTF-8 byte order, exactly as `ObjectStorage.list` orders keys (`compareObjectKeys`; in
   * Postgres `ORDER BY key COLLATE "C", id` with `WHERE (key COLLATE "C", id) > ($1, $2)`).
   * A page shorter than `limit` is the last.
   */
  listByKey(
    options: ListByKeyOptions,
    context: DocumentRecordContext,
  ): Promise<readonly DocumentRecordRef[]>;
}
