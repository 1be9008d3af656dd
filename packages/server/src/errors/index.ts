export {
  type ClassifyErrorOptions,
  type ConstraintMapping,
  classifyError,
  type FieldIssue,
  issuePath,
  validationFailed,
} from './classify-error.js';
export { type ErrorHandlerOptions, errorHandlerOptionsSchema } from './error-handler-options.js';
export { type ProblemResponseOptions, problemResponse } from './problem-response.js';
export { preferredLocale, type ToResponseOptions, toResponse } from './to-response.js';
