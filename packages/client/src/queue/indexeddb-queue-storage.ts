/**
 * Queue storage in IndexedDB: writes survive a reload, a crash and a closed tab, and every tab
 * of the origin sees the same records. The flush lease lives in a second database, claimed
 * inside one `readwrite` transaction so two tabs cannot both take it.
 */
import { object, parseOptions, string } from '../options/option-checks.js';
import { indexedDbStore } from '../storage/indexeddb-store.js';
import { mayClaimLease, type QueueStorage } from './queue-storage.js';

interface Lease {
  owner: string;
  until: number;
}

/**
 * Storage in IndexedDB databases `name` (the writes) and `${name}-lease`.
 *
 * @param name database name. Default `'ballast-write-queue'`.
 * @throws BallastError `INVALID_OPTIONS` when `name` is not a non-empty string.
 */
export function createIndexedDbQueueStorage(name = 'ballast-write-queue'): QueueStorage {
  // Checked as the queue's `name` option is, and named as one.
  parseOptions(object({ name: string(1, 200) }), { name }, 'createIndexedDbQueueStorage()');
  return indexedDbQueueStorage(name);
}

/**
 * {@link createIndexedDbQueueStorage} without the check, for a queue whose options already
 * checked `name` (so its bundle does not carry the check twice).
 *
 * @internal
 */
export function indexedDbQueueStorage(name: string): QueueStorage {
  const writes = indexedDbStore(name, 'writes');
  const leases = indexedDbStore(`${name}-lease`, 'lease');
  /** Replaces the lease with what `next` makes of it, in the transaction that read it. */
  const updateLease = (next: (lease: Lease | undefined) => Lease | undefined) =>
    leases('readwrite', (store) => {
      const read = store.get('lease');
      read.onsuccess = () => store.put(next(read.result), 'lease');
      return undefined;
    });
  return {
    list: () => writes('readonly', (store) => store.getAll()),
    get: (id) => writes('readonly', (store) => store.get(id)),
    put: (id, record) => writes('readwrite', (store) => void store.put(record, id)),
    delete: (id) => writes('readwrite', (store) => void store.delete(id)),
    async claimLease(owner, now, until) {
      let held = false;
      await updateLease((lease) => {
        held = mayClaimLease(lease, owner, now, until);
        return held ? { owner, until } : lease;
      });
      return held;
    },
    releaseLease: (owner) =>
      updateLease((lease) => (lease?.owner === owner ? { owner, until: 0 } : lease)),
  };
}
