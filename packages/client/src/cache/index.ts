export {
  type CachedRead,
  createReadCache,
  type ReadCache,
  type ReadCacheOptions,
} from './read-cache.js';
