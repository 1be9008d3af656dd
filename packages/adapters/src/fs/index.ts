export {
  FileSystemObjectStorage,
  type FileSystemObjectStorageOptions,
} from './file-system-object-storage.js';
