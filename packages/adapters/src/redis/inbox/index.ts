export { createRedisInbox, type RedisInboxClient, type RedisInboxOptions } from './redis-inbox.js';
