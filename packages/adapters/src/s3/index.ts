export { s3RetryClassifier } from './s3-errors.js';
export {
  type S3Credentials,
  S3ObjectStorage,
  type S3ObjectStorageOptions,
} from './s3-object-storage.js';
