/** `@ballast/adapters/redis`: stores on Redis through ioredis. Peer: `ioredis`. */

// Health probe.
export { redisHealthCheck } from './health/index.js';
// Idempotency store.
export {
  type RedisIdempotencyClient,
  RedisIdempotencyStore,
  type RedisIdempotencyStoreOptions,
} from './idempotency/index.js';
// Inbox for exactly-once consumers whose effect is not in Postgres (weaker: see its TSDoc).
export { createRedisInbox, type RedisInboxClient, type RedisInboxOptions } from './inbox/index.js';
// Nonce store for signed-request replay protection.
export {
  type RedisNonceClient,
  RedisNonceStore,
  type RedisNonceStoreOptions,
} from './nonce/index.js';
