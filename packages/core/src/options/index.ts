export { invalidArgument } from './invalid-argument.js';
export { assertFunction, parseOptions } from './parse-options.js';
export { hasMethods, isAbortSignalLike, isClockLike } from './shape-checks.js';
export * as v from './small-validator.js';
export type { StandardSchemaV1 } from './standard-schema.js';
