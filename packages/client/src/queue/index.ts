export {
  type ConflictContext,
  type ConflictDecision,
  type ConflictResolver,
  type FieldMerge,
  type FieldMergeResult,
  keepMine,
  keepTheirs,
  type MergeChangesOptions,
  mergeChanges,
} from './conflict-resolvers.js';
export { createIndexedDbQueueStorage } from './indexeddb-queue-storage.js';
export { createMemoryQueueStorage, type QueueStorage } from './queue-storage.js';
export type {
  QueuedWrite,
  QueuedWriteError,
  WriteConflict,
  WritePriority,
  WriteState,
} from './queued-write.js';
export {
  createTemporaryId,
  isTemporaryId,
  type TemporaryIdResolver,
  type TemporaryIdSupport,
  type TemporaryIdSupportOptions,
  temporaryIdSupport,
} from './temporary-ids.js';
export { createWriteQueue, type WriteQueue } from './write-queue.js';
export type {
  QueueCounts,
  WriteQueueEvents,
  WriteQueueOptions,
  WriteRequest,
  WriteResult,
} from './write-queue-options.js';
