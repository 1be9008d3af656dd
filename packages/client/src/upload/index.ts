export type { UploadProgress } from './put-blob.js';
export { uploadFile } from './upload-file.js';
export type {
  UploadEvents,
  UploadFileOptions,
  UploadResult,
  UploadStage,
} from './upload-options.js';
export { createUploadQueue, type UploadQueue } from './upload-queue.js';
export type {
  AddUploadOptions,
  QueuedUpload,
  UploadQueueCounts,
  UploadQueueEvents,
  UploadQueueOptions,
} from './upload-queue-options.js';
