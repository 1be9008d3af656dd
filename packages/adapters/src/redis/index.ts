export * from './health/index.js';
export * from './idempotency/index.js';
export * from './nonce/index.js';
