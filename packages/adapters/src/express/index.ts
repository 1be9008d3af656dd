/** `@ballast/adapters/express`: Ballast's middleware for Express 4 and 5. Peer: `express`. */

// Idempotency.
export { type ExpressIdempotencyOptions, expressIdempotency } from './idempotency/index.js';

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
