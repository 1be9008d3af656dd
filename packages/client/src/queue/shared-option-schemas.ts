/** Option checks both queues (writes and uploads) and `uploadFile` share. */
import type { Connectivity } from '../connectivity/connectivity.js';
import type { Client } from '../fetch/create-client.js';
import { type Check, is, isObject } from '../options/option-checks.js';
import type { QueueStorage } from './queue-storage.js';

/** A client from `createClient()` (anything with `request`). */
export const clientSchema: Check<Client> = /* @__PURE__ */ is<Client>(
  (value) => isObject(value) && typeof (value as Client).request === 'function',
  'a client from createClient()',
);

/** `'indexeddb'`, `'memory'` or a {@link QueueStorage}. */
export const queueStorageSchema: Check<QueueStorage | 'indexeddb' | 'memory'> = /* @__PURE__ */ is<
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
export const connectivitySchema: Check<Connectivity> = /* @__PURE__ */ is<Connectivity>(
  (value) => isObject(value) && typeof (value as Connectivity).on === 'function',
  'a Connectivity from createConnectivity()',
);
