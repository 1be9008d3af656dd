export * from './idempotency/index.js';
export * from './nonce/index.js';
