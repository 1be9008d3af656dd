/**
 * The record of one queued write, as it is stored (IndexedDB or memory). The record carries a
 * `schemaVersion`; a record written by an older release is migrated when the queue loads it,
 * never deleted (Workbox's background sync drops its whole queue on a schema upgrade, losing
 * the writes it promised to deliver).
 */
import type { QueueStorage } from './queue-storage.js';

/** Delivery priority (seed 002 §2.4): sales and till movements first, master data last. */
export type WritePriority = 'high' | 'medium' | 'low';

/**
 * Where a write stands.
 * - `pending`: waiting to be sent (offline, or backing off after a failure).
 * - `sending`: being sent now by some tab.
 * - `failed`: the server rejected it (a 4xx other than a version conflict); `error` says why.
 *   It stays until the user retries or removes it.
 * - `conflict`: an edit met a newer version on the server; `conflict` holds what the server sent.
 */
export type WriteState = 'pending' | 'sending' | 'failed' | 'conflict';

/** The stored schema version written by this release. */
export const queueSchemaVersion = 1;

/** The error a server answered with, kept on a `failed` or `conflict` write. */
export interface QueuedWriteError {
  code: string;
  /** The server's message for the user (problem+json `detail`), or the code when it sent none. */
  message: string;
  status: number;
}

/** What the server holds when an edit conflicts. */
export interface WriteConflict {
  /** The server's current version (problem+json `currentVersion`). */
  currentVersion?: string | number;
  /** The server's current record (problem+json `current`), when it sent it. */
  current?: Record<string, unknown>;
  /** Fields that both sides changed, when a merge was attempted. */
  fields?: string[];
}

/** One write in the queue. */
export interface QueuedWrite {
  schemaVersion: typeof queueSchemaVersion;
  /** Stable id of the queued write (the first `Idempotency-Key` it was sent with). */
  id: string;
  /**
   * The `Idempotency-Key` every replay sends. Equal to `id` unless a conflict resolver re-sent
   * the write as a new request (the server recorded its 409/412 under the old key).
   */
  idempotencyKey: string;
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  priority: WritePriority;
  /** When the write was made (the caller's clock). */
  createdAt: Date;
  /** Creation order, a tie-break between writes made in the same millisecond. */
  sequence: number;
  state: WriteState;
  /** Attempts made so far. */
  attempts: number;
  /** Earliest next attempt while backing off. */
  nextAttemptAt?: Date;
  /**
   * When the attempt that left it backing off ended. A backoff that began later than now by
   * more than its length was stamped before the clock was set back, and is over.
   */
  lastAttemptAt?: Date;
  /** When a tab started sending it; after a lease a crashed tab's write is taken over. */
  sendingSince?: Date;
  /** The caller's key that makes a second `send()` of the same action a no-op (a double click). */
  dedupeKey?: string;
  /** For an edit: the version it was made against (sent as `If-Match`). */
  version?: string | number;
  /** For an edit: the record as loaded before the change, for a three-way merge. */
  base?: Record<string, unknown>;
  /** The server's answer when `failed` or `conflict`. */
  error?: QueuedWriteError;
  conflict?: WriteConflict;
  /** Anything the app wants to show in a pending list (a label, a customer name). */
  meta?: Record<string, unknown>;
  /** For a creation made offline: the temporary id later writes use until the server's id is known. */
  temporaryId?: string;
}

const priorities: readonly WritePriority[] = ['high', 'medium', 'low'];

/** Replay order: priority first, then creation order. */
export const compareWrites = (a: QueuedWrite, b: QueuedWrite): number =>
  priorities.indexOf(a.priority) - priorities.indexOf(b.priority) ||
  a.createdAt.getTime() - b.createdAt.getTime() ||
  a.sequence - b.sequence ||
  (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** A stored date, number or date string as a `Date`; anything else, or an invalid date, is the epoch. */
function storedDate(value: unknown): Date {
  const kind = typeof value;
  const date = new Date(
    value instanceof Date || kind === 'number' || kind === 'string' ? (value as Date) : 0,
  );
  return Number.isNaN(date.getTime()) ? new Date(0) : date;
}

/**
 * Reads a stored record of any known schema version into the current shape. Version 0 is the
 * hand-rolled queue of seed 002 §2.4 (`{ id, method, path, body, createdAt }`), so an app that
 * followed the seed keeps its queued writes when it adopts Ballast. Returns `undefined` for a
 * record that cannot be sent (no id, method or path); the caller leaves it in storage.
 */
export function migrateStoredWrite(record: unknown): QueuedWrite | undefined {
  if (typeof record !== 'object' || record === null) return undefined;
  const stored = record as Record<string, unknown>;
  if (stored.schemaVersion === queueSchemaVersion) return stored as unknown as QueuedWrite;
  if (stored.schemaVersion !== undefined && stored.schemaVersion !== 0) return undefined;
  const { id, method, path } = stored;
  if (typeof id !== 'string' || typeof method !== 'string' || typeof path !== 'string') {
    return undefined;
  }
  const createdAt = storedDate(stored.createdAt);
  const priority = priorities.includes(stored.priority as WritePriority)
    ? (stored.priority as WritePriority)
    : 'medium';
  return {
    schemaVersion: queueSchemaVersion,
    id,
    idempotencyKey: id,
    method: method.toUpperCase(),
    path,
    ...(stored.body === undefined ? {} : { body: stored.body }),
    priority,
    createdAt,
    sequence: 0,
    state: 'pending',
    attempts: 0,
  };
}

/**
 * Every write in `storage`, migrated to the current schema (and stored back so), in replay
 * order. A record this release cannot read (a newer schema, a foreign record) stays untouched.
 */
export async function loadQueuedWrites(storage: QueueStorage): Promise<QueuedWrite[]> {
  const writes: QueuedWrite[] = [];
  for (const record of await storage.list()) {
    const write = migrateStoredWrite(record);
    if (write === undefined) continue;
    if ((record as { schemaVersion?: unknown }).schemaVersion !== queueSchemaVersion) {
      await storage.put(write.id, write);
    }
    writes.push(write);
  }
  return writes.sort(compareWrites);
}
