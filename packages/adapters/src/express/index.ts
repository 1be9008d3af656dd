/** `@ballast/adapters/express`: Ballast's middleware for Express 4 and 5. Peer: `express`. */

// Errors: problem+json error handler and the 404 for unmatched routes.
export {
  type ExpressErrorHandlerOptions,
  expressErrorHandler,
  expressNotFoundHandler,
} from './errors/index.js';
// Health: /health and /health/live.
export { type ExpressHealthOptions, expressHealth } from './health/index.js';
// Idempotency.
export { type ExpressIdempotencyOptions, expressIdempotency } from './idempotency/index.js';
// Rate limiting: seed 004's presets as express-rate-limit options.
export {
  type ExpressRateLimitMiddlewareOptions,
  type ExpressRateLimitOptions,
  type ExpressRateLimitStore,
  expressRateLimitOptions,
} from './rate-limit/index.js';
// Signature verification.
export {
  captureRawBody,
  expressSignature,
  expressVerifySignature,
  type VerifySignatureOptions,
} from './signing/index.js';
// Trace context.
export {
  type ExpressTraceContextOptions,
  expressTraceContext,
  expressTraceScope,
} from './trace/index.js';

// Validation: zod schemas per request part, typed handler input.
export { expressValidate } from './validation/index.js';
