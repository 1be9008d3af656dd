export type {
  ListObjectsOptions,
  ObjectInfo,
  ObjectPage,
  ObjectStorage,
  PresignedRequest,
  PresignOptions,
  PutObjectOptions,
  StorageCallOptions,
  StoredObject,
} from './object-storage.js';
