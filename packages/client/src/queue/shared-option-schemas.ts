/** Option checks both queues (writes and uploads) and `uploadFile` share. */
import type { Connectivity } from '../connectivity/connectivity.js';
import type { Client } from '../fetch/create-client.js';
import { type Check, hasMethods, is, withMethods } from '../options/option-checks.js';
import type { QueueStorage } from './queue-storage.js';

/** A client from `createClient()` (anything with `request`). */
export const clientSchema: Check<Client> = /* @__PURE__ */ withMethods<Client>(
  'a client from createClient()',
  'request',
);

/** `'indexeddb'`, `'memory'` or a {@link QueueStorage}. */
export const queueStorageSchema: Check<QueueStorage | 'indexeddb' | 'memory'> = /* @__PURE__ */ is<
  QueueStorage | 'indexeddb' | 'memory'
>(
  (value) =>
    value === 'indexeddb' ||
    value === 'memory' ||
    hasMethods(value, ['list', 'get', 'put', 'delete', 'claimLease', 'releaseLease']),
  "'indexeddb', 'memory' or a QueueStorage",
);

/** A `Connectivity` from `createConnectivity()`. */
export const connectivitySchema: Check<Connectivity> = /* @__PURE__ */ withMethods<Connectivity>(
  'a Connectivity from createConnectivity()',
  'on',
);
