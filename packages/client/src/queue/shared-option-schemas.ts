/** Option schemas both queues (writes and uploads) and `uploadFile` validate the same way. */
import { v } from '@ballast/core/adapter-kit';
import type { Connectivity } from '../connectivity/connectivity.js';
import type { Client } from '../fetch/create-client.js';
import type { QueueStorage } from './queue-storage.js';

/** Whether `value` is a non-null object. */
export const isObject = (value: unknown): value is object =>
  typeof value === 'object' && value !== null;

/** A client from `createClient()` (anything with `request`). */
export const clientSchema: v.Schema<Client> = v.custom<Client>(
  (value) => isObject(value) && typeof (value as Client).request === 'function',
  'a client from createClient()',
);

/** `'indexeddb'`, `'memory'` or a {@link QueueStorage}. */
export const queueStorageSchema: v.Schema<QueueStorage | 'indexeddb' | 'memory'> = v.custom<
  QueueStorage | 'indexeddb' | 'memory'
>(
  (value) =>
    value === 'indexeddb' ||
    value === 'memory' ||
    (isObject(value) &&
      ['list', 'get', 'put', 'delete', 'claimLease', 'releaseLease'].every(
        (method) => typeof (value as Record<string, unknown>)[method] === 'function',
      )),
  "'indexeddb', 'memory' or a QueueStorage",
);

/** A `Connectivity` from `createConnectivity()`. */
export const connectivitySchema: v.Schema<Connectivity> = v.custom<Connectivity>(
  (value) => isObject(value) && typeof (value as Connectivity).on === 'function',
  'a Connectivity from createConnectivity()',
);
