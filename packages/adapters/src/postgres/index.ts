export * from './backup/index.js';
export * from './documents/index.js';
export * from './export/index.js';
export * from './idempotency/index.js';
export * from './nonce/index.js';
