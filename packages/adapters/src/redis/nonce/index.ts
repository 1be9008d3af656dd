export {
  type RedisNonceClient,
  RedisNonceStore,
  type RedisNonceStoreOptions,
} from './redis-nonce-store.js';
