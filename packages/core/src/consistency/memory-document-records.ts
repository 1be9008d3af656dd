/**
 * The records port in memory: a documents table with dependant rows (chunks), for tests, the
 * demo and the reconciliation benchmark. It follows the port's contract to the letter (atomic
 * soft delete of a row and its dependants, exact restore, conditional status moves), so a test
 * that passes against it states what a SQL implementation must do.
 */
import { BallastError } from '../errors/ballast-error.js';
import { assertOptionalOptions } from '../options/invalid-argument.js';
import { compareObjectKeys } from '../storage/object-key.js';
import type { ObjectInfo } from '../storage/object-storage.js';
import type {
  DocumentRecordContext,
  DocumentRecordRef,
  DocumentRecords,
  DocumentStatus,
  ListByKeyOptions,
  NewDocumentRecord,
  SoftDeletedRecord,
} from './document-records.js';

/** A row of the in-memory documents table. */
export interface MemoryDocumentRow<Data = unknown> extends DocumentRecordRef {
  readonly data: Data;
  readonly object?: ObjectInfo;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Why the row is in `error`. */
  readonly errorReason?: string;
}

/** A row that depends on a document (a chunk, a thumbnail). */
export interface MemoryDependantRow {
  readonly id: string;
  readonly documentId: string;
  readonly status: 'active' | 'deleted';
}

/** Options for {@link MemoryDocumentRecords}. */
export interface MemoryDocumentRecordsOptions {
  /** Id of a new row. Default `crypto.randomUUID()`. */
  readonly generateId?: () => string;
}

interface RestorePoint {
  readonly id: string;
  readonly status: DocumentStatus;
  readonly updatedAt: number;
  readonly dependantIds: readonly string[];
}

function isRestorePoint(token: unknown): token is RestorePoint {
  const candidate = token as Partial<RestorePoint> | null;
  return typeof candidate?.id === 'string' && Array.isArray(candidate.dependantIds);
}

function compareRows(
  a: Pick<DocumentRecordRef, 'key' | 'id'>,
  b: Pick<DocumentRecordRef, 'key' | 'id'>,
): number {
  return compareObjectKeys(a.key, b.key) || compareObjectKeys(a.id, b.id);
}

/**
 * Documents and their dependants in memory.
 *
 * @example
 * ```ts
 * const records = new MemoryDocumentRecords<{ title: string }>();
 * const { row } = await uploadThenRecord({ storage, records, key, body, record: { title: 'Deed' } });
 * records.addDependants(row.id, 3); // three chunks, soft-deleted and restored with the row
 * ```
 */
export class MemoryDocumentRecords<Data = unknown>
  implements DocumentRecords<Data, MemoryDocumentRow<Data>>
{
  readonly #generateId: () => string;
  readonly #rows = new Map<string, MemoryDocumentRow<Data>>();
  readonly #dependants = new Map<string, MemoryDependantRow[]>();
  /** Rows in `(key, id)` order, rebuilt lazily after inserts (statuses change in place). */
  #sorted: string[] | undefined = [];

  constructor(options: MemoryDocumentRecordsOptions = {}) {
    assertOptionalOptions(options, 'new MemoryDocumentRecords()');
    this.#generateId = options.generateId ?? (() => crypto.randomUUID());
  }

  async insert(
    record: NewDocumentRecord<Data>,
    context: DocumentRecordContext,
  ): Promise<MemoryDocumentRow<Data>> {
    const row: MemoryDocumentRow<Data> = {
      id: this.#generateId(),
      key: record.key,
      status: record.status,
      data: record.data,
      object: record.object,
      expiresAt: record.expiresAt,
      createdAt: context.now,
      updatedAt: context.now,
    };
    if (this.#rows.has(row.id)) {
      throw new BallastError('INTERNAL', { message: `Duplicate document id ${row.id}.` });
    }
    this.#put(row);
    return row;
  }

  async softDelete(
    id: string,
    context: DocumentRecordContext,
  ): Promise<SoftDeletedRecord | undefined> {
    const row = this.#rows.get(id);
    if (!row || (row.status !== 'active' && row.status !== 'error')) return undefined;
    const dependantIds = this.#setDependants(id, 'deleted');
    const restoreToken: RestorePoint = {
      id,
      status: row.status,
      updatedAt: row.updatedAt,
      dependantIds,
    };
    this.#rows.set(id, { ...row, status: 'deleted', updatedAt: context.now });
    return { key: row.key, restoreToken };
  }

  async restore(restoreToken: unknown, _context: DocumentRecordContext): Promise<void> {
    if (!isRestorePoint(restoreToken)) {
      throw new BallastError('INVALID_OPTIONS', {
        message: 'restore(): not a restore token of MemoryDocumentRecords.',
        details: { field: 'restoreToken' },
      });
    }
    const row = this.#rows.get(restoreToken.id);
    if (!row) throw new BallastError('NOT_FOUND', { message: `No document ${restoreToken.id}.` });
    const restoring = new Set(restoreToken.dependantIds);
    const dependants = this.#dependants.get(row.id) ?? [];
    this.#dependants.set(
      row.id,
      dependants.map((d) => (restoring.has(d.id) ? { ...d, status: 'active' } : d)),
    );
    this.#rows.set(row.id, {
      ...row,
      status: restoreToken.status,
      updatedAt: restoreToken.updatedAt,
    });
  }

  async markError(id: string, reason: string, context: DocumentRecordContext): Promise<boolean> {
    const row = this.#rows.get(id);
    if (row?.status !== 'active') return false;
    this.#setDependants(id, 'deleted');
    this.#rows.set(id, { ...row, status: 'error', errorReason: reason, updatedAt: context.now });
    return true;
  }

  async markUploaded(
    id: string,
    object: ObjectInfo,
    context: DocumentRecordContext,
  ): Promise<MemoryDocumentRow<Data> | undefined> {
    const row = this.#rows.get(id);
    if (row?.status === 'active' && row.key === object.key) return row;
    if (row?.status !== 'pending') return undefined;
    const uploaded: MemoryDocumentRow<Data> = {
      ...row,
      status: 'active',
      object,
      expiresAt: undefined,
      updatedAt: context.now,
    };
    this.#rows.set(id, uploaded);
    return uploaded;
  }

  async expirePending(id: string, context: DocumentRecordContext): Promise<boolean> {
    const row = this.#rows.get(id);
    if (row?.status !== 'pending') return false;
    this.#rows.set(id, { ...row, status: 'deleted', updatedAt: context.now });
    return true;
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
    const sorted = this.#sortedIds();
    const prefix = options.prefix ?? '';
    const after = options.after;
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const row = this.#rows.get(sorted[middle]!)!;
      const before = after ? compareRows(row, after) <= 0 : compareObjectKeys(row.key, prefix) < 0;
      if (before) low = middle + 1;
      else high = middle;
    }
    const page: DocumentRecordRef[] = [];
    for (let i = low; i < sorted.length && page.length < options.limit; i++) {
      const row = this.#rows.get(sorted[i]!)!;
      if (!row.key.startsWith(prefix)) {
        if (compareObjectKeys(row.key, prefix) > 0) break;
        continue;
      }
      page.push(row);
    }
    return page;
  }

  /** Adds `count` dependants (chunks) to a document, `active` unless told; returns them. */
  addDependants(
    documentId: string,
    count: number,
    status: MemoryDependantRow['status'] = 'active',
  ): MemoryDependantRow[] {
    if (!this.#rows.has(documentId)) {
      throw new BallastError('NOT_FOUND', { message: `No document ${documentId}.` });
    }
    const added = Array.from({ length: count }, () => ({
      id: this.#generateId(),
      documentId,
      status,
    }));
    this.#dependants.set(documentId, [...(this.#dependants.get(documentId) ?? []), ...added]);
    return added;
  }

  /**
   * Writes a row as given, bypassing the lifecycle, so tests and the demo can plant the states
   * that crashes leave behind (an active row whose object never arrived, an old pending row).
   */
  plant(
    row: Omit<MemoryDocumentRow<Data>, 'id'> & { readonly id?: string },
  ): MemoryDocumentRow<Data> {
    const planted = { ...row, id: row.id ?? this.#generateId() };
    this.#put(planted);
    return planted;
  }

  /** One row by id. */
  get(id: string): MemoryDocumentRow<Data> | undefined {
    return this.#rows.get(id);
  }

  /** The dependants of a document, in insertion order. */
  dependantsOf(documentId: string): readonly MemoryDependantRow[] {
    return this.#dependants.get(documentId) ?? [];
  }

  /** Every row in `(key, id)` order. */
  rows(): MemoryDocumentRow<Data>[] {
    return this.#sortedIds().map((id) => this.#rows.get(id)!);
  }

  /** Number of rows of any status. */
  get rowCount(): number {
    return this.#rows.size;
  }

  #put(row: MemoryDocumentRow<Data>): void {
    const existing = this.#rows.get(row.id);
    this.#rows.set(row.id, row);
    if (!existing || existing.key !== row.key) this.#sorted = undefined;
  }

  #sortedIds(): string[] {
    if (!this.#sorted) {
      this.#sorted = [...this.#rows.values()].sort(compareRows).map((row) => row.id);
    }
    return this.#sorted;
  }

  /** Sets every dependant not already in `status`; returns the ids it changed. */
  #setDependants(documentId: string, status: 'active' | 'deleted'): string[] {
    const changed: string[] = [];
    const dependants = (this.#dependants.get(documentId) ?? []).map((d) => {
      if (d.status === status) return d;
      changed.push(d.id);
      return { ...d, status };
    });
    this.#dependants.set(documentId, dependants);
    return changed;
  }
}
