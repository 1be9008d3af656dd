/**
 * Queue storage in IndexedDB through idb-keyval: writes survive a reload, a crash and a closed
 * tab, and every tab of the origin sees the same records. The flush lease lives in a second
 * database, claimed inside one `readwrite` transaction so two tabs cannot both take it.
 */
import { BallastError } from '@ballast/core';
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
 * @throws BallastError `INVALID_OPTIONS` when `name` is not a non-empty string.
 */
export function createIndexedDbQueueStorage(name = 'ballast-write-queue'): QueueStorage {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw new BallastError('INVALID_OPTIONS', {
      message:
        'Invalid options for createIndexedDbQueueStorage(): "name": expected a database name (1 to 200 characters)',
      details: { field: 'name' },
    });
  }
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
