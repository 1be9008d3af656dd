export {
  type ExpressErrorHandlerOptions,
  expressErrorHandler,
  expressNotFoundHandler,
} from './express-error-handler.js';
