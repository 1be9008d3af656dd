/** `@ballast/adapters/fastify`: Ballast's plugins and hooks for Fastify 4 and 5. Peer: `fastify`. */

// Errors: problem+json error handler and not-found handler.
export {
  type FastifyErrorHandlerOptions,
  type FastifyProblemHandler,
  fastifyErrorHandler,
  fastifyNotFoundHandler,
} from './errors/index.js';
// Health: /health and /health/live.
export { type FastifyHealthOptions, fastifyHealth } from './health/index.js';
// Idempotency.
export { type FastifyIdempotencyOptions, fastifyIdempotency } from './idempotency/index.js';
// Rate limiting: seed 004's presets as @fastify/rate-limit options.
export {
  type FastifyRateLimitOptions,
  type FastifyRateLimitPluginOptions,
  fastifyRateLimitOptions,
} from './rate-limit/index.js';
// Signature verification.
export {
  fastifyVerifySignature,
  type VerifySignatureOptions,
} from './signing/index.js';
// Trace context.
export { type FastifyTraceContextOptions, fastifyTraceContext } from './trace/index.js';

// Validation: zod schemas per request part, typed route input.
export { fastifyValidate, type ValidatedRoute } from './validation/index.js';
