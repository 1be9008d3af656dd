/**
 * The `QueueStorage` port: where queued writes live between a failed send and their delivery.
 * IndexedDB in a browser (it survives reloads, crashes and closed tabs), memory in Node and
 * tests. Besides the records it holds the flush lease used by tabs without Web Locks, which must
 * be claimed atomically: two tabs must never both believe they hold it.
 */

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
   * expired at `now`, or already `owner`'s. Resolves with whether `owner` holds it.
   */
  claimLease(owner: string, now: number, until: number): Promise<boolean>;
  /** Gives the lease up if `owner` holds it. */
  releaseLease(owner: string): Promise<void>;
}

interface Lease {
  owner: string;
  until: number;
}

/** Whether `owner` may take `lease` at `now`. */
export const mayClaimLease = (lease: Lease | undefined, owner: string, now: number): boolean =>
  lease === undefined || lease.owner === owner || lease.until <= now;

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
    list: async () => [...records.values()].map((record) => structuredClone(record)),
    get: async (id) => structuredClone(records.get(id)),
    put: async (id, record) => {
      records.set(id, structuredClone(record));
    },
    delete: async (id) => {
      records.delete(id);
    },
    claimLease: async (owner, now, until) => {
      if (!mayClaimLease(lease, owner, now)) return false;
      lease = { owner, until };
      return true;
    },
    releaseLease: async (owner) => {
      if (lease?.owner === owner) lease = undefined;
    },
  };
}
