export {
  BallastError,
  type BallastErrorOptions,
  isBallastError,
  type ProblemDetails,
  type ToProblemOptions,
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
