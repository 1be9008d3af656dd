export * from './documents/index.js';
export * from './idempotency/index.js';
export * from './nonce/index.js';
export * from './pool/index.js';
