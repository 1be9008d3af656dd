export * from './idempotency/index.js';
export * from './signing/index.js';
export * from './trace/index.js';
