/** Which storage a queue's `storage` option names, for the write queue and the upload queue. */
import { createIndexedDbQueueStorage } from './indexeddb-queue-storage.js';
import { createMemoryQueueStorage, type QueueStorage } from './queue-storage.js';

/**
 * The storage a queue option names: IndexedDB database `name`, memory, or the caller's own.
 * Without an option, IndexedDB where the platform has it, else memory.
 */
export function openQueueStorage(
  option: QueueStorage | 'indexeddb' | 'memory' | undefined,
  name: string,
): QueueStorage {
  const chosen = option ?? (typeof globalThis.indexedDB === 'object' ? 'indexeddb' : 'memory');
  if (chosen === 'indexeddb') return createIndexedDbQueueStorage(name);
  return chosen === 'memory' ? createMemoryQueueStorage() : chosen;
}
