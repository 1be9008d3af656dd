/**
 * @ballast/client: resilient fetch, connectivity status, an offline write queue and signed
 * uploads for browsers and Node. Every export is named here.
 */
export {
  type CachedRead,
  createReadCache,
  type ReadCache,
  type ReadCacheOptions,
} from './cache/index.js';
export {
  type Connectivity,
  type ConnectivityChange,
  type ConnectivityEvents,
  type ConnectivityOptions,
  type ConnectivityStatus,
  createConnectivity,
} from './connectivity/index.js';
export {
  type Client,
  type ClientOptions,
  type ClientResponse,
  type ClientRetryOptions,
  type ConnectivityReporter,
  createClient,
  createIdempotencyKey,
  errorFromResponse,
  type RequestOptions,
} from './fetch/index.js';
export {
  type ConflictContext,
  type ConflictDecision,
  type ConflictResolver,
  createIndexedDbQueueStorage,
  createMemoryQueueStorage,
  createTemporaryId,
  createWriteQueue,
  type FieldMerge,
  type FieldMergeResult,
  isTemporaryId,
  keepMine,
  keepTheirs,
  type MergeChangesOptions,
  mergeChanges,
  type QueueCounts,
  type QueuedWrite,
  type QueuedWriteError,
  type QueueStorage,
  type TemporaryIdResolver,
  type TemporaryIdSupport,
  type TemporaryIdSupportOptions,
  temporaryIdSupport,
  type WriteConflict,
  type WritePriority,
  type WriteQueue,
  type WriteQueueEvents,
  type WriteQueueOptions,
  type WriteRequest,
  type WriteResult,
  type WriteState,
} from './queue/index.js';
export { type SafeActionOptions, safeAction } from './ui/safe-action.js';
export {
  type AddUploadOptions,
  createUploadQueue,
  type QueuedUpload,
  type UploadEvents,
  type UploadFileOptions,
  type UploadProgress,
  type UploadQueue,
  type UploadQueueCounts,
  type UploadQueueEvents,
  type UploadQueueOptions,
  type UploadResult,
  type UploadStage,
  uploadFile,
} from './upload/index.js';
