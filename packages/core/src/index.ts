export * from './clock/index.js';
export * from './errors/index.js';
export * from './idempotency/index.js';
export * from './logging/index.js';
export * from './options/index.js';
export * from './storage/index.js';
