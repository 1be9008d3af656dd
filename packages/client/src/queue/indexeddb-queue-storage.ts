/**
 * Queue storage in IndexedDB through idb-keyval: writes survive a reload, a crash and a closed
 * tab, and every tab of the origin sees the same records. The flush lease lives in a second
 * database, claimed inside one `readwrite` transaction so two tabs cannot both take it.
 */
import { createStore, del, get, set, update, values } from 'idb-keyval';
import { mayClaimLease, type QueueStorage } from './queue-storage.js';

interface Lease {
  owner: string;
  until: number;
}

/**
 * Storage in IndexedDB databases `name` (the writes) and `${name}-lease`.
 *
 * @param name database name. Default `'ballast-write-queue'`.
 */
export function createIndexedDbQueueStorage(name = 'ballast-write-queue'): QueueStorage {
  const writes = createStore(name, 'writes');
  const leases = createStore(`${name}-lease`, 'lease');
  return {
    list: () => values(writes),
    get: (id) => get(id, writes),
    put: (id, record) => set(id, record, writes),
    delete: (id) => del(id, writes),
    async claimLease(owner, now, until) {
      let held = false;
      await update<Lease | undefined>(
        'lease',
        (lease) => {
          held = mayClaimLease(lease, owner, now);
          return held ? { owner, until } : lease;
        },
        leases,
      );
      return held;
    },
    async releaseLease(owner) {
      await update<Lease | undefined>(
        'lease',
        (lease) => (lease?.owner === owner ? { owner, until: 0 } : lease),
        leases,
      );
    },
  };
}
