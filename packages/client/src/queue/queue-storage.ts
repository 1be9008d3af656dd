/**
 * The `QueueStorage` port: where queued writes live between a failed send and their delivery.
 * IndexedDB in a browser (it survives reloads, crashes and closed tabs), memory in Node and
 * tests. Besides the records it holds the flush lease used by tabs without Web Locks, which must
 * be claimed atomically: two tabs must never both believe they hold it.
 */

import { waitIsOver } from './wait-is-over.js';

/** Durable storage of a write queue. */
export interface QueueStorage {
  /** Every stored record, in any order (records of older schema versions included). */
  list(): Promise<unknown[]>;
  /** The record with `id`, or `undefined`. */
  get(id: string): Promise<unknown>;
  /** Stores (inserts or replaces) `record` under `id`. */
  put(id: string, record: unknown): Promise<void>;
  /** Deletes the record with `id`; a missing id is not an error. */
  delete(id: string): Promise<void>;
  /**
   * Atomically takes the flush lease for `owner` until `until` (epoch ms) when it is free,
   * already `owner`'s, or over at `now`: it ended, or it ends more than two lease lengths
   * (`until - now`) after `now`, so it was claimed before the clock was set back. Resolves with
   * whether `owner` holds it.
   */
  claimLease(owner: string, now: number, until: number): Promise<boolean>;
  /** Gives the lease up if `owner` holds it. */
  releaseLease(owner: string): Promise<void>;
}

/** The methods of a {@link QueueStorage}, for the checks and wrappers that take any. */
export const queueStorageMethods = [
  'list',
  'get',
  'put',
  'delete',
  'claimLease',
  'releaseLease',
] as const;

interface Lease {
  owner: string;
  until: number;
}

/**
 * Whether `owner` may take `lease` with a claim from `now` to `until`: it is free, `owner`'s, or
 * over. Every claim is as long as this one, so the lease began at `lease.until - (until - now)`;
 * one that began more than a lease length after `now` was claimed before the clock was set back.
 */
export const mayClaimLease = (
  lease: Lease | undefined,
  owner: string,
  now: number,
  until: number,
): boolean =>
  lease === undefined ||
  lease.owner === owner ||
  waitIsOver(lease.until - until + now, lease.until, now);

/**
 * Storage in memory: for Node, tests and pages that accept losing queued writes on reload.
 * Several queues given the same instance behave like tabs sharing one IndexedDB database.
 * Records are structured-cloned, as IndexedDB does, so a caller mutating an object after
 * `send()` cannot change what is queued.
 */
export function createMemoryQueueStorage(): QueueStorage {
  const records = new Map<string, unknown>();
  let lease: Lease | undefined;
  return {
    list: async () => structuredClone([...records.values()]),
    get: async (id) => structuredClone(records.get(id)),
    put: async (id, record) => {
      records.set(id, structuredClone(record));
    },
    delete: async (id) => {
      records.delete(id);
    },
    claimLease: async (owner, now, until) => {
      if (!mayClaimLease(lease, owner, now, until)) return false;
      lease = { owner, until };
      return true;
    },
    releaseLease: async (owner) => {
      if (lease?.owner === owner) lease = undefined;
    },
  };
}
