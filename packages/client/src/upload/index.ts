export type { UploadProgress } from './put-blob.js';
export { uploadFile } from './upload-file.js';
export type {
  UploadEvents,
  UploadFileOptions,
  UploadResult,
  UploadStage,
} from './upload-options.js';
