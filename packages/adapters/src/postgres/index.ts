export * from './documents/index.js';
export * from './health/index.js';
export * from './idempotency/index.js';
export * from './locking/index.js';
export * from './nonce/index.js';
export * from './soft-delete/index.js';
