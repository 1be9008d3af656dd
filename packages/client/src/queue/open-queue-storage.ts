/**
 * Which storage a queue's `storage` option names, for the write queue and the upload queue, and
 * one place where a storage that refuses (out of quota, a private window, a closed database)
 * becomes a typed error: no raw DOMException reaches a caller from whichever step failed.
 */
import { clientError } from '../errors/client-error.js';
import { indexedDbQueueStorage } from './indexeddb-queue-storage.js';
import {
  createMemoryQueueStorage,
  type QueueStorage,
  queueStorageMethods,
} from './queue-storage.js';

/** `storage` with every refusal as `STORAGE_UNAVAILABLE`, the storage's error as `cause`. */
function withTypedRefusals(storage: QueueStorage): QueueStorage {
  const typed: Record<string, unknown> = {};
  for (const method of queueStorageMethods) {
    typed[method] = async (...args: never[]) => {
      try {
        return await (storage[method] as (...args: never[]) => Promise<unknown>)(...args);
      } catch (cause) {
        throw clientError('STORAGE_UNAVAILABLE', { cause });
      }
    };
  }
  return typed as unknown as QueueStorage;
}

/**
 * The storage a queue option names: IndexedDB database `name`, memory, or the caller's own.
 * Without an option, IndexedDB where the platform has it, else memory. Its refusals are
 * `STORAGE_UNAVAILABLE`.
 */
export function openQueueStorage(
  option: QueueStorage | 'indexeddb' | 'memory' | undefined,
  name: string,
): QueueStorage {
  const chosen = option ?? (typeof globalThis.indexedDB === 'object' ? 'indexeddb' : 'memory');
  return withTypedRefusals(
    chosen === 'indexeddb'
      ? indexedDbQueueStorage(name)
      : chosen === 'memory'
        ? createMemoryQueueStorage()
        : chosen,
  );
}
