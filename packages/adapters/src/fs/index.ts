export { FileSystemObjectStorage } from './file-system-object-storage.js';
export type { FileSystemObjectStorageOptions } from './file-system-object-storage-config.js';
