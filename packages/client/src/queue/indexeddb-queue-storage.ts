/**
 * Queue storage in IndexedDB: writes survive a reload, a crash and a closed tab, and every tab
 * of the origin sees the same records. The flush lease lives in a second database, claimed
 * inside one `readwrite` transaction so two tabs cannot both take it.
 */
import { invalidOption } from '../options/option-checks.js';
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
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw invalidOption(
      'createIndexedDbQueueStorage()',
      'name',
      'expected a database name (1 to 200 characters)',
    );
  }
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
        held = mayClaimLease(lease, owner, now);
        return held ? { owner, until } : lease;
      });
      return held;
    },
    releaseLease: (owner) =>
      updateLease((lease) => (lease?.owner === owner ? { owner, until: 0 } : lease)),
  };
}
