export { invalidArgument } from './invalid-argument.js';
export { assertFunction, parseOptions } from './parse-options.js';
export { hasMethods, isAbortSignalLike, isClockLike } from './shape-checks.js';
/**
 * Core's small strict validator, as a namespace: `v.object({ limit: v.number({ min: 1 }) })`,
 * `v.Infer<typeof schema>`. Every schema is a Standard Schema for `parseOptions()`; objects
 * reject unknown keys. See docs/adapter-kit.md § Options.
 */
export * as v from './small-validator.js';
export type { StandardSchemaV1 } from './standard-schema.js';
