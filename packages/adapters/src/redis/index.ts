/** `@ballast/adapters/redis`: stores on Redis through ioredis. Peer: `ioredis`. */

// Idempotency store.
export {
  type RedisIdempotencyClient,
  RedisIdempotencyStore,
  type RedisIdempotencyStoreOptions,
} from './idempotency/index.js';

// Nonce store for signed-request replay protection.
export {
  type RedisNonceClient,
  RedisNonceStore,
  type RedisNonceStoreOptions,
} from './nonce/index.js';
