export {
  abortSignalSchema,
  clockSchema,
  functionSchema,
  hasMethods,
  isAbortSignalLike,
  isClockLike,
  loggerSchema,
  methodsSchema,
} from './option-schemas.js';
export { parseOptions } from './parse-options.js';
export type { StandardSchemaV1 } from './standard-schema.js';
