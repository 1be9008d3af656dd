export * from './errors/index.js';
export * from './health/index.js';
export * from './idempotency/index.js';
export * from './rate-limit/index.js';
export * from './signing/index.js';
export * from './trace/index.js';
export * from './validation/index.js';
