import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { createIndexedDbQueueStorage } from '../queue/indexeddb-queue-storage.js';
import { indexedDbStore } from './indexeddb-store.js';

let databases = 0;
const freshName = () => `indexeddb-store-test-${++databases}`;

/** A database as idb-keyval 6 made it: version 1, one store, out-of-line keys. */
async function writeAsIdbKeyval(database: string, store: string, key: string, value: unknown) {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open(database);
    request.onupgradeneeded = () => request.result.createObjectStore(store);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  await new Promise<void>((resolve, reject) => {
    const transaction = db.transaction(store, 'readwrite');
    transaction.objectStore(store).put(value, key);
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
  });
  db.close();
}

describe('indexedDbStore', () => {
  it('puts, gets, lists and deletes records under their keys', async () => {
    const store = indexedDbStore(freshName(), 'things');
    await store('readwrite', (things) => void things.put({ n: 1 }, 'a'));
    await store('readwrite', (things) => void things.put({ n: 2 }, 'b'));
    expect(await store('readonly', (things) => things.get('a'))).toEqual({ n: 1 });
    expect(await store('readonly', (things) => things.getAll())).toEqual([{ n: 1 }, { n: 2 }]);
    await store('readwrite', (things) => void things.delete('a'));
    expect(await store('readonly', (things) => things.get('a'))).toBeUndefined();
    expect(await store('readonly', (things) => things.getAllKeys())).toEqual(['b']);
  });

  it('rejects when the transaction fails, and the store stays usable', async () => {
    const store = indexedDbStore(freshName(), 'things');
    // A function cannot be structured-cloned: the put throws DataCloneError.
    await expect(store('readwrite', (things) => void things.put(() => 1, 'f'))).rejects.toThrow();
    await expect(
      store('readwrite', (things) => {
        // An add over an existing key fails the request, which aborts the transaction.
        things.add(1, 'k');
        return things.add(2, 'k');
      }),
    ).rejects.toThrow();
    expect(await store('readonly', (things) => things.get('k'))).toBeUndefined();
    await store('readwrite', (things) => void things.put(3, 'k'));
    expect(await store('readonly', (things) => things.get('k'))).toBe(3);
  });

  it('reads writes a release that used idb-keyval stored (same databases and stores)', async () => {
    const name = freshName();
    const write = { schemaVersion: 1, id: 'w1', method: 'POST', path: '/sales' };
    await writeAsIdbKeyval(name, 'writes', 'w1', write);
    await writeAsIdbKeyval(`${name}-lease`, 'lease', 'lease', { owner: 'old-tab', until: 2_000 });
    const storage = createIndexedDbQueueStorage(name);
    expect(await storage.list()).toEqual([write]);
    expect(await storage.get('w1')).toEqual(write);
    // The old release's lease is honoured until it expires.
    expect(await storage.claimLease('new-tab', 1_000, 5_000)).toBe(false);
    expect(await storage.claimLease('new-tab', 2_000, 5_000)).toBe(true);
  });

  it('gives the flush lease to one owner at a time', async () => {
    const name = freshName();
    const [one, two] = [createIndexedDbQueueStorage(name), createIndexedDbQueueStorage(name)];
    const claims = await Promise.all([one.claimLease('a', 0, 100), two.claimLease('b', 0, 100)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    const holder = claims[0] ? 'a' : 'b';
    const other = holder === 'a' ? 'b' : 'a';
    expect(await one.claimLease(other, 50, 150)).toBe(false);
    await two.releaseLease(holder);
    expect(await one.claimLease(other, 50, 150)).toBe(true);
    // Releasing someone else's lease changes nothing.
    await one.releaseLease(holder);
    expect(await two.claimLease(holder, 60, 160)).toBe(false);
  });

  it('takes a flush lease claimed before the clock was set back by more than a lease', async () => {
    const storage = createIndexedDbQueueStorage(freshName());
    const hours = 3 * 3_600_000;
    expect(await storage.claimLease('wrong-clock', hours, hours + 30_000)).toBe(true);
    // 10 s back is waited out; three hours back is not waited for.
    expect(await storage.claimLease('tab', hours - 10_000, hours + 20_000)).toBe(false);
    expect(await storage.claimLease('tab', 0, 30_000)).toBe(true);
  });
});
