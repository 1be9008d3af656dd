export {
  BallastError,
  type BallastErrorOptions,
  isBallastError,
  toBallastError,
} from './ballast-error.js';
export {
  type BallastErrorCode,
  type ErrorAction,
  type ErrorCodeInfo,
  errorCatalogue,
  isKnownErrorCode,
} from './error-codes.js';
export {
  englishMessages,
  type MessageCatalogue,
  registerMessages,
  spanishMessages,
  userMessageFor,
} from './messages.js';
export { type ProblemDetails, type ToProblemOptions, toProblem, userMessage } from './problem.js';
