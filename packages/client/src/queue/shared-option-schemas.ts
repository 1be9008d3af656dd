/** Option checks both queues (writes and uploads) and `uploadFile` share. */
import type { Connectivity } from '../connectivity/connectivity.js';
import type { Client } from '../fetch/create-client.js';
import { type Check, hasMethods, is, isObject, withMethods } from '../options/option-checks.js';
import { type QueueStorage, queueStorageMethods } from './queue-storage.js';

/** A client from `createClient()` (anything with `request`). */
export const clientSchema: Check<Client> = /* @__PURE__ */ withMethods<Client>('request');

/** `'indexeddb'`, `'memory'` or a {@link QueueStorage}. */
export const queueStorageSchema: Check<QueueStorage | 'indexeddb' | 'memory'> = /* @__PURE__ */ is<
  QueueStorage | 'indexeddb' | 'memory'
>(
  (value) => value === 'indexeddb' || value === 'memory' || hasMethods(value, queueStorageMethods),
  "'indexeddb', 'memory' or a QueueStorage",
);

/** A `Connectivity` from `createConnectivity()`. */
export const connectivitySchema: Check<Connectivity> =
  /* @__PURE__ */ withMethods<Connectivity>('on');

/**
 * Whether the queue can store the value and send it as JSON, or there is none. IndexedDB (and
 * the memory storage) keep a structured clone, which refuses a function or a Symbol anywhere
 * inside (a DataCloneError); JSON refuses a BigInt or a cycle, and encodes a function or a Symbol
 * to nothing. Checked at `send()`, naming the field: a write whose body cannot be sent stays at
 * the head of the queue and holds back every write behind it.
 */
export function isStorableJson(value: unknown): boolean {
  try {
    structuredClone(value);
    return value === undefined || JSON.stringify(value) !== undefined;
  } catch {
    return false;
  }
}

/**
 * A write's `base` and `meta`, an upload's `fields` and `meta`: stored with them, so held to
 * what a write's body is held to; and `uploadFile()`'s `fields`, sent as JSON.
 */
export const storableRecord: Check<Record<string, unknown>> = /* @__PURE__ */ is<
  Record<string, unknown>
>((value) => isObject(value) && !Array.isArray(value) && isStorableJson(value), 'a JSON object');
