export { s3RetryClassifier } from './s3-errors.js';
export type { S3MultipartOptions } from './s3-multipart-config.js';
export { S3ObjectStorage } from './s3-object-storage.js';
export type { S3Credentials, S3ObjectStorageOptions } from './s3-object-storage-config.js';
