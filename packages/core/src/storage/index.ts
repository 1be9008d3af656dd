export {
  LocalPresigner,
  type LocalPresignerOptions,
  type PresignedGrant,
} from './local-presigner.js';
export {
  MemoryObjectStorage,
  type MemoryObjectStorageOptions,
} from './memory-object-storage.js';
export type { ObjectBody } from './object-body.js';
export { assertObjectKey, compareObjectKeys, maxObjectKeyBytes } from './object-key.js';
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
