/**
 * One object store of one IndexedDB database, opened on first use, with out-of-line keys: the
 * layout idb-keyval's `createStore(database, store)` makes (database version 1, the store
 * created on upgrade), so records written by releases that used idb-keyval are read as they
 * are. The client needs only get, put, delete, read-modify-write and reading everything, and
 * these few lines cost a browser bundle less than the library and its glue did.
 */

/** Settles with a request's result, or a transaction's completion, or its error. */
function settled<T>(request: IDBRequest<T> | IDBTransaction): Promise<T> {
  return new Promise((resolve, reject) => {
    // A transaction has oncomplete/onabort and a request onsuccess/onerror; setting both pairs
    // on either is harmless and keeps one helper.
    const target = request as IDBRequest<T> & IDBTransaction;
    target.oncomplete = target.onsuccess = () => resolve(target.result);
    target.onabort = target.onerror = () => reject(target.error);
  });
}

/**
 * Runs `body` on the store in one transaction of `mode`. When `body` returns a request (a read),
 * resolves with its result as soon as it succeeds; when it returns none (a write), once the
 * transaction has committed, so a write is durable when it resolves. A failed request or
 * transaction (quota, a private window) rejects.
 */
export type IndexedDbStore = <T = undefined>(
  mode: IDBTransactionMode,
  body: (store: IDBObjectStore) => IDBRequest<T> | undefined,
) => Promise<T>;

/** Opens (once, on first use) the store `store` of database `database`. */
export function indexedDbStore(database: string, store: string): IndexedDbStore {
  let opened: Promise<IDBDatabase> | undefined;
  const open = () => {
    if (opened === undefined) {
      const request = indexedDB.open(database);
      request.onupgradeneeded = () => request.result.createObjectStore(store);
      opened = settled(request);
      // Some browsers (Safari) close a connection on their own; open it again on next use.
      opened.then(
        (db) => {
          db.onclose = () => {
            opened = undefined;
          };
        },
        () => {
          opened = undefined;
        },
      );
    }
    return opened;
  };
  return async (mode, body) => {
    const transaction = (await open()).transaction(store, mode);
    return settled(body(transaction.objectStore(store)) ?? transaction) as Promise<never>;
  };
}
