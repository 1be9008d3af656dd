export {
  abortSignalSchema,
  clockSchema,
  functionSchema,
  loggerSchema,
  methodsSchema,
} from './option-schemas.js';
